/**
 * The command line: help, unknown commands and options, and `tandem up` refusing a bad
 * manifest or a route that does not parse (with its line and column) before anything starts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { testManifest } from '../api/manifests.js';
import { manifestWithRoutes } from '../support/node.js';
import { runTandem } from '../support/process-node.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tandem = runTandem;

test('--help everywhere, non-zero exit for unknown commands and options', async () => {
  const help = await tandem(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /identity create/);
  assert.equal((await tandem(['up', '--help'])).code, 0);
  assert.match((await tandem(['identity', '--help'])).out, /connection string/);
  const unknown = await tandem(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
  const badOption = await tandem(['up', '--no-such-option']);
  assert.equal(badOption.code, 1);
  assert.match(badOption.err, /TANDEM_E_CONFIG/);
});

test('tandem up refuses a route that does not parse, naming line and column', async () => {
  const file = path.join(dir, 'bad-route.json');
  await writeFile(
    file,
    JSON.stringify(testManifest({}, { broken: 'FROM /messages/*\nWHERE $body.x > \nINTO $upstream' })),
  );
  const r = await tandem(['up', file, '--data-dir', path.join(dir, 'd1'), '--port', '0']);
  assert.equal(r.code, 1);
  // A full manifest is read as a whole: the route's problem is a manifest problem at its path.
  assert.match(r.err, /TANDEM_E_(MANIFEST|ROUTE_SYNTAX)/);
  assert.match(r.err, /route "broken": line 3, column 1/);
});

test('tandem up refuses an invalid manifest with the JSON path', async () => {
  const file = path.join(dir, 'bad-manifest.json');
  const manifest = manifestWithRoutes({ ok: 'FROM /messages/* INTO $upstream' }) as {
    modulesContent: { $edgeHub: { 'properties.desired': Record<string, unknown> } };
  };
  manifest.modulesContent.$edgeHub['properties.desired'].storeAndForwardConfiguration = {
    timeToLiveSecs: 'soon',
  };
  await writeFile(file, JSON.stringify(manifest));
  const r = await tandem(['up', file, '--data-dir', path.join(dir, 'd2'), '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.err, /TANDEM_E_MANIFEST/);
  assert.match(
    r.err,
    /\$\.modulesContent\.\$edgeHub\['properties\.desired'\]\.storeAndForwardConfiguration\.timeToLiveSecs/,
  );
});

test('identity create prints an IoT Hub connection string; a duplicate is refused', async () => {
  const d = path.join(dir, 'd3');
  const r = await tandem([
    'identity',
    'create',
    'edge9/filter',
    '--data-dir',
    d,
    '--gateway-host',
    'gw.local',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out.trim(),
    /^HostName=tandem\.local;DeviceId=edge9;ModuleId=filter;SharedAccessKey=[A-Za-z0-9+/=]{44};GatewayHostName=gw\.local$/,
  );
  const dup = await tandem(['identity', 'create', 'edge9/filter', '--data-dir', d]);
  assert.equal(dup.code, 1);
  assert.match(dup.err, /TANDEM_E_IDENTITY_EXISTS/);
  const list = await tandem(['identity', 'list', '--json', '--data-dir', d]);
  assert.deepEqual(JSON.parse(list.out), ['edge9', 'edge9/filter']);
});
