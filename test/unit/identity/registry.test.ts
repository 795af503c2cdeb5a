/**
 * The identity registry: CRUD over the KeyValue contract, connection strings the Node SDK
 * parses, and CONNECT authentication with credentials the SDK itself derives from them
 * (azure-iot-device SharedAccessKeyAuthenticationProvider + azure-iot-device-mqtt Mqtt).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import azureDevice from 'azure-iot-device';
import azureMqtt from 'azure-iot-device-mqtt';
import { type ErrorCode, isTandemError } from '../../../src/errors.js';
import { type Identity, IdentityRegistry } from '../../../src/identity/registry.js';
import { createSasToken, deviceResourceUri } from '../../../src/identity/sas.js';
import { MemoryKeyValue } from '../../support/memory-kv.js';

const HUB = 'hub.example';
const GW = 'gw.local';

async function rejectsCode(p: Promise<unknown>, code: ErrorCode, reason?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    if (reason !== undefined) assert.equal(err.details.reason, reason);
    return true;
  });
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** What the Node SDK sends in CONNECT for a connection string (client id, username, password). */
async function sdkConnect(
  connectionString: string,
): Promise<{ clientId: string; username: string; password: string }> {
  const auth = azureDevice.SharedAccessKeyAuthenticationProvider.fromConnectionString(connectionString);
  let config: Record<string, string> = {};
  const base = Object.assign(new EventEmitter(), {
    connect(c: Record<string, string>, done: (err: null, r: object) => void): void {
      config = c;
      done(null, {});
    },
    disconnect(done: (err: null) => void): void {
      done(null);
    },
  });
  const transport = new azureMqtt.Mqtt(auth, base);
  await new Promise<void>((resolve, reject) => transport.connect((err) => (err ? reject(err) : resolve())));
  auth.stop();
  return {
    clientId: config.clientId ?? '',
    username: config.username ?? '',
    password: config.sharedAccessSignature ?? '',
  };
}

