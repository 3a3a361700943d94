package com.cloudbees.groovy.cps

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

/**
 * Stand-in for Jenkins's own annotation (groovy-cps is not on Maven Central): in Jenkins it runs a
 * method outside the CPS interpreter; the harness has no CPS, so the annotation only has to exist.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface NonCPS {
}
