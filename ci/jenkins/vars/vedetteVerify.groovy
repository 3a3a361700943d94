import dev.vedette.jenkins.Cli

/**
 * The Vedette deployment gate: creates a verification on the Vedette server and waits for its
 * outcome (`vedette verify`), records the JUnit report (one test case per monitor) and archives it
 * with the Markdown summary. Fails the build unless the outcome is `passed`; returns
 * [outcome:, verificationId:, failedMonitors:] when it passes, and sets env.VEDETTE_OUTCOME,
 * env.VEDETTE_VERIFICATION_ID and env.VEDETTE_FAILED_MONITORS (comma separated) either way.
 *
 *   vedetteVerify(selector: 'app=payments,env=production', credentialsId: 'vedette-token')
 *
 * Parameters: url (default env.VEDETTE_URL), credentialsId (a Secret text credential holding the
 * token; default env.VEDETTE_TOKEN), selector or ids (List or comma/space separated), consecutive,
 * timeout, runNow, failFast, deployment (default env.VEDETTE_DEPLOYMENT_ID, which
 * vedetteDeployment sets), junit (the report's path, default vedette-junit.xml).
 */
def call(Map args = [:]) {
    String unknown = Cli.unknownParameters('vedetteVerify', args, [
        'url', 'credentialsId', 'selector', 'ids', 'consecutive', 'timeout', 'runNow', 'failFast',
        'deployment', 'junit',
    ])
    if (unknown) {
        error(unknown)
    }
    String junitFile = args.junit ?: 'vedette-junit.xml'
    String summaryFile = 'vedette-summary.md'
    String viewFile = 'vedette-verification.json'
    List cliArgs = ['verify', '--json', '--junit', junitFile, '--summary-md', summaryFile]
    if (args.selector) {
        cliArgs += ['--selector', args.selector as String]
    }
    for (String id in Cli.words(args.ids)) {
        cliArgs += ['--id', id]
    }
    if (args.consecutive != null) {
        cliArgs += ['--consecutive', args.consecutive as String]
    }
    if (args.timeout) {
        cliArgs += ['--timeout', args.timeout as String]
    }
    if (args.runNow == false) {
        cliArgs << '--no-run-now'
    }
    if (args.failFast == false) {
        cliArgs << '--no-fail-fast'
    }
    String deployment = args.deployment ?: env.VEDETTE_DEPLOYMENT_ID
    if (deployment) {
        cliArgs += ['--deployment', deployment]
    }

    // Reports of an earlier build in the same workspace must not pass for this one's (and the
    // CLI appends to the summary); the report's folder must exist.
    String clean = "${Cli.remove([junitFile, summaryFile, viewFile])} && mkdir -p \"\$(dirname ${Cli.quote(junitFile)})\""
    int code = vedetteConnection(args, 'vedetteVerify') {
        sh(script: "${clean} && ${Cli.command(cliArgs)} >${Cli.quote(viewFile)}", returnStatus: true)
    }
    String outcome = Cli.outcome(code)
    Map view = fileExists(viewFile) ? Cli.view(readFile(viewFile)) : null
    String verificationId = view?.id
    List<String> failed = Cli.failedMonitors(view)

    if (fileExists(junitFile)) {
        junit(testResults: junitFile, allowEmptyResults: false)
    }
    archiveArtifacts(artifacts: [junitFile, summaryFile, viewFile].join(','), allowEmptyArchive: true)
    if (fileExists(summaryFile)) {
        echo(readFile(summaryFile))
    }

    // Outputs for later steps, also when the gate fails (as the GitLab component's dotenv).
    env.VEDETTE_OUTCOME = outcome
    env.VEDETTE_VERIFICATION_ID = verificationId ?: ''
    env.VEDETTE_FAILED_MONITORS = failed.join(',')

    String line = "Vedette verification ${verificationId ?: '(none)'}: ${outcome}"
    if (failed) {
        line += " (failing: ${failed.join(', ')})"
    }
    if (outcome != 'passed') {
        String why = outcome == 'error' ? " (vedette verify exited with ${code}; see its message above)" : ''
        error(line + why)
    }
    echo(line)
    return [outcome: outcome, verificationId: verificationId, failedMonitors: failed]
}
