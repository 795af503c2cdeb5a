/**
 * The property-bag codec. Wire examples are the IoT Hub MQTT doc's and what the Node SDK
 * (azure-iot-device-mqtt mqtt.js `_getEventTopicFromMessage`) writes: system keys through
 * querystring.stringify (`%24.mid=...`), application properties through encodeURIComponent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodePropertyBag,
  encodePropertyBag,
  systemPropertyForWireKey,
  systemPropertyWireKeys,
} from '../../../src/core/topics/index.js';
import { type ErrorCode, isTandemError } from '../../../src/errors.js';
import { limits } from '../../../src/limits.js';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** Plain objects, so deepStrictEqual does not trip over the codec's null prototypes. */
function plain(bag: ReturnType<typeof decodePropertyBag>): { sys: object; props: object } {
  return { sys: { ...bag.systemProperties }, props: { ...bag.properties } };
}

describe('decodePropertyBag', () => {
  it('decodes the Node SDK telemetry bag, system keys sent as %24.xx', () => {
    const bag =
      '%24.mid=mid%201%26%3D%2F%25&%24.cid=c1&%24.uid=u&%24.to=%2Fdevices%2Fx&%24.ct=application%2Fjson' +
      '&%24.ce=utf-8&%24.exp=1970-01-01T00%3A00%3A00.000Z&k%26%3D%2F%20%25%3F=v%26%3D%2F%20%25%3F%C3%A9&%24.sub=comp';
    assert.deepEqual(plain(decodePropertyBag(bag)), {
      sys: {
        messageId: 'mid 1&=/%',
        correlationId: 'c1',
        userId: 'u',
        to: '/devices/x',
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        absoluteExpiryTime: '1970-01-01T00:00:00.000Z',
        componentName: 'comp',
      },
      props: { 'k&=/ %?': 'v&=/ %?é' },
    });
  });

  it('decodes the doc example with a raw "$" and the routing content type', () => {
    const { systemProperties } = decodePropertyBag('$.ct=application%2Fjson%3Bcharset%3Dutf-8&$.ce=utf-8');
    assert.equal(systemProperties.contentType, 'application/json;charset=utf-8');
    assert.equal(systemProperties.contentEncoding, 'utf-8');
  });

  it('reads the doc C2D value forms: bare key, "key=", "key=value", behind a leading "?"', () => {
    const { properties } = decodePropertyBag('?prop1&prop2=&prop3=a%20string');
    assert.deepEqual({ ...properties }, { prop1: '', prop2: '', prop3: 'a string' });
  });

  it('keeps unknown $.-keys as application properties (edgeHub) and "+" as "+"', () => {
    const bag = decodePropertyBag('%24.foo=1&ack=full&a=b+c');
    assert.deepEqual(plain(bag), { sys: {}, props: { '$.foo': '1', ack: 'full', a: 'b+c' } });
  });

  it('keeps the last of duplicate keys (C# serializer)', () => {
    assert.deepEqual({ ...decodePropertyBag('a=1&a=2').properties }, { a: '2' });
  });

  it('stores hostile names as plain data in null-prototype maps', () => {
    const { properties } = decodePropertyBag('__proto__=x&constructor=y&toString=z');
    assert.equal(Object.getPrototypeOf(properties), null);
    assert.deepEqual(Object.keys(properties), ['__proto__', 'constructor', 'toString']);
    assert.equal(properties.toString, 'z');
    assert.equal(decodePropertyBag('a=1').properties.hasOwnProperty, undefined);
  });

  it('returns empty maps for an empty bag', () => {
    assert.deepEqual(plain(decodePropertyBag('')), { sys: {}, props: {} });
  });

  it('refuses empty names, stray "&", raw "=" in values and bad percent-encoding', () => {
    for (const bag of ['=v', 'a=1&&b=2', 'a=1&', '&a=1', 'a=b=c', 'a=%', 'a=%zz', '%E0%A4%A=1', 'a=%FF']) {
      throwsCode(() => decodePropertyBag(bag), 'TANDEM_E_TOPIC');
    }
  });

  it('refuses more application properties than limits.propertiesCountMax', () => {
    const at = Array.from({ length: limits.propertiesCountMax }, (_, i) => `p${i}=v`).join('&');
    assert.equal(Object.keys(decodePropertyBag(at).properties).length, limits.propertiesCountMax);
    throwsCode(() => decodePropertyBag(`${at}&one=more`), 'TANDEM_E_TOO_LARGE');
  });

  it('does not count system properties or repeated keys against the limit', () => {
    const many = Array.from({ length: limits.propertiesCountMax }, (_, i) => `p${i}=v`).join('&');
    const bag = decodePropertyBag(`${many}&p0=again&%24.mid=m&%24.cid=c`);
    assert.equal(bag.systemProperties.messageId, 'm');
  });

  it('refuses a bag over limits.topicBytesMax, counting UTF-8 bytes', () => {
    throwsCode(() => decodePropertyBag(`a=${'b'.repeat(limits.topicBytesMax)}`), 'TANDEM_E_TOO_LARGE');
    // Under the limit in UTF-16 units, over it in bytes.
    throwsCode(() => decodePropertyBag(`a=${'é'.repeat(limits.topicBytesMax / 2)}`), 'TANDEM_E_TOO_LARGE');
  });

  it('stays linear on a long bag of bare keys', () => {
    const bag = Array.from({ length: 3000 }, () => 'k').join('&');
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) decodePropertyBag(bag);
    assert.ok(performance.now() - t0 < 1000, 'decoding 50 x 3000 pairs took over a second');
  });
});

