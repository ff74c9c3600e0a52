#!/usr/bin/python3
"""test_web_api.py: collab-web's HTTP API against a real collab-broker and real gateways on
ephemeral ports (docs/WEB.md 7, without a browser): login, board, actions, the broker's
refusals, admin, the event stream with Last-Event-ID, the web controls 18-19-20 weak and
strong as HTTP sees them (cookies and their attributes, Origin and token checks, headers),
the gateway's own limits (rate, body size), static files, the 504 of a broker that does not
answer, and the log line with the user agent. Python 3 standard library only.

usage: test_web_api.py COLLAB_BROKER COLLAB_WEB TEST_CREDENTIALS
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

START_S = 10
PASSWORDS = {"admin": "admin123", "coordinator1": "coord123", "worker1": "worker123",
             "viewer1": "viewer123"}
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def read_line(proc, prefix, deadline):
    """The first stdout line of proc starting with prefix, waiting until deadline."""
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith(prefix):
                return line
    raise RuntimeError("no '%s' line from %s" % (prefix, proc.args[0]))


def stop(proc):
    """SIGTERM, and the exit status (a clean exit is 0, leaks included under ASan)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -1


STARTED = []  # every gateway started, killed at the end whatever happened


class Web:
    """One collab-web process and its HTTP helpers."""

    def __init__(self, exe, tmp, name, broker, creds, args=()):
        self.err_path = os.path.join(tmp, name + ".err")
        self.err = open(self.err_path, "wb")
        cmd = [exe, "--set", "credentials=" + creds, "--broker", broker,
               "--bind", "127.0.0.1:0", "--timeout-ms", "1500"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err)
        STARTED.append(self.proc)
        line = read_line(self.proc, "collab-web: http://", time.monotonic() + START_S)
        hostport = line.split("http://", 1)[1].rstrip("/")
        self.host, port = hostport.split(":")
        self.port = int(port)
        self.origin = "http://" + hostport

    def request(self, method, path, body=None, cookie=None, headers=None, raw=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        h = {"User-Agent": "collab-web-test/1"}
        if cookie:
            h["Cookie"] = cookie
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=raw, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            js = json.loads(data) if data and "json" in resp.getheader("Content-Type", "") else None
        except ValueError:
            js = None
        return resp.status, resp, js, data

    def login(self, agent, password=None, headers=None):
        """(status, cookie 'name=value', Set-Cookie text, json)."""
        st, resp, js, _ = self.request("POST", "/api/login",
                                       {"agent_id": agent, "password": password or PASSWORDS[agent]},
                                       headers=headers)
        sc = resp.getheader("Set-Cookie") or ""
        return st, sc.split(";", 1)[0], sc, js

    def log(self):
        self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")


class Stream:
    """An open GET /api/events: reads events with a deadline."""

    def __init__(self, web, cookie, last_id=None):
        self.conn = http.client.HTTPConnection(web.host, web.port, timeout=8)
        h = {"Cookie": cookie, "Accept": "text/event-stream"}
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", "/api/events", headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        if self.status == 200:
            self.wait_comment("stream open")

    def lines(self):
        while True:
            line = self.resp.readline()
            if not line:
                return
            yield line.decode().rstrip("\n")

    def wait_comment(self, text):
        for line in self.lines():
            if line.startswith(":") and text in line:
                return
        raise RuntimeError("stream ended before '%s'" % text)

    def next_event(self):
        """(id, name, data) of the next event, keep-alives skipped."""
        ev = {}
        for line in self.lines():
            if line == "" and "data" in ev:
                return int(ev["id"]), ev["event"], json.loads(ev["data"])
            if line.startswith(":") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            ev[k] = v.strip()
        raise RuntimeError("stream ended")

    def ends(self):
        """True when the server ends the stream (EOF) within the socket's timeout."""
        try:
            for _ in self.lines():
                pass
            return True
        except (TimeoutError, OSError):
            return False

    def close(self):
        self.conn.close()


def test_login_board_actions(web):
    st, _, _, js = web.login("coordinator1", "wrong-password")
    check(st == 401 and js and js["error"] == "auth_failed", "a bad password is refused 401 auth_failed: %s %s" % (st, js))
    st, cookie, sc, js = web.login("coordinator1")
    check(st == 200 and js == {"agent_id": "coordinator1", "role": "coordinator"}, "login ok: %s %s" % (st, js))
    check(cookie.startswith("tc_session=") and "HttpOnly" not in sc and "SameSite" not in sc,
          "weak web_session: tc_session without HttpOnly/SameSite: " + sc)
    st, _, me, _ = web.request("GET", "/api/me", cookie=cookie)
    check(st == 200 and me["session_id"] == cookie.split("=", 1)[1] and "csrf" not in me,
          "weak: /api/me shows the bus session id, no csrf: %s" % me)
    check(me["controls"]["web_session"] == "weak" and me["controls"]["csrf"] == "weak", "me reports the controls")
    st, _, _, _ = web.request("GET", "/api/me?session=" + me["session_id"])
    check(st == 200, "weak: ?session= is accepted")
    st, _, p, _ = web.request("POST", "/api/projects", {"name": "web project"}, cookie=cookie)
    check(st == 200 and p["name"] == "web project", "create project: %s %s" % (st, p))
    st, _, t, _ = web.request("POST", "/api/tasks", {"project_id": p["project_id"], "worker": "worker1",
                                                     "title": "first task"}, cookie=cookie)
    check(st == 200 and t["status"] == "assigned", "assign task: %s %s" % (st, t))
    st, _, board, _ = web.request("GET", "/api/board", cookie=cookie)
    proj = [x for x in board["projects"] if x["project_id"] == p["project_id"]]
    check(st == 200 and proj and proj[0]["tasks"][0]["title"] == "first task", "the board shows project and task")
    st, _, js, _ = web.request("POST", "/api/tasks", {"project_id": p["project_id"], "worker": "worker1",
                                                      "title": "x", "colour": "red"}, cookie=cookie)
    check(st == 400, "an unknown field is refused: %s %s" % (st, js))
    st, _, js, _ = web.request("POST", "/api/projects", {"name": "x" * 201}, cookie=cookie)
    check(st == 400 and js["error"] == "limit", "a name beyond 200 code points is refused: %s %s" % (st, js))
    st, _, js, _ = web.request("GET", "/api/board")
    check(st == 401 and js["error"] == "session_invalid", "no session: 401")
    return cookie, p["project_id"]


def test_refusal_and_admin(web, coord_cookie):
    st, viewer, _, _ = web.login("viewer1")
    st, _, js, _ = web.request("POST", "/api/projects", {"name": "not mine"}, cookie=viewer)
    check(st == 403 and js["error"] == "forbidden" and js["message"], "the broker's refusal is shown: %s %s" % (st, js))
    st, _, js, _ = web.request("GET", "/api/admin/sessions", cookie=viewer)
    check(st == 403 and js["error"] == "forbidden", "admin routes are the broker's to refuse")
    st, admin, _, _ = web.login("admin")
    st, _, js, raw = web.request("GET", "/api/admin/sessions", cookie=admin)
    check(st == 200 and len(js["sessions"]) >= 3, "admin lists sessions: %s" % st)
    tokens = [c.split("=", 1)[1] for c in (viewer, admin, coord_cookie)]
    check(all(tok.encode() not in raw for tok in tokens), "the session list holds no bearer token")
    check(all(set(s) <= {"handle", "agent_id", "role", "created", "last_activity", "peer_address", "age_s"}
              for s in js["sessions"]), "the session rows hold handles, agents, ages, peers only")
    st, _, stats, _ = web.request("GET", "/api/admin/stats", cookie=admin)
    check(st == 200 and "requests" in stats, "admin stats")
    st, _, me, _ = web.request("GET", "/api/me", cookie=viewer)
    viewer_stream = Stream(web, viewer)
    st, _, js, _ = web.request("POST", "/api/admin/revoke", {"handle": me["handle"]}, cookie=admin)
    check(st == 200 and js["revoked"] == 1, "admin revokes a session: %s %s" % (st, js))
    _, name, data = viewer_stream.next_event()
    check(name == "session_revoked" and data["handle"] == me["handle"], "the revoked page's stream says so: %s" % name)
    check(viewer_stream.ends(), "and then the stream ends")
    viewer_stream.close()
    st, _, js, _ = web.request("GET", "/api/board", cookie=viewer)
    check(st == 401, "the revoked session is refused: %s %s" % (st, js))
    st, _, js, _ = web.request("POST", "/api/admin/revoke", {}, cookie=admin)
    check(st == 400, "revoke needs a handle or an agent id")
    st, _, js, _ = web.request("POST", "/api/admin/role", {"agent_id": "worker1", "role": "worker"}, cookie=admin)
    check(st == 200 and js["role"] == "worker", "admin sets a role: %s %s" % (st, js))
    st, _, js, _ = web.request("GET", "/api/lab/controls", cookie=admin)
    names = [c["name"] for c in js["controls"]]
    check(st == 200 and "web_session" in names and "session_ids" in names, "the controls in force")
    st, _, _, _ = web.request("POST", "/api/logout", cookie=admin)
    st2, _, _, _ = web.request("GET", "/api/me", cookie=admin)
    check(st == 200 and st2 == 401, "logout ends the web session")


def test_events(web, cookie, project_id):
    def assign(title):
        st, _, t, _ = web.request("POST", "/api/tasks", {"project_id": project_id, "worker": "worker1",
                                                         "title": title}, cookie=cookie)
        check(st == 200, "assign for the stream")

    s = Stream(web, cookie)
    check(s.status == 200 and s.resp.getheader("Content-Type") == "text/event-stream", "the stream opens")
    assign("streamed 1")
    first, name, data = s.next_event()
    check(name == "task_assigned" and data["title"] == "streamed 1", "the stream gets a task event: %s %s" % (name, data))
    check(abs(data.get("ts", 0) / 1000 - time.time()) < 60, "an event carries the broker's timestamp, ts: %s" % data.get("ts"))
    s.close()
    assign("missed 2")
    assign("missed 3")
    s2 = Stream(web, cookie, last_id=first)
    got = [s2.next_event() for _ in range(2)]
    check([g[0] for g in got] == [first + 1, first + 2] and [g[2]["title"] for g in got] == ["missed 2", "missed 3"],
          "Last-Event-ID: the missed events, in order, no gap and no repeat: %s" % [(g[0], g[2].get("title")) for g in got])
    assign("live 4")
    nxt = s2.next_event()
    check(nxt[0] == first + 3 and nxt[2]["title"] == "live 4", "then live again, next id: %s" % (nxt,))
    s2.close()
    streams = [Stream(web, cookie) for _ in range(5)]
    check(all(x.status == 200 for x in streams), "new streams open")
    check(streams[0].ends(), "at most 4 streams per web session: the oldest is closed")
    assign("to the four")
    got = [x.next_event()[2]["title"] for x in streams[1:]]
    check(got == ["to the four"] * 4, "each open stream gets the event: %s" % got)
    for x in streams:
        x.close()


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(header, claims, key=None, digest=hashlib.sha256):
    """A JWT: signed with key by HMAC-digest, or unsigned (key None)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = b64(hmac.new(key, head.encode(), digest).digest()) if key is not None else ""
    return head + "." + sig


def bearer(web, token, method="GET", path="/api/me", body=None):
    st, _, js, _ = web.request(method, path, body, headers={"Authorization": "Bearer " + token})
    return st, js


def test_tokens_weak(web, cookie):
    """Control 21 weak: a token for scripts; alg none taken at its word."""
    st, _, js, _ = web.request("POST", "/api/token", cookie=cookie)
    check(st == 200 and js.get("expires_in") == 900 and js["token"].count(".") == 2, "weak: /api/token: %s" % st)
    st, me = bearer(web, js["token"])
    check(st == 200 and me["agent_id"] == "coordinator1", "a bearer token acts with its agent's web session")
    st, err = bearer(web, "not.a.token")
    check(st == 401, "a malformed token is refused: %s %s" % (st, err))
    st, me = bearer(web, forge({"alg": "none", "typ": "JWT"}, {"sub": "coordinator1"}))
    check(st == 200 and me["agent_id"] == "coordinator1", "weak web_token: alg none is accepted (the weakness)")
    st, err = bearer(web, forge({"alg": "HS256", "typ": "JWT"}, {"sub": "coordinator1"}, b"letmein"))
    check(st == 200, "weak web_token: the demo word list's secret signs tokens: %s %s" % (st, err))
    st, err = bearer(web, forge({"alg": "none"}, {"sub": "worker8"}))
    check(st == 401 and err["error"] == "session_invalid", "a token grants no login of its own: %s" % err)


def test_tokens_strong(web, cookie, csrf, key):
    """Control 21 strong: the key file's HS256 only, exp enforced, alg none refused."""
    now = int(time.time())
    st, _, js, _ = web.request("POST", "/api/token", cookie=cookie,
                               headers={"Origin": web.origin, "X-CSRF-Token": csrf})
    check(st == 200, "strong: /api/token: %s %s" % (st, js))
    token = js["token"]
    st, me = bearer(web, token)
    check(st == 200 and me["agent_id"] == "coordinator1", "strong: the gateway's token is accepted")
    cases = (
        ("alg none", forge({"alg": "none"}, {"sub": "coordinator1", "exp": now + 60}), "alg_none"),
        ("expired", forge({"alg": "HS256", "typ": "JWT"}, {"sub": "coordinator1", "exp": now - 60}, key), "expired"),
        ("no exp", forge({"alg": "HS256", "typ": "JWT"}, {"sub": "coordinator1"}, key), "no_exp"),
        ("HS512", forge({"alg": "HS512", "typ": "JWT"}, {"sub": "coordinator1", "exp": now + 60}, key,
                        hashlib.sha512), "bad_alg"),
        ("wrong key", forge({"alg": "HS256", "typ": "JWT"}, {"sub": "coordinator1", "exp": now + 60},
                            b"letmein"), "bad_signature"),
    )
    for what, tok, name in cases:
        st, err = bearer(web, tok)
        check(st == 401 and err["error"] == name, "strong web_token refuses %s: %s %s" % (what, st, err))
    st, js = bearer(web, token, "POST", "/api/projects", {"name": "by a script"})
    check(st == 200 and js["name"] == "by a script", "a bearer request needs no CSRF token (no browser adds it)")


def test_strong(exe, tmp, broker, creds):
    key = os.urandom(32)
    key_path = os.path.join(tmp, "web-token.key")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key.hex().encode() + b"\n")
    os.close(fd)
    # the web controls strong; the bus stays plaintext, as this test's stage2 broker is (under
    # transport = strong the gateway would speak CURVE: test_web_attacks runs that)
    web = Web(exe, tmp, "strong", broker, creds, ["--profile", "hardened", "--set", "transport=weak",
                                                  "--set", "web.token_key_file=" + key_path])
    st, _, _, js = web.login("coordinator1")
    check(st == 403 and js["error"] == "csrf", "strong csrf: a login without Origin is refused")
    st, cookie, sc, js = web.login("coordinator1", headers={"Origin": web.origin})
    check(st == 200 and cookie.startswith("__Host-tc=") and len(cookie.split("=", 1)[1]) == 64,
          "strong web_session: a random __Host-tc id: %s" % cookie)
    for attr in ("Secure", "Path=/", "HttpOnly", "SameSite=Strict"):
        check(attr in sc, "strong cookie has " + attr)
    st, resp, me, _ = web.request("GET", "/api/me", cookie=cookie)
    check(st == 200 and "session_id" not in me and len(me.get("csrf", "")) == 64, "strong: csrf token, no session id: %s" % me)
    check(resp.getheader("Referrer-Policy") == "no-referrer", "strong: Referrer-Policy: no-referrer")
    st, resp, _, _ = web.request("GET", "/")
    csp = resp.getheader("Content-Security-Policy") or ""
    check("script-src 'self'" in csp and "frame-ancestors 'none'" in csp, "strong web_output: CSP on pages: " + csp)
    st, _, _, _ = web.request("GET", "/api/me?session=" + cookie.split("=", 1)[1])
    check(st == 401, "strong: never a session from the URL")
    body = {"name": "strong project"}
    st, _, js, _ = web.request("POST", "/api/projects", body, cookie=cookie, headers={"Origin": web.origin})
    check(st == 403 and js["error"] == "csrf", "strong csrf: no token, refused")
    tok = {"X-CSRF-Token": me["csrf"]}
    st, _, js, _ = web.request("POST", "/api/projects", body, cookie=cookie,
                               headers=dict(tok, Origin="http://127.0.0.1:1"))
    check(st == 403, "strong csrf: a token from another origin is refused")
    st, _, js, _ = web.request("POST", "/api/projects", body, cookie=cookie, headers=tok)
    check(st == 403, "strong csrf: a token without Origin is refused")
    st, _, js, _ = web.request("POST", "/api/projects", body, cookie=cookie, headers=dict(tok, Origin=web.origin))
    check(st == 200 and js["name"] == "strong project", "strong csrf: token and Origin accepted: %s %s" % (st, js))
    test_tokens_strong(web, cookie, me["csrf"], key)
    check(stop(web.proc) == 0, "the strong gateway exits 0")


