import { applicationWithChats, warmUp } from '../lib/http.js';
import { createdNumber } from './shared.js';
import type { Acks, Scenario } from './types.js';

const scenario: Scenario = {
  name: 'create-hot',
  title: 'message creation, one hot chat',
  about: 'POST a message, every request into the same chat of one application (the worst case for locks).',
  impls: ['service', 'service-1p', 'lock', 'incr'],
  connections: 64,
  creates: 'messages',
  prepare: async (dep) => {
    const acks: Acks = {};
    const token = await applicationWithChats(dep.url, 1, acks);
    await warmUp(dep.url, token, 1, acks);
    return { params: { url: dep.url, token }, acks };
  },
  requests: (params, record) => {
    let i = 0;
    return [{
      method: 'POST',
      path: `/applications/${params.token}/chats/1/messages`,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ body: `hot message ${i++} of the benchmark` }) }),
      onResponse: (status, body) => {
        if (status === 201) record.created(1, createdNumber(body));
      },
    }];
  },
};
export default scenario;