describe('IdentityRegistry CRUD', () => {
  it('creates a device with two distinct 32-byte keys, stored as JSON under identity/{d}', async () => {
    const kv = new MemoryKeyValue();
    const reg = new IdentityRegistry(kv);
    const dev = await reg.create('dev1');
    assert.equal(dev.deviceId, 'dev1');
    assert.equal(Buffer.from(dev.primaryKey, 'base64').length, 32);
    assert.equal(Buffer.from(dev.secondaryKey, 'base64').length, 32);
    assert.notEqual(dev.primaryKey, dev.secondaryKey);
    const stored = await kv.get('identity/dev1');
    assert.deepEqual(JSON.parse(Buffer.from(stored?.value ?? []).toString('utf8')), {
      deviceId: 'dev1',
      primaryKey: dev.primaryKey,
      secondaryKey: dev.secondaryKey,
    });
    assert.deepEqual(await reg.get('dev1'), { ...dev, moduleId: undefined });
  });

  it('creates modules under identity/{d}/{m} only for existing devices', async () => {
    const kv = new MemoryKeyValue();
    const reg = new IdentityRegistry(kv);
    await rejectsCode(reg.create('dev1', 'mod1'), 'TANDEM_E_IDENTITY_NOT_FOUND');
    await reg.create('dev1');
    const mod = await reg.create('dev1', 'mod1');
    assert.equal(mod.moduleId, 'mod1');
    assert.ok(await kv.get('identity/dev1/mod1'));
    assert.equal((await reg.get('dev1', 'mod1'))?.primaryKey, mod.primaryKey);
    assert.equal(await reg.get('dev1', 'nope'), undefined);
  });

  it('refuses duplicates and invalid ids', async () => {
    const reg = new IdentityRegistry(new MemoryKeyValue());
    await reg.create('dev1');
    await rejectsCode(reg.create('dev1'), 'TANDEM_E_IDENTITY_EXISTS');
    await reg.create('dev1', '$edgeHub');
    await rejectsCode(reg.create('dev1', '$edgeHub'), 'TANDEM_E_IDENTITY_EXISTS');
    for (const bad of ['', 'a/b', 'a#', 'x'.repeat(129)])
      await rejectsCode(reg.create(bad), 'TANDEM_E_IDENTITY_INVALID');
    await rejectsCode(reg.create('dev1', 'm+1'), 'TANDEM_E_IDENTITY_INVALID');
  });

  it('lets only one of two racing registries create the same id', async () => {
    const kv = new MemoryKeyValue();
    const results = await Promise.allSettled([
      new IdentityRegistry(kv).create('d'),
      new IdentityRegistry(kv).create('d'),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<Identity> => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(lost && isTandemError(lost.reason, 'TANDEM_E_IDENTITY_EXISTS'));
    assert.equal((await new IdentityRegistry(kv).get('d'))?.primaryKey, won[0]?.value.primaryKey);
  });

  it('lists devices with their modules, and removing a device removes its modules', async () => {
    const reg = new IdentityRegistry(new MemoryKeyValue());
    await reg.create('b');
    await reg.create('a');
    await reg.create('a', 'm2');
    await reg.create('a', 'm1');
    const ids = (all: Identity[]) =>
      all.map((i) => (i.moduleId ? `${i.deviceId}/${i.moduleId}` : i.deviceId));
    assert.deepEqual(ids(await reg.list()), ['a', 'a/m1', 'a/m2', 'b']);
    assert.equal(await reg.remove('a', 'm2'), true);
    assert.equal(await reg.remove('a', 'm2'), false);
    assert.equal(await reg.remove('a'), true);
    assert.deepEqual(ids(await reg.list()), ['b']);
    assert.equal(await reg.remove('nobody'), false);
  });

  it('never reads another identity through an id holding "/"', async () => {
    const reg = new IdentityRegistry(new MemoryKeyValue());
    await reg.create('dev1');
    await reg.create('dev1', 'mod1');
    assert.equal(await reg.get('dev1/mod1'), undefined);
  });

  it('reports a corrupt record as TANDEM_E_STORE', async () => {
    const kv = new MemoryKeyValue();
    await kv.put('identity/dev1', Buffer.from('{"deviceId":"dev2","primaryKey":"a","secondaryKey":"b"}'));
    await rejectsCode(new IdentityRegistry(kv).get('dev1'), 'TANDEM_E_STORE');
    await kv.put('identity/dev1', Buffer.from('not json'));
    await rejectsCode(new IdentityRegistry(kv).list(), 'TANDEM_E_STORE');
  });
});

describe('connection strings', () => {
  const dev: Identity = { deviceId: 'dev1', primaryKey: 'cHJpbWFyeQ==', secondaryKey: 'c2Vjb25k' };
  const mod: Identity = { ...dev, moduleId: 'mod1' };
  const reg = new IdentityRegistry(new MemoryKeyValue());

  it('prints them as IoT Edge does', () => {
    assert.equal(
      reg.connectionString(dev, { hubName: HUB, gatewayHost: GW }),
      'HostName=hub.example;DeviceId=dev1;SharedAccessKey=cHJpbWFyeQ==;GatewayHostName=gw.local',
    );
    assert.equal(
      reg.connectionString(mod, { hubName: HUB, gatewayHost: 'gw.local:8884' }),
      'HostName=hub.example;DeviceId=dev1;ModuleId=mod1;SharedAccessKey=cHJpbWFyeQ==;GatewayHostName=gw.local:8884',
    );
    assert.equal(
      reg.connectionString(dev, { hubName: HUB }),
      'HostName=hub.example;DeviceId=dev1;SharedAccessKey=cHJpbWFyeQ==',
    );
  });

  it('are parsed by the Node SDK into the same fields', () => {
    const cs = azureDevice.ConnectionString.parse(
      reg.connectionString(mod, { hubName: HUB, gatewayHost: GW }),
    );
    assert.deepEqual(
      [cs.HostName, cs.DeviceId, cs.ModuleId, cs.SharedAccessKey, cs.GatewayHostName],
      [HUB, 'dev1', 'mod1', 'cHJpbWFyeQ==', GW],
    );
  });

  it('refuses host names that would break the format', () => {
    assert.throws(() => reg.connectionString(dev, { hubName: 'a;b' }), /must not contain ';'/);
  });
});

describe('IdentityRegistry.authenticate', () => {
  async function setup(): Promise<{ reg: IdentityRegistry; dev: Identity; mod: Identity }> {
    const reg = new IdentityRegistry(new MemoryKeyValue());
    const dev = await reg.create('dev1');
    const mod = await reg.create('dev1', 'mod1');
    return { reg, dev, mod };
  }

  it('accepts exactly what the Node SDK sends for a device and for a module', async () => {
    const { reg, dev, mod } = await setup();
    for (const identity of [dev, mod]) {
      const connect = await sdkConnect(reg.connectionString(identity, { hubName: HUB, gatewayHost: GW }));
      const who = await reg.authenticate({ ...connect, hubName: HUB, nowSec: nowSec() });
      assert.deepEqual(who, identity.moduleId ? identity : { ...identity, moduleId: undefined });
    }
  });

  it('accepts the secondary key, a Uint8Array password and a token for the gateway host', async () => {
    const { reg, dev } = await setup();
    const username = `${HUB}/dev1/?api-version=2021-04-12`;
    const token = (host: string, key: string) =>
      createSasToken({ resourceUri: deviceResourceUri(host, 'dev1'), key, expirySec: nowSec() + 60 });
    const base = { clientId: 'dev1', username, hubName: HUB, nowSec: nowSec() };
    assert.equal(
      (await reg.authenticate({ ...base, password: token(HUB, dev.secondaryKey) })).deviceId,
      'dev1',
    );
    assert.equal(
      (await reg.authenticate({ ...base, password: Buffer.from(token(HUB, dev.primaryKey)) })).deviceId,
      'dev1',
    );
    await rejectsCode(
      reg.authenticate({ ...base, password: token(GW, dev.primaryKey) }),
      'TANDEM_E_AUTH',
      'wrong-resource',
    );
    assert.equal(
      (await reg.authenticate({ ...base, gatewayHost: GW, password: token(GW, dev.primaryKey) })).deviceId,
      'dev1',
    );
  });

  it('refuses with a reason for every way a CONNECT can be wrong', async () => {
    const { reg, dev, mod } = await setup();
    const devConnect = await sdkConnect(reg.connectionString(dev, { hubName: HUB }));
    const modConnect = await sdkConnect(reg.connectionString(mod, { hubName: HUB }));
    const ok = { ...devConnect, hubName: HUB, nowSec: nowSec() };
    const cases: Array<[string, Parameters<IdentityRegistry['authenticate']>[0]]> = [
      ['malformed-client-id', { ...ok, clientId: 'dev1/mod1/x' }],
      ['malformed-username', { ...ok, username: 'hub.example/dev1' }],
      ['malformed-username-id', { ...ok, username: 'hub.example/de v1/?api-version=1' }],
      ['client-id-mismatch', { ...ok, clientId: 'dev1/mod1' }],
      ['client-id-mismatch', { ...ok, username: modConnect.username }],
      ['wrong-hub', { ...ok, hubName: 'other.example' }],
      ['no-password', { ...ok, password: '' }],
      ['no-password', { ...ok, password: undefined }],
      ['unknown-identity', { ...ok, clientId: 'ghost', username: `${HUB}/ghost/?api-version=1` }],
      ['malformed', { ...ok, password: 'not a token' }],
      [
        'wrong-resource',
        { ...modConnect, clientId: 'dev1', username: devConnect.username, hubName: HUB, nowSec: nowSec() },
      ],
      ['bad-signature', { ...ok, password: devConnect.password.replace(/se=\d+/, `se=${nowSec() + 100}`) }],
      ['expired', { ...ok, nowSec: nowSec() + 3600 + 301 }],
    ];
    for (const [reason, request] of cases)
      await rejectsCode(reg.authenticate(request), 'TANDEM_E_AUTH', reason);
  });

  it("refuses a token signed with another device's key", async () => {
    const { reg } = await setup();
    const dev2 = await reg.create('dev2');
    const forged = createSasToken({
      resourceUri: deviceResourceUri(HUB, 'dev1'),
      key: dev2.primaryKey,
      expirySec: nowSec() + 60,
    });
    await rejectsCode(
      reg.authenticate({
        clientId: 'dev1',
        username: `${HUB}/dev1/?api-version=1`,
        password: forged,
        hubName: HUB,
        nowSec: nowSec(),
      }),
      'TANDEM_E_AUTH',
      'bad-signature',
    );
  });

  it('matches the hub host name case-insensitively', async () => {
    const { reg, dev } = await setup();
    const connect = await sdkConnect(reg.connectionString(dev, { hubName: 'Hub.Example' }));
    assert.equal((await reg.authenticate({ ...connect, hubName: HUB, nowSec: nowSec() })).deviceId, 'dev1');
  });
});
