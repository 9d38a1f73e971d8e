import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { migrate } from './orm.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
await migrate(config.databaseUrl, log);
log.info('migrations up to date');
