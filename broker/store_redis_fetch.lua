-- store_redis_fetch.lua: the records of a refused change set as Redis holds them now, with
-- the log's last entry id, read in one atomic step (docs/DISTRIBUTED.md 4: the loser is put
-- back from the winner's records; every log entry up to that id is applied before them).
-- Run with EVALSHA, no KEYS (one Redis). Reads only.
--
-- ARGV[1]    prefix P
-- ARGV[2..]  record keys without the prefix: "a:ID", "s:KEY", "p:N", "t:N"
--
-- Returns {last log id or "", {key, blob or nil, rev, event counter}...}: rev 0 and no blob
-- for a key Redis does not hold; the event counter (q:ID) only for an agent, else 0. A
-- project's tasks (its T: set) follow it, since deleting a project deletes them too.
local P = ARGV[1]
local out = {}

local function one(rel)
  local h = redis.call("HMGET", P .. rel, "v", "rev")
  local q = 0
  if string.sub(rel, 1, 2) == "a:" then
    q = tonumber(redis.call("GET", P .. "q:" .. string.sub(rel, 3))) or 0
  end
  out[#out + 1] = {rel, h[1], tonumber(h[2]) or 0, q}
end

for i = 2, #ARGV do
  local rel = ARGV[i]
  one(rel)
  if string.sub(rel, 1, 2) == "p:" then
    for _, t in ipairs(redis.call("SMEMBERS", P .. "T:" .. string.sub(rel, 3))) do
      one("t:" .. t)
    end
  end
end
local last = redis.call("XREVRANGE", P .. "log", "+", "-", "COUNT", 1)
return {last[1] and last[1][1] or "", out}
