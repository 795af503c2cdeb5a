/**
 * Writes schema/deployment-manifest.schema.json from the schema the code validates with
 * (src/core/manifest/schema.ts). Run after changing it: `node --import tsx schema/generate.ts`.
 * test/unit/manifest/schema.test.ts fails while the two differ.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manifestSchema } from '../src/core/manifest/schema.js';

const target = fileURLToPath(new URL('./deployment-manifest.schema.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(manifestSchema, null, 2)}\n`);
console.log(`wrote ${target}`);
