-- Applies a batch of normalized events to the wanted state, atomically.
-- KEYS (built by src/store/keys.ts, see `applyKeys` in wanted_state.ts): [1] outbox,
-- [2] member fences, [3] users, [4] groups, [5] the delivery's seen key when ARGV[2] is not "",
-- then each event's seen key in order, then per id of ARGV[7].u its user and user-groups keys,
-- per id of ARGV[7].m its user-groups key, per id of ARGV[7].g its group and members keys.
-- ARGV[1] dedupe TTL seconds, ARGV[2] delivery id ("" if none), ARGV[3] now (ms), ARGV[4] JSON
-- array of normalized events, ARGV[5] max clock skew (ms), ARGV[6] JSON array of anchored,
-- lower-case Lua patterns of the mapping's administrators groups, ARGV[7] JSON
-- {u = [user id], m = [user id], g = [group id]}: whose keys KEYS holds.
-- Returns JSON {accepted, duplicates, clamped, stamp, entities = ["user:<id>", ...],
--               groups = {[gid] = {name, oldName, changed = [uid, ...]}}},
-- or, having written nothing, JSON {need = {g = [group id], m = [user id]}}: the ids whose keys
-- the batch touches through stored relations (a deleted user's groups, the members of a group
-- deleted or given a full member list) and KEYS lacks. The caller calls again with them.
-- Each entity keeps the time of the change that set it; an older change never overwrites a newer
-- one, so events may arrive in any order and still converge on the latest state.
--
-- Memberships also obey fences (docs/security.md, "Relations end with their entity"): a group's
-- fence is the time of its latest delete or full member list, a user's the time of its latest
-- delete. A membership change older than either fence is ignored whenever it arrives, so the
-- final state does not depend on the order of delivery, and an entity re-created with the same id
-- starts with no relations but those sent after its delete.
local ttl, delivery, now = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local events = cjson.decode(ARGV[4])
local maxSkew = tonumber(ARGV[5])
local adminPatterns = cjson.decode(ARGV[6])
local declared = cjson.decode(ARGV[7])
local outboxKey, fenceKey, usersKey, groupsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local deliveryKey
local nextKey = 5
if delivery ~= '' then
  deliveryKey = KEYS[5]
  nextKey = 6
end
local seenBase = nextKey - 1
nextKey = nextKey + #events
-- Keys by entity id: no key name is built here (Redis Cluster needs every key in KEYS).
local userKey, userGroupsKey, groupKey, membersKey = {}, {}, {}, {}
for _, uid in ipairs(declared.u) do
  userKey[uid], userGroupsKey[uid] = KEYS[nextKey], KEYS[nextKey + 1]
  nextKey = nextKey + 2
end
for _, uid in ipairs(declared.m) do
  userGroupsKey[uid] = KEYS[nextKey]
  nextKey = nextKey + 1
end
for _, gid in ipairs(declared.g) do
  groupKey[gid], membersKey[gid] = KEYS[nextKey], KEYS[nextKey + 1]
  nextKey = nextKey + 2
end

-- Before any write: the ids reached through stored relations whose keys were not declared.
-- Relations added by this batch only name ids of the batch, which are declared; duplicates
-- (already seen) apply nothing and need nothing.
local needGroups, needUsers = {}, {}
local function need(list, keys, id)
  if keys[id] == nil then
    keys[id] = false -- asked for once; nothing runs with it, the script returns first
    list[#list + 1] = id
  end
end
if delivery == '' or redis.call('EXISTS', deliveryKey) == 0 then
  for i, ev in ipairs(events) do
    local reaches = (ev.k == 'user' and ev.op == 'delete')
      or (ev.k == 'group' and (ev.op == 'delete' or ev.members))
    if reaches and redis.call('EXISTS', KEYS[seenBase + i]) == 0 then
      if ev.k == 'user' then
        for _, gid in ipairs(redis.call('SMEMBERS', userGroupsKey[ev.id])) do
          need(needGroups, groupKey, gid)
        end
      else
        for _, uid in ipairs(redis.call('HKEYS', membersKey[ev.id])) do
          need(needUsers, userGroupsKey, uid)
        end
      end
    end
  end
end
if #needGroups > 0 or #needUsers > 0 then
  return cjson.encode({ need = { g = needGroups, m = needUsers } })
end

local entities, seenEntity, groups = {}, {}, {}
-- The outbox is scored with Redis' own clock so several intake processes agree on order.
local clock = redis.call('TIME')
local stamp = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local accepted, duplicates, clamped = 0, 0, 0

local function touch(entity)
  if not seenEntity[entity] then
    seenEntity[entity] = true
    entities[#entities + 1] = entity
    redis.call('ZADD', outboxKey, stamp, entity)
  end
end

local function groupInfo(gid)
  local info = groups[gid]
  if not info then
    local cur = redis.call('GET', groupKey[gid])
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
  local mkey = membersKey[gid]
  local was, pairT = readStamp(redis.call('HGET', mkey, uid))
  if pairT > t then return end
  redis.call('HSET', mkey, uid, (present and '1:' or '0:') .. t)
  if present then
    redis.call('SADD', userGroupsKey[uid], gid)
  else
    redis.call('SREM', userGroupsKey[uid], gid)
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
    local key = userKey[ev.id]
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
      redis.call('SADD', usersKey, ev.id)
      touch('user:' .. ev.id)
    end
    if ev.op == 'delete' then
      -- A deleted user leaves its groups, as at the IdP, even when a newer change to the user
      -- came first: memberships older than the delete end with it. With onUserDeleted:
      -- deactivate the IONOS user stays, and must not keep the privileges its groups gave it.
      raiseFence('u:' .. ev.id, t)
      for _, gid in ipairs(redis.call('SMEMBERS', userGroupsKey[ev.id])) do
        setPair(gid, ev.id, false, t)
        touch('group:' .. gid)
      end
    end
  elseif ev.k == 'group' then
    local key = groupKey[ev.id]
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
      redis.call('SADD', groupsKey, ev.id)
      info.name = v.displayName
      if cur.displayName and cur.displayName ~= v.displayName then
        -- A renamed group may enter or leave an administrators name: its members' users
        -- recompute their flag (a user job may have seen the old name, a group job not).
        for _, uid in ipairs(redis.call('HKEYS', membersKey[ev.id])) do
          if readStamp(redis.call('HGET', membersKey[ev.id], uid)) then
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
      for _, uid in ipairs(redis.call('HKEYS', membersKey[ev.id])) do
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
  if not redis.call('SET', deliveryKey, now, 'NX', 'EX', ttl) then
    return cjson.encode({ accepted = 0, duplicates = #events, clamped = 0, entities = {},
      groups = {}, stamp = stamp })
  end
end
for i, ev in ipairs(events) do
  if redis.call('SET', KEYS[seenBase + i], now, 'NX', 'EX', ttl) then
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
