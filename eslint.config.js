import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layer boundaries (README "Code map"): domain/, protocol/, config and log are the base (protocol may use domain);
 * storage/ and messaging/ only those; http/, nats-api/, actors/ and projections/ are peers that never import
 * each other; only runtime.ts / main.ts wire them together.
 */
const peers = ['http', 'nats-api', 'actors', 'projections'];
const restrict = (from, banned) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', { patterns: banned.map((b) => ({ group: [`**/${b}/*`, `**/${b}`], message: `${from}/ must not import ${b}/` })) }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'deploy/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // the web console: browser modules (no build)
  {
    files: ['console/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['document', 'location', 'history', 'fetch', 'crypto', 'EventSource', 'URLSearchParams'].map((g) => [g, 'readonly'])),
    },
  },
  restrict('protocol', ['storage', 'messaging', 'gateway', ...peers]),
  restrict('domain', ['storage', 'messaging', 'gateway', ...peers]),
  restrict('storage', ['messaging', 'search', 'gateway', ...peers]),
  restrict('messaging', ['storage', 'search', 'gateway', ...peers]),
  restrict('search', ['gateway', ...peers]),
  restrict('gateway', peers),
  restrict('live', ['gateway', ...peers]),
  // metrics definitions only: what they read is injected by runtime.ts as plain getters
  restrict('observability', ['storage', 'messaging', 'gateway', ...peers]),
  ...peers.map((p) => restrict(p, peers.filter((q) => q !== p))),
);
