import { Client, SniffingTransport, errors, type ClientOptions, type TransportOptions } from '@elastic/elasticsearch';
import type { Config } from '../config.js';
import { UnavailableError } from '../domain/errors.js';

/**
 * The engine adapter: the only file that knows Elasticsearch and OpenSearch apart. Everything else
 * (mappings, bulk bodies, queries) is shared code sent through the one `@elastic/elasticsearch` client.
 *
 * Differences kept here:
 * - transport: the Elasticsearch client checks the `X-Elastic-Product` header and sends
 *   `application/vnd.elasticsearch+json; compatible-with=8`; OpenSearch sends no such header and only takes
 *   plain JSON. The compat transport turns both off (Elasticsearch 8/9 accept plain JSON too, so `auto`
 *   uses it for either engine).
 * - the oldest versions supported: OpenSearch 2.15, Elasticsearch 7.9.
 */
export type EngineSetting = 'auto' | 'elasticsearch' | 'opensearch';
type EngineKind = 'elasticsearch' | 'opensearch';

export interface EngineInfo {
  kind: EngineKind;
  version: string;
}

class OpenSearchCompatTransport extends SniffingTransport {
  constructor(opts: TransportOptions) {
    super({
      ...opts,
      productCheck: undefined,
      vendoredHeaders: { jsonContentType: 'application/json', ndjsonContentType: 'application/x-ndjson', accept: 'application/json, text/plain' },
    });
  }
}

export interface SearchEngineOptions {
  url: string;
  engine: EngineSetting;
  /** Default request timeout (searches); bulk and admin calls pass their own. */
  requestTimeoutMs: number;
}

export class SearchEngine {
  private info?: Promise<EngineInfo>;

  private constructor(
    readonly client: Client,
    private readonly setting: EngineSetting,
  ) {}

  static connect(opts: SearchEngineOptions): SearchEngine {
    const options: ClientOptions = {
      node: opts.url,
      requestTimeout: opts.requestTimeoutMs,
      maxRetries: 1,
      sniffOnStart: false,
      ...(opts.engine === 'elasticsearch' ? {} : { Transport: OpenSearchCompatTransport }),
    };
    return new SearchEngine(new Client(options), opts.engine);
  }

  static fromConfig(config: Pick<Config, 'elasticsearchUrl' | 'searchEngine' | 'searchTimeoutMs'>): SearchEngine {
    return SearchEngine.connect({ url: config.elasticsearchUrl, engine: config.searchEngine as EngineSetting, requestTimeoutMs: config.searchTimeoutMs });
  }

  /** Which engine answers (GET /), checked once it is reachable; refuses engines older than the oldest supported. */
  detect(): Promise<EngineInfo> {
    this.info ??= (async () => {
      const root = await this.client.info();
      const version = root.version as { number: string; distribution?: string };
      const kind: EngineKind = version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch';
      if (this.setting !== 'auto' && this.setting !== kind) throw new Error(`SEARCH_ENGINE=${this.setting} but the server at the URL is ${kind} ${version.number}`);
      const [major = 0, minor = 0] = version.number.split('.').map(Number);
      const supported = kind === 'opensearch' ? major > 2 || (major === 2 && minor >= 15) : major > 7 || (major === 7 && minor >= 9);
      if (!supported) throw new Error(`${kind} ${version.number} is not supported (needs OpenSearch >= 2.15 or Elasticsearch >= 7.9)`);
      return { kind, version: version.number };
    })();
    this.info.catch(() => (this.info = undefined)); // retried on next call
    return this.info;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** True for failures that say "the engine is down or overloaded" rather than "this request is wrong". */
export function isEngineUnavailable(err: unknown): boolean {
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    return status >= 500 || status === 429 || status === 408;
  }
  return err instanceof errors.ElasticsearchClientError;
}

/** The engine's error type (`error.type` of the response body, the same in Elasticsearch and OpenSearch). */
export function errorTypeOf(err: unknown): string | undefined {
  if (!(err instanceof errors.ResponseError)) return undefined;
  const body = err.body as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}

export function isIndexNotFound(err: unknown): boolean {
  return err instanceof errors.ResponseError && err.statusCode === 404 && errorTypeOf(err) === 'index_not_found_exception';
}

/** Engine failures become 503 + Retry-After for API callers; anything else (a bug) is rethrown. */
export function toAppError(err: unknown): unknown {
  if (isEngineUnavailable(err) || isIndexNotFound(err)) return UnavailableError.dependency('search', err);
  return err;
}
