#!/usr/bin/python3
"""test_web_bus.py: collab-web's bus clients against real brokers on ephemeral ports
(docs/WEB.md 1, 2 and 8), Python 3's standard library only:

- CURVE (control 12): a hardened broker (a CURVE server with ZAP against the sample
  clients/ folder, its key files in a temporary folder, as collab-attack's cells start it)
  and collab-web under the same profile, on its TEST-ONLY `web` pair by default: login,
  board, a project created, its event on the stream; the same gateway told to speak
  plaintext logs nobody in; one CURVE option without the other is a usage error.
- Failover: two brokers sharing a private redis-server (docs/DISTRIBUTED.md) and
  collab-web --broker A,B. A frozen (SIGSTOP): a write times out with 504 and is not sent
  again (B's board lacks it); a read that A leaves unanswered is sent again on B and
  succeeds. Then A killed with
  -9: another web session, on A, moves at once (its connection's loss, not a timeout),
  without a new login; a read succeeds; its event stream receives the event pushed to A
  while A was frozen (replayed by B: the subscription renewed `since` its last event) and
  the events caused afterwards, in order, with no gap.

usage: test_web_bus.py COLLAB_BROKER COLLAB_WEB SAMPLE_DATA
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_web_api as api  # noqa: E402  (its helpers: Web, Stream, check, read_line, stop)
from test_web_api import Stream, check, read_line, stop  # noqa: E402

START_S = 10


class Web(api.Web):
    """collab-web with its standard error read by a thread, so that a test can wait for a
    line (the log of a move) instead of polling a file."""

    def __init__(self, exe, name, broker, creds, args=()):
        cmd = [exe, "--set", "credentials=" + creds, "--broker", broker, "--bind", "127.0.0.1:0",
               "--timeout-ms", "1500", "--set", "web.rate_burst=1000"] + list(args)
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read_err, daemon=True)
        self.reader.start()
        try:
            line = read_line(self.proc, "collab-web: http://", time.monotonic() + START_S)
        except RuntimeError:
            self.proc.kill()  # not left running when it did not come up
            self.proc.wait()
            raise
        hostport = line.split("http://", 1)[1].rstrip("/")
        self.host, port = hostport.split(":")
        self.port = int(port)
        self.origin = "http://" + hostport
        self.name = name

    def _read_err(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()

    def wait_log(self, needle, timeout_s):
        """The first log line holding needle, waiting up to timeout_s; None if none came."""
        end = time.monotonic() + timeout_s
        with self.cond:
            while True:
                hit = [x for x in self.lines if needle in x]
                if hit:
                    return hit[0]
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def log(self):
        with self.cond:
            return "\n".join(self.lines)


def start_broker(exe, tmp, name, creds, args):
    """A broker on an ephemeral port: (process, endpoint)."""
    cmd = [exe, "--bind", "tcp://127.0.0.1:*", "--state", os.path.join(tmp, name + ".db"),
           "--credentials", creds, "--security-log", os.path.join(tmp, name + ".seclog"),
           "--log-level", "warning"] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=open(os.path.join(tmp, name + ".err"), "wb"))
    try:
        line = read_line(proc, "listening ", time.monotonic() + START_S)
    except RuntimeError:
        proc.kill()  # not left running when it did not come up
        proc.wait()
        raise
    return proc, line.split(" ", 1)[1].strip()


def start_redis(tmp):
    """A private redis-server on a unix socket of mode 0700 (as tools/common/redisproc does):
    (process, url). A missing redis-server fails the test, naming scripts/deps."""
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(exe):
        raise RuntimeError("redis-server is missing: scripts/deps installs it")
    d = os.path.join(tmp, "redis")
    os.mkdir(d, 0o700)
    sock = os.path.join(d, "redis.sock")
    conf = os.path.join(d, "redis.conf")
    with open(conf, "w") as f:
        f.write("port 0\nunixsocket %s\nunixsocketperm 700\ndir %s\nappendonly yes\n"
                "appendfsync always\nsave \"\"\nmaxmemory 64mb\nmaxmemory-policy noeviction\n"
                "daemonize no\nlogfile \"\"\n" % (sock, d))
    proc = subprocess.Popen([exe, conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, time.monotonic() + START_S)
    except RuntimeError:
        proc.kill()  # not left running when it did not come up
        proc.wait()
        raise
    return proc, "unix://" + sock


def wait_ready(proc, deadline):
    """Waits for redis-server's 'Ready' line, then drains its log in a thread."""
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if b"ready to accept connections" in buf.lower():
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return
    raise RuntimeError("redis-server did not start: %s" % buf.decode(errors="replace")[-2000:])


