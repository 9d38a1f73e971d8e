import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { settings } from '../../src/config.js';

/** The README's configuration table lists exactly the settings of src/config.ts, with their defaults. */
test('README configuration table matches src/config.ts', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `([A-Z_]+)` \| `([^`]*)` \| .+ \|$/gm)) rows.set(match[1]!, match[2]!);
  for (const s of Object.values(settings)) {
    assert.ok(rows.has(s.env), `README documents ${s.env}`);
    assert.equal(rows.get(s.env), s.default, `README default of ${s.env}`);
  }
  const known = new Set<string>(Object.values(settings).map((s) => s.env));
  for (const env of rows.keys()) assert.ok(known.has(env), `README documents ${env}, which src/config.ts does not read`);
});
