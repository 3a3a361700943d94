package dev.vedette.jenkins

import com.sun.net.httpserver.HttpServer
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertFalse
import static org.junit.jupiter.api.Assertions.assertNotNull
import static org.junit.jupiter.api.Assertions.assertThrows
import static org.junit.jupiter.api.Assertions.assertTrue

/**
 * The library's steps and the example Jenkinsfile, run by the StepHarness against a real
 * `vedette serve` (one per test) whose monitors check HTTP targets on 127.0.0.1.
 */
class VedetteLibraryTest {
    static final Path LIBRARY = Paths.get(System.getProperty('vedette.library.dir', '.')).toAbsolutePath()
    static final String SELECTOR = 'service=payments,env=prod'

    static HttpServer okTarget
    static HttpServer downTarget

    @TempDir
    Path temp

    VedetteServer server
    StepHarness harness

    @BeforeAll
    static void targets() {
        okTarget = VedetteServer.target(200)
        downTarget = VedetteServer.target(503)
    }

    @AfterAll
    static void stopTargets() {
        okTarget?.stop(0)
        downTarget?.stop(0)
    }

    @BeforeEach
    void startServer() {
        server = VedetteServer.start()
        Map<String, String> environment = new LinkedHashMap<>(System.getenv())
        environment.keySet().removeAll(environment.keySet().findAll { it.startsWith('VEDETTE_') })
        environment.PATH = "${Paths.get(VedetteServer.binary()).parent}:${System.getenv('PATH')}".toString()
        environment.HOME = temp.toString()
        environment.VEDETTE_URL = server.url
        environment.BUILD_NUMBER = '7'
        environment.BUILD_URL = 'https://jenkins.example.com/job/payments/job/main/7/'
        environment.BRANCH_NAME = 'main'
        environment.GIT_COMMIT = '0123456789abcdef0123456789abcdef01234567'
        harness = new StepHarness(LIBRARY, temp.resolve('workspace'), environment)
        harness.credentials['vedette-token'] = VedetteServer.TOKEN
    }

    @AfterEach
    void stopServer() {
        server?.close()
    }

    /** The payments monitor, checking `url`. */
    void payments(String url) {
        server.applyMonitors([[id: 'payments-api', labels: [service: 'payments', env: 'prod'], url: url]])
    }

    /** A checkout holding the example Jenkinsfile's deployment scripts, each noting that it ran. */
    Path checkoutWithScripts() {
        Path scm = temp.resolve('scm')
        scm.toFile().mkdirs()
        Path steps = temp.resolve('steps.log')
        Files.writeString(steps, '')
        ['deploy', 'promote', 'rollback'].each { step ->
            File script = scm.resolve("${step}.sh").toFile()
            script.text = "#!/bin/sh\necho \"${step} \$*\" >>'${steps}'\n"
            script.setExecutable(true)
        }
        harness.scm = scm
        steps
    }

