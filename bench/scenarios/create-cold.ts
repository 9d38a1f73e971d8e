import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type mysql from 'mysql2/promise';
import { created } from '../lib/http.js';
import { createdNumber } from './shared.js';
import type { Acks, Scenario } from './types.js';


/** Resident memory of a process, in MB, from /proc (Linux). */
async function rssMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

const scenario: Scenario = {
  name: 'create-cold',
  title: 'message creation, each into a cold chat',
  about: 'POST one message into each of hundreds of thousands of chats in turn, none touched since the service started: every message wakes an actor (its state loaded from MySQL) and the process must passivate others to stay within ACTOR_MAX_ACTIVE. Reports the resident memory of the actors process.',
  impls: ['service', 'service-1p'],
  connections: 64,
  creates: 'messages',
  prepare: async (dep, opts) => {
    const chats = opts.coldChats;
    const acks: Acks = {};
    const token = (await created(dep.url, '/applications', { name: 'bench cold chats' })).token as string;
    // the chats are written directly (as the actors would), so that no actor of theirs has ever run
    const [rows] = await dep.db.query<mysql.RowDataPacket[]>('SELECT id FROM applications WHERE token = ?', [token]);
    const applicationId = rows[0]?.['id'] as number;
    const now = new Date();
    for (let from = 1; from <= chats; from += 5000) {
      const values: unknown[][] = [];
      for (let n = from; n <= Math.min(chats, from + 4999); n++) values.push([applicationId, n, null, 0, randomBytes(16).toString('hex'), 1, now, now]);
      await dep.db.query('INSERT INTO chats (application_id, number, name, messages_count, command_id, version, created_at, updated_at) VALUES ?', [values]);
    }
    acks['application'] = Array.from({ length: chats }, (_, i) => i + 1);
    const actors = dep.processes.find((p) => p.name.includes('actors'));
    return { params: { url: dep.url, token, chats, actorsPid: actors?.pid ?? 0 }, acks };
  },
  requests: (params, record) => {
    const chats = params['chats'] as number;
    let i = 0;
    return [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        const chat = 1 + (i++ % chats);
        (context as Record<string, unknown>)['chat'] = chat;
        return { ...req, path: `/applications/${params.token}/chats/${chat}/messages`, body: JSON.stringify({ body: `first message of chat ${chat}` }) };
      },
      onResponse: (status, body, context) => {
        if (status === 201) record.created((context as Record<string, unknown>)['chat'] as number, createdNumber(body));
      },
    }];
  },
  during: async (params, _record, signal) => {
    const pid = params['actorsPid'] as number;
    let max = 0;
    let last: number | undefined;
    while (!signal.aborted) {
      last = (await rssMb(pid)) ?? last;
      max = Math.max(max, last ?? 0);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { actors_rss_mb_max: max, actors_rss_mb_end: last ?? null };
  },
};
export default scenario;
