import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { COLLECTION_FILE, buildPostmanCollection } from '../../scripts/postman.js';

/** Ids are minted by the converter (and made stable by the script); the comparison ignores them anyway. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'id' && key !== '_postman_id').map(([key, inner]) => [key, withoutIds(inner)]));
}

test('docs/postman_collection.json is generated from the current OpenAPI spec (npm run docs:postman)', async () => {
  const committed = JSON.parse(await readFile(COLLECTION_FILE, 'utf8')) as { info: { schema: string; name: string }; item: unknown[] };
  assert.equal(committed.info.schema, 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
  assert.equal(committed.info.name, 'Chat service');
  const fresh = await buildPostmanCollection();
  assert.deepEqual(withoutIds(committed), withoutIds(fresh), 'docs/postman_collection.json is stale: run `npm run docs:postman`');
});
