/**
 * Wall-clock milliseconds from the monotonic clock (`performance.timeOrigin + performance.now()`):
 * comparable across the load engine, fault timelines, probes and call records of one process,
 * and never stepped back by NTP.
 */
export const now = (): number => performance.timeOrigin + performance.now();
