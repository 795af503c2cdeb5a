import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { manifestSchema, parseManifestText, readDeployment } from '../../../src/core/manifest/index.js';
import { repoRoot } from '../../support/paths.js';
import { agentOf, fixture, type Json } from './helpers.js';

const publishedPath = path.join(repoRoot, 'schema/deployment-manifest.schema.json');
const published = (): Json => JSON.parse(readFileSync(publishedPath, 'utf8'));

test('the published schema file is exactly the schema the code validates with', () => {
  assert.deepEqual(
    published(),
    JSON.parse(JSON.stringify(manifestSchema)),
    'schema/deployment-manifest.schema.json is stale: run `node --import tsx schema/generate.ts`',
  );
});

test('the published schema compiles on its own, as an editor or another tool would load it', () => {
  for (const options of [{ strict: true, allowUnionTypes: true }, { strict: false }]) {
    const ajv = new Ajv(options);
    const schema = published();
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
    const validate = ajv.compile(schema);
    for (const name of ['simulated-temperature-1.1.json', 'tandem-process-1.0.json']) {
      assert.equal(validate(fixture(name)), true, `${name}: ${JSON.stringify(validate.errors)}`);
    }
    const bad = fixture('simulated-temperature-1.1.json');
    agentOf(bad).modules.filter.status = 'paused';
    assert.equal(validate(bad), false);
  }
});

/** Every schema node reachable from `node`, with its JSON Pointer-ish location. */
function* walk(node: unknown, at: string): Generator<[string, Record<string, unknown>]> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* walk(item, `${at}/${i}`);
    return;
  }
  const record = node as Record<string, unknown>;
  yield [at, record];
  for (const [key, value] of Object.entries(record)) yield* walk(value, `${at}/${key}`);
}

test('every named property says what it is (title or description), so editors show hovers', () => {
  const definitions = manifestSchema.definitions as Record<string, Record<string, unknown>>;
  const documented = (s: Record<string, unknown>): boolean => {
    if (typeof s.title === 'string' || typeof s.description === 'string') return true;
    const ref = typeof s.$ref === 'string' ? s.$ref.match(/^#\/definitions\/([^/]+)$/)?.[1] : undefined;
    if (ref !== undefined) return documented(definitions[ref] ?? {});
    return s.$ref === '#/properties/modulesContent';
  };
  const bare: string[] = [];
  for (const [at, node] of walk(manifestSchema, '#')) {
    // Properties inside if/then/else refine ones declared (and documented) beside them.
    if (/\/(if|then|else)\//.test(`${at}/`)) continue;
    const props = node.properties;
    if (props === null || typeof props !== 'object') continue;
    for (const [name, s] of Object.entries(props as Record<string, Record<string, unknown>>)) {
      if (!documented(s)) bare.push(`${at}/properties/${name}`);
    }
  }
  assert.deepEqual(bare, []);
});

test('every complete manifest example in docs/manifest.md reads without error', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs/manifest.md'), 'utf8');
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const manifests = blocks.filter((b) => b.trimStart().startsWith('{') && b.includes('"$edgeHub"'));
  assert.ok(manifests.length >= 2, 'docs/manifest.md shows at least two full manifests');
  for (const text of manifests) assert.doesNotThrow(() => readDeployment(parseManifestText(text)), text);
});
