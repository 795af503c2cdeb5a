/**
 * The workload API on a real unix socket: what the Node SDK's IotEdgeAuthenticationProvider
 * gets from it (trust bundle, a SAS token the hub's verifier accepts), and every refusal with
 * its iotedged-like status and `{message}` body; the socket file's mode, its stale-file
 * handling and where workloadSocketPath puts it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import deviceSdk from 'azure-iot-device';
import {
  startWorkloadApi,
  type WorkloadApi,
  type WorkloadRequestEvent,
  workloadSocketPath,
  workloadUri,
} from '../../src/agent/workload-api.js';
import { isTandemError } from '../../src/errors.js';
import { generateSymmetricKey } from '../../src/identity/identity.js';
import { deviceResourceUri, verifySasToken } from '../../src/identity/sas.js';
import { limits } from '../../src/limits.js';

const { IotEdgeAuthenticationProvider } = deviceSdk;

const moduleId = 'mod1';
const key = generateSymmetricKey();
const trustBundle = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
const signPath = (m: string, g: string, v = '2018-06-28'): string =>
  `/modules/${encodeURIComponent(m)}/genid/${encodeURIComponent(g)}/sign?api-version=${v}`;

let dir: string;
let socketPath: string;
let api: WorkloadApi;
let generation = 'gen-1';
const events: WorkloadRequestEvent[] = [];

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown>;
}

function call(method: string, urlPath: string, body?: unknown, sock = socketPath): Promise<Answer> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: sock, method, path: urlPath, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(raw) });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function signBody(data: Buffer | string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const encoded = typeof data === 'string' ? data : data.toString('base64');
  return { keyId: 'primary', algo: 'HMACSHA256', data: encoded, ...over };
}

/** An error body is exactly `{message}`, as iotedged's ErrorResponse. */
function assertRefused(answer: Answer, status: number, pattern: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.deepEqual(Object.keys(answer.json), ['message']);
  assert.match(String(answer.json.message), pattern);
  assert.match(String(answer.headers['content-type']), /application\/json/);
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-wl-test-'));
  socketPath = workloadSocketPath(dir, moduleId);
  api = await startWorkloadApi({
    socketPath,
    moduleId,
    generationId: () => generation,
    key: async () => key,
    trustBundlePem: () => trustBundle,
    onRequest: (e) => events.push(e),
  });
});

after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

test('the socket is {dataDir}/run/workload/{module}.sock, mode 0600 in a 0700 directory', async () => {
  assert.equal(socketPath, path.join(dir, 'run', 'workload', 'mod1.sock'));
  assert.equal(api.uri, `unix://${socketPath}`);
  const st = await stat(socketPath);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(socketPath))).mode & 0o777, 0o700);
});

test('TrustBundle: GET /trust-bundle answers {certificate: pem}', async () => {
  const answer = await call('GET', '/trust-bundle?api-version=2018-06-28');
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { certificate: trustBundle });
  assert.match(String(answer.headers['content-type']), /application\/json/);
});

test('Sign: digest is HMAC-SHA256 of data under the primary key', async () => {
  const data = Buffer.from('test-hub.local%2Fdevices%2Fedge1%2Fmodules%2Fmod1\n1700000000');
  const answer = await call('POST', signPath(moduleId, generation), signBody(data));
  assert.equal(answer.status, 200);
  const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(data).digest('base64');
  assert.deepEqual(answer.json, { digest: expected });
  assert.deepEqual(events.at(-1), { operation: 'Sign', status: 200 });
});

test("the Node SDK's IotEdgeAuthenticationProvider gets the bundle and a token the hub accepts", async () => {
  const provider = new IotEdgeAuthenticationProvider({
    workloadUri: workloadUri(socketPath),
    deviceId: 'edge1',
    moduleId,
    iothubHostName: 'test-hub.local',
    authScheme: 'sasToken',
    gatewayHostName: 'localhost:8883',
    generationId: generation,
  });
  try {
    const ca = await new Promise<string>((resolve, reject) =>
      provider.getTrustBundle((err, bundle) => (err ? reject(err) : resolve(bundle as string))),
    );
    assert.equal(ca, trustBundle);
    const credentials = await provider.getDeviceCredentials();
    const token = String(credentials.sharedAccessSignature);
    verifySasToken(token, {
      expectedResourceUri: deviceResourceUri('test-hub.local', 'edge1', moduleId),
      keys: [key],
      nowSec: Math.floor(Date.now() / 1000),
    });
  } finally {
    provider.stop();
  }
});