def test_weak_csrf_and_headers(web, cookie):
    st, resp, js, _ = web.request("POST", "/api/projects", {"name": "from anywhere"}, cookie=cookie,
                                  headers={"Origin": "http://evil.example:666"})
    check(st == 200, "weak csrf: any origin, no token, accepted")
    check(resp.getheader("Referrer-Policy") is None, "weak: no Referrer-Policy")
    st, resp, _, _ = web.request("GET", "/")
    check(resp.getheader("Content-Security-Policy") is None, "weak web_output: no CSP")


def test_static_and_limits(web, tmp):
    st, resp, _, data = web.request("GET", "/")
    check(st == 200 and resp.getheader("Content-Type").startswith("text/html") and b"<html" in data,
          "the index page is served as text/html")
    st, _, _, _ = web.request("GET", "/index.html")
    check(st == 200, "/index.html")
    for bad in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.hidden", "/a//b", "/a\\..\\b"):
        st, _, _, data = web.request("GET", bad)
        check(st in (400, 404) and b"root:" not in data, "traversal refused: %s -> %s" % (bad, st))
    st, _, _, _ = web.request("GET", "/" + "/".join(["abcdefgh"] * 40))
    check(st == 400, "a path beyond 256 bytes is refused, not cut short: %s" % st)
    st, _, _, _ = web.request("GET", "/no-such-file.js")
    check(st == 404, "a missing file is 404")
    st, _, js, _ = web.request("POST", "/api/login", raw=b"{" + b" " * 20000 + b"}")
    check(st == 413, "a body beyond 16 KiB is refused 413: %s" % st)
    st, _, js, _ = web.request("POST", "/api/login", raw=b"not json")
    check(st == 400, "a body that is not JSON is refused 400")
    st, _, _, _ = web.request("GET", "/api/nothing")
    check(st == 404, "an unknown API route is 404")
    st, _, _, _ = web.request("DELETE", "/api/me")
    check(st == 405, "a wrong method is 405")