    @Test
    void theExampleJenkinsfilePromotesAHealthyDeployment() {
        payments(VedetteServer.targetUrl(okTarget))
        Path steps = checkoutWithScripts()
        harness.runJenkinsfile(LIBRARY.resolve('examples/Jenkinsfile'))

        assertEquals('SUCCESS', harness.currentBuild.result)
        assertEquals(['deploy prod 1.4.7', 'promote prod 1.4.7'], Files.readAllLines(steps))
        assertEquals(['Deploy', 'Verify', 'Promote'], harness.stages)
        Map deployment = onlyDeployment()
        assertEquals('payments', deployment.spec.service)
        assertEquals('1.4.7', deployment.spec.version)
        assertEquals('prod', deployment.spec.environment)
        assertEquals('jenkins', deployment.spec.source)
        assertEquals('0123456789abcdef0123456789abcdef01234567', deployment.spec.commit)
        assertEquals('main', deployment.spec.ref)
        assertEquals('https://jenkins.example.com/job/payments/job/main/7/', deployment.spec.url)
        assertEquals(SELECTOR, deployment.spec.selector)
        assertEquals('succeeded', deployment.spec.status)
        assertNotNull(deployment.spec.finished_at)
        assertEquals("payments 1.4.7 to prod: succeeded (Vedette deployment ${deployment.id})".toString(),
            harness.currentBuild.description)

        assertEquals('passed', harness.env.VEDETTE_OUTCOME)
        assertEquals('', harness.env.VEDETTE_FAILED_MONITORS)
        Map verification = server.get("/api/v1/verifications/${harness.env.VEDETTE_VERIFICATION_ID}") as Map
        assertEquals('passed', verification.status.state)
        assertEquals(deployment.id, verification.spec.deployment)
        assertEquals(SELECTOR, verification.spec.selector)
        assertEquals(3, verification.spec.consecutive)

        assertEquals(1, harness.junitReports.size())
        assertEquals([1, 0], [harness.junitReports[0].tests, harness.junitReports[0].failures])
        assertTrue(harness.junitReports[0].xml.contains('name="payments-api"'))
        assertTrue(harness.archived.containsAll(['vedette-junit.xml', 'vedette-summary.md']), "${harness.archived}")
        assertTokenNeverShown()
    }

    @Test
    void theExampleJenkinsfileRollsBackWhenATargetAnswers503() {
        payments(VedetteServer.targetUrl(downTarget))
        Path steps = checkoutWithScripts()
        StepError e = assertThrows(StepError) { harness.runJenkinsfile(LIBRARY.resolve('examples/Jenkinsfile')) }

        assertTrue(e.message.contains(': failed (failing: payments-api)'), e.message)
        assertEquals('FAILURE', harness.currentBuild.result)
        assertEquals(['deploy prod 1.4.7', 'rollback prod'], Files.readAllLines(steps))
        assertEquals(['Deploy', 'Verify', 'Roll back'], harness.stages)
        assertEquals('failed', harness.env.VEDETTE_OUTCOME)
        assertEquals('payments-api', harness.env.VEDETTE_FAILED_MONITORS)
        assertTrue(harness.log.contains('was failed (failing monitors payments-api)'), 'the rollback sees the outputs')
        Map deployment = onlyDeployment()
        assertEquals('rolled_back', deployment.spec.status)
        assertEquals("payments 1.4.7 to prod: rolled_back (Vedette deployment ${deployment.id})".toString(),
            harness.currentBuild.description)
        Map verification = server.get("/api/v1/verifications/${harness.env.VEDETTE_VERIFICATION_ID}") as Map
        assertEquals('failed', verification.status.state)
        assertEquals(1, harness.junitReports[0].failures)
        assertTrue((harness.junitReports[0].xml =~ /(?s)<failure[^>]*>.*503/).find(), harness.junitReports[0].xml as String)
        assertTokenNeverShown()
    }

    @Test
    void aSelectorMatchingNothingFailsTheStepAsNoMonitors() {
        server.applyMonitors([[id: 'billing-api', labels: [service: 'billing'], url: VedetteServer.targetUrl(okTarget)]])
        StepError e = assertThrows(StepError) {
            harness.runBuild { verify(selector: SELECTOR, credentialsId: 'vedette-token') }
        }
        assertTrue(e.message.endsWith(': no_monitors'), e.message)
        assertEquals('no_monitors', harness.env.VEDETTE_OUTCOME)
        Map verification = server.get("/api/v1/verifications/${harness.env.VEDETTE_VERIFICATION_ID}") as Map
        assertEquals('no_monitors', verification.status.state)
    }

    @Test
    void aWrongTokenFailsWithAClearErrorAndIsNeverShown() {
        String wrong = 'vdt_not-a-token-of-this-server-00000000000'
        harness.credentials['vedette-token'] = wrong
        payments(VedetteServer.targetUrl(okTarget))
        StepError e = assertThrows(StepError) {
            harness.runBuild { verify(selector: SELECTOR, credentialsId: 'vedette-token') }
        }
        assertTrue(e.message.contains(': error (vedette verify exited with 4'), e.message)
        assertEquals('error', harness.env.VEDETTE_OUTCOME)
        assertFalse(harness.rawLog.contains(wrong), harness.rawLog)
        assertFalse(harness.scripts.any { it.contains(wrong) }, 'the token is never on a command line')
    }

