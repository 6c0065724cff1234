-- Applies a batch of normalized events to the wanted state, atomically.
-- ARGV[1] key prefix, ARGV[2] dedupe TTL seconds, ARGV[3] delivery id ("" if none),
-- ARGV[4] now (ms), ARGV[5] JSON array of normalized events, ARGV[6] max clock skew (ms),
-- ARGV[7] JSON array of anchored, lower-case Lua patterns of the mapping's administrators groups.
-- Returns JSON {accepted, duplicates, clamped, stamp, entities = ["user:<id>", ...],
--               groups = {[gid] = {name, oldName, changed = [uid, ...]}}}
-- Each entity keeps the time of the change that set it; an older change never overwrites a newer
-- one, so events may arrive in any order and still converge on the latest state.
--
-- Memberships also obey fences (docs/security.md, "Relations end with their entity"): a group's
-- fence is the time of its latest delete or full member list, a user's the time of its latest
-- delete. A membership change older than either fence is ignored whenever it arrives, so the
-- final state does not depend on the order of delivery, and an entity re-created with the same id
-- starts with no relations but those sent after its delete.
local prefix, ttl, delivery, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local events = cjson.decode(ARGV[5])
local maxSkew = tonumber(ARGV[6])
local adminPatterns = cjson.decode(ARGV[7] or '[]')
local entities, seenEntity, groups = {}, {}, {}
-- The outbox is scored with Redis' own clock so several intake processes agree on order.
local clock = redis.call('TIME')
local stamp = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local accepted, duplicates, clamped = 0, 0, 0
local fenceKey = prefix .. ':member-fences'