describe('encodePropertyBag', () => {
  it('writes system properties by wire key, then application properties, RFC 3986 strict', () => {
    const bag = encodePropertyBag(
      { messageId: "m!'()*", contentType: 'application/json' },
      { 'a b': 'c&d=e/f?g#h+i~', é: '€' },
    );
    assert.equal(
      bag,
      '%24.mid=m%21%27%28%29%2A&%24.ct=application%2Fjson&a%20b=c%26d%3De%2Ff%3Fg%23h%2Bi~&%C3%A9=%E2%82%AC',
    );
  });

  it('leaves out system properties with no wire key and follows the `only` list', () => {
    assert.equal(encodePropertyBag({ enqueuedTime: 't', inputName: 'in', messageId: 'm' }, {}), '%24.mid=m');
    assert.equal(
      encodePropertyBag({ outputName: 'o', messageId: 'm', userId: 'u' }, {}, ['userId', 'messageId']),
      '%24.uid=u&%24.mid=m',
    );
  });

  it('refuses application properties named like a system wire key', () => {
    throwsCode(() => encodePropertyBag({}, { '$.mid': 'x' }), 'TANDEM_E_TOPIC');
  });

  it('refuses lone surrogates, too many properties and oversized bags', () => {
    throwsCode(() => encodePropertyBag({}, { a: '\ud800' }), 'TANDEM_E_TOPIC');
    const many = Object.fromEntries(
      Array.from({ length: limits.propertiesCountMax + 1 }, (_, i) => [`p${i}`, 'v']),
    );
    throwsCode(() => encodePropertyBag({}, many), 'TANDEM_E_TOO_LARGE');
    throwsCode(
      () => encodePropertyBag({}, { a: '/'.repeat(limits.topicBytesMax / 3) }),
      'TANDEM_E_TOO_LARGE',
    );
  });
});

describe('property bag round trip', () => {
  const tricky = fc.constantFrom(
    '&',
    '=',
    '/',
    '%',
    ' ',
    '?',
    '+',
    '#',
    '$',
    '.',
    '%25',
    '%2',
    'é',
    '😀',
    '',
  );
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 8 }).map((a) => a.join('')),
  );
  const systemNames = Object.keys(systemPropertyWireKeys);
  const system = fc.dictionary(fc.constantFrom(...systemNames), text, { maxKeys: systemNames.length });
  const application = fc.dictionary(
    text.filter((k) => k.length > 0 && systemPropertyForWireKey(k) === undefined),
    text,
    { maxKeys: 20 },
  );

  it('decode(encode(x)) equals x for arbitrary unicode keys and values', () => {
    fc.assert(
      fc.property(system, application, (sys, props) => {
        const bag = encodePropertyBag(sys, props);
        const back = decodePropertyBag(bag);
        assert.deepEqual({ ...back.systemProperties }, { ...sys });
        assert.deepEqual({ ...back.properties }, { ...props });
        // The Node SDK splits received topics on '/' and pairs on '=': neither may leak out raw.
        assert.equal(bag.includes('/'), false);
        assert.equal(bag === '' || bag.split('&').every((p) => p.split('=').length === 2), true);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes what the Node SDK encoding (encodeURIComponent) produces', () => {
    fc.assert(
      fc.property(application, (props) => {
        const bag = Object.entries(props)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&');
        assert.deepEqual({ ...decodePropertyBag(bag).properties }, { ...props });
      }),
      { numRuns: 300 },
    );
  });
});
