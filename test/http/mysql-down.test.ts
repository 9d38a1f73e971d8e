import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operator } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

/** A read that cannot reach MySQL answers 503 `unavailable` with Retry-After, never a 500. */
test('MySQL unreachable: reads answer 503 with Retry-After and readiness turns 503', async (t) => {
  const { url, runtime } = await startDeployment(t, { env: { ROLES: 'api', CACHE_TTL_SECONDS: '1' } });
  // the api's connection pool goes away: every query now fails in the driver
  await runtime.orm!.close(true);

  const res = await call(url, 'GET', '/applications/someToken');
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal(res.body.error, 'unavailable');
  assert.ok(res.headers.get('retry-after'));
  assert.doesNotMatch(res.body.message, /ECONN|pool|knex|SELECT/i, 'no driver text leaks');

  const list = await call(url, 'GET', '/applications', undefined, operator);
  assert.equal(list.status, 503);

  const ready = await call(url, 'GET', '/health/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks.mysql, false);
});
