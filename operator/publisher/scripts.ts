/**
 * Lua scripts that make each publish one atomic step in Redis. A script runs like MULTI/EXEC
 * (nothing interleaves), and additionally reads the current version inside the same step, so
 * two operators (a leader and one that has not yet noticed it lost the Lease) can never write
 * the same or a lower version. The envelope JSON is assembled from pieces because only the
 * script knows the version; the config JSON is passed through untouched.
 *
 * KEYS[1] config key, KEYS[2] the operator's set of published Gateways, KEYS[3] a hash of the
 * last version per Gateway that outlives deletes, so a Gateway deleted and created again
 * continues above the version its still-terminating pods may hold.
 * publish  ARGV: channel, gateway id, digest, config JSON, renotify ("1"/"0"), gateway id as JSON
 *          → {version, changed (1/0)}; an unchanged digest keeps the version (and with
 *          renotify only publishes the notification again).
 * remove   ARGV: channel, gateway id, gateway id as JSON → version removed (0 when there was none)
 * (The gateway id is JSON-encoded by the caller: Lua's cjson would escape `/` as `\/`.)
 */

export const PUBLISH_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local version = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0') or 0
if current then
  local keyVersion = tonumber(string.match(current, '^{"version":(%d+),')) or 0
  local digest = string.match(current, '^{"version":%d+,"digest":"([^"]+)"')
  if digest == ARGV[3] then
    redis.call('SADD', KEYS[2], ARGV[2])
    if ARGV[5] == '1' then
      redis.call('PUBLISH', ARGV[1], '{"gateway":' .. ARGV[6] .. ',"version":' .. keyVersion .. ',"digest":"' .. ARGV[3] .. '"}')
    end
    return {keyVersion, 0}
  end
  version = math.max(version, keyVersion)
end
version = version + 1
redis.call('SET', KEYS[1], '{"version":' .. version .. ',"digest":"' .. ARGV[3] .. '","config":' .. ARGV[4] .. '}')
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], version)
redis.call('PUBLISH', ARGV[1], '{"gateway":' .. ARGV[6] .. ',"version":' .. version .. ',"digest":"' .. ARGV[3] .. '"}')
return {version, 1}
`;

export const REMOVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
if not current then return 0 end
local version = tonumber(string.match(current, '^{"version":(%d+),')) or 0
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], '{"gateway":' .. ARGV[3] .. ',"version":' .. version .. ',"digest":"","deleted":true}')
return version
`;
