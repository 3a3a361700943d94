// A tiny HTTP target for the monitors in the CI front ends' tests, run as its own process (the
// Azure MockTestRunner blocks the test process while a task runs). GET /ok answers 200, /down
// 503. Prints its port on stdout and exits when its stdin closes.
import http from "node:http";

const server = http.createServer((req, res) => {
  const down = req.url?.startsWith("/down");
  res.writeHead(down ? 503 : 200, { "content-type": "text/plain" });
  res.end(down ? "down\n" : "ok\n");
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.resume();
process.stdin.on("end", () => server.close(() => process.exit(0)));
