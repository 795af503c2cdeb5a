/**
 * Module logs on real files: copy-then-truncate rotation under a real fast writer, and the
 * one reader (src/agent/log-reader.ts, what `tandem logs` uses) tailing and following it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { followStep, type LogPosition, logFiles, readLogTail } from '../../src/agent/log-reader.js';
import {
  logDiskBytes,
  moduleLogPath,
  openModuleLog,
  rotatedLogPath,
  rotateIfNeeded,
  startLogRotation,
} from '../../src/agent/module-logs.js';
import { repoRoot } from '../support/paths.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-logs-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const chatty = path.join(repoRoot, 'test/fixtures/modules/chatty.mjs');

/** Runs chatty.mjs with the live log as its stdout/stderr, as the process runner does. */
async function runChatty(logDir: string, module: string, args: number[], whileRunning: () => Promise<void>) {
  const log = await openModuleLog(logDir, module);
  const child = spawn(process.execPath, [chatty, ...args.map(String)], { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  while (running) await whileRunning();
  assert.equal(await exited, 0);
}

function lineNumbers(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = /^line (\d{7}) x{48}$/.exec(l);
      assert.ok(m, `a whole line: ${JSON.stringify(l)}`);
      return Number(m[1]);
    });
}

test('a module writing fast past the limit: disk use stays bounded', async (t) => {
  const dir = await tempDir();
  const bounds = { bytesMax: 16 * 1024, filesKept: 3 };
  const rotation = startLogRotation(dir, 'chatty', { ...bounds, intervalMs: 10 });
  let peak = 0;
  // 30,000 lines of 64 bytes (1.9 MB), 10 lines per millisecond or so.
  await runChatty(dir, 'chatty', [30_000, 10, 1], async () => {
    peak = Math.max(peak, await logDiskBytes(dir, 'chatty', bounds));
    await sleep(5);
  });
  await rotation.check();
  rotation.stop();
  const final = await logDiskBytes(dir, 'chatty', bounds);
  // The bound: (kept + 1) files of bytesMax, each plus what the module wrote between two
  // checks (a rotated file is the live file as it was when the check found it too big).
  const overshoot = 48 * 1024;
  assert.ok(final <= 4 * (bounds.bytesMax + overshoot), `final ${final}`);
  assert.ok(peak <= 4 * (bounds.bytesMax + overshoot), `peak ${peak} bytes of 1,920,000 written`);
  t.diagnostic(`peak ${peak} bytes, final ${final} bytes, of 1,920,000 written`);
  const tail = await tailLines(dir, 'chatty', 1);
  assert.deepEqual(lineNumbers(tail.join('\n')), [29_999], 'the newest line is kept');
});

test('rotation loses no line and keeps order (all rotations kept): the copy-truncate window is tiny', async (t) => {
  const dir = await tempDir();
  const bounds = { bytesMax: 16 * 1024, filesKept: 40 };
  let rotations = 0;
  await runChatty(dir, 'm', [4000, 10, 1], async () => {
    if (await rotateIfNeeded(dir, 'm', bounds)) rotations++;
    await sleep(2);
  });
  let all = '';
  for (let n = bounds.filesKept; n >= 1; n--)
    all += await readFile(rotatedLogPath(dir, 'm', n), 'utf8').catch(() => '');
  all += await readFile(moduleLogPath(dir, 'm'), 'utf8');
  const seen = lineNumbers(all);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `in order, no repeats at ${i}`);
  const lost = 4000 - seen.length;
  t.diagnostic(`${rotations} rotations, ${lost} of 4000 lines lost`);
  assert.ok(rotations >= 5, `rotated ${rotations} times`);
  // Only a write landing between the final read-to-end and the truncate is lost: at most a
  // few lines over all rotations (typically none).
  assert.ok(lost <= rotations, `lost ${lost} lines over ${rotations} rotations`);
});

test('readLogTail reaches into rotations, oldest first, and keeps a last line without newline', async () => {
  const dir = await tempDir();
  await writeFile(rotatedLogPath(dir, 'm', 2), 'a1\na2\na3\n');
  await writeFile(rotatedLogPath(dir, 'm', 1), 'b1\nb2\n');
  await writeFile(moduleLogPath(dir, 'm'), 'c1\nc2 partial');
  assert.deepEqual(await tailLines(dir, 'm', 1), ['c2 partial']);
  assert.deepEqual(await tailLines(dir, 'm', 2), ['c1', 'c2 partial']);
  assert.deepEqual(await tailLines(dir, 'm', 5), ['a3', 'b1', 'b2', 'c1', 'c2 partial']);
  assert.deepEqual(await tailLines(dir, 'm', 100), ['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'c2 partial']);
  assert.deepEqual(await tailLines(dir, 'none', 10), []);
  assert.deepEqual(await tailLines(dir, 'm', 0), []);
});

test('rotateIfNeeded shifts .1 to .2 and drops the oldest beyond filesKept', async () => {
  const dir = await tempDir();
  const bounds = { bytesMax: 10, filesKept: 2 };
  for (const round of ['first', 'second', 'third']) {
    await appendFile(moduleLogPath(dir, 'm'), `${round} round of text\n`);
    assert.equal(await rotateIfNeeded(dir, 'm', bounds), true);
  }
  assert.equal(await readFile(moduleLogPath(dir, 'm'), 'utf8'), '');
  assert.equal(await readFile(rotatedLogPath(dir, 'm', 1), 'utf8'), 'third round of text\n');
  assert.equal(await readFile(rotatedLogPath(dir, 'm', 2), 'utf8'), 'second round of text\n');
  await assert.rejects(readFile(rotatedLogPath(dir, 'm', 3)), { code: 'ENOENT' });
  await appendFile(moduleLogPath(dir, 'm'), 'short\n');
  assert.equal(await rotateIfNeeded(dir, 'm', bounds), false, 'under the bound: untouched');
});

test('following across copy-truncate rotations loses and repeats nothing', async () => {
  const dir = await tempDir();
  const live = moduleLogPath(dir, 'm');
  const bounds = { bytesMax: 1, filesKept: 3 };
  await writeFile(live, 'before the follow\n');
  let got = '';
  const write = async (b: Buffer): Promise<void> => {
    got += b.toString();
  };
  // One poll is one followStep; the follow starts where a tail of 0 lines leaves off.
  let pos: LogPosition = (await readLogTail(dir, 'm', 0)).position;
  const poll = async (): Promise<void> => {
    pos = await followStep(logFiles(dir, 'm'), pos, write);
  };
  await appendFile(live, 'A\n');
  await poll();
  assert.equal(got, 'A\n');
  // Written, rotated away, and more written, all between two polls.
  await appendFile(live, 'B\n');
  await rotateIfNeeded(dir, 'm', bounds);
  await appendFile(live, 'C\n');
  await poll();
  assert.equal(got, 'A\nB\nC\n');
  // The live file regrows past the old offset before the next poll: seen through the new `.1`.
  await appendFile(live, 'D\n');
  await rotateIfNeeded(dir, 'm', bounds);
  await appendFile(live, 'E is longer than what was read before\n');
  await poll();
  assert.equal(got, 'A\nB\nC\nD\nE is longer than what was read before\n');
});

/** The tail as lines (without their newlines), as `tandem logs --tail N` shows them. */
async function tailLines(dir: string, module: string, n: number): Promise<string[]> {
  const { text } = await readLogTail(dir, module, n);
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}
