/**
 * `npm run docs:openapi`: writes clients/typescript/openapi.json, the OpenAPI document exactly as `/openapi.json`
 * serves it (built in-process: no database, NATS or port needed). The TypeScript client's types are generated from
 * it (`npm run generate --prefix clients/typescript`); test/docs/openapi-document.test.ts checks that the committed
 * file is up to date, and the client's `npm run check` that its types are.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildOpenApiSpec } from './postman.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../clients/typescript/openapi.json', import.meta.url));

/** The document as committed: pretty-printed, one trailing newline. */
export async function openApiDocument(): Promise<string> {
  return `${JSON.stringify(await buildOpenApiSpec(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await writeFile(OPENAPI_FILE, await openApiDocument());
  console.log(`wrote ${OPENAPI_FILE}`);
}
