/**
 * Chaos suite profiles (CHAOS_PROFILE): `ci` fits in ~12 minutes on a 2-core machine; `full` runs longer,
 * with more partitions, more load and the service's default lease. Every value can be overridden one by one
 * (CHAOS_<NAME> in SCREAMING_SNAKE_CASE, e.g. CHAOS_MARIADB_OUTAGE_MS=15000).
 */
export interface Profile {
  name: 'ci' | 'full';
  /** PARTITIONS of the deployment. */
  partitions: number;
  /** LEASE_TTL_MS of the deployment. */
  leaseTtlMs: number;
  /** COMMAND_TIMEOUT_MS of the deployment. */
  commandTimeoutMs: number;
  /**
   * SEARCH_TIMEOUT_MS of the deployment: sized, like the command timeout, for one 2-core machine running the whole
   * topology (a process starting up takes the CPU from OpenSearch for seconds; 503s then say nothing about a fault).
   */
  searchTimeoutMs: number;
  /** Concurrent load clients. */
  concurrency: number;
  /** Applications and chats created before the load starts (one more chat is the hot one). */
  applications: number;
  chats: number;
  /** Load before the first fault, and before each fault (the baseline write rate is taken over it). */
  warmupMs: number;
  baselineMs: number;
  /** How long a client keeps retrying one request (same Idempotency-Key) before giving up. */
  requestDeadlineMs: number;
  /** Longest wait for recovery after a fault (partitions consuming, ownership spread, write rate back). */
  recoveryTimeoutMs: number;
  /** Longest wait for counters and search to converge once the load is paused. */
  convergeTimeoutMs: number;
  /** The SIGSTOPped process resumes 1 s after the takeover, or at the latest 2 × LEASE_TTL_MS + this. */
  pauseBeyondLeaseMs: number;
  natsNodeDownMs: number;
  mariadbOutageMs: number;
  redisOutageMs: number;
  searchOutageMs: number;
  /** Messages whose search visibility is checked after each fault. */
  searchSample: number;
  /** Faults to run (comma list of ids, CHAOS_FAULTS), in this order. */
  faults: string[];
}

/** The order: the MariaDB outage last, as on unfixed code it may leave partitions dead for good (issue 12 #0). */
export const FAULT_ORDER = ['actors-kill9', 'actors-scale-sigterm', 'actors-sigstop', 'nats-kill9', 'redis-restart', 'search-restart', 'mariadb-outage'];

const profiles: Record<Profile['name'], Profile> = {
  ci: {
    name: 'ci', partitions: 16, leaseTtlMs: 6000, commandTimeoutMs: 10_000, searchTimeoutMs: 10_000, concurrency: 24, applications: 3, chats: 40,
    warmupMs: 5000, baselineMs: 6000, requestDeadlineMs: 45_000, recoveryTimeoutMs: 45_000, convergeTimeoutMs: 60_000,
    pauseBeyondLeaseMs: 3000, natsNodeDownMs: 5000, mariadbOutageMs: 15_000, redisOutageMs: 5000, searchOutageMs: 5000,
    searchSample: 25, faults: FAULT_ORDER,
  },
  full: {
    name: 'full', partitions: 64, leaseTtlMs: 10_000, commandTimeoutMs: 5000, searchTimeoutMs: 5000, concurrency: 48, applications: 8, chats: 200,
    warmupMs: 20_000, baselineMs: 15_000, requestDeadlineMs: 120_000, recoveryTimeoutMs: 120_000, convergeTimeoutMs: 60_000,
    pauseBeyondLeaseMs: 5000, natsNodeDownMs: 15_000, mariadbOutageMs: 15_000, redisOutageMs: 15_000, searchOutageMs: 15_000,
    searchSample: 100, faults: FAULT_ORDER,
  },
};

function envName(key: string): string {
  return `CHAOS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function loadProfile(env: NodeJS.ProcessEnv = process.env): Profile {
  const name = (env['CHAOS_PROFILE'] ?? 'full') as Profile['name'];
  const base = profiles[name];
  if (!base) throw new Error(`CHAOS_PROFILE must be ci or full, got "${name}"`);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(base)) {
    const raw = env[envName(key)];
    if (raw === undefined || raw === '' || key === 'name') continue;
    if (Array.isArray(value)) {
      const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = list.filter((f) => !FAULT_ORDER.includes(f));
      if (unknown.length > 0) throw new Error(`${envName(key)}: unknown fault(s) ${unknown.join(', ')} (known: ${FAULT_ORDER.join(', ')})`);
      out[key] = list;
    } else {
      if (!/^\d+$/.test(raw)) throw new Error(`${envName(key)} must be a non-negative integer, got "${raw}"`);
      out[key] = Number(raw);
    }
  }
  return out as unknown as Profile;
}
