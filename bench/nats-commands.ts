/**
 * nats-server's CPU per command for layouts of the commands stream, with nothing of the service running:
 *
 *   npx tsx bench/nats-commands.ts [--rate 3000] [--seconds 12] [--rounds 3]
 *
 * Commands go to `<tag>.cmd.<partition>.chat.<token>.<number>` (the service's subjects, 1,000 chats, FNV-1a
 * partitions) at a fixed rate from one connection (JetStream publishes, PubAck awaited in groups), and one pull
 * consumer per partition takes them in pulls of 256 and acks each, as a partition worker does. Layouts:
 * - one work-queue stream, a consumer per partition filtered on its subjects (the service): 1, 16, 64 partitions;
 * - one work-queue stream per partition, each consumer unfiltered: 16 partitions.
 * The CPU is read from /proc for the process listening on NATS_URL's port (default the shared 127.0.0.1:4222: run
 * it while nothing else uses that server). Layouts alternate within each round. Not a test: nothing asserts.
 */
import { parseArgs } from 'node:util';
import { AckPolicy, RetentionPolicy, StorageType, consumerOpts, connect, type JetStreamPullSubscription, type PubAck } from 'nats';
import { partitionOf } from '../src/protocol/partition.js';
import { processCpuMs } from './lib/cpu.js';
import { sleep } from './lib/processes.js';
import { alternateRounds, serverPid } from './lib/variants.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '12' }, rounds: { type: 'string', default: '3' } },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const pid = serverPid(url, 4222, 'nats-server');

interface Layout {
  partitions: number;
  streamPerPartition: boolean;
}
const layouts: Record<string, Layout> = {
  'one stream, 1 partition': { partitions: 1, streamPerPartition: false },
  'one stream, 16 partitions (the service)': { partitions: 16, streamPerPartition: false },
  'one stream, 64 partitions': { partitions: 64, streamPerPartition: false },
  'a stream per partition, 16 partitions': { partitions: 16, streamPerPartition: true },
};

const body = new TextEncoder().encode(JSON.stringify({ type: 'CreateMessage', id: 'c'.repeat(32), body: 'm'.repeat(120) }));

async function measure(name: string, layout: Layout): Promise<number> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const tag = `benchcmd${process.pid}x${Date.now() % 1_000_000}`;
  const streams = layout.streamPerPartition ? Array.from({ length: layout.partitions }, (_, p) => `${tag}_P${p}`) : [`${tag}_ALL`];
  const streamOf = (p: number): string => streams[layout.streamPerPartition ? p : 0]!;
  const subs: JetStreamPullSubscription[] = [];
  try {
    for (const [i, stream] of streams.entries()) {
      await jsm.streams.add({ name: stream, subjects: [layout.streamPerPartition ? `${tag}.cmd.${i}.>` : `${tag}.cmd.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    }
    let consumed = 0;
    for (let p = 0; p < layout.partitions; p++) {
      await jsm.consumers.add(streamOf(p), {
        durable_name: `p${p}`, ack_policy: AckPolicy.Explicit, max_ack_pending: 2000,
        ...(layout.streamPerPartition ? {} : { filter_subject: `${tag}.cmd.${p}.>` }),
      });
      const opts = consumerOpts();
      opts.bind(streamOf(p), `p${p}`);
      opts.manualAck();
      let sincePull = 0;
      opts.callback((_err, msg) => {
        if (!msg) return;
        msg.ack();
        consumed++;
        if (++sincePull >= 128) {
          sincePull = 0;
          sub.pull({ batch: 256, expires: 5000 });
        }
      });
      const sub = await js.pullSubscribe(`${tag}.cmd.${p}.>`, opts);
      sub.pull({ batch: 256, expires: 5000 });
      subs.push(sub);
    }
    const repull = setInterval(() => { for (const sub of subs) sub.pull({ batch: 256, expires: 5000 }); }, 1000);

    const total = RATE * SECONDS;
    const before = processCpuMs(pid)!;
    const started = Date.now();
    let sent = 0;
    let acks: Array<Promise<PubAck>> = [];
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) * RATE) / 1000));
      for (; sent < due; sent++) {
        const chat = sent % 1000;
        const key = `chat.benchtoken${chat % 7}.${chat}`;
        acks.push(js.publish(`${tag}.cmd.${partitionOf(key, layout.partitions)}.${key}`, body));
      }
      if (acks.length >= 500) await Promise.all(acks.splice(0));
      await sleep(5);
    }
    await Promise.all(acks);
    acks = [];
    while (consumed < total && Date.now() - started < SECONDS * 1000 + 30_000) await sleep(50);
    clearInterval(repull);
    const usPerCommand = ((processCpuMs(pid)! - before) * 1000) / total;
    console.log(`${name}: ${consumed}/${total} consumed, ${usPerCommand.toFixed(1)} µs of nats-server's CPU per command`);
    return usPerCommand;
  } finally {
    for (const sub of subs) sub.unsubscribe();
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

console.log(`${RATE} commands/s for ${SECONDS} s over 1,000 chats, ${ROUNDS} rounds; nats-server pid ${pid}`);
await alternateRounds(ROUNDS, layouts, measure, 'µs/command');
