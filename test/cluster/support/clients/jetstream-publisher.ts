/**
 * Creates a JetStream stream (if it does not exist) and publishes `count` messages to it with
 * nats.js, from wherever it runs (the harness runs it in the clients namespace). Lines: connect
 * {server}, stream {replicas, leader}, ack {seq, stream, duplicate} per message, done {acked};
 * error {message} and exit code 1 on failure.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

interface Config {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly subject: string;
  readonly replicas: number;
  readonly count: number;
}

function emit(ev: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...fields })}\n`);
}

async function main(config: Config): Promise<void> {
  const nc = await connect({ servers: [...config.servers], timeout: 5_000 });
  emit('connect', { server: nc.getServer() });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.add({
    name: config.stream,
    subjects: [config.subject],
    num_replicas: config.replicas,
  });
  emit('stream', { replicas: info.config.num_replicas, leader: info.cluster?.leader });
  const js = jetstream(nc);
  for (let i = 1; i <= config.count; i++) {
    const ack = await js.publish(config.subject, JSON.stringify({ sender: 'jetstream-publisher', seq: i }));
    emit('ack', { seq: ack.seq, stream: ack.stream, duplicate: ack.duplicate });
  }
  emit('done', { acked: config.count });
  await nc.drain();
}

main(JSON.parse(process.argv[2] ?? '{}') as Config).catch((e: unknown) => {
  emit('error', { message: String(e) });
  process.exit(1);
});