local function touch(entity)
  if not seenEntity[entity] then
    seenEntity[entity] = true
    entities[#entities + 1] = entity
    redis.call('ZADD', prefix .. ':outbox', stamp, entity)
  end
end

local function groupInfo(gid)
  local info = groups[gid]
  if not info then
    local cur = redis.call('GET', prefix .. ':group:' .. gid)
    local name = cur and cjson.decode(cur).displayName or false
    info = { name = name, oldName = name, changed = {} }
    groups[gid] = info
  end
  return info
end

local function readStamp(raw)
  if not raw then return nil, -1 end
  return string.sub(raw, 1, 1) == '1', tonumber(string.sub(raw, 3))
end

local function fence(field)
  return tonumber(redis.call('HGET', fenceKey, field) or '-1')
end

-- Moves a fence forward (never back).
local function raiseFence(field, t)
  if fence(field) < t then redis.call('HSET', fenceKey, field, t) end
end

-- Sets one (group, user) membership pair unless a newer change or a fence says otherwise.
-- Records a flip for admin checks.
local function setPair(gid, uid, present, t)
  if t < fence('g:' .. gid) or t < fence('u:' .. uid) then return end
  local mkey = prefix .. ':members:' .. gid
  local was, pairT = readStamp(redis.call('HGET', mkey, uid))
  if pairT > t then return end
  redis.call('HSET', mkey, uid, (present and '1:' or '0:') .. t)
  if present then
    redis.call('SADD', prefix .. ':user-groups:' .. uid, gid)
  else
    redis.call('SREM', prefix .. ':user-groups:' .. uid, gid)
  end
  if was ~= present then
    local info = groupInfo(gid)
    info.changed[#info.changed + 1] = uid
  end
end

-- Returns the stored record if `t` is not older than it, or false when the change is stale.
local function fresh(key, t)
  local cur = redis.call('GET', key)
  if not cur then return {} end
  local obj = cjson.decode(cur)
  if tonumber(obj.t) > t then return false end
  return obj
end

local function apply(ev)
  local t = ev.t
  if ev.k == 'user' then
    local key = prefix .. ':user:' .. ev.id
    local cur = fresh(key, t)
    if cur then
      local v
      if ev.op == 'delete' then
        v = { email = cur.email, deleted = true }
      else
        v = ev.v
        if v.active == nil then
          if cur.active == nil or cur.deleted then v.active = true else v.active = cur.active end
        end
        v.deleted = false
      end
      v.id, v.t, v.eventId = ev.id, t, ev.e
      redis.call('SET', key, cjson.encode(v))
      redis.call('SADD', prefix .. ':users', ev.id)
      touch('user:' .. ev.id)
    end
    if ev.op == 'delete' then
      -- A deleted user leaves its groups, as at the IdP, even when a newer change to the user
      -- came first: memberships older than the delete end with it. With onUserDeleted:
      -- deactivate the IONOS user stays, and must not keep the privileges its groups gave it.
      raiseFence('u:' .. ev.id, t)
      for _, gid in ipairs(redis.call('SMEMBERS', prefix .. ':user-groups:' .. ev.id)) do
        setPair(gid, ev.id, false, t)
        touch('group:' .. gid)
      end
    end
  elseif ev.k == 'group' then
    local key = prefix .. ':group:' .. ev.id
    local info = groupInfo(ev.id)
    local cur = fresh(key, t)
    if cur then
      local v
      if ev.op == 'delete' then
        v = { displayName = cur.displayName, deleted = true }
      else
        v = ev.v
        v.deleted = false
      end
      v.id, v.t, v.eventId = ev.id, t, ev.e
      redis.call('SET', key, cjson.encode(v))
      redis.call('SADD', prefix .. ':groups', ev.id)
      info.name = v.displayName
      if cur.displayName and cur.displayName ~= v.displayName then
        -- A renamed group may enter or leave an administrators name: its members' users
        -- recompute their flag (a user job may have seen the old name, a group job not).
        for _, uid in ipairs(redis.call('HKEYS', prefix .. ':members:' .. ev.id)) do
          if readStamp(redis.call('HGET', prefix .. ':members:' .. ev.id, uid)) then
            touch('user:' .. uid)
          end
        end
      end
    end
    if ev.op == 'delete' or ev.members then
      -- A delete ends every membership older than it; a full list replaces them. Either way the
      -- group's fence moves, so an older membership change arriving later is ignored.
      raiseFence('g:' .. ev.id, t)
      local listed = {}
      for _, uid in ipairs(ev.members or {}) do
        listed[uid] = true
        setPair(ev.id, uid, true, t)
      end
      for _, uid in ipairs(redis.call('HKEYS', prefix .. ':members:' .. ev.id)) do
        if not listed[uid] then setPair(ev.id, uid, false, t) end
      end
    end
    touch('group:' .. ev.id)
  elseif ev.k == 'members' then
    groupInfo(ev.id)
    for _, uid in ipairs(ev.members) do setPair(ev.id, uid, ev.op == 'add', t) end
    touch('group:' .. ev.id)
  end
end

if delivery ~= '' then
  if not redis.call('SET', prefix .. ':seen-delivery:' .. delivery, now, 'NX', 'EX', ttl) then
    return cjson.encode({ accepted = 0, duplicates = #events, clamped = 0, entities = {},
      groups = {}, stamp = stamp })
  end
end
for _, ev in ipairs(events) do
  if redis.call('SET', prefix .. ':seen:' .. ev.e, now, 'NX', 'EX', ttl) then
    accepted = accepted + 1
    -- Nothing may pin state from the future: a time too far ahead of Redis' clock is applied
    -- at Redis' clock instead (docs/security.md, "Time is bounded").
    if ev.t > stamp + maxSkew then
      ev.t = stamp
      clamped = clamped + 1
    end
    apply(ev)
  else
    duplicates = duplicates + 1
  end
end
-- A membership that flipped in a group named (or last named) as an administrators group changes
-- its user's administrator flag: the user is synced too, durably through the outbox, so no
-- removal of rights depends on a group job seeing that name.
local function isAdminName(name)
  if not name then return false end
  local lower = string.lower(name)
  for _, p in ipairs(adminPatterns) do
    if string.find(lower, p) then return true end
  end
  return false
end
for _, info in pairs(groups) do
  if isAdminName(info.name) or isAdminName(info.oldName) then
    for _, uid in ipairs(info.changed) do touch('user:' .. uid) end
  end
end
-- cjson encodes an empty table as {}; callers treat both shapes as empty.
return cjson.encode({ accepted = accepted, duplicates = duplicates, clamped = clamped,
  entities = entities, groups = groups, stamp = stamp })
