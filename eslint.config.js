import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layer boundaries (README "Code map"): domain/, protocol/, config and log are the base (protocol may use domain);
 * storage/ and messaging/ only those; http/, nats-api/, actors/ and projections/ are peers that never import
 * each other; only src/roles/ (one module per role, used by runtime.ts) wires them together.
 */
const peers = ['http', 'nats-api', 'actors', 'projections'];
// roles/ (one module per role: start, stop) wires the peers together; only runtime.ts uses it
const wiring = ['roles'];
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
  restrict('protocol', ['storage', 'messaging', 'gateway', ...peers, ...wiring]),
  restrict('domain', ['storage', 'messaging', 'gateway', ...peers, ...wiring]),
  restrict('storage', ['messaging', 'search', 'gateway', ...peers, ...wiring]),
  restrict('messaging', ['storage', 'search', 'gateway', ...peers, ...wiring]),
  restrict('search', ['gateway', ...peers, ...wiring]),
  restrict('gateway', [...peers, ...wiring]),
  restrict('live', ['gateway', ...peers, ...wiring]),
  // metrics definitions only: what they read is injected by src/roles/ as plain getters
  restrict('observability', ['storage', 'messaging', 'gateway', ...peers, ...wiring]),
  ...peers.map((p) => restrict(p, [...peers.filter((q) => q !== p), ...wiring])),
);
