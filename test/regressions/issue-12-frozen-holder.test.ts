import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { Fences } from '../../src/storage/fences.js';
import { migrate, openOrm } from '../../src/storage/orm.js';
import { dropDeployment, MYSQL_URL, uniqueName } from '../support/env.js';

/**
 * Chaos finding (issue 12, fault 3): an actors process frozen inside a group commit keeps its share lock on
 * `partition_fences`, and a new owner's epoch bump waited for it until the frozen process resumed (or
 * InnoDB's lock wait timeout failed the takeover). The server now closes a connection left idle inside a
 * transaction after the session's wait_timeout, rolling it back, so the takeover goes through meanwhile.
 */
test('a transaction left idle while holding the fence lock does not block a takeover', { timeout: 40_000 }, async (t) => {
  const namespace = uniqueName('fz');
  const url = `${MYSQL_URL}/${namespace}`;
  await migrate(url, createLogger('silent'));
  const frozen = await openOrm(url, 2, 2);
  const owner = await openOrm(url, 2, 2);
  t.after(async () => {
    await frozen.close(true);
    await owner.close(true);
    await dropDeployment(namespace);
  });
  const fences = new Fences(owner);
  assert.equal(await fences.advance(7, 'old owner'), 1);

  let release!: () => void;
  const resumed = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  // the old owner's group commit: fence read under a share lock, then the process "freezes"
  const stale = frozen.em.fork().transactional(async (em) => {
    await em.getConnection().execute('SELECT epoch FROM partition_fences WHERE partition_no = 7 LOCK IN SHARE MODE', [], 'all', em.getTransactionContext());
    locked();
    await resumed;
    await em.getConnection().execute('SELECT 1', [], 'all', em.getTransactionContext());
  });
  const staleOutcome = stale.then(() => 'committed', () => 'failed');
  await holding;

  // the new owner takes over while the old one is still "frozen" (with the default 50 s lock wait this
  // would fail with a lock wait timeout, or wait for the old process to resume)
  assert.equal(await fences.advance(7, 'new owner'), 2);
  release();
  assert.equal(await staleOutcome, 'failed', "the frozen owner's transaction was rolled back");
});
