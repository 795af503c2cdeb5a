/** Topic templates: placeholders, escaping of values, and templates refused up front. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isTandemError } from '../../src/errors.js';
import { escapeTopicValue, parseTopicTemplate, renderTopic } from '../../src/upstream/topic-template.js';

test('placeholders are filled per message; absent values are empty', () => {
  const t = parseTopicTemplate('site/{edgeDeviceId}/{deviceId}/{moduleId}/{outputName}');
  assert.equal(
    renderTopic(t, { edgeDeviceId: 'e', deviceId: 'd', moduleId: 'm', outputName: 'o' }),
    'site/e/d/m/o',
  );
  assert.equal(renderTopic(t, { edgeDeviceId: 'e', deviceId: 'd' }), 'site/e/d//');
  assert.equal(renderTopic(parseTopicTemplate('plain/topic'), {}), 'plain/topic');
});

test('values cannot add levels, wildcards or a leading $', () => {
  assert.equal(escapeTopicValue('a/b+c#d'), 'a%2Fb%2Bc%23d');
  assert.equal(escapeTopicValue('$x%y'), '%24x%25y');
  assert.equal(escapeTopicValue('ctl\u0001\u007f'), 'ctl%01%7F');
  assert.equal(escapeTopicValue('temp°C'), 'temp°C');
  const t = parseTopicTemplate('{deviceId}/x');
  assert.equal(renderTopic(t, { deviceId: '$SYS' }), '%24SYS/x');
  fc.assert(
    fc.property(fc.string(), (v) => {
      const e = escapeTopicValue(v);
      return !/[/+#$]/.test(e) && !e.includes('\u0000') && decodeURIComponent(e) === v;
    }),
  );
});

test('bad templates are refused with TANDEM_E_UPSTREAM', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['a/+/b', /wildcard/],
    ['a/#', /wildcard/],
    ['$SYS/x', /reserved/],
    ['a/{nope}', /names \{nope\}/],
    ['a/{deviceId', /without a matching "}"/],
    ['a/deviceId}', /without a matching "\{"/],
    ['{moduleId}{outputName}', /empty topic/],
    ['a\u0000b', /NUL/],
    ['x'.repeat(20_000), /over/],
  ];
  for (const [template, why] of bad) {
    assert.throws(
      () => parseTopicTemplate(template),
      (err) => isTandemError(err, 'TANDEM_E_UPSTREAM') && why.test(err.message),
      JSON.stringify(template.slice(0, 30)),
    );
  }
});
