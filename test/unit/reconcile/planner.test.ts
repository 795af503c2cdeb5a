import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ModuleSpec } from '../../../src/core/manifest/deployment.js';
import {
  type AppliedModule,
  planDeployment,
  planGroups,
  STOP_GROUP,
} from '../../../src/core/reconcile/planner.js';

function mod(name: string, over: Partial<ModuleSpec> = {}): ModuleSpec {
  return {
    name,
    type: 'process',
    settings: { kind: 'process', command: 'node', args: [`${name}.mjs`], env: {} },
    status: 'running',
    restartPolicy: 'always',
    startupOrder: 4294967295,
    env: {},
    replicas: 1,
    ...over,
  };
}

const applied = (spec: ModuleSpec, active = true, baseDir = '/d'): AppliedModule => ({
  spec,
  baseDir,
  active,
});

function plan(desired: ModuleSpec[], current: AppliedModule[], baseDir = '/d') {
  return planDeployment({
    desired: Object.fromEntries(desired.map((m) => [m.name, m])),
    current: Object.fromEntries(current.map((a) => [a.spec.name, a])),
    baseDir,
    routesChanged: false,
  });
}

const brief = (p: ReturnType<typeof plan>) => p.steps.map((s) => `${s.action} ${s.module}@${s.group}`);

describe('reconcile planner', () => {
  test('a first deployment starts every running module, grouped by startupOrder', () => {
    const p = plan(
      [
        mod('b', { startupOrder: 2 }),
        mod('a', { startupOrder: 1 }),
        mod('c'),
        mod('off', { status: 'stopped' }),
      ],
      [],
    );
    assert.deepEqual(brief(p), ['start a@1', 'start b@2', 'start c@4294967295']);
    assert.deepEqual(
      planGroups(p).map((g) => g.map((s) => s.module)),
      [['a'], ['b'], ['c']],
    );
    assert.deepEqual(p.unchanged, ['off']);
  });

  test('the same deployment again plans nothing, whatever the key order', () => {
    const a = mod('a', { env: { X: '1', Y: '2' } });
    const reordered = mod('a', { env: { Y: '2', X: '1' } });
    const p = plan([reordered], [applied(a)]);
    assert.deepEqual(p.steps, []);
    assert.deepEqual(p.unchanged, ['a']);
  });

  test('an env change restarts only that module and says why', () => {
    const p = plan(
      [mod('a', { env: { X: '2' } }), mod('b')],
      [applied(mod('a', { env: { X: '1' } })), applied(mod('b'))],
    );
    assert.deepEqual(brief(p), ['restart a@4294967295']);
    assert.equal(p.steps[0]?.reason, 'env changed');
    assert.deepEqual(p.unchanged, ['b']);
  });

  test('removed modules are removed first; stopped ones are stopped', () => {
    const p = plan(
      [mod('keep'), mod('pause', { status: 'stopped' }), mod('new', { startupOrder: 0 })],
      [applied(mod('keep')), applied(mod('pause')), applied(mod('gone'))],
    );
    assert.deepEqual(brief(p), [`remove gone@${STOP_GROUP}`, `stop pause@${STOP_GROUP}`, 'start new@0']);
  });

  test('restart policy and startup order change in place', () => {
    const p = plan([mod('a', { restartPolicy: 'never', startupOrder: 3 })], [applied(mod('a'))]);
    assert.deepEqual(brief(p), ['update a@3']);
  });

  test('a changed spec of a module that is not running starts it rather than restarting it', () => {
    const p = plan([mod('a', { version: '2' })], [applied(mod('a', { version: '1' }), false)]);
    assert.deepEqual(brief(p), ['start a@4294967295']);
  });

  test('a crashed module under policy never is not restarted by redeploying the same spec', () => {
    const p = plan(
      [mod('a', { restartPolicy: 'never' })],
      [applied(mod('a', { restartPolicy: 'never' }), false)],
    );
    assert.deepEqual(p.steps, []);
  });

  test('a module stopped on purpose is started when the deployment says running again', () => {
    const p = plan([mod('a')], [applied(mod('a', { status: 'stopped' }), false)]);
    assert.deepEqual(brief(p), ['start a@4294967295']);
  });

  test('moving the manifest changes relative paths, so modules restart', () => {
    const p = plan([mod('a')], [applied(mod('a'), true, '/old')], '/new');
    assert.deepEqual(brief(p), ['restart a@4294967295']);
    assert.equal(p.steps[0]?.reason, 'manifest directory changed');
  });
});

describe('reconcile planner properties', () => {
  const specArb = fc.record({
    name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    arg: fc.constantFrom('1', '2'),
    status: fc.constantFrom<'running' | 'stopped'>('running', 'stopped'),
    order: fc.integer({ min: 0, max: 3 }),
  });
  const toSpec = (s: { name: string; arg: string; status: 'running' | 'stopped'; order: number }) =>
    mod(s.name, {
      status: s.status,
      startupOrder: s.order,
      settings: { kind: 'process', command: 'node', args: [s.arg], env: {} },
    });
  const uniq = (xs: ModuleSpec[]) => [...new Map(xs.map((m) => [m.name, m])).values()];

  test('applying a plan and planning again yields nothing (idempotent), and groups are ordered', () => {
    fc.assert(
      fc.property(fc.array(specArb, { maxLength: 6 }), fc.array(specArb, { maxLength: 6 }), (cur, want) => {
        const current = uniq(cur.map(toSpec)).map((s) => applied(s, s.status === 'running'));
        const desired = uniq(want.map(toSpec));
        const p = plan(desired, current);
        // Every module appears at most once, and groups never go down.
        assert.equal(new Set(p.steps.map((s) => s.module)).size, p.steps.length);
        for (let i = 1; i < p.steps.length; i++) assert.ok(p.steps[i - 1]!.group <= p.steps[i]!.group);
        // Untouched modules are exactly the desired ones without a step.
        const touched = new Set(p.steps.map((s) => s.module));
        assert.deepEqual(
          [...p.unchanged].sort(),
          desired
            .map((d) => d.name)
            .filter((n) => !touched.has(n))
            .sort(),
        );
        // After the plan, what runs is what is desired: planning again does nothing.
        const after = desired.map((s) => applied(s, s.status === 'running'));
        assert.deepEqual(plan(desired, after).steps, []);
      }),
      { numRuns: 300 },
    );
  });
});
