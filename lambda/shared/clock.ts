/** Seconds since the epoch. Injected so tests can move time (expiry, grace windows, TTL lag). */
export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);
