-- Writes SCIM resources and journals their sync events, atomically.
-- ARGV[1] key prefix ("<prefix>:scim"), ARGV[2] JSON {writes = [...], events = [[id, json], ...]}
-- Each write: {type, id, expect, version, doc (absent = delete), oldUnique, newUnique,
-- ixDel, ixAdd (lookup-index members to remove and add, see lookup_index.ts)}.
-- `expect` is the version the caller read (0 = must not exist). Every check runs before any
-- change, so a refused call changes nothing.
-- Returns JSON {ok = true} or {ok = false, reason = "conflict" | "uniqueness", type, id}.
local prefix = ARGV[1]
local payload = cjson.decode(ARGV[2])
local writes = payload.writes

local function resKey(w) return prefix .. ':res:' .. w.type .. ':' .. w.id end

for _, w in ipairs(writes) do
  local current = tonumber(redis.call('HGET', resKey(w), 'v') or '0')
  if current ~= w.expect then
    return cjson.encode({ ok = false, reason = 'conflict', type = w.type, id = w.id })
  end
  if w.doc and w.newUnique then
    local owner = redis.call('HGET', prefix .. ':uniq:' .. w.type, w.newUnique)
    if owner and owner ~= w.id then
      return cjson.encode({ ok = false, reason = 'uniqueness', type = w.type, id = w.id })
    end
  end
end

for _, w in ipairs(writes) do
  local uniq = prefix .. ':uniq:' .. w.type
  local ix = prefix .. ':ix:' .. w.type
  for _, m in ipairs(w.ixDel or {}) do redis.call('ZREM', ix, m) end
  for _, m in ipairs(w.ixAdd or {}) do redis.call('ZADD', ix, 0, m) end
  if w.oldUnique and w.oldUnique ~= w.newUnique then redis.call('HDEL', uniq, w.oldUnique) end
  if w.doc then
    redis.call('HSET', resKey(w), 'v', w.version, 'doc', w.doc)
    if w.expect == 0 then
      -- A sequence, not the clock: list order is creation order even within one millisecond.
      local seq = redis.call('INCR', prefix .. ':seq:' .. w.type)
      redis.call('ZADD', prefix .. ':idx:' .. w.type, seq, w.id)
    end
    if w.newUnique then redis.call('HSET', uniq, w.newUnique, w.id) end
  else
    redis.call('DEL', resKey(w))
    redis.call('ZREM', prefix .. ':idx:' .. w.type, w.id)
    if w.oldUnique then redis.call('HDEL', uniq, w.oldUnique) end
  end
end

for _, e in ipairs(payload.events) do
  redis.call('HSET', prefix .. ':pending', e[1], e[2])
end
return cjson.encode({ ok = true })
