import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { buildOpsServer } from '../http/ops-server.js';
import type { ReadinessCheck } from '../http/routes/health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Stoppable } from '../shutdown.js';

/**
 * Health and metrics of a process without the api role, on OPS_PORT: up before the dependencies (live at
 * once), closed with the other listeners (intake).
 */
export class OpsRole implements Stoppable {
  url?: string;

  private constructor(readonly server: FastifyInstance) {}

  static async start(config: Config, log: Logger, deps: { metrics: Metrics; ready: ReadinessCheck; listen: boolean }): Promise<OpsRole> {
    const role = new OpsRole(await buildOpsServer({ log: log.child({ component: 'ops' }), ready: deps.ready, metrics: deps.metrics }));
    if (deps.listen) role.url = await role.server.listen({ port: config.opsPort, host: config.host });
    return role;
  }

  async intake(): Promise<void> {
    await this.server.close();
  }
}
