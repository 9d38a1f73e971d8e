/**
 * `npm run reindex [-- --keep-old]`: rebuilds the message index of NAMESPACE from MySQL and swaps the alias
 * (no downtime: searches use the old index until the swap). Reads the same environment as the service.
 */
import { Presets, SingleBar } from 'cli-progress';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { connectNats, natsAuthOf } from '../messaging/nats.js';
import { ensureTopology } from '../messaging/topology.js';
import { names } from '../protocol/subjects.js';
import { openOrm } from '../storage/orm.js';
import { SearchEngine } from './engine.js';
import { indexNames } from './index-definition.js';
import { reindex, type ReindexProgress } from './reindex.js';

/** A progress bar (cli-progress) on a terminal; a line every 2 s (and per phase) otherwise, e.g. in a job's log. */
function progressPrinter(): { onProgress: (p: ReindexProgress) => void; stop: () => void } {
  if (process.stderr.isTTY === true) {
    const bar = new SingleBar({ format: '{phase} [{bar}] {percentage}% {value}/{total} ({rate}/s)', stream: process.stderr, hideCursor: true }, Presets.legacy);
    const started = Date.now();
    bar.start(0, 0, { phase: 'scan    ', rate: 0 });
    return {
      onProgress: (p) => {
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, { phase: p.phase.padEnd(8), rate: Math.round(p.done / Math.max(0.001, (Date.now() - started) / 1000)) });
        if (p.phase === 'done') bar.stop();
      },
      stop: () => bar.stop(),
    };
  }
  const started = Date.now();
  let lastLine = 0;
  return {
    onProgress: (p) => {
      if (Date.now() - lastLine <= 2000 && p.phase === 'scan') return;
      lastLine = Date.now();
      const pct = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 100;
      const rate = Math.round(p.done / Math.max(0.001, (Date.now() - started) / 1000));
      process.stderr.write(`${p.phase} ${p.done}/${p.total} ${pct.toFixed(1)}% (${rate}/s)\n`);
    },
    stop: () => undefined,
  };
}

const config = loadConfig();
const log = createLogger(config.logLevel);
const keepOld = process.argv.includes('--keep-old');
const progress = progressPrinter();
const orm = await openOrm(config.databaseUrl, 2);
const nc = await connectNats(config.natsUrl, 'chat-reindex', log, natsAuthOf(config));
const engine = SearchEngine.fromConfig(config);
try {
  const ns = names(config.namespace);
  await ensureTopology(nc, ns, { replicas: config.natsReplicas, leaseTtlMs: config.leaseTtlMs, partitions: config.partitions });
  const info = await engine.detect();
  log.info({ engine: info, alias: indexNames(config.namespace).alias }, 'reindexing');
  const result = await reindex({
    engine, index: indexNames(config.namespace), indexOptions: { shards: config.searchShards, replicas: config.searchReplicas, refreshMs: config.searchRefreshMs },
    orm, nc, names: ns, keepOld, onProgress: progress.onProgress,
  });
  log.info(result, 'reindex done: alias swapped');
} catch (err) {
  log.fatal({ err }, 'reindex failed (the alias still points to the previous index)');
  process.exitCode = 1;
} finally {
  progress.stop();
  await engine.close();
  await nc.drain().catch(() => undefined);
  await orm.close(true);
}
