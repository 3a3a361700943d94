package dev.vedette.jenkins

import com.sun.net.httpserver.HttpServer
import groovy.json.JsonSlurperClassic

import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A real `vedette serve` on a free loopback port with its own data directory (VEDETTE_BIN, which
 * scripts/test-ci-cli sets), plus the CLI and API calls the tests check it with.
 */
class VedetteServer implements AutoCloseable {
    /** The admin token the server is bootstrapped with. */
    static final String TOKEN = 'vdt_jenkins-test-admin-token-0123456789ab'

    final String url
    final Path dir
    private final Process process
    private final StringBuffer output

    private VedetteServer(String url, Path dir, Process process, StringBuffer output) {
        this.url = url
        this.dir = dir
        this.process = process
        this.output = output
    }

    /** The vedette binary under test. */
    static String binary() {
        String bin = System.getenv('VEDETTE_BIN')
        if (!bin) {
            throw new IllegalStateException('VEDETTE_BIN is not set: run these tests through scripts/test-ci-cli')
        }
        bin
    }

    /** Starts the server; returns once it printed its "vedette listening on" line (60 s at most). */
    static VedetteServer start() {
        Path dir = Files.createTempDirectory('vedette-jenkins-server-')
        ProcessBuilder pb = new ProcessBuilder(binary(), 'serve', '--listen', '127.0.0.1:0',
            '--data-dir', dir.resolve('data').toString()).redirectErrorStream(true)
        pb.environment().putAll(VEDETTE_BOOTSTRAP_TOKEN: TOKEN, NO_COLOR: '1', HOME: dir.toString())
        Process process = pb.start()
        StringBuffer output = new StringBuffer()
        Thread.start {
            try {
                process.inputStream.eachLine { output.append(it).append('\n') }
            } catch (IOException ignored) {
                // The stream closes when the server is stopped: its output ends there.
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        while (System.nanoTime() < deadline) {
            def m = output =~ /vedette listening on (http:\/\/\S+)/
            if (m.find()) {
                return new VedetteServer(m.group(1), dir, process, output)
            }
            if (!process.alive) {
                throw new IllegalStateException("vedette serve exited with ${process.exitValue()}:\n${output}")
            }
            Thread.sleep(50)
        }
        process.destroyForcibly()
        throw new IllegalStateException("vedette serve did not listen within 60 s:\n${output}")
    }

    /** The server's output so far. */
    String getLog() {
        output.toString()
    }

    /** Runs the CLI against this server as the admin; returns [code:, out:]. */
    Map cli(List<String> args) {
        ProcessBuilder pb = new ProcessBuilder([binary()] + args).redirectErrorStream(true)
        pb.environment().putAll(VEDETTE_URL: url, VEDETTE_TOKEN: TOKEN, NO_COLOR: '1', HOME: dir.toString())
        Process p = pb.start()
        String out = p.inputStream.text
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            throw new IllegalStateException("vedette ${args} still running after 60 s")
        }
        [code: p.exitValue(), out: out]
    }

    /** Creates HTTP monitors asserting `status == 200`, checked every 2 s: [id:, labels:, url:]. */
    void applyMonitors(List<Map> monitors) {
        Path file = dir.resolve('monitors.yaml')
        Files.writeString(file, monitors.collect { m ->
            """apiVersion: vedette.dev/v1
kind: Monitor
metadata:
  id: ${m.id}
  labels: {${m.labels.collect { k, v -> "${k}: ${v}" }.join(', ')}}
spec:
  http: {url: "${m.url}", method: GET}
  interval: 2s
  timeout: 2s
  assertions:
    - status == 200
"""
        }.join('---\n'))
        Map r = cli(['apply', '-f', file.toString()])
        if (r.code != 0) {
            throw new IllegalStateException("vedette apply failed (${r.code}):\n${r.out}")
        }
    }

    /** GET an API path as the admin; the parsed JSON. */
    Object get(String path) {
        HttpResponse<String> res = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(url + path)).header('Authorization', "Bearer ${TOKEN}").build(),
            HttpResponse.BodyHandlers.ofString())
        if (res.statusCode() != 200) {
            throw new IllegalStateException("GET ${path}: ${res.statusCode()} ${res.body()}")
        }
        new JsonSlurperClassic().parseText(res.body())
    }

    /** Every deployment the server holds. */
    List<Map> deployments() {
        def list = get('/api/v1/deployments')
        (list instanceof Map ? list.items : list) as List<Map>
    }

    @Override
    void close() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor()
        }
        dir.toFile().deleteDir()
    }

    /** An HTTP server on 127.0.0.1 answering every request with `status`. */
    static HttpServer target(int status) {
        HttpServer server = HttpServer.create(new InetSocketAddress('127.0.0.1', 0), 0)
        server.createContext('/') { exchange ->
            byte[] body = (status == 200 ? 'ok\n' : 'unavailable\n').bytes
            exchange.sendResponseHeaders(status, body.length)
            exchange.responseBody.withCloseable { it.write(body) }
        }
        server.start()
        server
    }

    /** The URL of a target started by target(). */
    static String targetUrl(HttpServer server) {
        "http://127.0.0.1:${server.address.port}/healthz"
    }
}