def test_static_dir(exe, tmp, broker, creds):
    """--static: only regular files under the folder, with their types; no link out of it."""
    d = os.path.join(tmp, "static")
    os.makedirs(os.path.join(d, "js"))
    with open(os.path.join(d, "js", "app.js"), "w") as f:
        f.write("export const x = 1;\n")
    with open(os.path.join(tmp, "secret.txt"), "w") as f:
        f.write("outside the folder\n")
    os.symlink(os.path.join(tmp, "secret.txt"), os.path.join(d, "leak.txt"))
    os.symlink(tmp, os.path.join(d, "up"))
    web = Web(exe, tmp, "static", broker, creds, ["--static", d, "--set", "web.max_streams=1"])
    st, resp, _, data = web.request("GET", "/js/app.js")
    check(st == 200 and resp.getheader("Content-Type").startswith("text/javascript") and b"export" in data,
          "a module is served as text/javascript")
    for path in ("/leak.txt", "/up/secret.txt", "/js", "/"):
        st, _, _, data = web.request("GET", path)
        check(st == 404 and b"outside" not in data, "no file out of the folder, no directory: %s -> %s" % (path, st))
    st, cookie, _, _ = web.login("coordinator1")
    one = Stream(web, cookie)
    two = Stream(web, cookie)
    check(one.status == 200 and two.status == 429, "web.max_streams in all: %s %s" % (one.status, two.status))
    one.close()
    two.close()
    check(stop(web.proc) == 0, "the static gateway exits 0")