    @Test
    void aFailingBodyIsRecordedAsFailedAndRethrown() {
        payments(VedetteServer.targetUrl(okTarget))
        StepError e = assertThrows(StepError) {
            harness.runBuild {
                step('vedetteDeployment', [service: 'payments', version: '2.0.0', environment: 'staging',
                                           labels: [team: 'payments'], credentialsId: 'vedette-token']) {
                    assertNotNull(harness.env.VEDETTE_DEPLOYMENT_ID)
                    throw new StepError('deploy.sh broke')
                }
            }
        }
        assertEquals('deploy.sh broke', e.message)
        Map deployment = onlyDeployment()
        assertEquals('failed', deployment.spec.status)
        assertEquals([team: 'payments'], deployment.labels)
        assertEquals("payments 2.0.0 to staging: failed (Vedette deployment ${deployment.id})".toString(),
            harness.currentBuild.description)
        assertEquals(null, harness.env.VEDETTE_DEPLOYMENT_ID, 'the id is set only inside the body')
    }

    @Test
    void verifyParametersReachTheVerification() {
        server.applyMonitors([
            [id: 'payments-api', labels: [service: 'payments'], url: VedetteServer.targetUrl(okTarget)],
            [id: 'payments-web', labels: [service: 'payments'], url: VedetteServer.targetUrl(okTarget)],
        ])
        Map result = harness.runBuild {
            verify(ids: 'payments-api, payments-web', consecutive: 1, timeout: '2m', runNow: true,
                   failFast: false, junit: 'reports/gate.xml', credentialsId: 'vedette-token')
        } as Map
        assertEquals('passed', result.outcome)
        assertEquals([], result.failedMonitors)
        Map verification = server.get("/api/v1/verifications/${result.verificationId}") as Map
        assertEquals(['payments-api', 'payments-web'], verification.spec.ids)
        assertEquals(1, verification.spec.consecutive)
        assertEquals(false, verification.spec.fail_fast)
        assertEquals('reports/gate.xml', harness.junitReports[0].path)
        assertEquals(2, harness.junitReports[0].tests)
    }

    @Test
    void unknownOrMissingParametersAreClearErrors() {
        StepError unknown = assertThrows(StepError) { verify(selectr: 'service=payments') }
        assertTrue(unknown.message.startsWith('vedetteVerify: unknown parameter(s) selectr; expected url, '), unknown.message)
        StepError missing = assertThrows(StepError) {
            step('vedetteDeployment', [service: 'payments']) { }
        }
        assertEquals('vedetteDeployment: version, environment required', missing.message)
        harness.env.VEDETTE_URL = null
        StepError noServer = assertThrows(StepError) { verify(selector: SELECTOR, credentialsId: 'vedette-token') }
        assertEquals('vedetteVerify: no Vedette server: pass url: or set VEDETTE_URL', noServer.message)
        assertEquals(0, harness.scripts.size(), 'nothing ran')
    }

    /** Calls the global variable `name` as a pipeline would. */
    Object step(String name, Map args, Closure body = null) {
        Object[] callArgs = body == null ? [args] : [args, body]
        harness.variable(name).invokeMethod('call', callArgs)
    }

    Object verify(Map args) {
        step('vedetteVerify', args)
    }

    Map onlyDeployment() {
        List<Map> all = server.deployments()
        assertEquals(1, all.size(), "one deployment: ${all}")
        all[0]
    }

    void assertTokenNeverShown() {
        assertFalse(harness.rawLog.contains(VedetteServer.TOKEN), 'the token never appears in the build log, even unmasked')
        assertFalse(harness.scripts.any { it.contains(VedetteServer.TOKEN) }, 'the token is never on a command line')
    }
}
