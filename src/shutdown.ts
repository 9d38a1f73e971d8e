import type { Logger } from './log.js';

/**
 * The phases of a shutdown, in order: stop taking work (listeners, the NATS API), finish the work in flight
 * (command replies, actors, projections), then close the clients (search engine, NATS, MySQL, Redis).
 */
const PHASES = ['intake', 'drain', 'close'] as const;
type Phase = (typeof PHASES)[number];

/** What a role does in each phase of the shutdown; a phase it has nothing to do in is left out. */
export type Stoppable = Partial<Record<Phase, () => Promise<unknown>>>;

type Step = { name: string; phase: Phase; run: () => Promise<unknown> };

/**
 * Shutdown in explicit phases (`PHASES`): every step of a phase runs, in the order it was added, before the
 * next phase starts — whatever the order the roles started in. A step that fails is logged and the next one
 * runs; past the budget the process exits anyway.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running?: Promise<void>;

  constructor(private readonly log: Logger) {}

  /** Adds the steps of `role` (one per phase it acts in). */
  add(name: string, role: Stoppable): void {
    for (const phase of PHASES) {
      const run = role[phase];
      if (run) this.steps.push({ name, phase, run: () => run.call(role) });
    }
  }

  /** The steps in the order `run` takes them: `phase:name`. */
  get plan(): string[] {
    return PHASES.flatMap((phase) => this.steps.filter((s) => s.phase === phase).map((s) => `${phase}:${s.name}`));
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const phase of PHASES) {
        for (const step of this.steps.filter((s) => s.phase === phase)) {
          try {
            await step.run();
          } catch (err) {
            this.log.warn({ err, step: step.name, phase }, 'shutdown step failed');
          }
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
