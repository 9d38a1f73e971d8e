import { bigChat } from './fixture.js';
import type { Scenario } from './types.js';

const scenario: Scenario = {
  name: 'list-page',
  title: 'GET a page of 100 messages',
  about: 'GET `…/messages?limit=100&after=<random>`: a page of 100 messages at a random place in the chat of 100,000 messages.',
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
      setupRequest: (req) => ({ ...req, path: `/applications/${params.token}/chats/1/messages?limit=100&after=${Math.floor(Math.random() * Math.max(1, n - 100))}` }),
    }];
  },
};
export default scenario;