def hardened_args(tmp, sample):
    """The hardened profile with every key file in tmp and the sample data's TEST-ONLY CURVE
    keys (tools/attack/matrix.c start_broker)."""
    return ["--profile", "hardened",
            "--set", "state_at_rest.key_file=" + os.path.join(tmp, "state.key"),
            "--set", "audit.key_file=" + os.path.join(tmp, "audit.key"),
            "--set", "transport.server_cert=" + os.path.join(sample, "curve", "broker.cert"),
            "--set", "transport.clients_dir=" + os.path.join(sample, "curve", "clients")]


def csrf_of(web, cookie):
    st, _, me, _ = web.request("GET", "/api/me", cookie=cookie)
    return me.get("csrf", "") if st == 200 and me else ""


def test_curve(broker_exe, web_exe, sample, tmp, creds):
    broker = web = plain = None
    try:
        broker, endpoint = start_broker(broker_exe, tmp, "hardened", creds, hardened_args(tmp, sample))
        cert = os.path.join(sample, "curve", "broker.cert")
        # the gateway takes the broker's own configuration: the same profile and keys
        web = Web(web_exe, "curve", endpoint, creds,
                  ["--profile", "hardened", "--set", "transport.server_cert=" + cert])
        check(web.wait_log("TEST-ONLY key pair", 5) is not None,
              "the default CURVE pair is named TEST-ONLY in a warning: %s" % web.log())
        hdr = {"Origin": web.origin}
        st, cookie, _, js = web.login("coordinator1", headers=hdr)
        check(st == 200 and js["role"] == "coordinator", "hardened: login over CURVE: %s %s" % (st, js))
        hdr["X-CSRF-Token"] = csrf_of(web, cookie)
        st, _, board, _ = web.request("GET", "/api/board", cookie=cookie)
        check(st == 200 and "projects" in board, "hardened: the board over CURVE: %s" % st)
        s = Stream(web, cookie)
        check(s.status == 200, "hardened: the event stream opens")
        st, _, p, _ = web.request("POST", "/api/projects", {"name": "over curve"}, cookie=cookie, headers=hdr)
        check(st == 200 and p["name"] == "over curve", "hardened: a project created: %s %s" % (st, p))
        _, name, data = s.next_event()
        check(name == "project_created" and data.get("project_id") == p.get("project_id"),
              "hardened: its event on the stream: %s %s" % (name, data))
        s.close()
        with open(os.path.join(tmp, "hardened.seclog"), errors="replace") as f:
            check('"transport":"curve"' in f.read(), "the broker saw the gateway's CURVE connection")
        # the same gateway told to speak plaintext gets no connection: nobody logs in
        plain = Web(web_exe, "plain", endpoint, creds,
                    ["--profile", "hardened", "--set", "transport=weak"])
        st, _, _, js = plain.login("coordinator1", headers={"Origin": plain.origin})
        check(st in (502, 504), "a plaintext gateway cannot log in to a CURVE broker: %s %s" % (st, js))
        check(stop(plain.proc) == 0 and stop(web.proc) == 0, "the gateways exit 0")
        check(stop(broker) == 0, "the hardened broker exits 0")
    finally:
        for p in (plain.proc if plain else None, web.proc if web else None, broker):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    # one CURVE option without the other: a usage error, before anything starts
    p = subprocess.run([web_exe, "--curve-cert", os.path.join(sample, "curve", "web.cert_secret"),
                        "--bind", "127.0.0.1:0"], capture_output=True, timeout=20)
    check(p.returncode == 2 and b"both" in p.stderr, "--curve-cert alone: exit 2: %s" % p.stderr)
    env = dict(os.environ, COLLAB_CURVE_SERVER="not-a-key", COLLAB_CURVE_CERT="/nonexistent/x")
    p = subprocess.run([web_exe, "--set", "credentials=" + creds, "--bind", "127.0.0.1:0"],
                       capture_output=True, timeout=20, env=env)
    check(p.returncode == 1 and b"not-a-key" in p.stderr,
          "COLLAB_CURVE_SERVER is read, a bad key refused at start: %s %s" % (p.returncode, p.stderr))


