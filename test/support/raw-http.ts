import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
}

/** Parses the first HTTP/1.1 response in `raw` (Content-Length or read-to-close bodies). */
export function parseResponse(raw: Buffer): RawResponse | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let bodyBytes = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (headers['content-length'] !== undefined) bodyBytes = bodyBytes.subarray(0, Number(headers['content-length']));
  const body = bodyBytes.toString('utf8');
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  return { status, headers, text: body, json };
}

/**
 * Sends `request` as is on a fresh TCP connection (bytes the fetch API would refuse to send) and reads the first
 * response; the connection is closed after it. Rejects when the connection ends without a response.
 */
export function rawHttp(base: string, request: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      const parsed = parseResponse(Buffer.concat(chunks));
      const complete = parsed && (parsed.headers['content-length'] === undefined || Buffer.byteLength(parsed.text) >= Number(parsed.headers['content-length']));
      if (!complete && !err && !socket.destroyed) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (parsed) resolve(parsed);
      else reject(err ?? new Error(`no response (${Buffer.concat(chunks).length} bytes read)`));
    };
    const timer = setTimeout(() => finish(new Error('timed out')), timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      finish();
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('closed')));
    socket.on('connect', () => socket.write(request));
  });
}
