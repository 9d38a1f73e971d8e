import type { Logger } from '../log.js';
import { CounterStore, type CountedParent } from '../storage/counter-store.js';
import type { Orm } from '../storage/orm.js';

const parents: readonly CountedParent[] = ['applications', 'chats'];

export interface ReconcileReport {
  scanned: number;
  raised: number;
  lowered: number;
}

/**
 * Periodic repair of the counters: recounts the children of every parent from the tables, in keyset
 * batches over ids (plain consistent reads: no range stays locked), then fixes each drifted row with a
 * single-row UPDATE. Raising uses GREATEST (a concurrent projection update can only be higher and right);
 * lowering is a compare-and-set on the value read, so it never undoes a concurrent raise. A count read from
 * the snapshot is never above the truth, and later events raise it again, so the result converges.
 * However many projections processes run, one pass runs per interval (`myTurn`: a duty claimed in NATS KV).
 */
export class CounterReconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly store: CounterStore;

  constructor(
    orm: Orm,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly batchSize = 500,
    /** Whether this process should run this period's pass (one projections process per interval). */
    private readonly myTurn: () => Promise<boolean> = async () => true,
  ) {
    this.store = new CounterStore(orm);
  }

  start(): void {
    if (this.intervalMs <= 0) return;
    const tick = (): void => {
      this.running = this.myTurn()
        .then(async (mine) => {
          if (!mine) return;
          const report = await this.reconcile();
          if (report.raised + report.lowered > 0) this.log.info(report, 'counters reconciled: drift repaired');
        })
        .catch((err: unknown) => this.log.warn({ err }, 'counters reconciliation failed; next run later'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass over applications and chats. */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { scanned: 0, raised: 0, lowered: 0 };
    for (const parent of parents) {
      let after = 0;
      while (!this.stopped) {
        const rows = await this.store.recount(parent, after, this.batchSize);
        if (rows.length === 0) break;
        after = Number(rows[rows.length - 1]!.id);
        report.scanned += rows.length;
        for (const row of rows) {
          const stored = Number(row.stored);
          const truth = Number(row.truth);
          if (truth > stored) {
            report.raised += await this.store.raise(parent, Number(row.id), truth);
          } else if (truth < stored) {
            report.lowered += await this.store.lower(parent, Number(row.id), truth, stored);
          }
        }
      }
    }
    return report;
  }
}
