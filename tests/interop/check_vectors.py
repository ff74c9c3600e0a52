#!/usr/bin/python3
"""check_vectors.py: an independent implementation check of protocol/test-vectors.json.

Re-derives every well-formed vector from its fields alone, without taskcollab's C code:
the payload/data bytes from *_decoded, the frame from the fields (msgpack.packb with
use_bin_type=True, keys in canonical order), the signed bytes from the layout of
PROTOCOL.md and the HMAC-SHA256 signature with hmac/hashlib. It also decodes every frame
with its own rule checker (written from the spec) and requires the named error for each
malformed vector, and a refusal for every truncation of every frame.

Usage: /usr/bin/python3 check_vectors.py path/to/test-vectors.json
Exit status: 0 all good, 1 a mismatch, 77 skipped (the msgpack module is missing).
"""
import hashlib
import hmac
import json
import re
import sys

try:
    import msgpack
except ImportError:
    print("SKIP: the Python msgpack module is missing (Debian: apt-get install python3-msgpack)")
    sys.exit(77)

ORDER = {
    "request": ["type", "version", "request_id", "action", "agent_id", "session_id",
                "timestamp", "nonce", "payload", "signature"],
    "reply": ["type", "version", "request_id", "status", "error_code", "error", "data"],
    "event": ["type", "version", "event", "seq", "timestamp", "data"],
}
OPTIONAL = {"request": {"nonce", "signature"}, "reply": set(), "event": set()}
BIN_FIELDS = {"nonce", "payload", "signature", "data"}
ALL_FIELDS = set(f for fields in ORDER.values() for f in fields)

MAX_FRAME, MAX_PAYLOAD, MAX_KEYS = 65536, 61440, 16
MAX_MAP, MAX_LIST, MAX_DEPTH, MAX_STR, MAX_KEY = 64, 1000, 8, 8192, 64

failures = 0


def fail(name, what):
    global failures
    failures += 1
    print(f"FAIL {name}: {what}")


# ---- encoding, from the fields alone ----

def encode(fields):
    kind = fields["type"]
    env = {}
    for key in ORDER[kind]:
        if key in fields:
            env[key] = bytes.fromhex(fields[key]) if key in BIN_FIELDS else fields[key]
    return msgpack.packb(env, use_bin_type=True)


def lp(b):
    return len(b).to_bytes(4, "big") + b


def signed_bytes(f, scope):
    nonce = bytes.fromhex(f.get("nonce", ""))
    payload = bytes.fromhex(f["payload"])
    ts = f["timestamp"].to_bytes(8, "big")
    agent = f["agent_id"].encode()
    if scope == "weak":
        return lp(b"taskcollab/1 weak") + lp(agent) + ts + lp(nonce) + lp(payload)
    return (lp(b"taskcollab/1 full") + f["version"].to_bytes(4, "big") +
            lp(f["action"].encode()) + f["request_id"].to_bytes(8, "big") + lp(agent) +
            lp(f["session_id"].encode()) + ts + lp(nonce) + lp(payload))


# ---- decoding, with the rules of the spec ----

