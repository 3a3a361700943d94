package dev.vedette.jenkins

import java.nio.file.Files

/**
 * The base class of every script the harness runs (vars/*.groovy and Jenkinsfiles): the pipeline
 * steps as methods, delegating to the StepHarness in the binding.
 */
abstract class PipelineScript extends Script {
    /** The harness running this script. */
    StepHarness getHarness() {
        binding.getVariable('harness') as StepHarness
    }

    Object getEnv() {
        harness.env
    }

    Object getCurrentBuild() {
        harness.currentBuild
    }

    Object getScm() {
        harness.scm
    }

    Object sh(Map args) {
        harness.sh(args)
    }

    Object sh(String script) {
        harness.sh(script: script)
    }

    void echo(Object message) {
        harness.log(message)
    }

    void error(Object message) {
        throw new StepError(String.valueOf(message))
    }

    Object withEnv(List entries, Closure body) {
        harness.withEnv(entries.collect { it.toString() }, body)
    }

    Object withCredentials(List bindings, Closure body) {
        harness.withCredentials(bindings, body)
    }

    /** The `string(credentialsId:, variable:)` binding of withCredentials. */
    Map string(Map args) {
        [type: 'string'] + args
    }

    void junit(Map args) {
        harness.junit(args)
    }

    void junit(String testResults) {
        harness.junit(testResults: testResults)
    }

    void archiveArtifacts(Map args) {
        harness.archiveArtifacts(args)
    }

    void archiveArtifacts(String artifacts) {
        harness.archiveArtifacts(artifacts: artifacts)
    }

    String readFile(String path) {
        Files.readString(harness.workspace.resolve(path))
    }

    String readFile(Map args) {
        readFile(args.file as String)
    }

    boolean fileExists(String path) {
        Files.exists(harness.workspace.resolve(path))
    }

    void checkout(Object scm) {
        harness.checkout(scm)
    }

    Object node(Closure body) {
        body()
    }

    Object stage(String name, Closure body) {
        harness.stages << name
        harness.log("[Pipeline] { (${name})")
        body()
    }
}
