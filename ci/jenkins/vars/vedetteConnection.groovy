/**
 * Runs `body` with VEDETTE_URL and VEDETTE_TOKEN set for the `vedette` CLI: the URL from `url:` or
 * env.VEDETTE_URL, the token from the Secret text credential `credentialsId:` (masked in the log by
 * withCredentials) or env.VEDETTE_TOKEN. The other steps of this library connect through it.
 *
 *   vedetteConnection(credentialsId: 'vedette-token') { sh 'vedette deployment list' }
 */
def call(Map args, Closure body) {
    call(args, 'vedetteConnection', body)
}

/** As above, naming `step` in its errors. */
def call(Map args, String step, Closure body) {
    String url = args.url ?: env.VEDETTE_URL
    if (!url) {
        error("${step}: no Vedette server: pass url: or set VEDETTE_URL")
    }
    withEnv(["VEDETTE_URL=${url}", 'NO_COLOR=1']) {
        if (args.credentialsId) {
            withCredentials([string(credentialsId: args.credentialsId as String, variable: 'VEDETTE_TOKEN')]) {
                body()
            }
        } else if (env.VEDETTE_TOKEN) {
            body()
        } else {
            error("${step}: no Vedette token: pass credentialsId: (a Secret text credential) or set VEDETTE_TOKEN")
        }
    }
}
