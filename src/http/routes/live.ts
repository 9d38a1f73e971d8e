import type { FastifyInstance } from 'fastify';
import type { ChatService } from '../../gateway/chat-service.js';
import type { LiveEvent } from '../../live/chat-feed.js';
import { parseCursor } from '../../live/cursor.js';
import type { LiveHub, LiveSink } from '../../live/live-hub.js';
import { fields, resources } from '../../protocol/schemas.js';
import { pathNumber } from '../request-helpers.js';
import { errorResponses, params, type ChatParams } from './common.js';

export interface LiveRouteOptions {
  hub: () => LiveHub;
  /** LIVE_MAX_BUFFER_BYTES: unsent bytes a client may leave in its socket before the stream ends. */
  maxBufferBytes: number;
}

/** How long a browser's EventSource waits before reconnecting (the `retry:` field). */
const RECONNECT_MS = 1000;

const streamDescription = `Server-Sent Events: one event per message created (\`event: message.created\`) or edited
(\`event: message.updated\`) in this chat, \`data\` = the Message resource. Creations come in number order without a
gap or a duplicate. Every event's \`id\` is \`<number>.<version>\`: the highest message number delivered so far and
the highest write version delivered; a reconnect sending it as \`Last-Event-ID\` (browsers do) resumes exactly after
it: the creations after \`number\` are replayed from MySQL, then the edits made meanwhile to earlier messages, then
live events. \`?after=<number>\` (or \`Last-Event-ID: <number>\`) resumes the creations only; with neither, the
stream starts with the next message created. Comment lines (\`: hb\`) every LIVE_HEARTBEAT_MS; the stream ends when
the process shuts down (reconnect). Opening counts against the rate limits.`;

export function liveRoutes(app: FastifyInstance, service: () => ChatService, opts: LiveRouteOptions): void {
  app.get<{ Params: ChatParams; Querystring: { after?: string }; Headers: { 'last-event-id'?: string } }>('/applications/:token/chats/:number/messages/stream', {
    schema: {
      tags: ['messages'], summary: 'Stream the messages of a chat as they are created or edited (Server-Sent Events, resumable)',
      description: streamDescription,
      params: params.chat,
      querystring: { type: 'object', properties: { after: { ...fields.afterNumberQuery, description: 'Resume after this message number (Last-Event-ID wins when both are sent).' } } },
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 40, description: 'The id of the last event received (`<number>.<version>` or `<number>`): the stream resumes after it.' } } },
      response: {
        200: {
          description: 'An endless text/event-stream (see the description); each event\'s data is a Message',
          content: { 'text/event-stream': { schema: { type: 'string', description: `event: message.created | message.updated\nid: <number>.<version>\ndata: ${JSON.stringify({ number: 1, body: 'hello there', created_at: '2025-01-15T09:30:00.000Z', updated_at: '2025-01-15T09:30:00.000Z' })}` } } },
        },
        ...errorResponses.read,
        400: { ...resources.error, description: '`validation_error`: a path number that is not an integer, an `after` that is not a non-negative integer, a Last-Event-ID that is not `<number>` or `<number>.<version>`' },
        429: { ...resources.error, description: '`rate_limited`: over the rate limits, or the application has LIVE_MAX_STREAMS_PER_APPLICATION streams open on this process; see Retry-After' },
        503: { ...resources.error, description: '`unavailable`: this process has LIVE_MAX_STREAMS streams open, is shutting down, or NATS/MySQL is down; see Retry-After (another process may take the stream)' },
      },
    },
  }, async (request, reply) => {
    const { token } = request.params;
    const chatNumber = pathNumber(request.params.number, 'number');
    const cursor = parseCursor(request.headers['last-event-id'], request.query.after);
    const chatId = await service().chatId(token, chatNumber);
    // HEAD (Fastify's twin of GET): the headers a stream would start with, no stream
    if (request.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').send();
    const stream = await opts.hub().open(token, chatNumber, chatId, cursor);

    const res = reply.raw;
    reply.hijack();
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
      // a connection that carried a stream is not reused: it closes with the stream (at shutdown too)
      connection: 'close',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    let waiting: Array<() => void> = [];
    const wake = (): void => {
      const resolve = waiting;
      waiting = [];
      for (const r of resolve) r();
    };
    res.on('drain', wake);
    res.on('close', () => {
      wake();
      void stream.close();
    });
    const sink: LiveSink = {
      send: (event: LiveEvent, id: string) => {
        if (res.destroyed || res.writableEnded) return true;
        res.write(`event: ${event.type}\nid: ${id}\ndata: ${JSON.stringify(event.message)}\n\n`);
        return res.writableLength <= opts.maxBufferBytes;
      },
      drained: () => (res.writableLength === 0 || res.destroyed ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))),
      heartbeat: () => {
        if (!res.destroyed && !res.writableEnded) res.write(': hb\n\n');
      },
      end: () => new Promise<void>((resolve) => {
        if (res.destroyed || res.socket === null) return resolve();
        res.once('close', () => resolve());
        if (!res.writableEnded) res.end();
      }),
    };
    if (res.destroyed || request.raw.socket?.destroyed) void stream.close();
    request.log.debug({ token: token.slice(0, 6), chat: chatNumber, after: cursor?.number }, 'live stream opened');
    await stream.start(sink);
  });
}
