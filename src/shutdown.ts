import type { Logger } from './log.js';

type Step = { name: string; run: () => Promise<unknown> };

/**
 * Ordered shutdown: steps run in registration order (stop taking work → finish work in flight → close
 * connections). A step that fails is logged and the next one runs; past the budget the process exits anyway.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running?: Promise<void>;

  constructor(private readonly log: Logger) {}

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps) {
        try {
          await step.run();
        } catch (err) {
          this.log.warn({ err, step: step.name }, 'shutdown step failed');
        }
      }
    })();
    return this.running;
  }

  /** Runs on SIGTERM/SIGINT, then exits 0 (1 if the budget ran out). */
  onSignals(budgetMs: number): void {
    const handler = (signal: NodeJS.Signals): void => {
      this.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        this.log.error('shutdown budget exceeded; exiting');
        process.exit(1);
      }, budgetMs);
      force.unref();
      void this.run().then(() => process.exit(0));
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }
}
