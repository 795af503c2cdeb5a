/** The module supervisor on a manual clock, with a fake runner: backoff walk, health, stop, adopt. */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CheckRunner } from '../../../src/agent/health-check.js';
import { ModuleSupervisor, type SupervisorStatus } from '../../../src/agent/module-supervisor.js';
import { ManualScheduler } from '../../../src/agent/supervisor-timers.js';
import type {
  ExitInfo,
  InstanceRecord,
  ModuleInstance,
  ModuleLaunch,
  ModuleRunner,
  ProcessRecord,
} from '../../../src/agent/supervisor-types.js';
import { TandemError } from '../../../src/errors.js';
import { processLaunch } from './support.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Lets a spawn (which first checks the log file on the real disk) finish: no clock moves. */
async function settled(sup: ModuleSupervisor): Promise<void> {
  for (let i = 0; i < 10_000 && sup.status().state === 'starting'; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  await flush();
}

class FakeInstance implements ModuleInstance {
  readonly adopted: boolean;
  readonly exited: Promise<ExitInfo>;
  stopCalls = 0;
  #resolve!: (e: ExitInfo) => void;
  constructor(
    readonly record: ProcessRecord,
    adopted: boolean,
    readonly now: () => number,
  ) {
    this.adopted = adopted;
    this.exited = new Promise((r) => {
      this.#resolve = r;
    });
  }
  get pid(): number {
    return this.record.pid;
  }
  exit(code: number | undefined, signal?: string): void {
    this.#resolve({
      code,
      signal,
      atMs: this.now(),
      reason: signal
        ? `killed by ${signal}`
        : code === undefined
          ? 'exit status unknown'
          : `exited with code ${code}`,
    });
  }
  stop(): Promise<ExitInfo> {
    this.stopCalls++;
    this.exit(undefined, 'SIGTERM');
    return this.exited;
  }
  detach(): void {}
}

class FakeRunner implements ModuleRunner {
  readonly instances: FakeInstance[] = [];
  failNext: string | undefined;
  alive = new Set<number>();
  #pid = 1000;
  constructor(readonly scheduler: ManualScheduler) {}
  get current(): FakeInstance {
    return this.instances[this.instances.length - 1]!;
  }
  async start(launch: ModuleLaunch, restartCount: number): Promise<ModuleInstance> {
    if (this.failNext !== undefined) throw new TandemError('TANDEM_E_MODULE_START', this.failNext);
    const now = () => this.scheduler.clock.nowMs();
    const record: ProcessRecord = {
      kind: 'process',
      module: launch.module,
      pid: ++this.#pid,
      startTimeTicks: 1,
      generationId: launch.generationId,
      startedAtMs: now(),
      restartCount,
    };
    const instance = new FakeInstance(record, false, now);
    this.instances.push(instance);
    return instance;
  }
  async adopt(record: InstanceRecord): Promise<ModuleInstance | undefined> {
    if (record.kind !== 'process' || !this.alive.has(record.pid)) return undefined;
    const instance = new FakeInstance(record, true, () => this.scheduler.clock.nowMs());
    this.instances.push(instance);
    return instance;
  }
}

const logDir = path.join(os.tmpdir(), 'tandem-unit-sup-nonexistent');

function setup(launch: Partial<ModuleLaunch> = {}, healthRun?: CheckRunner) {
  const scheduler = new ManualScheduler();
  const runner = new FakeRunner(scheduler);
  const changes: SupervisorStatus[] = [];
  const sup = new ModuleSupervisor(
    { ...processLaunch('m', logDir, 'fake', []), ...launch },
    { clock: scheduler.clock, scheduler, runner, healthRun, onChange: (s) => changes.push(s) },
  );
  return { scheduler, runner, sup, changes };
}

test('a crashing module: running -> backoff(10 s) -> running -> backoff(20 s) -> ... capped at 300 s', async () => {
  const { scheduler, runner, sup, changes } = setup();
  await sup.start();
  assert.equal(sup.status().state, 'running');
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    runner.current.exit(1);
    await flush();
    const s = sup.status();
    assert.equal(s.state, 'backoff');
    assert.equal(s.exitCode, 1);
    assert.equal(s.error, 'exited with code 1');
    const wait = Date.parse(s.nextRestartTime!) - scheduler.clock.nowMs();
    delays.push(wait / 1000);
    scheduler.advance(wait - 1);
    await flush();
    assert.equal(sup.status().state, 'backoff', 'not a millisecond early');
    scheduler.advance(1);
    await settled(sup);
    assert.equal(sup.status().state, 'running');
    assert.equal(sup.status().restartCount, i + 1);
    assert.equal(sup.status().pid, runner.current.pid);
  }
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300]);
  assert.equal(runner.instances.length, 8);
  const states = changes.map((c) => c.state).filter((s, i, a) => s !== a[i - 1]);
  assert.deepEqual(states.slice(0, 7), [
    'starting',
    'running',
    'backoff',
    'starting',
    'running',
    'backoff',
    'starting',
  ]);
  assert.equal(sup.record()?.restartCount, 7);
  await sup.stop();
});

test('a start failure is state failed with the reason; start() does not reject', async () => {
  const { runner, sup } = setup();
  runner.failNext = "module 'm': command not found: fake";
  await sup.start();
  assert.deepEqual(
    [sup.status().state, sup.status().error],
    ['failed', "module 'm': command not found: fake"],
  );
  assert.equal(sup.record(), undefined);
  runner.failNext = undefined;
  await sup.start();
  assert.equal(sup.status().state, 'running');
  await sup.stop();
});

