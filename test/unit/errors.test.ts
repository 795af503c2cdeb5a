import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { errorCodes } from '../../src/errors.js';
import { repoRoot } from '../support/paths.js';

test('docs/errors.md lists exactly the codes src/errors.ts defines, in order', async () => {
  const doc = await readFile(path.join(repoRoot, 'docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(TANDEM_E_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented, Object.keys(errorCodes));
});
