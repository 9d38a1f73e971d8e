import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { OPENAPI_FILE, openApiDocument } from '../../scripts/openapi.js';

/**
 * The TypeScript client's types are generated from clients/typescript/openapi.json; the client's own check
 * (`npm run check --prefix clients/typescript`) fails when its types differ from a fresh generation of that file,
 * and this test when the file differs from what the service serves.
 */
test('clients/typescript/openapi.json is the current OpenAPI document (npm run docs:openapi)', async () => {
  const committed = await readFile(OPENAPI_FILE, 'utf8');
  assert.equal(committed, await openApiDocument(), 'clients/typescript/openapi.json is stale: run `npm run client:generate`');
});
