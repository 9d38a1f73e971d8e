/** Documented input limits (README "Limits"). */
export const limits = {
  applicationNameMax: 255,
  chatNameMax: 255,
  messageBodyMax: 16_384,
  idempotencyKeyMax: 128,
  listLimitDefault: 100,
  listLimitMax: 1000,
  searchLimitDefault: 50,
  searchLimitMax: 1000,
  searchQueryMax: 256,
  /** Highest chat or message number (unsigned 32-bit column). */
  numberMax: 4_294_967_295,
} as const;
