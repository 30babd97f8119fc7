// How a run channel's messages are laid out in its Redis stream: one stream per run, entry
// id `0-<seq>`, so the stream's order is the gateway's sequence and "resume since seq N" is
// a read after id `0-N`.

/** The stream key of run `runId` under the deployment's key prefix. */
export function streamKey(prefix: string, runId: string): string {
  return `${prefix}run:${runId}`;
}

/** The run of a stream key made by {@link streamKey} (undefined for a key of another shape). */
export function runOfKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}run:`;
  return key.startsWith(head) ? key.slice(head.length) : undefined;
}

/** The sequence an entry id `0-<seq>` stands for (NaN for an id of another shape). */
export function seqOfId(id: string): number {
  return id.startsWith('0-') ? Number(id.slice(2)) : Number.NaN;
}

/**
 * The exact text subscribers get: the published message (stored without its `seq`) with the
 * sequence appended, byte for byte what `JSON.stringify({ ...message, seq })` gives, on every
 * replica alike.
 */
export function withSeq(body: string, seq: number): string {
  return `${body.slice(0, -1)},"seq":${seq}}`;
}

/**
 * Appends one message to a run's stream, atomically choosing its sequence:
 * - a publisher's own sequence (ARGV[2] = '1') is kept, or refused as a duplicate (-1) when
 *   the stream already holds it or a later one (a publisher replaying to another replica);
 * - otherwise the next after the stream's last entry, but never below ARGV[1], this replica's
 *   floor: after Redis lost everything (a restart) the sequence must not start again at 1.
 * History is trimmed by length (MAXLEN ~ ARGV[3]) as the in-memory ring is, and a run's
 * stream expires ARGV[6] seconds after its last message, so ended runs leave Redis. Returns the id.
 */
export const appendScript = `
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local last = 0
if top then last = tonumber(string.sub(top[1], 3)) or 0 end
local want = tonumber(ARGV[1])
local id
if ARGV[2] == '1' then
  if want <= last then return -1 end
  id = '0-' .. want
elseif want > last then
  id = '0-' .. want
else
  id = '0-*'
end
local added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], id, 'm', ARGV[4], 't', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return added
`;