def test_rate(exe, tmp, broker, creds):
    web = Web(exe, tmp, "rate", broker, creds, ["--set", "web.rate_burst=3", "--set", "web.rate_per_s=1"])
    codes = [web.request("GET", "/")[0] for _ in range(5)]
    st, resp, js, _ = web.request("GET", "/")
    check(codes[:3] == [200, 200, 200] and st == 429 and js["error"] == "rate_limited", "the per-address bucket: %s %s" % (codes, st))
    check(resp.getheader("Retry-After") == "1", "429 says Retry-After (1 s at 1 a second): %s" % resp.getheader("Retry-After"))
    check(stop(web.proc) == 0, "the rate gateway exits 0")


def test_logins_bounded(exe, tmp, broker, creds):
    web = Web(exe, tmp, "logins", broker, creds)
    good = [web.login("worker1")[0] for _ in range(12)]
    check(good == [200] * 12, "good logins from one address are not bounded by the failures' bound: %s" % good)
    codes = [web.login("worker1", "bad-password")[0] for _ in range(12)]
    check(codes[:10] == [401] * 10 and codes[-1] == 429, "login attempts per address are bounded: %s" % codes)
    st, resp, js, _ = web.request("POST", "/api/login", {"agent_id": "worker1", "password": "worker123"})
    check(st == 429 and 1 <= int(resp.getheader("Retry-After")) <= 5, "a good password waits too, up to 5 s: %s" % resp.getheader("Retry-After"))
    check(stop(web.proc) == 0, "the login gateway exits 0")