def test_failover(broker_exe, web_exe, tmp, creds):
    redis = a = b = web = None
    try:
        redis, url = start_redis(tmp)
        a, ep_a = start_broker(broker_exe, tmp, "a", creds, ["--store", url, "--node", "a"])
        b, ep_b = start_broker(broker_exe, tmp, "b", creds, ["--store", url, "--node", "b"])
        web = Web(web_exe, "cluster", ep_a + "," + ep_b, creds)
        st, writer, _, _ = web.login("coordinator1")  # its bus client on A, the first
        st2, keeper, _, _ = web.login("coordinator1")
        st3, reader, _, _ = web.login("admin")
        check(st == 200 and st2 == 200 and st3 == 200,
              "three web sessions logged in through A: %s %s %s" % (st, st2, st3))
        st, _, me, _ = web.request("GET", "/api/me", cookie=keeper)
        bus_session = me.get("session_id") if me else None
        stream = Stream(web, keeper)
        check(stream.status == 200, "the keeper's stream opens")
        st, _, p, _ = web.request("POST", "/api/projects", {"name": "cluster board"}, cookie=writer)
        check(st == 200, "a project created on A: %s %s" % (st, p))
        first, name, _ = stream.next_event()
        check(name == "project_created", "its event on the stream: %s" % name)

        # A frozen: the write's reply cannot come; it times out and is not sent to B
        a.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        st, _, js, _ = web.request("POST", "/api/tasks", {"project_id": p["project_id"], "worker": "worker1",
                                                         "title": "lost write"}, cookie=writer)
        took = time.monotonic() - t0
        check(st == 504 and js["error"] == "timeout" and "read the board" in js["message"] and 1.4 <= took < 3,
              "a write to a frozen broker: 504 saying to read the board (%s %s %.1fs)" % (st, js, took))
        check(web.wait_log("moved to " + ep_b + " (a request timed out)", 5) is not None,
              "the writer's client moved to B on the timeout: %s" % web.log())
        st, _, board, _ = web.request("GET", "/api/board", cookie=writer)
        proj = [x for x in (board or {}).get("projects", []) if x["project_id"] == p["project_id"]]
        check(st == 200 and proj and not proj[0].get("tasks"),
              "the board from B, without the write that timed out (never sent again): %s %s" % (st, proj))

        # a read that A does not answer is sent again on B: 200 after one timeout
        t0 = time.monotonic()
        st, _, board, _ = web.request("GET", "/api/board", cookie=reader)
        took = time.monotonic() - t0
        check(st == 200 and any(x["project_id"] == p["project_id"] for x in board["projects"]) and 1.4 <= took < 4,
              "a read to a frozen broker is sent again on B (%s %.1fs)" % (st, took))
        check(web.wait_log("admin's bus client moved to " + ep_b + " (a request timed out)", 5) is not None,
              "the reader's client moved to B on the timeout: %s" % web.log())

        # an event while the keeper's connection is still on A (frozen): pushed there, lost
        # with A; the keeper's renewed subscription (`since` its last event) replays it
        st, _, p2, _ = web.request("POST", "/api/projects", {"name": "while A is frozen"}, cookie=writer)
        check(st == 200, "a project created on B while A is frozen: %s %s" % (st, p2))

        # A killed -9: the keeper's client, on A and idle, moves at once, no new login
        a.kill()
        a.wait()
        check(web.wait_log("moved to " + ep_b + " (connection lost)", 5) is not None,
              "the keeper's client moved to B when A's connection closed: %s" % web.log())
        t0 = time.monotonic()
        st, _, board, _ = web.request("GET", "/api/board", cookie=keeper)
        took = time.monotonic() - t0
        check(st == 200 and any(x["project_id"] == p["project_id"] for x in board["projects"]) and took < 1.4,
              "a read after A died: from B, without waiting for a timeout (%s %.2fs)" % (st, took))
        st, _, me, _ = web.request("GET", "/api/me", cookie=keeper)
        check(st == 200 and me.get("session_id") == bus_session,
              "the same bus session on B: no new login (%s)" % (me or {}).get("session_id"))
        titles = ["after 1", "after 2", "after 3"]
        for t in titles:
            st, _, js, _ = web.request("POST", "/api/tasks", {"project_id": p["project_id"], "worker": "worker1",
                                                              "title": t}, cookie=keeper)
            check(st == 200, "a write on B: %s %s" % (st, js))
        got = [stream.next_event() for _ in range(1 + len(titles))]
        want = [(first + 1 + i, x) for i, x in enumerate(["while A is frozen"] + titles)]
        seen = [(g[0], g[2].get("title", g[2].get("name"))) for g in got]
        check(seen == want, "the stream goes on from B: the event A never delivered, then the new ones, "
              "in order, no gap, no repeat: %s" % seen)
        stream.close()
        check(stop(web.proc) == 0, "the gateway exits 0")
        check(stop(b) == 0, "broker B exits 0")
    finally:
        for proc in (web.proc if web else None, a, b, redis):
            if proc and proc.poll() is None:
                if proc is a:
                    proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()


def main():
    broker_exe, web_exe, sample = sys.argv[1:4]
    creds = os.path.join(sample, "test_credentials.json")
    tmp = tempfile.mkdtemp(prefix="collab-web-bus-")
    try:
        test_curve(broker_exe, web_exe, sample, tmp, creds)
        test_failover(broker_exe, web_exe, tmp, creds)
    finally:
        if api.failures and os.environ.get("KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (api.checks, len(api.failures)))
    return 1 if api.failures else 0


if __name__ == "__main__":
    sys.exit(main())