describe('refusals', () => {
  test('403 when signing for another module', async () => {
    assertRefused(await call('POST', signPath('other', generation), signBody('AAAA')), 403, /not authorized/);
    assert.deepEqual(
      { ...events.at(-1), message: undefined },
      { operation: 'Sign', status: 403, message: undefined },
    );
  });

  test('404 for a stale generation id; the new one works', async () => {
    const old = generation;
    generation = 'gen-2';
    try {
      assertRefused(await call('POST', signPath(moduleId, old), signBody('AAAA')), 404, /generation/);
      assert.equal((await call('POST', signPath(moduleId, 'gen-2'), signBody('AAAA'))).status, 200);
    } finally {
      generation = old;
    }
  });

  test('400 for a body that is not a SignRequest, or an algorithm other than HMACSHA256', async () => {
    const sign = signPath(moduleId, generation);
    assertRefused(await call('POST', sign, 'not json'), 400, /not JSON/);
    assertRefused(await call('POST', sign, { keyId: 'primary', algo: 'HMACSHA256' }), 400, /data/);
    assertRefused(await call('POST', sign, signBody('AAAA', { data: 12 })), 400, /data/);
    assertRefused(await call('POST', sign, signBody('AAAA', { algo: 'SHA1' })), 400, /algo/);
    assertRefused(await call('POST', sign, '[]'), 400, /keyId/);
  });

  test('404 for an unknown keyId, 422 for data that is not base64', async () => {
    const sign = signPath(moduleId, generation);
    assertRefused(await call('POST', sign, signBody('AAAA', { keyId: 'secondary' })), 404, /key/);
    assertRefused(await call('POST', sign, signBody('not base64!')), 422, /base64/);
    assertRefused(await call('POST', sign, signBody('AAA')), 422, /base64/);
  });

  test('413 for data over workloadSignDataBytesMax or a body over workloadRequestBodyBytesMax', async () => {
    const sign = signPath(moduleId, generation);
    const max = limits.workloadSignDataBytesMax;
    assert.equal((await call('POST', sign, signBody(Buffer.alloc(max, 1)))).status, 200);
    assertRefused(await call('POST', sign, signBody(Buffer.alloc(max + 1, 1))), 413, /data over/);
    const huge = JSON.stringify(signBody('A'.repeat(limits.workloadRequestBodyBytesMax)));
    assertRefused(await call('POST', sign, huge), 413, /body over/);
    // The connection that carried the refused body is closed; the socket keeps serving.
    assert.equal((await call('POST', sign, signBody('AAAA'))).status, 200);
  });

  test('400 without a supported api-version, 404 for other paths, 405 for the wrong method', async () => {
    assertRefused(await call('GET', '/trust-bundle'), 400, /api-version/);
    assertRefused(await call('GET', '/trust-bundle?api-version=2017-01-01'), 400, /api-version/);
    assertRefused(await call('GET', '/modules?api-version=2018-06-28'), 404, /no workload API operation/);
    const encrypt = `/modules/${moduleId}/genid/${generation}/encrypt?api-version=2018-06-28`;
    assertRefused(await call('POST', encrypt, '{}'), 404, /no workload API operation/);
    const wrong = await call('GET', signPath(moduleId, generation));
    assertRefused(wrong, 405, /POST/);
    assert.equal(wrong.headers.allow, 'POST');
    assertRefused(await call('POST', '/trust-bundle?api-version=2018-06-28', '{}'), 405, /GET/);
    assertRefused(await call('GET', '/%E0%A4%A?api-version=2018-06-28'), 400, /percent/);
  });

  test('500 without detail when the key cannot be read', async () => {
    const sock = workloadSocketPath(dir, 'broken');
    const logged: string[] = [];
    const broken = await startWorkloadApi({
      socketPath: sock,
      moduleId: 'broken',
      generationId: () => 'g',
      key: () => Promise.reject(new Error('store closed')),
      trustBundlePem: () => trustBundle,
      log: (_level, message) => logged.push(message),
    });
    try {
      const answer = await call('POST', signPath('broken', 'g'), signBody('AAAA'), sock);
      assertRefused(answer, 500, /cannot read the key/);
      assert.doesNotMatch(String(answer.json.message), /store closed/);
      assert.match(logged.join('\n'), /store closed/);
    } finally {
      await broken.close();
    }
  });
});

