"""Where the Redis store keeps what, and the Lua scripts that change it.

Every script touches the keys of one hash slot, so that the store runs on Redis
Cluster as on one Redis. Customers are spread over ``SHARDS`` shards by userId; a
shard's keys share the hash tag ``{<shard>}``:

- ``capmock:{<shard>}:guard``: the epoch of the world the shard's state belongs to.
  A deduction decided on another epoch's fixtures is refused by the shard, so that no
  write lands on a world that was replaced or reset.
- under a namespace ``capmock:{<shard>}:<ns>:`` (the world's epoch, or a session's
  own namespace): ``b:<userId>`` (hash: bucket key to exact decimal text, and an
  allocation's ``uniqueId`` to 1), ``l:<userId>`` (list of JSON ledger entries, oldest
  first), ``touched`` (set of userIds with state), ``events`` (a counter: entry n of
  shard s gets the ``eventLogId`` n * SHARDS + s, unique and increasing per customer).

What is not a customer's shares the tag ``{world}``: ``capmock:{world}`` (hash: epoch,
text), ``:secret`` (the OAuth signing secret), ``:sessions`` (sorted set of ids by
expiry, ms), ``:session:<id>`` (hash: own, ns, text; expires by itself) and ``:spaces``
(hash: session id to its namespace, to clear what an expired session left).

An epoch is a number that only grows (at least the time in µs when it was made), so
that a shard moves only forward, and a world stored again after Redis lost its data
is never taken for one a process has cached.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "capmock:"
SHARDS = 1024
WORLD = PREFIX + "{world}"
SECRET = WORLD + ":secret"
SESSIONS = WORLD + ":sessions"
SPACES = WORLD + ":spaces"
LEGACY = PREFIX + "fixture"
"""Where capmock before sharding kept its fixtures: such a Redis is refused at start."""


def session_key(session: str) -> str:
    return f"{WORLD}:session:{session}"


def shard_prefix(shard: int) -> str:
    return f"{PREFIX}{{{shard}}}:"


def guard_key(shard: int) -> str:
    return shard_prefix(shard) + "guard"


def space_prefix(shard: int, ns: str) -> str:
    return f"{shard_prefix(shard)}{ns}:"


@dataclass(frozen=True, slots=True)
class CustomerKeys:
    """The keys of one customer in one namespace, in the order the scripts take them."""

    shard: int
    guard: str
    balance: str
    ledger: str
    touched: str
    events: str

    @classmethod
    def of(cls, ns: str, user_id: int) -> CustomerKeys:
        shard = user_id % SHARDS
        space = space_prefix(shard, ns)
        return cls(
            shard,
            guard_key(shard),
            f"{space}b:{user_id}",
            f"{space}l:{user_id}",
            space + "touched",
            space + "events",
        )

    @property
    def read(self) -> list[str]:
        return [self.guard, self.balance, self.ledger]

    @property
    def write(self) -> list[str]:
        return [self.guard, self.balance, self.ledger, self.touched, self.events]


FORGET = """
local function forget(space)
  local touched = space .. 'touched'
  for _, user in ipairs(redis.call('SMEMBERS', touched)) do
    redis.call('DEL', space .. 'b:' .. user, space .. 'l:' .. user)
  end
  redis.call('DEL', touched, space .. 'events')
end
"""
"""Deletes one namespace's state in one shard (keys of the shard's slot, named from
its ``touched`` set)."""

STORE_WORLD = """
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return false end
local text = ARGV[1]
if text == '' then text = redis.call('HGET', KEYS[1], 'text') end
if not text then return false end
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') + 1
if tonumber(ARGV[2]) > epoch then epoch = tonumber(ARGV[2]) end
epoch = string.format('%d', epoch)
redis.call('HSET', KEYS[1], 'epoch', epoch, 'text', text)
redis.call('SET', KEYS[2], ARGV[3], 'NX')
return epoch
"""
"""KEYS: world, secret. ARGV: the fixture text ('' for the one stored: a reset), now
(µs), a secret to keep if none is kept, '1' to store only when Redis holds no world.
Returns the new epoch, or false when nothing was stored."""

SWEEP = (
    FORGET
    + """
