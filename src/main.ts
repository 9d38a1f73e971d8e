import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startRuntime } from './runtime.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

try {
  const runtime = await startRuntime(config, log);
  runtime.shutdown.onSignals(config.shutdownTimeoutMs + 5000);
} catch (err) {
  log.fatal({ err }, 'failed to start');
  process.exit(1);
}
