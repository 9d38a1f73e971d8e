/**
 * What the two reference servers share: their schema (the service's three tables, without its bookkeeping
 * columns), the Fastify app with the endpoints the scenarios use, and the lookups of immutable ids.
 * They read PORT, HOST, DATABASE_URL, REDIS_URL and NAMESPACE (set by bench/env.ts).
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import mysql from 'mysql2/promise';

export const env = {
  port: Number(process.env['PORT'] ?? 3100),
  host: process.env['HOST'] ?? '127.0.0.1',
  databaseUrl: process.env['DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306/bench_reference',
  redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  namespace: process.env['NAMESPACE'] ?? 'bench_reference',
};

/** Creates the database and its tables; returns a pool of 20 connections (the service's DATABASE_POOL_SIZE). */
export async function openDatabase(): Promise<mysql.Pool> {
  const url = new URL(env.databaseUrl);
  const database = url.pathname.slice(1);
  url.pathname = '/';
  const admin = await mysql.createConnection(url.toString());
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``).finally(() => admin.end());
  const pool = mysql.createPool({ uri: env.databaseUrl, connectionLimit: 20 });
  const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
  await pool.query(`CREATE TABLE IF NOT EXISTS applications (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name VARCHAR(255) NOT NULL, created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY applications_token_unique (token)) ${table}`);
  await pool.query(`CREATE TABLE IF NOT EXISTS chats (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, application_id BIGINT UNSIGNED NOT NULL, number INT UNSIGNED NOT NULL,
    name VARCHAR(255) NULL, created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY chats_application_id_number_unique (application_id, number)) ${table}`);
  await pool.query(`CREATE TABLE IF NOT EXISTS messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, chat_id BIGINT UNSIGNED NOT NULL, number INT UNSIGNED NOT NULL,
    body MEDIUMTEXT NOT NULL, created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY messages_chat_id_number_unique (chat_id, number)) ${table}`);
  return pool;
}

export interface Handlers {
  /** Creates chat number N+1 of the application; null when it does not exist; 'busy' after the retries. */
  createChat(applicationId: number, name: string | null): Promise<number | 'busy'>;
  createMessage(applicationId: number, chatNumber: number, body: string): Promise<number | 'busy' | null>;
  /** Rows acknowledged and not yet in MySQL. */
  pending(): number;
}

/** The endpoints the scenarios use, with the service's resource shapes and error body. */
export async function buildApp(pool: mysql.Pool, handlers: Handlers): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const appIds = new Map<string, number>();
  const applicationId = async (token: string): Promise<number | undefined> => {
    let id = appIds.get(token);
    if (id === undefined) {
      const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT id FROM applications WHERE token = ?', [token]);
      id = rows[0]?.['id'] as number | undefined;
      if (id !== undefined) appIds.set(token, id);
    }
    return id;
  };
  const fail = (reply: FastifyReply, status: number, error: string, message: string): FastifyReply => {
    if (status === 503) void reply.header('Retry-After', '1');
    return reply.code(status).send({ error, message });
  };
  const now = (): string => new Date().toISOString();

  app.get('/health', async () => ({ ok: true }));
  app.get('/_bench/pending', async () => ({ pending: handlers.pending() }));
  app.post<{ Body: { name?: unknown } }>('/applications', async (request, reply) => {
    const name = request.body?.name;
    if (typeof name !== 'string' || name.trim() === '') return fail(reply, 400, 'validation_error', 'name is required');
    const token = randomBytes(16).toString('base64url');
    await pool.query('INSERT INTO applications (token, name, created_at) VALUES (?, ?, NOW(3))', [token, name]);
    const t = now();
    return reply.code(201).send({ token, name, chats_count: 0, created_at: t, updated_at: t });
  });
  app.post<{ Params: { token: string }; Body: { name?: unknown } | undefined }>('/applications/:token/chats', async (request, reply) => {
    const id = await applicationId(request.params.token);
    if (id === undefined) return fail(reply, 404, 'not_found', 'no such application');
    const name = typeof request.body?.name === 'string' ? request.body.name : null;
    const number = await handlers.createChat(id, name);
    if (number === 'busy') return fail(reply, 503, 'unavailable', 'gave up after deadlock retries');
    const t = now();
    return reply.code(201).send({ number, name, messages_count: 0, created_at: t, updated_at: t });
  });
  app.post<{ Params: { token: string; number: string }; Body: { body?: unknown } }>('/applications/:token/chats/:number/messages', async (request, reply) => {
    const body = request.body?.body;
    const chat = Number(request.params.number);
    if (typeof body !== 'string' || body.trim() === '') return fail(reply, 400, 'validation_error', 'body is required');
    if (!Number.isInteger(chat) || chat < 1) return fail(reply, 400, 'validation_error', 'bad chat number');
    const id = await applicationId(request.params.token);
    if (id === undefined) return fail(reply, 404, 'not_found', 'no such application');
    const number = await handlers.createMessage(id, chat, body);
    if (number === null) return fail(reply, 404, 'not_found', 'no such chat');
    if (number === 'busy') return fail(reply, 503, 'unavailable', 'gave up after deadlock retries');
    const t = now();
    return reply.code(201).send({ number, body, created_at: t, updated_at: t });
  });
  return app;
}

/** Listens, and closes the app and `close` on SIGTERM / SIGINT. */
export async function serve(app: FastifyInstance, close: () => Promise<void>): Promise<void> {
  await app.listen({ port: env.port, host: env.host });
  const stop = async (): Promise<void> => {
    await app.close();
    await close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