local guard = redis.call('GET', KEYS[1])
if guard and tonumber(guard) >= tonumber(ARGV[1]) then return guard end
if guard then forget(ARGV[2] .. guard .. ':') end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""
)
"""KEYS: a shard's guard. ARGV: the epoch in force, the shard's prefix. Moves the
shard forward to that epoch, deleting the state of the world it leaves; a shard
already there (or further) is left as it is. Returns the shard's epoch."""

CLEAR = (
    FORGET
    + """
forget(ARGV[1])
return 1
"""
)
"""KEYS: the namespace's touched set in the shard. ARGV: the namespace's prefix in it."""

READ = """
local written = false
local kept = 0
if ARGV[1] ~= '' then
  local entries = redis.call('LRANGE', KEYS[3], 0, -1)
  kept = #entries
  for i = #entries, 1, -1 do
    if string.find(entries[i], ARGV[1], 1, true) then written = entries[i] break end
  end
end
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), written, kept}
"""
"""KEYS: guard, balance, ledger. ARGV: the marker of a write whose reply was lost (or
''). Returns the shard's epoch, the balances (flat), the ledger entry carrying the
marker (or false), and how many entries the ledger keeps (when a marker is given)."""

COMMIT = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, redis.call('GET', KEYS[1])}
end
local stale = redis.call('HLEN', KEYS[2]) ~= (#ARGV - 9) / 2
if not stale then
  for i = 10, #ARGV, 2 do
    if redis.call('HGET', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then stale = true break end
  end
end
if stale then return {0, redis.call('HGETALL', KEYS[2])} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], ARGV[7], '1') end
local id = redis.call('INCR', KEYS[5]) * tonumber(ARGV[9]) + tonumber(ARGV[8])
local entry = '{"eventLogId": ' .. string.format('%d', id) .. ', ' .. string.sub(ARGV[4], 2)
redis.call('RPUSH', KEYS[3], entry)
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
redis.call('SADD', KEYS[4], ARGV[6])
return {id}
"""
"""KEYS: guard, balance, ledger, touched, events. ARGV: the epoch decided on ('' for a
session with fixtures of its own), the bucket key, its new balance, the ledger entry,
the ledger limit, the userId, the key of a marker to set to 1 (or ''), the shard, the
number of shards, then the balances decided on as field, value pairs. Writes only if
the shard is at that epoch and the balance hash is exactly as given, and returns
``{eventLogId}``; else writes nothing and returns ``{-1, the shard's epoch}`` or
``{0, the balances as they are}``."""

OPEN_SESSION = """
local live = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
if live >= tonumber(ARGV[2]) then return live end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], 'own', ARGV[5], 'ns', ARGV[7])
if ARGV[5] == '1' then redis.call('HSET', KEYS[2], 'text', ARGV[6]) end
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[7])
return -1
"""
"""KEYS: sessions, the session's hash, spaces. ARGV: now (ms), the limit, the expiry
(ms), the id, '1' when it has fixtures of its own, their text, its namespace. Counts
the live sessions and adds this one only below the limit, as one step on every replica."""

RENEW_SESSION = """
local old = redis.call('HGET', KEYS[1], 'ns')
if not old then return false end
redis.call('HSET', KEYS[1], 'ns', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return old
"""
"""KEYS: the session's hash, spaces. ARGV: the id, a new namespace. Returns the old one
(its state is then cleared), or false when there is no such session."""

END_SESSION = """
if ARGV[2] == 'close' and redis.call('EXISTS', KEYS[1]) == 0 then return false end
local ns = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return ns or ''
"""
"""KEYS: the session's hash, spaces, sessions. ARGV: the id, 'close' (false when the
session is not there) or 'expired'. Returns its namespace, whose state is then cleared."""
