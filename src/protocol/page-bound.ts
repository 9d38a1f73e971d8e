/**
 * List and search pages are bounded in bytes as well as in items (PAGE_MAX_BYTES): a page of numbered resources
 * (chats, messages) stops early when its JSON would pass the bound — always with at least one item — and its next
 * cursor is then the number of its last item, so the client follows the `Link` (or `Chat-Next-After`) as usual.
 * Application pages are small by construction (a name is at most 255 characters) and are not cut.
 */
export interface BoundablePage<T> {
  items: T[];
  next?: string;
}

/** An upper bound of an item's JSON size without serialising it: every string character may take 6 bytes (`\u0000`). */
function roughSize(item: unknown): number {
  if (typeof item !== 'object' || item === null) return 64;
  let size = 64;
  for (const [key, value] of Object.entries(item)) size += key.length + 4 + (typeof value === 'string' ? value.length * 6 + 2 : 24);
  return size;
}

export function boundPage<T>(page: BoundablePage<T>, maxBytes: number): BoundablePage<T> {
  const { items } = page;
  if (items.length <= 1) return page;
  let rough = 2;
  for (const item of items) rough += roughSize(item) + 1;
  if (rough <= maxBytes) return page;
  let size = 2;
  for (let i = 0; i < items.length; i++) {
    size += Buffer.byteLength(JSON.stringify(items[i])) + (i > 0 ? 1 : 0);
    if (size > maxBytes && i > 0) {
      const last = items[i - 1] as { number?: unknown };
      if (typeof last.number !== 'number') return page;
      return { items: items.slice(0, i), next: String(last.number) };
    }
  }
  return page;
}
