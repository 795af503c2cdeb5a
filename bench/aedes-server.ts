/**
 * Aedes as a reference broker for the hub benchmarks: plain MQTT on 127.0.0.1, in-memory
 * persistence (Aedes' default), no authentication, TCP_NODELAY. Prints `aedes listening on PORT` once it
 * listens; ends on SIGTERM/SIGINT or when its parent closes stdin (the parent died).
 *
 *   node --import tsx bench/aedes-server.ts [--port 0]
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const broker = await Aedes.createBroker();
// TCP_NODELAY as Tandem's listener and Mosquitto's set_tcp_nodelay in these benchmarks.
const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));

server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`aedes listening on ${port}\n`);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  // Bounded: if a client holds the server open, exit anyway.
  setTimeout(() => process.exit(0), 2000).unref();
  server.close();
  broker.close(() => process.exit(0));
}

process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