def test_timeout(web, broker_proc, cookie):
    broker_proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        st, _, js, _ = web.request("GET", "/api/me", cookie=cookie)
        took = time.monotonic() - t0
    finally:
        broker_proc.send_signal(signal.SIGCONT)
    check(st == 504 and js["error"] == "timeout" and 1.4 <= took < 3, "no reply in time: 504 timeout (%s %s %.1fs)" % (st, js, took))


def test_command_line(exe, creds):
    """Usage errors exit 2 before anything starts; a credentials file that cannot be read, 1."""
    def run(*args):
        p = subprocess.run([exe] + list(args), capture_output=True, timeout=20)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    rc, out = run("--help")
    check(rc == 0 and out.startswith("usage: collab-web"), "--help")
    for args, needle in ((["--bind", "localhost"], "--bind"), (["--bind", "127.0.0.1:70000"], "--bind"),
                         (["--timeout-ms", "0"], "--timeout-ms"), (["--profile", "soft"], "--profile"),
                         (["--set", "web.rate_burst=0"], "web.rate_burst"), (["stray"], "unexpected")):
        rc, out = run(*args)
        check(rc == 2 and needle in out, "usage error %s: %s %s" % (args, rc, out.strip()))
    rc, out = run("--set", "credentials=/nonexistent/creds.json", "--bind", "127.0.0.1:0")
    check(rc == 1 and "/nonexistent/creds.json" in out, "no credentials file: exit 1 saying which: %s %s" % (rc, out.strip()))


