/**
 * The log tailer's guard when no new tailer can be started (seen on nats-server 2.9.10 after
 * a node was killed: consumer creates timed out for minutes while the stream answered every
 * other request). A real server and stream; only the consumer create is made to fail. The
 * guard sees the tailer stalled, fails to replace it, and reads the log past the view one
 * message at a time: every batch is indexed in order, and purged messages are passed over.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BatchCache } from '../../src/store/jetstream/batch-cache.js';
import { FrameBuilder, prepareItem } from '../../src/store/jetstream/frame.js';
import { LogIndex } from '../../src/store/jetstream/log-index.js';
import { LogView } from '../../src/store/jetstream/log-view.js';
import { guardTailer, startTailer } from '../../src/store/jetstream/tailer.js';
import { type NatsServerHandle, startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait.js';

let dir = '';
let server: NatsServerHandle | undefined;
let nc: NatsConnection | undefined;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-tailer-'));
  server = await startNatsServer({ dir });
  nc = await connect({ servers: [server.url] });
});

after(async () => {
  await nc?.close();
  await server?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function frame(stream: string, n: number): Uint8Array {
  const b = new FrameBuilder();
  b.add([prepareItem({ stream, data: new Uint8Array([n]), expiresAtMs: 0 })]);
  return b.encode();
}

test('a tailer that stalls and cannot be replaced: the log is read by single reads, gaps passed over', async () => {
  const jsm = await jetstreamManager(nc!);
  const js = jetstream(nc!);
  await jsm.streams.add({ name: 'TLOG', subjects: ['tlog'] });
  await jsm.streams.add({ name: 'QUIET', subjects: ['quiet'] });
  for (let n = 1; n <= 8; n++) await js.publish('tlog', frame(n % 2 === 0 ? 'even' : 'odd', n));
  await jsm.streams.purge('TLOG', { seq: 3 }); // 1 and 2 are gone
  const lines: string[] = [];
  const log = (_level: string, line: string) => void lines.push(line);
  const view = new LogView(new LogIndex(), new BatchCache(1 << 20), 0, log);
  // A tailer that stays silent: it follows another stream, as one stuck on a dead server would.
  const silent = await startTailer(
    js,
    'QUIET',
    new LogView(new LogIndex(), new BatchCache(1024), 0, log),
    1024,
    log,
  );
  let creates = 0;
  const guard = guardTailer(silent, {
    start: () => {
      creates++;
      return Promise.reject(new Error('TimeoutError: timeout'));
    },
    view,
    lastSeq: async () => (await jsm.streams.info('TLOG')).state.last_seq,
    readAt: async (seq) => (await jsm.streams.getMessage('TLOG', { seq }))?.data ?? null,
    alive: () => true,
    log,
  });
  try {
    await waitFor(
      'the view read the log',
      () => view.readable === 8,
      60_000,
      () => lines.join('\n'),
    );
    assert.equal(view.index.count('odd', 0), 3, 'batches 3, 5 and 7');
    assert.equal(view.index.count('even', 0), 3, 'batches 4, 6 and 8');
    assert.ok(creates >= 1, 'a new tailer was tried first');
    // Appended later: read within a poll, though no tailer runs.
    await js.publish('tlog', frame('odd', 9));
    await waitFor(
      'the new batch read',
      () => view.readable === 9,
      10_000,
      () => lines.join('\n'),
    );
    assert.equal(view.index.count('odd', 0), 4);
    assert.ok(
      lines.some((l) => l.includes('reading the log by single reads')),
      lines.join('\n'),
    );
  } finally {
    await guard.stop();
  }
});
