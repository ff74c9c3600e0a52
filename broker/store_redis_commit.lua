-- store_redis_commit.lua: one batch of one broker, decided atomically in Redis
-- (docs/DISTRIBUTED.md, sections 2 C, 3 and 4). Run with EVALSHA, no KEYS (one Redis).
--
-- ARGV[1] prefix P        every key starts with it
-- ARGV[2] node N          the broker's name
-- ARGV[3] batch           MessagePack: an array of change sets {cs, {change, ...}}
-- ARGV[4] log bound       the log stream's MAXLEN (approximate trim)
-- ARGV[5] now             Unix ms (session index clean-up)
-- ARGV[6] run R           N#epoch: the node since its last recovery from an outage
-- ARGV[7] from            the log id the broker has read up to ("0-0": none)
-- ARGV[8] count           at most this many log entries returned (the read back)
--
-- A change is an array whose first element is its kind:
--   {"a", id, rev, blob}                 agent (its role, password hash, registration, activity)
--   {"s", key, rev, blob, ttl_ms, exp, all}  session put (exp: its expiry in Unix ms, for the
--                                        index; all: its agent when it follows all, else "")
--   {"S", key, rev}                      session delete
--   {"p", id, rev, blob}                 project put
--   {"P", id, rev}                       project delete, with its tasks
--   {"t", id, rev, blob, project}        task put
--   {"e", agent, name, ts, data, retain} event: numbered here, kept in the agent's bounded list
--   {"b", name, ts, data, retain, {agent...}}  broadcast: an "e" for each follower of all now,
--                                        but the agents listed (they have an "e" of their own)
--   {"m", key, blob}                     node-local value: never refused, not logged
--   {"n", hex, ttl_ms}                   a nonce claimed (control 15): the set is refused when
--                                        nonce:{hex} exists, else it is set with SET NX PX
--   {"L", key}                           a session required (control 16): the set is refused
--                                        when the session's record is gone
-- rev is the revision the broker read the record at (0: absent).
--
-- The revision rule: a change from node N that read revision r passes when the record's
-- revision is r, or when N wrote it last and N's run of writes began at or before r (every
-- write since r is N's own). The run belongs to R, N since its last recovery: a batch that
-- N lost in an outage, which Redis may still run after N recovered, is another run's, so a
-- later change of N that did not see it is refused rather than written over it. A key written by a change set refused earlier in this batch
-- refuses the later ones that touch it: they were built on what was refused.
--
-- The followers of all: the hash F, session key -> agent, one field per session that follows
-- all, written with the session record itself (so a refused change set changes nothing, and
-- a session deleted twice is one field gone). A session that Redis let expire without a
-- broker deleting it leaves its field: the next broadcast finds its key gone and drops it.
--
-- The batch's won sets make one log entry: their applied changes, in order (each won set's
-- log id is that entry's).
--
-- Returns {last log id or "", {cs, won, log id or ""}..., present, entries}: won is 1, or
-- why the set was refused: 0 a record's revision (conflict), 2 a nonce claimed before, 3 a
-- session gone. entries: the log after `from` up to the batch's last entry (at most count,
-- as XRANGE gives them), which the broker applies without a read of its own; present is 0
-- when the entry `from` was trimmed from the log meanwhile (the broker then reloads).
local P, N, batch, bound, now = ARGV[1], ARGV[2], cmsgpack.unpack(ARGV[3]), tonumber(ARGV[4]),
    tonumber(ARGV[5])
local R, from, count = ARGV[6], ARGV[7], tonumber(ARGV[8])

local REC = {a = "a:", s = "s:", S = "s:", p = "p:", P = "p:", t = "t:"}
local poisoned = {}

-- What the batch knows of a record: {rev, rn, rb} as read once (HMGET) and then as this
-- script wrote it; a key it deletes is forgotten (read again if touched again).
local known = {}
local function state(key)
  local k = known[key]
  if not k then
    local h = redis.call("HMGET", key, "rev", "rn", "rb")
    k = {tonumber(h[1]) or 0, h[2], tonumber(h[3])}
    known[key] = k
  end
  return k
end

local function passes(key, r)
  local k = state(key)
  if k[1] == r then return true end
  return k[2] == R and k[3] ~= nil and k[3] <= r and r <= k[1]
end

-- Writes a record: its value, the revision after, and the node's run. Returns the revision
-- after and whether the record is new (absent before: its index sets gain it).
local function put(key, blob)
  local k = state(key)
  local rev = k[1]
  local base = rev
  if k[2] == R and k[3] then base = k[3] end
  redis.call("HSET", key, "v", blob, "rev", rev + 1, "rn", R, "rb", base)
  known[key] = {rev + 1, R, base}
  return rev + 1, rev == 0
end

local function drop_project(id)
  local tasks = redis.call("SMEMBERS", P .. "T:" .. id)
  for _, t in ipairs(tasks) do
    redis.call("DEL", P .. "t:" .. t)
    known[P .. "t:" .. t] = nil
    redis.call("SREM", P .. "K:t", t)
  end
  redis.call("DEL", P .. "T:" .. id, P .. "p:" .. id)
  known[P .. "p:" .. id] = nil
  redis.call("SREM", P .. "K:p", id)
end

-- Numbers an event for agent, keeps it in the agent's bounded list: the applied change.
-- The list is trimmed back to retain once it holds a sixteenth more (a trim per push of a
-- full list would double the commands of an event); readers take its last retain entries.
local function event(agent, name, ts, data, retain)
  local seq = redis.call("INCR", P .. "q:" .. agent)
  local list = P .. "e:" .. agent
  if redis.call("RPUSH", list, cmsgpack.pack({seq, name, ts, data})) > retain + math.floor(retain / 16) then
    redis.call("LTRIM", list, -retain, -1)
  end
  return {"e", agent, seq, name, ts, data}