class Reject(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error


class MPMap(list):
    """A MessagePack map as the list of its (key, value) pairs, duplicates kept."""


def unpack(b):
    """Strs that are not UTF-8 come back holding lone surrogates (surrogateescape), so that
    the rule checker, not the codec, says utf8, in the order PROTOCOL.md 2.4 gives."""
    try:
        return msgpack.unpackb(b, raw=False, use_list=False, strict_map_key=False,
                               object_pairs_hook=MPMap, unicode_errors="surrogateescape")
    except msgpack.ExtraData:
        raise Reject("malformed")
    except Exception:
        raise Reject("malformed")


def utf8_ok(s):
    try:
        s.encode("utf-8")  # strict: a lone surrogate (an escaped bad byte, or CESU) fails
        return True
    except UnicodeEncodeError:
        return False


def check_item(v, level):
    if isinstance(v, (msgpack.ExtType, msgpack.Timestamp)):  # first: ExtType is a tuple
        raise Reject("malformed")
    if isinstance(v, (MPMap, tuple)):
        check_container(v, level + 1)
    elif isinstance(v, str) and not utf8_ok(v):
        raise Reject("utf8")
    elif isinstance(v, str) and len(v.encode()) > MAX_STR:
        raise Reject("too_large")


def check_container(c, level):
    if level > MAX_DEPTH:
        raise Reject("limit")
    if isinstance(c, tuple):
        if len(c) > MAX_LIST:
            raise Reject("limit")
        for v in c:
            check_item(v, level)
        return
    if len(c) > MAX_MAP:
        raise Reject("limit")
    keys = set()
    for k, v in c:
        check_item(k, level)
        if not isinstance(k, str):
            raise Reject("malformed")
        if len(k.encode()) > MAX_KEY:
            raise Reject("limit")
        if level == 1 and k in keys:
            raise Reject("malformed")
        keys.add(k)
        check_item(v, level)


def check_map_bin(v):
    if not isinstance(v, bytes):
        raise Reject("field_type")
    if len(v) > MAX_PAYLOAD:
        raise Reject("too_large")
    m = unpack(v)
    if not isinstance(m, MPMap):
        raise Reject("malformed")
    check_container(m, 1)


def check_uint(v, limit):
    if type(v) is not int or v < 0:
        raise Reject("field_type")
    if v > limit:
        raise Reject("limit")


def check_str(v):
    if not isinstance(v, str):
        raise Reject("field_type")
    if not utf8_ok(v):
        raise Reject("utf8")


def check_ident(v, lo, hi, pattern):
    check_str(v)
    b = v.encode()
    if not lo <= len(b) <= hi or not re.fullmatch(pattern, b):
        raise Reject("limit")


def check_choice(v, choices):
    check_str(v)
    if v not in choices:
        raise Reject("malformed")


def check_field(key, v):
    if key == "type":
        check_choice(v, ("request", "reply", "event"))
    elif key == "version":
        check_uint(v, 2**64 - 1)
        if v != 1:
            raise Reject("version")
    elif key in ("request_id", "seq"):
        check_uint(v, 2**64 - 1)
    elif key == "timestamp":
        check_uint(v, 2**63 - 1)
    elif key == "error_code":
        check_uint(v, 65535)
    elif key in ("action", "event"):
        check_ident(v, 1, 32, rb"[a-z_]*")
    elif key == "agent_id":
        check_ident(v, 1, 64, rb"[A-Za-z0-9_.\-]*")
    elif key == "session_id":
        check_ident(v, 0, 128, rb"[\x21-\x7e]*")
    elif key in ("nonce", "signature"):
        if not isinstance(v, bytes):
            raise Reject("field_type")
        if len(v) != (16 if key == "nonce" else 32):
            raise Reject("limit")
    elif key in ("payload", "data"):
        check_map_bin(v)
    elif key == "status":
        check_choice(v, ("ok", "error"))
    elif key == "error":
        check_str(v)
        if len(v.encode()) > 512:
            raise Reject("limit")


# PROTOCOL.md 2.4: the rank of a field's error is the order in which the fields first appear
# in the tables of sections 2.1, 2.2 and 2.3; the envelope map's own errors rank first.
RANK = ["type", "version", "request_id", "action", "agent_id", "session_id", "timestamp",
        "nonce", "payload", "signature", "status", "error_code", "error", "data", "event", "seq"]


def read_pairs(frame):
    """The envelope map's pairs as far as the bytes can be read, and whether they all were."""
    u = msgpack.Unpacker(raw=False, use_list=False, strict_map_key=False,
                         object_pairs_hook=MPMap, unicode_errors="surrogateescape",
                         max_buffer_size=2 * MAX_FRAME)
    u.feed(frame)
    try:
        n = u.read_map_header()
    except msgpack.OutOfData:
        raise Reject("malformed")
    except Exception:  # not a map
        raise Reject("malformed")
    if n > MAX_KEYS:
        raise Reject("limit")
    pairs = []
    try:
        for _ in range(n):
            k = u.unpack()
            pairs.append((k, u.unpack()))
    except Exception:
        return pairs, False
    return pairs, u.tell() == len(frame)


def decode(frame, found=None):
    """Returns the envelope as a dict, or raises Reject with the spec's error name. found,
    when given, receives the request_id that could be read (PROTOCOL.md 2.4)."""
    if len(frame) > MAX_FRAME:
        raise Reject("too_large")
    pairs, complete = read_pairs(frame)
    best = None

    def note(rank, error):
        nonlocal best
        if best is None or rank < best[0]:
            best = (rank, error)

    seen = {}
    for k, v in pairs:
        if not isinstance(k, str) or k not in ALL_FIELDS or k in seen:
            note(0, "malformed")
            continue
        seen[k] = v
        try:
            check_field(k, v)
            if k == "request_id" and found is not None:
                found["request_id"] = v
        except Reject as r:
            note(1 + RANK.index(k), r.error)
    if not complete:
        note(0, "malformed")
    if best:
        raise Reject(best[1])
    if "type" not in seen:
        raise Reject("field_missing")
    kind = seen["type"]
    required = set(ORDER[kind]) - OPTIONAL[kind]
    if not required <= set(seen):
        raise Reject("field_missing")
    if set(seen) - set(ORDER[kind]):
        raise Reject("malformed")
    return seen


def error_of(frame):
    try:
        decode(frame)
        return None
    except Reject as r:
        return r.error


# ---- the checks ----

def check_fields_decode(name, frame, fields):
    env = decode(frame)
    present = [k for k in ORDER[fields["type"]] if k in fields]
    if list(env) != present:
        fail(name, f"key order {list(env)} != {present}")
    for k in present:
        want = bytes.fromhex(fields[k]) if k in BIN_FIELDS else fields[k]
        if env[k] != want:
            fail(name, f"field {k} decodes to {env[k]!r}, vector says {want!r}")


def check_wellformed(v):
    name, f, frame = v["name"], v["fields"], bytes.fromhex(v["hex"])
    if f.get("type") != v["kind"]:
        fail(name, "kind and fields.type differ")
        return
    map_key = "payload" if v["kind"] == "request" else "data"
    if msgpack.packb(f[map_key + "_decoded"], use_bin_type=True) != bytes.fromhex(f[map_key]):
        fail(name, f"{map_key}_decoded does not pack to {map_key}")
    if encode(f) != frame:
        fail(name, f"fields encode to {encode(f).hex()}")
    try:
        check_fields_decode(name, frame, f)
    except Reject as r:
        fail(name, f"refused as {r.error}")
    if "signature" in f or "signature_hex" in v:
        if f.get("action") == "login":
            fail(name, "login is never signed")
        sb = signed_bytes(f, v["scope"])
        if sb.hex() != v["signed_bytes_hex"]:
            fail(name, "signed bytes differ")
        mac = hmac.new(bytes.fromhex(v["key_hex"]), sb, hashlib.sha256).hexdigest()
        if not (mac == v["signature_hex"] == f.get("signature")):
            fail(name, f"HMAC is {mac}")


def check_malformed(v):
    found = {"request_id": 0}
    try:
        decode(bytes.fromhex(v["hex"]), found)
        got = None
    except Reject as r:
        got = r.error
    if got != v["error"]:
        fail(v["name"], f"rule check says {got}, vector says {v['error']}")
    if found["request_id"] != v.get("request_id"):
        fail(v["name"], f"request_id read {found['request_id']}, vector says {v.get('request_id')}")


def check_truncations(v, wellformed_frames):
    frame = bytes.fromhex(v["hex"])
    for cut in range(len(frame)):
        if error_of(frame[:cut]) is None and frame[:cut] not in wellformed_frames:
            fail(v["name"], f"prefix of {cut} bytes accepted")


def check_file(doc):
    vectors = doc["vectors"]
    names = [v["name"] for v in vectors]
    if len(set(names)) != len(names):
        fail("file", "duplicate vector names")
    wellformed = {bytes.fromhex(v["hex"]) for v in vectors if v["kind"] != "malformed"}
    for v in vectors:
        if v["kind"] == "malformed":
            check_malformed(v)
        else:
            check_wellformed(v)
        check_truncations(v, wellformed)
    by_name = {v["name"]: v for v in vectors}
    close, delete = by_name.get("close_project_weak"), by_name.get("delete_project_weak")
    if close and delete and close["signature_hex"] != delete["signature_hex"]:
        fail("file", "close/delete weak signatures differ")
    return len(vectors)


def main():
    if len(sys.argv) != 2:
        print("usage: check_vectors.py test-vectors.json")
        return 2
    with open(sys.argv[1], encoding="utf-8") as fp:
        doc = json.load(fp)
    n = check_file(doc)
    print(f"check_vectors.py: {n} vectors, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
