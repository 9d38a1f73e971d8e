import assert from 'node:assert/strict';
import { globSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `npm run unit` hands node --test a quoted glob, which node expands itself (`**` = any depth). Unquoted, `sh` would
 * expand it first, reading `**` as `*`, and a test file one folder deeper would be skipped without a word.
 */
test('npm run unit runs every test/**/*.test.ts file, at any depth, and nothing else', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { scripts: Record<string, string> };
  const unit = pkg.scripts['unit']!;
  assert.match(unit, /--test\b.* "test\/\*\*\/\*\.test\.ts"$/, 'the glob is quoted: node expands it, not the shell');
  const everyTestFile = (readdirSync(`${ROOT}/test`, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f.split('\\').join('/')}`).sort();
  assert.deepEqual(globSync('test/**/*.test.ts', { cwd: ROOT }).sort(), everyTestFile);
  assert.ok(!everyTestFile.some((f) => f.startsWith('test/chaos/')), 'the chaos suite (chaos.suite.ts) is run by npm run test:chaos only');
});
