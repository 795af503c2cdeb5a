/**
 * `GET /api/v1/modules/{name}/logs` over real HTTP on real files: tails that reach into
 * rotations, and follows that see appended lines exactly once across the agent's own
 * copy-then-truncate rotation (src/agent/module-logs.ts), a rename rotation and a regrowth
 * within one poll. The agent is StandInAgent; the log files are real.
 */
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { rotateIfNeeded } from '../../src/agent/module-logs.js';
import { startAgentApi, startTestNode, type TestApi, type TestNode } from '../support/node.js';
import { moduleStatus, StandInAgent } from './stand-in-agent.js';

let t: TestNode;
let api: TestApi;
let logDir: string;

before(async () => {
  t = await startTestNode();
  logDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-logs-'));
  const agent = new StandInAgent(
    logDir,
    ['tailed', 'followed', 'renamed', 'regrown', 'empty'].map((n) => moduleStatus(n)),
  );
  api = await startAgentApi(t, { agent });
});
after(async () => {
  await api.close();
  await t.stop();
  await rm(logDir, { recursive: true, force: true });
});

const log = (module: string, suffix = ''): string => path.join(logDir, `${module}.log${suffix}`);
const lines = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

test('tail reads across rotations, oldest first; errors for unknown modules and bad tails', async () => {
  await writeFile(log('tailed', '.2'), lines(1, 3));
  await writeFile(log('tailed', '.1'), lines(4, 6));
  await writeFile(log('tailed'), lines(7, 8));
  const get = async (q: string): Promise<Response> => fetch(`${api.base}/api/v1/modules/tailed/logs${q}`);
  assert.equal(await (await get('?tail=4')).text(), lines(5, 8));
  assert.equal(await (await get('')).text(), lines(1, 8));
  assert.equal(await (await get('?tail=0')).text(), '');
  assert.equal(await (await get('?tail=100')).text(), lines(1, 8));
  assert.equal((await get('?tail=-1')).status, 400);
  const unknown = await fetch(`${api.base}/api/v1/modules/nobody/logs`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, 'TANDEM_E_MODULE_NOT_FOUND');
  assert.equal((await fetch(`${api.base}/api/v1/modules/..%2Ftailed/logs`)).status, 404);
  // A module that has not written anything yet has an empty log, not an error.
  const empty = await fetch(`${api.base}/api/v1/modules/empty/logs?tail=5`);
  assert.equal(empty.status, 200);
  assert.equal(await empty.text(), '');
});

/** Reads a follow until `expected` arrived (or more, which fails the comparison). */
class Follow {
  text = '';
  readonly #controller = new AbortController();
  readonly #done: Promise<void>;

  constructor(url: string) {
    this.#done = (async () => {
      const res = await fetch(url, { signal: this.#controller.signal });
      assert.equal(res.status, 200);
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!)
          this.text += decoder.decode(chunk as Uint8Array, { stream: true });
      } catch {
        // aborted by stop()
      }
    })();
  }

  async until(expected: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.text.length < expected.length && Date.now() < deadline) await sleep(20);
    // One more poll period: anything repeated would show up now.
    await sleep(400);
    assert.equal(this.text, expected);
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('follow sees appended lines once, across the agent copy-then-truncate rotation', async () => {
  await writeFile(log('followed'), lines(1, 3));
  const f = new Follow(`${api.base}/api/v1/modules/followed/logs?tail=1&follow=1`);
  await f.until(lines(3, 3));
  await appendFile(log('followed'), lines(4, 5));
  await f.until(lines(3, 5));
  // Written and rotated between two polls: the end of the old file must come from `.1`.
  await appendFile(log('followed'), lines(6, 6));
  assert.equal(await rotateIfNeeded(logDir, 'followed', { bytesMax: 10 }), true);
  await appendFile(log('followed'), lines(7, 7));
  await f.until(lines(3, 7));
  await appendFile(log('followed'), lines(8, 8));
  await f.until(lines(3, 8));
  await f.stop();
});

test('follow across a rename rotation and a regrowth within one poll', async () => {
  await writeFile(log('renamed'), lines(1, 2));
  const f = new Follow(`${api.base}/api/v1/modules/renamed/logs?follow=1`);
  await f.until(lines(1, 2));
  await appendFile(log('renamed'), lines(3, 3));
  await rename(log('renamed'), log('renamed', '.1'));
  await writeFile(log('renamed'), lines(4, 4));
  await f.until(lines(1, 4));
  await f.stop();

  await writeFile(log('regrown'), 'a\n');
  const g = new Follow(`${api.base}/api/v1/modules/regrown/logs?follow=1`);
  await g.until('a\n');
  // Copy-then-truncate by hand, then more than the old file held, all within one poll.
  await appendFile(log('regrown'), 'b\n');
  await copyFile(log('regrown'), log('regrown', '.1'));
  await truncate(log('regrown'), 0);
  await appendFile(log('regrown'), lines(10, 12));
  await g.until(`a\nb\n${lines(10, 12)}`);
  await g.stop();
});
