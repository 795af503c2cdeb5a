import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchSource, parseRoute } from '../../../src/core/routes/index.js';
import type { MessageSource } from '../../../src/hub/message.js';
import { fromModule, telemetry } from './helpers.js';

const device = telemetry;
const filterOut = fromModule('ModId1', 'Op1');
const filterOther = fromModule('ModId1', 'Op2');
const filterNoOutput = fromModule('ModId1', '');
const otherModule = fromModule('ModId2', 'Op1');
const prefixModule = fromModule('ModId10', 'Op1');

function matches(path: string, from: MessageSource): boolean {
  return matchSource(parseRoute(`FROM ${path} INTO $upstream`).source, from);
}

/** [path, device telemetry, ModId1/Op1, ModId1/Op2, ModId1 without output, ModId2/Op1, ModId10/Op1]. */
const table: [string, ...boolean[]][] = [
  ['/*', true, true, true, true, true, true],
  ['/messages/*', true, true, true, true, true, true],
  ['/messages', true, true, true, true, true, true],
  ['/messages/modules/*', false, true, true, true, true, true],
  ['/messages/modules', false, true, true, true, true, true],
  ['/messages/modules/ModId1/*', false, true, true, true, false, false],
  ['/messages/modules/modid1', false, true, true, true, false, false],
  ['/messages/modules/ModId1/outputs/*', false, true, true, false, false, false],
  ['/messages/modules/ModId1/outputs', false, true, true, false, false, false],
  ['/messages/modules/ModId1/outputs/Op1', false, true, false, false, false, false],
  ['/MESSAGES/MODULES/MODID1/OUTPUTS/OP1', false, true, false, false, false, false],
  ['/messages/modules/ModId1/outputs/Op1*', false, true, false, false, false, false],
  ['/twinChangeNotifications', false, false, false, false, false, false],
  ['/messages/events', false, false, false, false, false, false],
  ['/messages/modules/events', false, false, false, false, false, false],
  ['/foo/*', false, false, false, false, false, false],
  ['/*/messages/*', false, false, false, false, false, false],
];

test('matchSource: every source form against device telemetry and module outputs (edgeHub prefix rules)', () => {
  const froms = [device, filterOut, filterOther, filterNoOutput, otherModule, prefixModule];
  for (const [path, ...expected] of table) {
    const got = froms.map((f) => matches(path, f));
    assert.deepEqual(got, expected, path);
  }
});
