// A tiny OTLP/HTTP receiver run as a child process: reads each body, counts it, answers 200 `{}`.
// Prints one JSON line {"port":N} when listening; prints {"requests":N,"bytes":N} on SIGTERM.
import http from 'node:http';

let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
