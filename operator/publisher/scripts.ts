/**
 * Lua scripts that make each publisher operation one atomic step in Redis (like MULTI/EXEC,
 * nothing interleaves) with a fence: the marker hash holds the epoch of the last write, and a
 * write from an older epoch (an operator that has not yet noticed it lost the Lease) is
 * refused. Every value arrives encoded by api-types/config-codec.ts; the scripts compare
 * integers and store strings, and never look inside JSON.
 *
 * KEYS[1] config key, KEYS[2] the installation's set of published Gateway ids, KEYS[3] the
 * marker hash {epoch, writes}.
 * write   ARGV: epoch, write count, gateway id, envelope, channel, notification
 * remove  ARGV: epoch, write count, gateway id, channel, notification
 * Both return 0 when done, or the newer epoch that fenced them out.
 */

const FENCE = `
local fence = tonumber(redis.call('HGET', KEYS[3], 'epoch') or '0')
if fence > tonumber(ARGV[1]) then return fence end
`;

export const WRITE_SCRIPT = `${FENCE}
redis.call('SET', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], 'epoch', ARGV[1], 'writes', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 0
`;

export const REMOVE_SCRIPT = `${FENCE}
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], 'epoch', ARGV[1], 'writes', ARGV[2])
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 0
`;
