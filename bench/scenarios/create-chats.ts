import { created } from '../lib/http.js';
import { createdNumber } from './shared.js';
import type { Scenario } from './types.js';

const scenario: Scenario = {
  name: 'create-chats',
  title: 'chat creation, one application',
  about: 'POST a chat, every request into the same application.',
  impls: ['service', 'service-1p', 'lock', 'incr'],
  connections: 64,
  creates: 'chats',
  prepare: async (dep) => {
    const token = (await created(dep.url, '/applications', { name: 'bench' })).token as string;
    const first = await created(dep.url, `/applications/${token}/chats`);
    return { params: { url: dep.url, token }, acks: { application: [first.number as number] } };
  },
  requests: (params, record) => [{
    method: 'POST',
    path: `/applications/${params.token}/chats`,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    onResponse: (status, body) => {
      if (status === 201) record.created('application', createdNumber(body));
    },
  }],
};
export default scenario;
