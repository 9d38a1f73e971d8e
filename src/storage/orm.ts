import { MikroORM, type Options } from '@mikro-orm/mysql';
import { MySqlDriver } from '@mikro-orm/mysql';
import { Migrator } from '@mikro-orm/migrations';
import mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import { entities } from './entities/index.js';
import { migrationsList } from './migrations/index.js';

export type Orm = MikroORM;

interface DatabaseTarget {
  url: URL;
  dbName: string;
}

function target(databaseUrl: string): DatabaseTarget {
  const url = new URL(databaseUrl);
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(dbName)) throw new Error(`DATABASE_URL must name a database ([A-Za-z0-9_]), got "${dbName}"`);
  return { url, dbName };
}

function serverOptions(url: URL): mysql.ConnectionOptions {
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    connectTimeout: 5000,
  };
}

/** Default of how long a pooled connection may sit idle (in or out of a transaction) before the server closes it. */
const SESSION_IDLE_SECONDS = 30;

function ormOptions(databaseUrl: string, poolSize: number, sessionIdleSeconds = SESSION_IDLE_SECONDS): Options {
  const { url, dbName } = target(databaseUrl);
  const server = serverOptions(url);
  return {
    driver: MySqlDriver,
    dbName,
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: false, allOrNothing: false, tableName: 'schema_migrations', silent: true },
    pool: {
      min: 0,
      max: poolSize,
      // reaped well before the server's wait_timeout below closes them
      idleTimeoutMillis: Math.min(3000, (sessionIdleSeconds * 1000) / 2),
      // A process frozen (SIGSTOP, VM pause) inside a transaction would keep its locks — the share lock on
      // partition_fences, which a new owner's epoch bump waits for — until it resumes. The server closes a
      // connection idle this long instead, rolling its transaction back.
      afterCreate: (conn: { query: (sql: string, cb: (err: unknown) => void) => void }, done: (err: unknown, conn: unknown) => void) => {
        conn.query(`SET SESSION wait_timeout = ${Math.max(1, Math.round(sessionIdleSeconds))}`, (err) => done(err, conn));
      },
    },
    forceUtcTimezone: true,
    timezone: '+00:00',
    allowGlobalContext: false,
    discovery: { disableDynamicFileAccess: true },
    driverOptions: { connection: { timezone: 'Z', supportBigNumbers: true, bigNumberStrings: false, charset: 'utf8mb4' } },
    debug: false,
  };
}

/**
 * Creates the database if missing and applies pending migrations. Several processes may start at once:
 * a named MySQL lock (GET_LOCK) lets one migrate while the others wait.
 */
export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const { url, dbName } = target(databaseUrl);
  const conn = await mysql.createConnection(serverOptions(url));
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    const lockName = `${dbName}.migrations`;
    const [rows] = await conn.query('SELECT GET_LOCK(?, 60) AS got', [lockName]);
    if ((rows as { got: number }[])[0]?.got !== 1) throw new Error('timed out waiting for the migration lock');
    try {
      const orm = await MikroORM.init({ ...ormOptions(databaseUrl, 1), pool: { min: 0, max: 1 } });
      try {
        const applied = await orm.getMigrator().up();
        if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
      } finally {
        await orm.close(true);
      }
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lockName]);
    }
  } finally {
    await conn.end();
  }
}

export async function openOrm(databaseUrl: string, poolSize: number, sessionIdleSeconds?: number): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, poolSize, sessionIdleSeconds));
}

/** The server's max_allowed_packet: the largest statement it accepts. */
export async function maxAllowedPacket(orm: Orm): Promise<number> {
  const rows = (await orm.em.getConnection().execute('SELECT @@max_allowed_packet AS max', [], 'all')) as { max: number | string }[];
  return Number(rows[0]?.max ?? 4 * 1024 * 1024);
}
