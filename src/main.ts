import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startRuntime } from './runtime.js';
import { Shutdown } from './shutdown.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

// signals are handled from the first moment: a SIGTERM while dependencies are still being waited for
// stops the retries and closes whatever was opened
const shutdown = new Shutdown(log);
shutdown.onSignals(config.shutdownTimeoutMs + 5000);

try {
  await startRuntime(config, log, { shutdown });
} catch (err) {
  if (shutdown.started) process.exit(0);
  log.fatal({ err }, 'failed to start');
  process.exit(1);
}
