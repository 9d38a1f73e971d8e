import { bigChat } from './fixture.js';
import { fixtureQueries } from './shared.js';
import type { Scenario } from './types.js';

const scenario: Scenario = {
  name: 'search',
  title: 'search, chat of 100,000 messages',
  about: 'GET `…/messages/search?query=q` on the chat of 100,000 messages, once per query length (3, 6 and 12 characters): 64 queries of each length cut out of the messages, so every one matches; responses with no hit are counted.',
  impls: ['service', 'service-1p'],
  connections: 32,
  variants: ['3', '6', '12'],
  creates: null,
  prepare: async (dep, opts, variant) => {
    const chat = await bigChat(dep, opts.fill);
    return { params: { url: dep.url, token: chat.token, queries: fixtureQueries(Number(variant), 64, chat.messages), fixture: chat }, acks: {} };
  },
  requests: (params) => {
    const queries = params['queries'] as string[];
    let i = 0;
    return [{
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/applications/${params.token}/chats/1/messages/search?query=${encodeURIComponent(queries[i++ % queries.length]!)}` }),
      onResponse: (status, body) => {
        if (status === 200 && body === '[]') empty++;
      },
    }];
  },
  during: async (_params, _record, signal) => {
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return { empty_results: empty };
  },
};
let empty = 0;
export default scenario;
