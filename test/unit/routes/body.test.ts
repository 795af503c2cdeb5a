import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCondition, parseRoutes, routeMessage } from '../../../src/core/routes/index.js';
import { jsonMessage, message, type Tri, telemetry, tri, where } from './helpers.js';

const weather = {
  message: {
    Weather: {
      Temperature: 50,
      Freezing: -50.4,
      NullValue: null,
      Time: '2017-03-09T00:00:00.000Z',
      Prev: [20, 30, 40],
      Grid: [
        [1, 2],
        [3, 4],
      ],
      IsEnabled: true,
      IsDisabled: false,
      Location: { Street: 'One Microsoft Way', City: 'Redmond', State: 'WA' },
      History: [
        { Month: 'Feb', Temperature: 40 },
        { Month: 'Jan', Temperature: 30 },
      ],
    },
  },
  'Welcome!': { he: 'ברוכים הבאים!' },
  "I'mnotusingspaces%1": { es: 'Estoy usando %1' },
  s: '5',
};
const weatherMsg = jsonMessage(weather, {
  City: 'Redmond',
  $State: 'WA',
  '$body.message.Weather.Temperature': '100',
});

function check(cases: readonly (readonly [string, Tri])[], msg = weatherMsg): void {
  for (const [condition, expected] of cases) assert.equal(tri(condition, msg), expected, condition);
}

test('$body paths: properties, array indexes, nested indexes, any-case $BODY prefix', () => {
  check([
    ['$body.message.Weather.Prev[0] = 20', 'true'],
    ['$BODY.message.Weather.Prev[1] * $body.message.Weather.Prev[2] = 1200', 'true'],
    [
      '$body.message.Weather.History[0].Temperature - 10 = $body.message.Weather.History[1].Temperature',
      'true',
    ],
    ["$body.message.Weather.History[0].Month = 'Feb'", 'true'],
    ['$body.message.Weather.Grid[1][0] = 3', 'true'],
    ['$body.message.Weather.Location.City = City', 'true'],
    ['$body.message.Weather.Location.State = $State', 'true'],
    ['$body.message.Weather.IsEnabled', 'true'],
    ['NOT $body.message.Weather.IsDisabled', 'true'],
    ['$body.message.Weather.IsEnabled AND $body.message.Weather.IsEnabled', 'true'],
    ['$body.message.Weather.IsDisabled OR NOT($body.message.Weather.IsDisabled)', 'true'],
    ["$body.Welcome!.he = 'ברוכים הבאים!'", 'true'],
    ["$body.I'mnotusingspaces%1.es = 'Estoy usando %1'", 'true'],
    ['abs($body.message.Weather.Freezing) = 50.4', 'true'],
  ]);
});

test('a path that selects nothing is null (edgeHub), objects and arrays are undefined', () => {
  check([
    ['$body.message.Weather.NullValue = null', 'true'],
    ['$body.message.Weather.Missing = null', 'true'],
    ["$body.message.Weather.Missing <> '100'", 'true'],
    ['$body.message.Weather.Prev[7] = null', 'true'],
    ['$body.message.Weather.Location[0] = null', 'true'],
    ['$body.message.Weather.Temperature.Deeper = null', 'true'],
    ['NOT ($body.message.Weather.Missing != null)', 'true'],
    ['$body.message.Weather <> null', 'undefined'],
    ['$body.message.Weather.Prev = null', 'undefined'],
    ['is_defined($body)', 'false'],
  ]);
});

test('$body values compare across types by edgeHub type order, without conversion', () => {
  check([
    ['$body.message.Weather.Location.State <> $body.message.Weather.Location.City', 'true'],
    ["{$body.message.Weather.Temperature} = '50'", 'false'],
    ["{$body.message.Weather.Temperature} != '50'", 'true'],
    // A string sorts after every number, so "5" > 30 is true on edgeHub.
    ['$body.s > 30', 'true'],
    ['$body.message.Weather.IsEnabled < 0', 'true'],
    ['$body.message.Weather.NullValue > 1', 'true'],
    ['{$body.message.Weather.Temperature} = 40 + 10', 'true'],
    ['$body.message.Weather.Temperature = 40 + 10', 'false'],
    ['$body.s + 1 = 6', 'undefined'],
    ['is_defined($body.message.Weather.Temperature + $body.message.Weather.Location.City)', 'false'],
  ]);
});

test('an application property spelled like the query wins, unless the query is escaped or indexed', () => {
  check([
    ["$body.message.Weather.Temperature = '100'", 'true'],
    ['as_number($body.message.Weather.Temperature) = 100', 'true'],
    ['{$body.message.Weather.Temperature} = 50', 'true'],
  ]);
  const indexed = jsonMessage({ a: [7] }, { '$body.a[0]': 'app' });
  assert.equal(tri('$body.a[0] = 7', indexed), 'true');
});

