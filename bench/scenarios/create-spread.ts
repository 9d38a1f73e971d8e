import { applicationWithChats, warmUp } from '../lib/http.js';
import { createdNumber } from './shared.js';
import type { Acks, Scenario } from './types.js';

const scenario: Scenario = {
  name: 'create-spread',
  title: 'message creation, spread over 1,000 chats',
  about: 'POST a message into a chat picked at random among 1,000 chats of one application (`--chats`); each chat got one warm-up message first.',
  impls: ['service', 'service-1p', 'lock', 'incr'],
  connections: 64,
  creates: 'messages',
  prepare: async (dep, opts) => {
    const acks: Acks = {};
    const token = await applicationWithChats(dep.url, opts.chats, acks);
    await warmUp(dep.url, token, opts.chats, acks);
    return { params: { url: dep.url, token, chats: opts.chats }, acks };
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
        return { ...req, path: `/applications/${params.token}/chats/${chat}/messages`, body: JSON.stringify({ body: `spread message ${i++} of the benchmark` }) };
      },
      onResponse: (status, body, context) => {
        if (status === 201) record.created((context as Record<string, unknown>)['chat'] as number, createdNumber(body));
      },
    }];
  },
};
export default scenario;
