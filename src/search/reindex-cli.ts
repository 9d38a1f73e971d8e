/**
 * `npm run reindex [-- --keep-old]`: rebuilds the message index of NAMESPACE from MySQL and swaps the alias
 * (no downtime: searches use the old index until the swap). Reads the same environment as the service.
 */
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { connectNats, natsAuthOf } from '../messaging/nats.js';
import { ensureTopology } from '../messaging/topology.js';
import { names } from '../protocol/subjects.js';
import { openOrm } from '../storage/orm.js';
import { SearchEngine } from './engine.js';
import { indexNames } from './index-definition.js';
import { reindex, type ReindexProgress } from './reindex.js';

function progressPrinter(): (p: ReindexProgress) => void {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let lastLine = 0;
  return (p) => {
    const pct = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 100;
    const rate = Math.round(p.done / Math.max(0.001, (Date.now() - started) / 1000));
    if (tty) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r${p.phase.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct.toFixed(1).padStart(5)}% ${p.done}/${p.total} (${rate}/s)   `);
      if (p.phase === 'done') process.stderr.write('\n');
    } else if (Date.now() - lastLine > 2000 || p.phase !== 'scan') {
      lastLine = Date.now();
      process.stderr.write(`${p.phase} ${p.done}/${p.total} ${pct.toFixed(1)}% (${rate}/s)\n`);
    }
  };
}

const config = loadConfig();
const log = createLogger(config.logLevel);
const keepOld = process.argv.includes('--keep-old');
const orm = await openOrm(config.databaseUrl, 2);
const nc = await connectNats(config.natsUrl, 'chat-reindex', log, natsAuthOf(config));
const engine = SearchEngine.fromConfig(config);
try {
  const ns = names(config.namespace);
  await ensureTopology(nc, ns, { replicas: config.natsReplicas, leaseTtlMs: config.leaseTtlMs, partitions: config.partitions });
  const info = await engine.detect();
  log.info({ engine: info, alias: indexNames(config.namespace).alias }, 'reindexing');
  const result = await reindex({
    engine, index: indexNames(config.namespace), indexOptions: { shards: config.searchShards, replicas: config.searchReplicas },
    orm, nc, names: ns, keepOld, onProgress: progressPrinter(),
  });
  log.info(result, 'reindex done: alias swapped');
} catch (err) {
  log.fatal({ err }, 'reindex failed (the alias still points to the previous index)');
  process.exitCode = 1;
} finally {
  await engine.close();
  await nc.drain().catch(() => undefined);
  await orm.close(true);
}
