-- Writes SCIM resources and journals their sync events, atomically.
-- KEYS (built by src/store/keys.ts, see `commit` in store.ts): [1] the pending events hash, then
-- per type of ARGV[1].types its uniqueness hash, lookup index, list index and sequence, then per
-- write its resource hash.
-- ARGV[1] JSON {types = [type, ...], writes = [...], events = [[id, json], ...]}
-- Each write: {type, id, expect, version, doc (absent = delete), oldUnique, newUnique,
-- ixDel, ixAdd (lookup-index members to remove and add, see lookup_index.ts)}.
-- `expect` is the version the caller read (0 = must not exist). Every check runs before any
-- change, so a refused call changes nothing.
-- Returns JSON {ok = true} or {ok = false, reason = "conflict" | "uniqueness", type, id}.
local payload = cjson.decode(ARGV[1])
local writes = payload.writes
local pendingKey = KEYS[1]

-- Keys by type, and each write's resource key: no key name is built here.
local typeKeys = {}
for i, t in ipairs(payload.types) do
  local b = 1 + (i - 1) * 4
  typeKeys[t] = { uniq = KEYS[b + 1], ix = KEYS[b + 2], idx = KEYS[b + 3], seq = KEYS[b + 4] }
end
local resBase = 1 + #payload.types * 4
local function resKey(i) return KEYS[resBase + i] end

for i, w in ipairs(writes) do
  local current = tonumber(redis.call('HGET', resKey(i), 'v') or '0')
  if current ~= w.expect then
    return cjson.encode({ ok = false, reason = 'conflict', type = w.type, id = w.id })
  end
  if w.doc and w.newUnique then
    local owner = redis.call('HGET', typeKeys[w.type].uniq, w.newUnique)
    if owner and owner ~= w.id then
      return cjson.encode({ ok = false, reason = 'uniqueness', type = w.type, id = w.id })
    end
  end
end

for i, w in ipairs(writes) do
  local keys = typeKeys[w.type]
  for _, m in ipairs(w.ixDel or {}) do redis.call('ZREM', keys.ix, m) end
  for _, m in ipairs(w.ixAdd or {}) do redis.call('ZADD', keys.ix, 0, m) end
  if w.oldUnique and w.oldUnique ~= w.newUnique then redis.call('HDEL', keys.uniq, w.oldUnique) end
  if w.doc then
    redis.call('HSET', resKey(i), 'v', w.version, 'doc', w.doc)
    if w.expect == 0 then
      -- A sequence, not the clock: list order is creation order even within one millisecond.
      local seq = redis.call('INCR', keys.seq)
      redis.call('ZADD', keys.idx, seq, w.id)
    end
    if w.newUnique then redis.call('HSET', keys.uniq, w.newUnique, w.id) end
  else
    redis.call('DEL', resKey(i))
    redis.call('ZREM', keys.idx, w.id)
    if w.oldUnique then redis.call('HDEL', keys.uniq, w.oldUnique) end
  end
end

for _, e in ipairs(payload.events) do
  redis.call('HSET', pendingKey, e[1], e[2])
end
return cjson.encode({ ok = true })
