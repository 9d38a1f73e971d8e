import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveHub } from './live-hub.js';

/**
 * The live streams in /metrics (registered on the process's registry by runtime.ts when the api role runs):
 * gauges read at scrape time, counters as deltas of the hub's own counts.
 */
export function registerLiveMetrics(registry: Registry, hub: () => LiveHub | undefined, prefix = 'chat_'): void {
  const gauge = (name: string, help: string, read: (h: LiveHub) => number): void => {
    registry.registerMetric(new Gauge({
      name: `${prefix}${name}`, help, registers: [],
      collect() {
        const h = hub();
        this.set(h ? read(h) : 0);
      },
    }));
  };
  gauge('live_streams', 'Live message streams (SSE) open in this process.', (h) => h.openStreams);
  gauge('live_watched_chats', 'Chats with at least one live stream in this process (one NATS subscription each).', (h) => h.watchedChats);

  const seen = new Map<string, number>();
  const counter = (name: string, help: string, read: (h: LiveHub) => number, labels: Record<string, string> = {}): void => {
    const metricName = `${prefix}${name}`;
    const key = `${metricName}${JSON.stringify(labels)}`;
    let metric = registry.getSingleMetric(metricName) as Counter<string> | undefined;
    if (!metric) {
      metric = new Counter({ name: metricName, help, labelNames: Object.keys(labels), registers: [] });
      registry.registerMetric(metric);
    }
    const existing = metric;
    const inner = (existing as unknown as { collect?: () => void }).collect;
    (existing as unknown as { collect: () => void }).collect = function collect() {
      inner?.call(existing);
      const h = hub();
      if (!h) return;
      const now = read(h);
      const delta = now - (seen.get(key) ?? 0);
      seen.set(key, now);
      if (delta > 0) existing.inc(labels, delta);
    };
  };
  counter('live_streams_opened_total', 'Live streams opened in this process.', (h) => h.counters.opened);
  counter('live_events_sent_total', 'Events written to live streams (replayed and live).', (h) => h.counters.eventsSent);
  counter('live_replayed_total', 'Events of live streams read from MySQL on resume (Last-Event-ID / after).', (h) => h.counters.replayed);
  counter('live_filled_total', 'Messages a live feed read from MySQL to fill a gap of the live subject (missed or out of order).', (h) => h.filled);
  counter('live_rejected_total', 'Live streams refused by a bound.', (h) => h.counters.rejectedProcess, { bound: 'process' });
  counter('live_rejected_total', 'Live streams refused by a bound.', (h) => h.counters.rejectedApplication, { bound: 'application' });
  counter('live_slow_closed_total', 'Live streams ended because the client did not read (LIVE_MAX_BUFFER_BYTES).', (h) => h.counters.slowClosed);
}
