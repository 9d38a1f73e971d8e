import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { migrate, openOrm } from '../../src/storage/orm.js';
import { dropDeployment, testConfig, uniqueName } from '../support/env.js';

/**
 * One definition per table: the entities (src/storage/entities) describe exactly the tables the migrations make.
 * MikroORM's schema diff between the two is empty — a column, type, key or foreign key that differs shows up here.
 * (The tables without an entity — partition_fences, command_streams, schema_migrations — are plain SQL.)
 */
test('the entities describe the migrated schema exactly (the schema diff is empty)', async (t) => {
  const namespace = uniqueName();
  const config = testConfig(namespace);
  t.after(() => dropDeployment(namespace));
  await migrate(config.databaseUrl, createLogger('silent'));
  const orm = await openOrm(config.databaseUrl, 1);
  t.after(() => orm.close(true));

  const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: false });
  assert.equal(diff.trim(), '', `entities and migrations differ:\n${diff}`);
});
