/** Every scenario, in the order `npm run bench` runs them. One file per scenario. */
import createChats from './create-chats.js';
import createCold from './create-cold.js';
import createHot from './create-hot.js';
import createSpread from './create-spread.js';
import freshness from './freshness.js';
import getMessage from './get-message.js';
import listPage from './list-page.js';
import search from './search.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = [createHot, createSpread, createCold, createChats, getMessage, listPage, search, freshness];

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
  return s;
}