test('stop() during backoff cancels the restart; stop() while running does not restart, even with always', async () => {
  const { scheduler, runner, sup } = setup({ restartPolicy: 'always' });
  await sup.start();
  runner.current.exit(0);
  await flush();
  assert.equal(sup.status().state, 'backoff');
  await sup.stop();
  assert.equal(sup.status().state, 'stopped');
  assert.equal(sup.status().desired, 'stopped');
  scheduler.advance(600_000);
  await flush();
  assert.equal(runner.instances.length, 1, 'never restarted');
  await sup.start();
  await sup.stop();
  assert.equal(runner.current.stopCalls, 1);
  assert.deepEqual([sup.status().state, sup.status().signal], ['stopped', 'SIGTERM']);
  scheduler.advance(600_000);
  await flush();
  assert.equal(runner.instances.length, 2);
});

test('on-unhealthy: failing health checks get the module killed and restarted after the backoff', async () => {
  let healthy = true;
  const healthRun: CheckRunner = async () => ({
    ok: healthy,
    detail: healthy ? 'ok' : 'health check exited with code 1',
  });
  const healthCheck = { command: 'probe', args: [], intervalSecs: 5, timeoutSecs: 1, retries: 2 };
  const { scheduler, runner, sup } = setup({ restartPolicy: 'on-unhealthy', healthCheck }, healthRun);
  await sup.start();
  scheduler.advance(5_000);
  await flush();
  healthy = false;
  scheduler.advance(5_000);
  await flush();
  assert.equal(sup.status().state, 'running', 'one failure is not enough');
  scheduler.advance(5_000);
  await flush();
  assert.equal(runner.instances[0]!.stopCalls, 1, 'killed at the second failure');
  assert.equal(sup.status().state, 'backoff');
  assert.equal(sup.status().error, 'restarted as unhealthy: health check exited with code 1');
  healthy = true;
  scheduler.advance(10_000);
  await settled(sup);
  assert.deepEqual(
    [sup.status().state, sup.status().restartCount, runner.instances.length],
    ['running', 1, 2],
  );
  await sup.stop();
});

test('on-failure keeps an unhealthy module running, reported unhealthy, until it recovers', async () => {
  let healthy = false;
  const healthRun: CheckRunner = async () => ({ ok: healthy, detail: 'health check timed out after 1 s' });
  const healthCheck = { command: 'probe', args: [], intervalSecs: 5, timeoutSecs: 1, retries: 1 };
  const { scheduler, runner, sup } = setup({ restartPolicy: 'on-failure', healthCheck }, healthRun);
  await sup.start();
  scheduler.advance(5_000);
  await flush();
  assert.deepEqual(
    [sup.status().state, sup.status().error],
    ['unhealthy', 'health check timed out after 1 s'],
  );
  assert.equal(runner.current.stopCalls, 0);
  healthy = true;
  scheduler.advance(5_000);
  await flush();
  assert.deepEqual([sup.status().state, sup.status().error], ['running', undefined]);
  await sup.stop();
});

test('adopt(): a live record is supervised without a second start; a dead one changes nothing', async () => {
  const { scheduler, runner, sup } = setup();
  const record: ProcessRecord = {
    kind: 'process',
    module: 'm',
    pid: 4242,
    startTimeTicks: 7,
    generationId: 'gen-m',
    startedAtMs: scheduler.clock.nowMs() - 60_000,
    restartCount: 3,
  };
  runner.alive.add(4242);
  assert.equal(await sup.adopt(record), true);
  await sup.start();
  assert.equal(runner.instances.length, 1, 'start() on an adopted module is a no-op');
  const s = sup.status();
  assert.deepEqual([s.state, s.pid, s.restartCount], ['running', 4242, 3]);
  assert.equal(s.lastStartTime, new Date(record.startedAtMs).toISOString());
  assert.deepEqual(sup.record(), record);
  runner.current.exit(undefined);
  await flush();
  assert.equal(sup.status().state, 'backoff', 'unknown exit status counts as a failure');
  assert.equal(
    Date.parse(sup.status().nextRestartTime!) - scheduler.clock.nowMs(),
    80_000,
    'count 3 -> 80 s',
  );
  await sup.stop();

  const other = setup();
  assert.equal(await other.sup.adopt({ ...record, pid: 1 }), false);
  assert.equal(other.sup.status().state, 'stopped');
  await other.sup.start();
  assert.equal(other.runner.instances.length, 1);
  await other.sup.stop();
});

test('adopt(): a module up for 10 minutes comes back with its restart count reset; never + unknown exit = failed', async () => {
  const { scheduler, runner, sup } = setup({ restartPolicy: 'never' });
  runner.alive.add(77);
  const record: ProcessRecord = {
    kind: 'process',
    module: 'm',
    pid: 77,
    startTimeTicks: 1,
    generationId: 'gen-m',
    startedAtMs: scheduler.clock.nowMs() - 11 * 60_000,
    restartCount: 5,
  };
  assert.equal(await sup.adopt(record), true);
  assert.equal(sup.status().restartCount, 0);
  runner.current.exit(undefined);
  await flush();
  assert.equal(sup.status().state, 'failed');
  assert.equal(sup.status().error, 'exit status unknown', "the runner's own words for the exit");
});
