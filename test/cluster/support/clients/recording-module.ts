/**
 * A module as users write them, with the Azure IoT SDK unmodified (`ModuleClient
 * .fromEnvironment`, the workload API Tandem's node agent gives it): it records every
 * message its input brings as one JSON line {atMs, node, pid, module, sender, seq} in
 * RECORD_DIR/<module>-<node>-<pid>.jsonl, then completes it. The cluster tests read these
 * files to see which instance processed what, and when. PROCESS_MS makes each message take
 * that long (a busy module: its input backs up in the socket while it works).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';

const { ModuleClient } = deviceSdk;
const { Mqtt } = mqttTransport;

const dir = process.env.RECORD_DIR ?? '.';
const node = process.env.TANDEM_NODE ?? 'unknown';
const module = process.env.IOTEDGE_MODULEID ?? 'unknown';
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${module}-${node}-${process.pid}.jsonl`);
const processMs = Number(process.env.PROCESS_MS ?? 0);

function work(): void {
  const until = Date.now() + processMs;
  while (Date.now() < until) {
    // Busy: the work a real module does per message, holding the event loop as it would.
  }
}

ModuleClient.fromEnvironment(Mqtt, (err, client) => {
  if (err || !client) {
    console.error(`module: ${err?.message ?? 'no client'}`);
    process.exit(1);
  }
  client.on('error', (e: Error) => console.error(`module: ${e.message}`));
  client.on('inputMessage', (_input: string, msg: { data: Buffer }) => {
    if (processMs > 0) work();
    const body = JSON.parse(msg.data.toString('utf8')) as { sender: string; seq: number };
    const line = { atMs: Date.now(), node, pid: process.pid, module, sender: body.sender, seq: body.seq };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    client.complete(msg as never, () => {});
  });
  client.open((e) => {
    if (e) {
      console.error(`module: open: ${e.message}`);
      process.exit(1);
    }
    console.log(`module ${module} on ${node}: connected`);
  });
  process.once('SIGTERM', () => client.close(() => process.exit(0)));
});