describe('socket file', () => {
  test('a stale socket left by a killed process is replaced; close removes the file', async () => {
    const sock = workloadSocketPath(dir, 'stale');
    await startWorkloadApi({
      socketPath: sock,
      moduleId: 'stale',
      generationId: () => 'g',
      key: async () => key,
      trustBundlePem: () => trustBundle,
    }).then((a) => a.close());
    // A process killed while listening leaves its socket file behind.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok((await stat(sock)).isSocket());
    const again = await startWorkloadApi({
      socketPath: sock,
      moduleId: 'stale',
      generationId: () => 'g',
      key: async () => key,
      trustBundlePem: () => trustBundle,
    });
    assert.equal((await call('GET', '/trust-bundle?api-version=2018-06-28', undefined, sock)).status, 200);
    await again.close();
    await assert.rejects(stat(sock), { code: 'ENOENT' });
  });

  test('a file at the socket path that is not a socket is refused, not removed', async () => {
    const file = path.join(dir, 'run', 'workload', 'notasocket.sock');
    await writeFile(file, 'keep me');
    await assert.rejects(
      startWorkloadApi({
        socketPath: file,
        moduleId: 'notasocket',
        generationId: () => 'g',
        key: async () => key,
        trustBundlePem: () => trustBundle,
      }),
      (err: unknown) => isTandemError(err, 'TANDEM_E_WORKLOAD'),
    );
    assert.ok((await stat(file)).isFile());
  });
});

describe('workloadSocketPath', () => {
  const fitsAndSafe = (p: string): void => {
    assert.ok(Buffer.byteLength(p) <= limits.unixSocketPathBytesMax, p);
    assert.match(p, /^[A-Za-z0-9._~/+,=:@-]+$/);
  };

  test('a deep data directory falls back to a per-data-dir directory under os.tmpdir()', () => {
    const deep = path.join('/var/lib', 'x'.repeat(120));
    const p = workloadSocketPath(deep, 'filter');
    fitsAndSafe(p);
    assert.equal(path.dirname(path.dirname(p)), os.tmpdir());
    assert.match(path.basename(path.dirname(p)), /^tandem-wl-[0-9a-f]{16}$/);
    assert.equal(path.basename(p), 'filter.sock');
    assert.equal(workloadSocketPath(deep, 'filter'), p);
    assert.notEqual(path.dirname(workloadSocketPath(`${deep}y`, 'filter')), path.dirname(p));
  });

  test('module ids that are long or not URI-safe get a hashed file name', () => {
    for (const id of ['m'.repeat(128), "what?no'", 'a(b)']) {
      const p = workloadSocketPath('/srv/tandem', id);
      fitsAndSafe(p);
      assert.match(path.basename(p), /^m-[0-9a-f]{24}\.sock$/);
    }
    assert.notEqual(workloadSocketPath('/srv/tandem', 'a(b)'), workloadSocketPath('/srv/tandem', 'a(c)'));
  });

  test('a data directory with a space is not used as is (the SDK would read %20)', () => {
    const p = workloadSocketPath('/srv/my tandem', 'filter');
    fitsAndSafe(p);
    assert.ok(p.startsWith(os.tmpdir()));
  });
});
