package dev.vedette.jenkins

import groovy.xml.XmlSlurper
import org.codehaus.groovy.control.CompilerConfiguration

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A small stand-in for the Jenkins pipeline engine, enough to run this library's vars/ and a
 * scripted Jenkinsfile: `sh` runs a real `sh -c` in the workspace with the build's environment,
 * `withCredentials` binds secrets from an in-memory store and masks them in the log, `junit`
 * parses the report, `archiveArtifacts` copies files, `error` throws as Jenkins's does. Global
 * variables (vars/*.groovy) resolve by name, as in Jenkins. Not modelled: CPS, agents, sandboxing.
 */
class StepHarness {
    /** The library's root (vars/, src/, examples/). */
    final Path libraryDir
    /** The build's workspace: where `sh` runs and files are read. */
    final Path workspace
    /** Where archiveArtifacts copies files to. */
    final Path archive
    /** The build environment (`env`). */
    final Env env
    /** `currentBuild`. */
    final Build currentBuild = new Build()
    /** Secret text credentials by id. */
    final Map<String, String> credentials = [:]
    /** What checkout copies into the workspace. */
    Path scm
    /** Every sh script run, as written (before the shell expands it). */
    final List<String> scripts = []
    /** The reports given to junit: [path:, tests:, failures:, xml:]. */
    final List<Map> junitReports = []
    /** Every file archived, relative to the workspace. */
    final List<String> archived = []
    /** The stages entered, in order. */
    final List<String> stages = []

    private final StringBuilder logText = new StringBuilder()
    private final StringBuilder rawText = new StringBuilder()
    private final Set<String> masked = new LinkedHashSet<>()
    private final Map<String, Script> vars = [:]
    private final GroovyShell shell

    StepHarness(Path libraryDir, Path workspace, Map<String, String> environment) {
        this.libraryDir = libraryDir
        this.workspace = workspace
        this.archive = workspace.resolveSibling(workspace.fileName.toString() + '-archive')
        Files.createDirectories(workspace)
        Files.createDirectories(archive)
        this.env = new Env(new LinkedHashMap<>(environment))
        CompilerConfiguration config = new CompilerConfiguration()
        config.scriptBaseClass = PipelineScript.name
        shell = new GroovyShell(StepHarness.classLoader, new Binding(harness: this), config)
        shell.classLoader.addClasspath(libraryDir.resolve('src').toString())
        libraryDir.resolve('vars').toFile().eachFileMatch(~/.*\.groovy/) { file ->
            String name = file.name - '.groovy'
            shell.context.setVariable(name, { Object... args -> variable(name).invokeMethod('call', args) })
        }
    }

    /** The build log so far, secrets masked. */
    String getLog() {
        logText.toString()
    }

    /** The build log without masking: what the steps printed, for checking that no secret is. */
    String getRawLog() {
        rawText.toString()
    }

    /** Appends to the build log (and stdout), masking every bound secret. */
    void log(Object message) {
        String text = String.valueOf(message)
        rawText.append(text).append('\n')
        masked.each { text = text.replace(it, '****') }
        logText.append(text).append('\n')
        println(text)
    }

    /** The global variable `name` (vars/NAME.groovy), loaded once as Jenkins does. */
    Script variable(String name) {
        vars.computeIfAbsent(name) { shell.parse(libraryDir.resolve("vars/${name}.groovy").toFile()) }
    }

    /**
     * Runs a scripted Jenkinsfile. Jenkins resolves its `@Library` line itself; here the library is
     * already loaded, so that line is left out. A failure marks the build FAILURE and is rethrown.
     */
    void runJenkinsfile(Path jenkinsfile) {
        String text = Files.readAllLines(jenkinsfile).findAll { !(it ==~ /\s*@Library\(.*\)\s*_\s*/) }.join('\n')
        runBuild { shell.parse(text, 'Jenkinsfile').run() }
    }

    /** Runs `body` as a build: a failure marks it FAILURE and is rethrown; else SUCCESS if unset. */
    Object runBuild(Closure body) {
        try {
            Object value = body()
            if (currentBuild.result == null) {
                currentBuild.result = 'SUCCESS'
            }
            return value
        } catch (Throwable e) {
            currentBuild.result = 'FAILURE'
            log("ERROR: ${e.message}")
            throw e
        }
    }

    /** `sh`: a real `sh -c` in the workspace; throws on a non-zero exit unless returnStatus. */
    Object sh(Map args) {
        String script = args.script as String
        scripts << script
        log("+ ${script}")
        ProcessBuilder pb = new ProcessBuilder('sh', '-c', script).directory(workspace.toFile())
        pb.environment().clear()
        pb.environment().putAll(env.vars)
        Process process = pb.start()
        process.outputStream.close()
        StringBuilder stdout = new StringBuilder()
        StringBuilder stderr = new StringBuilder()
        Thread out = Thread.start { stdout.append(process.inputStream.text) }
        Thread err = Thread.start { stderr.append(process.errorStream.text) }
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly()
            throw new StepError("sh: still running after 10 minutes: ${script}")
        }
        out.join()
        err.join()
        int code = process.exitValue()
        if (stderr) {
            log(stderr.toString().stripTrailing())
        }
        if (args.returnStdout) {
            if (code != 0) {
                throw new StepError("script returned exit code ${code}")
            }
            return stdout.toString()
        }
        if (stdout) {
            log(stdout.toString().stripTrailing())
        }
        if (args.returnStatus) {
            return code
        }
        if (code != 0) {
            throw new StepError("script returned exit code ${code}")
        }
        return null
    }

    /** `withEnv`: `KEY=value` entries for the duration of `body`; returns the body's value. */
    Object withEnv(List<String> entries, Closure body) {
        Map<String, String> overlay = entries.collectEntries { String e ->
            int eq = e.indexOf('=')
            if (eq < 1) {
                throw new StepError("withEnv: expected KEY=value, got '${e}'")
            }
            [(e.substring(0, eq)): e.substring(eq + 1)]
        }
        Map<String, String> saved = overlay.keySet().collectEntries { [(it): env.vars[it]] }
        env.vars.putAll(overlay)
        try {
            return body()
        } finally {
            saved.each { k, v -> v == null ? env.vars.remove(k) : env.vars.put(k, v) }
        }
    }

    /** `withCredentials` with `string(credentialsId:, variable:)` bindings; secrets masked in the log. */
    Object withCredentials(List<Map> bindings, Closure body) {
        List<String> entries = bindings.collect { Map b ->
            if (b.type != 'string') {
                throw new StepError("withCredentials: only string() bindings are modelled, got ${b.type}")
            }
            String secret = credentials[b.credentialsId as String]
            if (secret == null) {
                throw new StepError("Could not find credentials entry with ID '${b.credentialsId}'")
            }
            masked << secret
            "${b.variable}=${secret}".toString()
        }
        withEnv(entries, body)
    }

    /** `junit`: parses the report; failures make the build UNSTABLE, as Jenkins's step does. */
    void junit(Map args) {
        Path report = workspace.resolve(args.testResults as String)
        if (!Files.exists(report)) {
            if (args.allowEmptyResults) {
                return
            }
            throw new StepError("No test report files were found. Configuration error? (${args.testResults})")
        }
        String xml = Files.readString(report)
        def suites = new XmlSlurper().parseText(xml)
        def cases = suites.'**'.findAll { it.name() == 'testcase' }
        int failures = cases.count { it.failure.size() > 0 || it.error.size() > 0 }
        junitReports << [path: args.testResults, tests: cases.size(), failures: failures, xml: xml]
        log("Recording test results: ${cases.size()} tests, ${failures} failures")
        if (failures > 0 && currentBuild.result == null) {
            currentBuild.result = 'UNSTABLE'
        }
    }

    /** `archiveArtifacts`: copies the comma-separated files that exist into the archive. */
    void archiveArtifacts(Map args) {
        List<String> found = (args.artifacts as String).split(',')*.trim().findAll {
            it && Files.isRegularFile(workspace.resolve(it))
        }
        if (!found && !args.allowEmptyArchive) {
            throw new StepError("No artifacts found that match the file pattern \"${args.artifacts}\"")
        }
        found.each { name ->
            Path target = archive.resolve(name)
            Files.createDirectories(target.parent)
            Files.copy(workspace.resolve(name), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
            archived << name
        }
    }

    /** `checkout scm`: copies the scm directory's files into the workspace. */
    void checkout(Object ignored) {
        if (scm == null) {
            throw new StepError('checkout: this harness has no scm directory')
        }
        scm.toFile().eachFileRecurse { File f ->
            if (f.isFile()) {
                Path target = workspace.resolve(scm.relativize(f.toPath()))
                Files.createDirectories(target.parent)
                Files.copy(f.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
                target.toFile().setExecutable(f.canExecute())
            }
        }
    }

    /** `env`: the build environment; a variable that is not set reads as null. */
    static class Env {
        final Map<String, String> vars

        Env(Map<String, String> vars) {
            this.vars = vars
        }

        Object getProperty(String name) {
            name == 'vars' ? vars : vars[name]
        }

        void setProperty(String name, Object value) {
            if (value == null) {
                vars.remove(name)
            } else {
                vars[name] = value.toString()
            }
        }
    }

    /** `currentBuild`: the fields the library writes. */
    static class Build {
        String description
        String result
    }
}

/** What `error` and failing steps throw (Jenkins throws hudson.AbortException). */
class StepError extends RuntimeException {
    StepError(String message) {
        super(message)
    }
}
