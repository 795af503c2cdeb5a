/**
 * SAS tokens against the Node SDK's own generator (azure-iot-common SharedAccessSignature.create,
 * azure-iot-device SharedAccessSignature.create) and its parser, plus every refusal reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import azureCommon from 'azure-iot-common';
import azureDevice from 'azure-iot-device';
import { isTandemError } from '../../../src/errors.js';
import {
  createSasToken,
  deviceResourceUri,
  parseSasToken,
  type SasFailureReason,
  verifySasToken,
} from '../../../src/identity/sas.js';
import { limits } from '../../../src/limits.js';

const primary = Buffer.alloc(32, 1).toString('base64');
const secondary = Buffer.alloc(32, 2).toString('base64');
const other = Buffer.alloc(32, 3).toString('base64');
const NOW = 1_700_000_000;
const resource = deviceResourceUri('hub.example', 'dev1');
const moduleResource = deviceResourceUri('hub.example', 'dev1', 'mod1');

function refused(fn: () => unknown, reason: SasFailureReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTandemError(err, 'TANDEM_E_AUTH'), `expected TANDEM_E_AUTH, got ${String(err)}`);
    assert.equal(err.details.reason, reason);
    return true;
  });
}

function verify(token: string, expected: string = resource, nowSec = NOW): ReturnType<typeof verifySasToken> {
  return verifySasToken(token, { expectedResourceUri: expected, keys: [primary, secondary], nowSec });
}

/** The Node SDK's token for a resource (the SAK authentication provider's exact call). */
function sdkToken(resourceUri: string, key: string, expiry: number, keyName?: string): string {
  const sr = azureCommon.encodeUriComponentStrict(resourceUri);
  return azureCommon.SharedAccessSignature.create(sr, keyName ?? '', key, expiry).toString();
}

describe('createSasToken', () => {
  it('builds the IoT Hub format, byte for byte what the Node SDK builds', () => {
    const ours = createSasToken({ resourceUri: resource, key: primary, expirySec: NOW + 3600 });
    assert.match(
      ours,
      /^SharedAccessSignature sr=hub\.example%2Fdevices%2Fdev1&sig=[A-Za-z0-9%]+&se=1700003600$/,
    );
    assert.equal(ours, sdkToken(resource, primary, NOW + 3600));
    assert.equal(
      ours,
      azureDevice.SharedAccessSignature.create('hub.example', 'dev1', primary, NOW + 3600).toString(),
    );
  });

  it('matches the SDK for ids with characters strict encoding escapes, and with a policy name', () => {
    const odd = deviceResourceUri('hub.example', "d*(e)v!'$=:@", 'm%1');
    assert.equal(
      createSasToken({ resourceUri: odd, key: primary, expirySec: NOW }),
      sdkToken(odd, primary, NOW),
    );
    assert.equal(
      createSasToken({ resourceUri: resource, key: primary, expirySec: NOW, policyName: 'iothubowner' }),
      sdkToken(resource, primary, NOW, 'iothubowner'),
    );
  });

  it('is read by the SDK parser, which finds the same fields', () => {
    const token = createSasToken({ resourceUri: moduleResource, key: primary, expirySec: NOW + 60 });
    const parsed = azureDevice.SharedAccessSignature.parse(token) as unknown as Record<string, string>;
    assert.equal(decodeURIComponent(parsed.sr ?? ''), moduleResource);
    assert.equal(parsed.se, String(NOW + 60));
    // The SDK recomputes the same signature from the parsed fields.
    assert.equal(
      azureCommon.SharedAccessSignature.create(parsed.sr ?? '', '', primary, NOW + 60).sig,
      parsed.sig,
    );
  });
});