def main():
    broker_exe, web_exe, creds = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="collab-web-test-")
    broker = web = None
    try:
        broker = subprocess.Popen([broker_exe, "--bind", "tcp://127.0.0.1:*", "--state", tmp + "/state.db",
                                   "--credentials", creds, "--security-log", tmp + "/security.log",
                                   "--log-level", "warning"], stdout=subprocess.PIPE,
                                  stderr=open(tmp + "/broker.err", "wb"))
        endpoint = read_line(broker, "listening ", time.monotonic() + START_S).split(" ", 1)[1].strip()
        test_command_line(web_exe, creds)
        web = Web(web_exe, tmp, "weak", endpoint, creds, ["--set", "web.rate_burst=1000"])
        cookie, project = test_login_board_actions(web)
        test_refusal_and_admin(web, cookie)
        test_events(web, cookie, project)
        test_weak_csrf_and_headers(web, cookie)
        test_tokens_weak(web, cookie)
        test_static_and_limits(web, tmp)
        test_strong(web_exe, tmp, endpoint, creds)
        test_static_dir(web_exe, tmp, endpoint, creds)
        test_rate(web_exe, tmp, endpoint, creds)
        test_logins_bounded(web_exe, tmp, endpoint, creds)
        st, admin, _, _ = web.login("admin")
        st, _, js, _ = web.request("GET", "/api/admin/sessions", cookie=admin)
        left = [x for x in js["sessions"] if x["agent_id"] == "worker1"]
        check(st == 200 and not left, "a stopped gateway logged its 12 bus sessions out: %d left" % len(left))
        test_timeout(web, broker, cookie)
        web.request("GET", "/api/me", cookie=cookie, headers={"User-Agent": "Mozilla/5.0 HeadlessChrome/120.0 test"})
        check(stop(web.proc) == 0, "the gateway exits 0 on SIGTERM")
        log = web.log()  # complete once the gateway has exited
        check('GET /api/me 200' in log and '"Mozilla/5.0 HeadlessChrome/120.0 test"' in log,
              "the log line shows the user agent")
        check("coord123" not in log and cookie.split("=", 1)[1] not in log,
              "the log never shows a password or a session id")
        check(stop(broker) == 0, "the broker exits 0")
    finally:
        for p in STARTED + [broker]:
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if failures and os.environ.get("KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
