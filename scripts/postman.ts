/**
 * `npm run docs:postman`: writes docs/postman_collection.json, a Postman collection (v2.1) generated from the
 * OpenAPI spec of the routes. The spec is built in-process (no database, NATS or port needed);
 * test/docs/postman.test.ts checks that the committed file is up to date.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convertV2 } from 'openapi-to-postmanv2';
import { settings } from '../src/config.js';
import { UnavailableError } from '../src/domain/errors.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/log.js';

export const COLLECTION_FILE = fileURLToPath(new URL('../docs/postman_collection.json', import.meta.url));

/** The OpenAPI document exactly as `/openapi.json` serves it. */
export async function buildOpenApiSpec(): Promise<Record<string, unknown>> {
  const app = await buildApp({
    service: () => {
      throw UnavailableError.dependency('nothing (documentation build)');
    },
    log: createLogger('silent'),
    ready: async () => ({}),
    bodyLimit: Number(settings.bodyLimitBytes.default),
  });
  try {
    return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/**
 * The converter fakes example values (json-schema-faker) with Math.random; its faker instance takes a `random`
 * option. A fixed-seed generator makes the examples, and so the file, reproducible.
 */
function seedExampleFaker(seed = 20240601): void {
  const require = createRequire(import.meta.url);
  const faker = require('openapi-to-postmanv2/assets/json-schema-faker.js') as { option(opts: { random: () => number }): void };
  let state = seed >>> 0;
  faker.option({
    random: () => { // mulberry32
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The converter mints random ids (`_postman_id`, item and response ids): replace them with ids derived from
 * the item's position, so that regenerating an unchanged spec gives an identical file.
 */
export function stableIds(value: Json, path = 'c'): Json {
  if (Array.isArray(value)) return value.map((v, i) => stableIds(v, `${path}.${i}`));
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [key, inner] of Object.entries(value)) {
    if ((key === 'id' || key === '_postman_id') && typeof inner === 'string') out[key] = path;
    else out[key] = stableIds(inner, `${path}.${key}`);
  }
  return out;
}

/** The Postman collection v2.1 of the spec: folders by tag, `{{baseUrl}}` from the spec's first server, `{{bearerToken}}` for the operator key. */
export async function buildPostmanCollection(): Promise<Json> {
  const spec = await buildOpenApiSpec();
  seedExampleFaker();
  const collection = await new Promise<Json>((resolve, reject) => {
    convertV2({ type: 'json', data: spec }, { folderStrategy: 'Tags', parametersResolution: 'Example', enableOptionalParameters: false }, (err, result) => {
      if (err) return reject(err);
      if (!result?.result) return reject(new Error(`OpenAPI → Postman conversion failed: ${result?.reason ?? 'unknown reason'}`));
      const output = result.output?.[0];
      if (output?.type !== 'collection') return reject(new Error('the converter returned no collection'));
      resolve(output.data as Json);
    });
  });
  const plain = JSON.parse(JSON.stringify(collection)) as { variable?: Json[] } & Record<string, Json>; // as written: no undefined members
  // the operator credential of the listing (security scheme `adminApiKey` → Postman's `{{bearerToken}}`)
  plain.variable = [...(plain.variable ?? []), { key: 'bearerToken', value: '', description: 'ADMIN_API_KEY, for GET /applications (operators only)' }];
  return stableIds(plain);
}

export function serialise(collection: Json): string {
  return `${JSON.stringify(collection, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const collection = await buildPostmanCollection();
  await mkdir(dirname(COLLECTION_FILE), { recursive: true });
  await writeFile(COLLECTION_FILE, serialise(collection));
  console.log(`wrote ${COLLECTION_FILE}`);
}