describe('verifySasToken', () => {
  it('accepts SDK-made device and module tokens, signed by the primary or secondary key', () => {
    assert.equal(verify(sdkToken(resource, primary, NOW + 3600)).expirySec, NOW + 3600);
    assert.equal(verify(sdkToken(resource, secondary, NOW + 3600)).resourceUri, resource);
    const m = verify(sdkToken(moduleResource, primary, NOW + 60), moduleResource);
    assert.equal(m.encodedResourceUri, 'hub.example%2Fdevices%2Fdev1%2Fmodules%2Fmod1');
  });

  it('accepts its own tokens, any field order, and reports skn without using it', () => {
    const token = createSasToken({
      resourceUri: resource,
      key: primary,
      expirySec: NOW + 10,
      policyName: 'device',
    });
    assert.equal(verify(token).policyName, 'device');
    const [head, fields] = token.split(' ');
    const reordered = `${head} ${(fields ?? '').split('&').reverse().join('&')}`;
    assert.equal(verify(reordered).expirySec, NOW + 10);
    const upperNames = token.replace('sr=', 'SR=').replace('sig=', 'Sig=');
    assert.equal(verify(upperNames).expirySec, NOW + 10);
  });

  it('compares the resource case-insensitively and accepts any listed resource', () => {
    const token = sdkToken('HUB.Example/devices/DEV1', primary, NOW + 10);
    assert.equal(verify(token).resourceUri, 'HUB.Example/devices/DEV1');
    const viaGateway = sdkToken(deviceResourceUri('gw.local', 'dev1'), primary, NOW + 10);
    const ok = verifySasToken(viaGateway, {
      expectedResourceUri: [resource, deviceResourceUri('gw.local', 'dev1')],
      keys: [primary],
      nowSec: NOW,
    });
    assert.equal(ok.resourceUri, 'gw.local/devices/dev1');
  });

  it('refuses a token for another resource', () => {
    refused(
      () => verify(sdkToken(deviceResourceUri('hub.example', 'dev2'), primary, NOW + 10)),
      'wrong-resource',
    );
    refused(() => verify(sdkToken(moduleResource, primary, NOW + 10)), 'wrong-resource');
    refused(() => verify(sdkToken(resource, primary, NOW + 10), moduleResource), 'wrong-resource');
    refused(() => verify(sdkToken('other.hub/devices/dev1', primary, NOW + 10)), 'wrong-resource');
    refused(
      () => verify(sdkToken(`${resource}/api-version=2016-11-14`, primary, NOW + 10)),
      'wrong-resource',
    );
  });

  it('refuses tampered tokens and tokens signed by another key', () => {
    const token = sdkToken(resource, primary, NOW + 3600);
    refused(() => verify(sdkToken(resource, other, NOW + 3600)), 'bad-signature');
    refused(() => verify(token.replace(`se=${NOW + 3600}`, `se=${NOW + 7200}`)), 'bad-signature');
    const sig = /sig=([^&]+)/.exec(token)?.[1] ?? '';
    const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    refused(() => verify(token.replace(sig, flipped)), 'bad-signature');
    refused(() => verify(token.replace(sig, sig.slice(0, -3))), 'bad-signature');
    // Re-encoding sr changes the signed text: the signature covers sr exactly as sent.
    refused(() => verify(token.replace('hub.example%2F', 'hub.example/')), 'bad-signature');
    // An unescaped '+' in sig is a space after form decoding, as in edgeHub.
    let expiry = NOW + 1;
    while (!sdkToken(resource, primary, expiry).includes('%2B')) expiry++;
    const plus = sdkToken(resource, primary, expiry);
    assert.equal(verify(plus).expirySec, expiry);
    refused(() => verify(plus.replaceAll('%2B', '+')), 'bad-signature');
    refused(
      () => verifySasToken(token, { expectedResourceUri: resource, keys: [], nowSec: NOW }),
      'bad-signature',
    );
  });

  it('refuses expired tokens, allowing limits.sasClockSkewSecondsMax of skew', () => {
    const token = sdkToken(resource, primary, NOW);
    assert.equal(verify(token, resource, NOW + limits.sasClockSkewSecondsMax).expirySec, NOW);
    refused(() => verify(token, resource, NOW + limits.sasClockSkewSecondsMax + 1), 'expired');
  });

  it('refuses tokens living longer than limits.sasTokenLifetimeSecondsMax', () => {
    const longest = NOW + limits.sasTokenLifetimeSecondsMax + limits.sasClockSkewSecondsMax;
    assert.equal(verify(sdkToken(resource, primary, longest)).expirySec, longest);
    refused(() => verify(sdkToken(resource, primary, longest + 1)), 'lifetime-too-long');
  });

  it('refuses malformed tokens', () => {
    const good = sdkToken(resource, primary, NOW + 10);
    for (const token of [
      '',
      'garbage',
      good.replace('SharedAccessSignature', 'sharedaccesssignature'),
      good.replace('SharedAccessSignature ', 'SharedAccessSignature  '),
      good.replace('SharedAccessSignature ', ''),
      `${good} extra`,
      good.replace(/&se=\d+/, ''),
      good.replace(/sig=[^&]+&/, ''),
      good.replace(/sr=[^&]+&/, ''),
      good.replace(/se=\d+/, 'se=12.5'),
      good.replace(/se=\d+/, 'se=-5'),
      good.replace(/se=\d+/, 'se=1234567890123'),
      `${good}&se=1`,
      `${good}&SE=1`,
      good.replace('sig=', 'sig=%zz'),
      `SharedAccessSignature sr=${'a'.repeat(5000)}&sig=x&se=1`,
    ]) {
      refused(() => verify(token), 'malformed');
    }
  });

  it('parses the decoded fields', () => {
    const t = parseSasToken(sdkToken(moduleResource, primary, NOW, 'pol'));
    assert.equal(t.resourceUri, moduleResource);
    assert.equal(t.expirySec, NOW);
    assert.equal(t.policyName, 'pol');
    assert.equal(Buffer.from(t.signature, 'base64').length, 32);
  });
});