test('logic on $body values: both sides must be bools, else undefined', () => {
  check([
    ['$body.message.Weather.Missing AND false', 'undefined'],
    ['$body.message.Weather.IsDisabled AND $body.message.Weather.Location.City', 'undefined'],
    ['$body.message.Weather.IsEnabled OR undefined', 'undefined'],
  ]);
});

const utf32le = (text: string): Uint8Array => {
  const cps = [...text].map((c) => c.codePointAt(0)!);
  const out = new Uint8Array(cps.length * 4);
  const view = new DataView(out.buffer);
  cps.forEach((cp, i) => {
    view.setUint32(i * 4, cp, true);
  });
  return out;
};

test('only contentType application/json with a utf-8, utf-16 or utf-32 encoding is queried', () => {
  const json = '{"t":21,"name":"é😀"}';
  const sys = (
    contentType: string | undefined,
    contentEncoding: string | undefined,
  ): Record<string, string> => {
    const s: Record<string, string> = {};
    if (contentType !== undefined) s.contentType = contentType;
    if (contentEncoding !== undefined) s.contentEncoding = contentEncoding;
    return s;
  };
  const cases: [Uint8Array | string, string | undefined, string | undefined, Tri][] = [
    [json, 'application/json', 'utf-8', 'true'],
    [json, 'Application/JSON', 'UTF-8', 'true'],
    [`\ufeff${json}`, 'application/json', 'utf-8', 'true'],
    [Buffer.from(json, 'utf16le'), 'application/json', 'utf-16', 'true'],
    [utf32le(json), 'application/json', 'UTF-32', 'true'],
    [json, 'application/json', undefined, 'undefined'],
    [json, undefined, 'utf-8', 'undefined'],
    [json, 'text/plain', 'utf-8', 'undefined'],
    [json, 'application/json; charset=utf-8', 'utf-8', 'undefined'],
    [json, 'application/json', 'ascii', 'undefined'],
    ['not json at all', 'application/json', 'utf-8', 'undefined'],
    ['{"t":21', 'application/json', 'utf-8', 'undefined'],
    ['[{"t":21}]', 'application/json', 'utf-8', 'undefined'],
    ['21', 'application/json', 'utf-8', 'undefined'],
    [new Uint8Array([0xff, 0xfe, 0x00]), 'application/json', 'utf-8', 'undefined'],
    [new Uint8Array([1, 2, 3]), 'application/json', 'utf-32', 'undefined'],
  ];
  for (const [body, ct, ce, expected] of cases) {
    const msg = message({ body, systemProperties: sys(ct, ce) });
    assert.equal(
      tri("$body.t = 21 AND $body.name = 'é😀'", msg),
      expected,
      `${ct} ${ce} ${String(body).slice(0, 20)}`,
    );
  }
});

test('system property names are case-insensitive for the content headers too', () => {
  const msg = message({
    body: '{"t":1}',
    systemProperties: { ContentType: 'application/json', CONTENTENCODING: 'utf-8' },
  });
  assert.equal(tri('$body.t = 1', msg), 'true');
});

test('bad or hostile bodies never throw', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const bodies = ['', 'null', '{"a":', deep, `{"a":${deep}}`, '\u0000'];
  for (const b of bodies) {
    const msg = message({
      body: b,
      systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
    });
    assert.equal(evaluateCondition(where('$body.a = 1'), msg, telemetry), false);
  }
});

test('the body is parsed once per message, and only when a matching route reads $body', () => {
  const table = parseRoutes({
    a: 'FROM /messages/* WHERE $body.t > 1 INTO $upstream',
    b: 'FROM /messages/* WHERE $body.t > 2 INTO BrokeredEndpoint("/modules/m/inputs/i")',
    c: 'FROM /messages/* WHERE {$body.u} = \'x\' INTO BrokeredEndpoint("/modules/m/inputs/j")',
    d: 'FROM /messages/modules/other/* WHERE $body.t > 0 INTO BrokeredEndpoint("/modules/m/inputs/k")',
  });
  const plain = parseRoutes({ a: "FROM /messages/* WHERE key = 'v' INTO $upstream" });
  const original = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parses++;
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    const routed = routeMessage(table, jsonMessage({ t: 5, u: 'x' }), telemetry);
    assert.deepEqual(
      routed.map((r) => r.routeNames),
      [['a'], ['b'], ['c']],
    );
    assert.equal(parses, 1);
    routeMessage(plain, jsonMessage({ t: 5 }, { key: 'v' }), telemetry);
    assert.equal(parses, 1);
  } finally {
    JSON.parse = original;
  }
});
