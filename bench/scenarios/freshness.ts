import mysql from 'mysql2/promise';
import { SHARED } from '../env.js';
import { applicationWithChats, warmUp } from '../lib/http.js';
import { createdNumber, percentiles } from './shared.js';
import type { Acks, Scenario } from './types.js';

const PROBES = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const scenario: Scenario = {
  name: 'freshness',
  title: 'freshness (201 → searchable) under creation load',
  about: 'While the load generator creates messages as in create-spread, 4 probes each create a message with a unique word in a chat of their own and search for it every 10 ms: freshness is the time from the 201 to the first search that finds it; counter lag the time until messages_count (read from MySQL) counts it. Throughput and latency are those of the creation load.',
  impls: ['service', 'service-1p'],
  connections: 64,
  creates: 'messages',
  prepare: async (dep, opts) => {
    const acks: Acks = {};
    const token = await applicationWithChats(dep.url, opts.chats + PROBES, acks);
    await warmUp(dep.url, token, opts.chats + PROBES, acks);
    // the index exists once the first events are indexed: wait for a search to answer
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${dep.url}/applications/${token}/chats/1/messages/search?query=warm`);
      if (res.status === 200 && ((await res.json()) as unknown[]).length > 0) break;
      await sleep(100);
    }
    return { params: { url: dep.url, token, chats: opts.chats, db: `${SHARED.mysql}/${dep.namespace}` }, acks };
  },
  requests: (params, record) => {
    const chats = params['chats'] as number;
    let i = 0;
    return [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        const chat = 1 + Math.floor(Math.random() * chats);
        (context as Record<string, unknown>)['chat'] = chat;
        return { ...req, path: `/applications/${params.token}/chats/${chat}/messages`, body: JSON.stringify({ body: `background message ${i++}` }) };
      },
      onResponse: (status, body, context) => {
        if (status === 201) record.created((context as Record<string, unknown>)['chat'] as number, createdNumber(body));
      },
    }];
  },
  during: async (params, record, signal) => {
    const chats = params['chats'] as number;
    const samples: number[] = [];
    const counterLag: number[] = [];
    const db = mysql.createPool({ uri: params['db'] as string, connectionLimit: PROBES });
    let notFound = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: PROBES }, async (_, p) => {
      const chat = chats + 1 + p;
      const base = `${params.url}/applications/${params.token}/chats/${chat}/messages`;
      // counter lag: one poller per probe chat resolves every waiting number that messages_count has reached
      const waiting: { number: number; t0: number }[] = [];
      let probing = true;
      const counter = (async () => {
        while (probing || waiting.length > 0) {
          await sleep(20);
          if (waiting.length === 0) continue;
          const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT c.messages_count AS n FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number = ?', [params.token, chat]);
          const count = Number(rows[0]?.['n'] ?? 0);
          const now = performance.now();
          for (let i = waiting.length - 1; i >= 0; i--) {
            const w = waiting[i]!;
            if (w.number <= count) counterLag.push(now - w.t0);
            if (w.number <= count || now - w.t0 > 30_000) waiting.splice(i, 1);
          }
        }
      })();
      for (let k = 0; !signal.aborted; k++) {
        const marker = `probe${p}x${k}x${Math.random().toString(36).slice(2, 10)}`;
        const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: `freshness ${marker}` }) });
        const text = await res.text();
        if (res.status !== 201) {
          failed++;
          await sleep(50);
          continue;
        }
        const t0 = performance.now();
        const number = createdNumber(text);
        record.created(chat, number);
        waiting.push({ number, t0 });
        for (;;) {
          const found = await fetch(`${base}/search?query=${marker}`).then(async (r) => r.status === 200 && ((await r.json()) as unknown[]).length === 1);
          if (found) {
            samples.push(performance.now() - t0);
            break;
          }
          if (performance.now() - t0 > 30_000) {
            notFound++;
            break;
          }
          await sleep(10);
        }
      }
      probing = false;
      await counter;
    }));
    await db.end();
    return { freshness_ms: percentiles(samples), counter_lag_ms: percentiles(counterLag), freshness_not_found_30s: notFound, probe_create_failures: failed };
  },
};
export default scenario;
