import { bigChat } from './fixture.js';
import type { Scenario } from './types.js';

const scenario: Scenario = {
  name: 'get-message',
  title: 'GET message by number',
  about: 'GET one message, its number picked at random, from the chat of 100,000 messages (`--fill`).',
  impls: ['service', 'service-1p'],
  connections: 32,
  creates: null,
  prepare: async (dep, opts) => {
    const chat = await bigChat(dep, opts.fill);
    return { params: { url: dep.url, token: chat.token, messages: chat.messages, fixture: chat }, acks: {} };
  },
  requests: (params) => {
    const n = params['messages'] as number;
    return [{
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/applications/${params.token}/chats/1/messages/${1 + Math.floor(Math.random() * n)}` }),
    }];
  },
};
export default scenario;
