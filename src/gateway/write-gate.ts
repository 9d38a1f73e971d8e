import { UnavailableError } from '../domain/errors.js';
import type { Logger } from '../log.js';

/** A probe that takes longer than this counts as failed (MySQL stalled is as good as down for a write). */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Refuses writes at once while MySQL does not answer. The api never writes MySQL, but the actors that would
 * apply a command do: while the database is down a command would only wait in JetStream, and its request would
 * answer 503 `timeout` after COMMAND_TIMEOUT_MS. The gate probes MySQL from this process (`probe`, a SELECT 1)
 * every `intervalMs`; after a failed probe it is closed and writes answer 503 `unavailable` with Retry-After at
 * once, their command never published (nothing is applied later; a retry is a fresh attempt — but a retry with
 * the Idempotency-Key of a write that has its outcome is answered from the key's record, see ChatService.send);
 * the first probe that succeeds opens it again. When it closes, `onClose` runs: the api gives up waiting for the writes already
 * sent (503 `timeout` now instead of after COMMAND_TIMEOUT_MS — the same answer, their commands applied when MySQL
 * is back). `intervalMs` 0 turns the gate off (always open). Readiness (/health/ready) pings MySQL on its own
 * and turns 503 for the same outage, so a load balancer stops sending this process traffic meanwhile.
 */
export class WriteGate {
  private open = true;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  private readonly probe: () => Promise<boolean>;
  private readonly intervalMs: number;
  private readonly log: Logger;
  private readonly onClose: () => void;

  constructor(opts: { probe: () => Promise<boolean>; intervalMs: number; log: Logger; onClose?: () => void }) {
    ({ probe: this.probe, intervalMs: this.intervalMs, log: this.log } = opts);
    this.onClose = opts.onClose ?? (() => undefined);
  }

  start(): void {
    if (this.intervalMs > 0) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Throws 503 `unavailable` while MySQL does not answer. */
  check(): void {
    if (!this.open) throw UnavailableError.dependency('the database');
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    const ok = await Promise.race([this.probe().catch(() => false), expired]);
    clearTimeout(timeout);
    if (this.stopped) return;
    if (ok !== this.open) {
      this.open = ok;
      if (ok) {
        this.log.info('MySQL answers again: writes are taken');
      } else {
        this.log.warn('MySQL does not answer: writes are refused (503) until it does');
        this.onClose();
      }
    }
    this.schedule();
  }
}
