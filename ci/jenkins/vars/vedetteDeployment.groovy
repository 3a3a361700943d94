import dev.vedette.jenkins.Cli

/**
 * Records a deployment in Vedette around `body`: `vedette deployment start` before it, then
 * `vedette deployment finish` with `succeeded` when the body returns, or with `failed` (or
 * failureStatus: 'rolled_back') when it throws — and then rethrows. Inside the body
 * env.VEDETTE_DEPLOYMENT_ID holds the deployment's id (vedetteVerify passes it on); the build's
 * description names the deployment and its status. Returns the body's value.
 *
 *   vedetteDeployment(service: 'payments', version: '1.4.2', environment: 'production',
 *                     selector: 'app=payments', credentialsId: 'vedette-token') {
 *       sh './deploy.sh'
 *       vedetteVerify(selector: 'app=payments', credentialsId: 'vedette-token')
 *   }
 *
 * Parameters: service, version, environment (required); url, credentialsId (as vedetteVerify);
 * commit (default env.GIT_COMMIT), ref (default env.BRANCH_NAME or env.GIT_BRANCH), runUrl
 * (default env.BUILD_URL), selector, mute (e.g. '10m'), labels (Map or 'k=v' words),
 * failureStatus ('failed' or 'rolled_back').
 */
def call(Map args, Closure body) {
    String unknown = Cli.unknownParameters('vedetteDeployment', args, [
        'url', 'credentialsId', 'service', 'version', 'environment', 'commit', 'ref', 'runUrl',
        'selector', 'mute', 'labels', 'failureStatus',
    ])
    if (unknown) {
        error(unknown)
    }
    String missing = Cli.missingParameters('vedetteDeployment', args, ['service', 'version', 'environment'])
    if (missing) {
        error(missing)
    }
    String failureStatus = args.failureStatus ?: 'failed'
    if (!(failureStatus in ['failed', 'rolled_back'])) {
        error("vedetteDeployment: failureStatus must be 'failed' or 'rolled_back', got '${failureStatus}'")
    }
    List cliArgs = [
        'deployment', 'start', '--source', 'jenkins',
        '--service', args.service as String,
        '--version', args.version as String,
        '--environment', args.environment as String,
    ]
    String commit = args.commit ?: env.GIT_COMMIT
    String ref = args.ref ?: (env.BRANCH_NAME ?: env.GIT_BRANCH)
    String runUrl = args.runUrl ?: env.BUILD_URL
    if (commit) {
        cliArgs += ['--commit', commit]
    }
    if (ref) {
        cliArgs += ['--ref', ref]
    }
    if (runUrl) {
        cliArgs += ['--run-url', runUrl]
    }
    if (args.selector) {
        cliArgs += ['--selector', args.selector as String]
    }
    if (args.mute) {
        cliArgs += ['--mute', args.mute as String]
    }
    cliArgs += Cli.labelArgs(args.labels)

    String id = vedetteConnection(args, 'vedetteDeployment') {
        sh(script: Cli.command(cliArgs), returnStdout: true)
    }.trim()
    if (!id) {
        error('vedetteDeployment: vedette deployment start printed no id')
    }
    String what = "${args.service} ${args.version} to ${args.environment}"
    echo("Vedette deployment ${id} started: ${what}")
    currentBuild.description = "${what}: started (Vedette deployment ${id})"

    def result
    try {
        result = withEnv(["VEDETTE_DEPLOYMENT_ID=${id}"]) {
            body()
        }
    } catch (Throwable failure) {
        try {
            finish(args, id, failureStatus)
        } catch (Exception e) {
            echo("vedetteDeployment: could not record ${failureStatus} for ${id}: ${e.message}")
        }
        currentBuild.description = "${what}: ${failureStatus} (Vedette deployment ${id})"
        throw failure
    }
    finish(args, id, 'succeeded')
    currentBuild.description = "${what}: succeeded (Vedette deployment ${id})"
    return result
}

/** `vedette deployment finish ID --status STATUS`. */
private void finish(Map args, String id, String status) {
    vedetteConnection(args, 'vedetteDeployment') {
        sh(script: "${Cli.command(['deployment', 'finish', id, '--status', status])} >/dev/null")
    }
    echo("Vedette deployment ${id}: ${status}")
}
