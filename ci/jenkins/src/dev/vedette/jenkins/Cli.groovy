package dev.vedette.jenkins

import com.cloudbees.groovy.cps.NonCPS
import groovy.json.JsonSlurperClassic

/**
 * Pure helpers of the Vedette steps: the `vedette` command line as one shell word list, list
 * parameters, exit codes as outcomes, the `--json` view, parameter checks. No step is called here
 * and every method is @NonCPS (closures over collections run as plain Groovy); the gate itself is
 * computed by the Vedette server.
 */
class Cli implements Serializable {
    /** `vedette verify` exit codes (0 passed, 1 failed, 2 timed out, 3 no monitor matched). */
    static final Map<Integer, String> OUTCOMES = [0: 'passed', 1: 'failed', 2: 'timed_out', 3: 'no_monitors']

    /** The outcome of a `vedette verify` exit code; `error` for 4 (usage, auth, connection) and others. */
    @NonCPS
    static String outcome(int code) {
        OUTCOMES.get(code, 'error')
    }

    /** `vedette` with `args` as one POSIX shell command line, every argument single-quoted. */
    @NonCPS
    static String command(List args) {
        (['vedette'] + args.collect { quote(it as String) }).join(' ')
    }

    /** `rm -f` of `paths` as one POSIX shell command line. */
    @NonCPS
    static String remove(List<String> paths) {
        (['rm', '-f'] + paths.collect { quote(it) }).join(' ')
    }

    /** One word single-quoted for a POSIX shell (a quote inside becomes '"'"'). */
    @NonCPS
    static String quote(String word) {
        "'" + word.replace("'", "'\"'\"'") + "'"
    }

    /** A list parameter given as a List or as a comma or space separated String. */
    @NonCPS
    static List<String> words(Object value) {
        if (value == null) {
            return []
        }
        List items = value instanceof Collection ? value as List : (value as String).split(/[,\s]+/) as List
        items.collect { it as String }.findAll { !it.isEmpty() }
    }

    /** Labels given as a Map or as `k=v` words: the `-l k=v` arguments. */
    @NonCPS
    static List<String> labelArgs(Object labels) {
        List<String> pairs = labels instanceof Map
            ? labels.collect { k, v -> "${k}=${v}".toString() }
            : words(labels)
        pairs.collectMany { ['-l', it] }
    }

    /**
     * The verification view that `vedette verify --json` printed (the JSON object from its first
     * line that is `{`), or null when there is none (the CLI stopped before a verification existed).
     */
    @NonCPS
    static Map view(String stdout) {
        List<String> lines = (stdout ?: '').readLines()
        int start = lines.findIndexOf { it == '{' }
        if (start < 0) {
            return null
        }
        new JsonSlurperClassic().parseText(lines.subList(start, lines.size()).join('\n')) as Map
    }

    /** The ids of the monitors that did not pass, from a verification view. */
    @NonCPS
    static List<String> failedMonitors(Map view) {
        List monitors = (view?.status?.monitors ?: []) as List
        monitors.findAll { !it.passed }.collect { it.id as String }
    }

    /** An error naming the `required` parameters that are missing or empty, or null when none is. */
    @NonCPS
    static String missingParameters(String step, Map args, List<String> required) {
        List<String> missing = required.findAll { !args[it] }
        missing ? "${step}: ${missing.join(', ')} required".toString() : null
    }

    /** An error naming the unknown keys of a step's parameters, or null when all are known. */
    @NonCPS
    static String unknownParameters(String step, Map args, List<String> known) {
        List<String> unknown = (args.keySet().collect { it as String } - known).sort()
        unknown ? "${step}: unknown parameter(s) ${unknown.join(', ')}; expected ${known.join(', ')}".toString() : null
    }
}