end

-- The agents that follow all, in order; drops the fields of sessions that are gone. Read
-- once per batch, and again after a session is written (fol = nil).
local fol
local function following()
  if fol then return fol end
  local seen = {}
  fol = {}
  local f = redis.call("HGETALL", P .. "F")
  for i = 1, #f, 2 do
    if redis.call("EXISTS", P .. "s:" .. f[i]) == 0 then
      redis.call("HDEL", P .. "F", f[i])
    elseif not seen[f[i + 1]] then
      seen[f[i + 1]] = true
      fol[#fol + 1] = f[i + 1]
    end
  end
  table.sort(fol)
  return fol
end

-- The same, but those in except.
local function followers(except)
  local skip, out = {}, {}
  for _, a in ipairs(except) do skip[a] = true end
  for _, a in ipairs(following()) do
    if not skip[a] then out[#out + 1] = a end
  end
  return out
end

-- Why the set cannot win before its records are checked: 3 a session it requires is gone,
-- 2 a nonce it claims was claimed before (by any broker), else 1.
local function conditions(changes)
  for _, c in ipairs(changes) do
    if c[1] == "L" and redis.call("EXISTS", P .. "s:" .. c[2]) == 0 then return 3 end
  end
  for _, c in ipairs(changes) do
    if c[1] == "n" and redis.call("EXISTS", P .. "nonce:" .. c[2]) == 1 then return 2 end
  end
  return 1
end

-- Every won set's applied changes go, in order, into the batch's one log entry.
local results, last, applied, logged = {}, "", {}, {}
-- The session index loses its expired entries before the batch's first session put: only a
-- put adds to it, so a batch without one leaves it as bounded as it was.
local swept = false
for _, set in ipairs(batch) do
  local cs, changes = set[1], set[2]
  local code = conditions(changes)
  for _, c in ipairs(changes) do
    local kind = c[1]
    if code == 1 and REC[kind] then
      local key = P .. REC[kind] .. c[2]
      if poisoned[key] or not passes(key, c[3]) then code = 0 end
    end
  end
  local won = code == 1
  if won then
    local n0 = #applied
    for _, c in ipairs(changes) do
      local kind = c[1]
      if kind == "a" then
        local rev, new = put(P .. "a:" .. c[2], c[4])
        if new then redis.call("SADD", P .. "K:a", c[2]) end
        applied[#applied + 1] = {"a", c[2], rev, c[4]}
      elseif kind == "s" then
        local key = P .. "s:" .. c[2]
        if not swept then
          redis.call("ZREMRANGEBYSCORE", P .. "K:s", "-inf", now)
          swept = true
        end
        local rev = put(key, c[4])
        redis.call("PEXPIRE", key, c[5])
        redis.call("ZADD", P .. "K:s", c[6], c[2])
        if c[7] ~= "" then
          redis.call("HSET", P .. "F", c[2], c[7])
        else
          redis.call("HDEL", P .. "F", c[2])
        end
        fol = nil
        applied[#applied + 1] = {"s", c[2], rev, c[4]}
      elseif kind == "S" then
        redis.call("DEL", P .. "s:" .. c[2])
        known[P .. "s:" .. c[2]] = nil
        redis.call("ZREM", P .. "K:s", c[2])
        redis.call("HDEL", P .. "F", c[2])
        fol = nil
        applied[#applied + 1] = {"S", c[2]}
      elseif kind == "p" then
        local rev, new = put(P .. "p:" .. c[2], c[4])
        if new then redis.call("SADD", P .. "K:p", c[2]) end
        applied[#applied + 1] = {"p", c[2], rev, c[4]}
      elseif kind == "P" then
        drop_project(c[2])
        applied[#applied + 1] = {"P", c[2]}
      elseif kind == "t" then
        local rev, new = put(P .. "t:" .. c[2], c[4])
        if new then -- a task keeps its project: the index sets hold it from its creation
          redis.call("SADD", P .. "K:t", c[2])
          redis.call("SADD", P .. "T:" .. c[5], c[2])
        end
        applied[#applied + 1] = {"t", c[2], rev, c[4]}
      elseif kind == "e" then
        applied[#applied + 1] = event(c[2], c[3], c[4], c[5], c[6])
      elseif kind == "b" then
        for _, agent in ipairs(followers(c[6])) do
          applied[#applied + 1] = event(agent, c[2], c[3], c[4], c[5])
        end
      elseif kind == "m" then
        redis.call("HSET", P .. "m:" .. N, c[2], c[3])
      elseif kind == "n" then
        redis.call("SET", P .. "nonce:" .. c[2], N, "NX", "PX", c[3])
      end
    end
    if #applied > n0 then logged[#results + 1] = true end
  else
    for _, c in ipairs(changes) do
      if REC[c[1]] then poisoned[P .. REC[c[1]] .. c[2]] = true end
    end
  end
  results[#results + 1] = {cs, code, ""}
end
if #applied > 0 then
  last = redis.call("XADD", P .. "log", "MAXLEN", "~", bound, "*", "n", N, "d", cmsgpack.pack(applied))
  for i in pairs(logged) do results[i][3] = last end
end
local present, entries = 1, {}
if last ~= "" then
  if from ~= "0-0" and #redis.call("XRANGE", P .. "log", from, from) == 0 then
    present = 0
  else
    entries = redis.call("XRANGE", P .. "log", "(" .. from, last, "COUNT", count)
  end
end
return {last, results, present, entries}
