#!/usr/bin/python3
"""test_web_lab.py: collab-web's lab routes (docs/WEB.md 3-4) against a real collab-broker
and real gateways on ephemeral ports, Python 3 standard library only:
- GET /api/lab/matrix equals, cell by cell, the expected matrix of `collab-attack matrix
  --json` (run with a broker that cannot start, so that it prints every cell's expectation
  without running an attack);
- POST /api/lab/run: 403 for a non-admin, 403 without the CSRF token or the exact Origin
  even under weak csrf, 400 for an unknown attack and for a row the gateway cannot run,
  and one real attack whose streamed verdict equals the command line's for the same attack
  and broker; with a stand-in collab-attack that never ends (--attack-bin): 409 while it
  runs, its lines streamed, then killed at web.lab_timeout_s with verdict ERROR (timeout);
- GET /api/lab/bus: 404 no_capture without web.capture; as root with web.capture = 1, a
  `bus` event of collab-sniff after a login, and the sniffer stopped once its viewer left.

usage: test_web_lab.py COLLAB_BROKER COLLAB_WEB COLLAB_ATTACK COLLAB_SNIFF SAMPLE_DATA
"""
import http.client
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

START_S = 10
# needs only --broker and starts its own victim with collab-attack's default (demo) files:
# under stage2 it reads the victim's password off the wire, a verdict that does not depend
# on timing (collab-sniff needs root; without it, enumerate-agents, which only logs in)
RUN_ATTACK = "sniff" if os.geteuid() == 0 else "enumerate-agents"
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -1


class Lines:
    """A pipe's lines, read by a thread, waited for with a deadline."""

    def __init__(self, pipe):
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            self.q.put(raw.decode(errors="replace").rstrip("\n"))
        self.q.put(None)

    def wait(self, text, timeout=START_S):
        """The first line holding text (earlier ones are kept in seen), else None."""
        for line in self.seen:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.q.get(timeout=max(left, 0.001))
            except queue.Empty:
                return None
            if line is None:
                self.q.put(None)
                return None
            self.seen.append(line)
            if text in line:
                return line


class Web:
    """One collab-web: its stdout gives its URL, its stderr is kept as lines."""

    def __init__(self, exe, broker, creds, args=()):
        cmd = [exe, "--set", "credentials=" + creds, "--broker", broker, "--bind", "127.0.0.1:0",
               "--set", "web.rate_burst=1000"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = Lines(self.proc.stdout), Lines(self.proc.stderr)
        line = self.out.wait("collab-web: http://")
        if not line:
            raise RuntimeError("collab-web did not start")
        hostport = line.split("http://", 1)[1].rstrip("/")
        self.host, port = hostport.split(":")
        self.port = int(port)
        self.origin = "http://" + hostport

    def request(self, method, path, body=None, cookie=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        h = {"User-Agent": "collab-web-lab-test/1"}
        if cookie:
            h["Cookie"] = cookie
        raw = json.dumps(body).encode() if body is not None else None
        if raw is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=raw, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            js = json.loads(data) if data else None
        except ValueError:
            js = None
        return resp.status, js

    def login(self, agent, password):
        """(cookie 'name=value', csrf token or '') of a new web session."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        conn.request("POST", "/api/login", body=json.dumps({"agent_id": agent, "password": password}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
        conn.close()
        st, me = self.request("GET", "/api/me", cookie=cookie)
        if resp.status != 200 or st != 200:
            raise RuntimeError("login of %s failed: %s %s" % (agent, resp.status, st))
        return cookie, me.get("csrf", "")

    def run(self, cookie, csrf, attack, origin=True):
        h = {WEB_CSRF: csrf} if csrf else {}
        if origin:
            h["Origin"] = self.origin
        return self.request("POST", "/api/lab/run", {"attack": attack}, cookie=cookie, headers=h)


WEB_CSRF = "X-CSRF-Token"


class Stream:
    """An open SSE stream of the lab (GET path): its events with a deadline."""

    def __init__(self, web, path, cookie, timeout=10):
        self.conn = http.client.HTTPConnection(web.host, web.port, timeout=timeout)
        self.conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.body = None if self.status == 200 else self.resp.read()

    def events(self):
        """(name, data) until the stream ends."""
        ev = {}
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line == "" and "data" in ev:
                yield ev.get("event", "message"), json.loads(ev["data"])
                ev = {}
            elif not line.startswith(":") and ":" in line:
                k, v = line.split(":", 1)
                ev[k] = v.strip()

    def close(self):
        self.conn.close()


def cli_verdict(attack_exe, attack, broker):
    p = subprocess.run([attack_exe, attack, "--json", "--broker", broker], capture_output=True,
                       timeout=120)
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def test_matrix(web, attack_exe, sample_data, tmp, cookie):
    st, _ = web.request("GET", "/api/lab/matrix")
    check(st == 401, "the matrix needs a web session: %s" % st)
    st, mx = web.request("GET", "/api/lab/matrix", cookie=cookie)
    check(st == 200 and mx and mx.get("columns") and mx.get("attacks"), "matrix: %s %s" % (st, str(mx)[:200]))
    if st != 200:
        return
    p = subprocess.run([attack_exe, "matrix", "--json", "--sample-data", sample_data, "--broker-exe",
                        os.path.join(tmp, "no-broker"), "-j", "2"], capture_output=True, timeout=120)
    cells = json.loads(p.stdout)["cells"]
    cols = []
    for c in cells:
        if c["config"] not in cols:
            cols.append(c["config"])
    check(mx["columns"] == cols, "the columns are collab-attack matrix's: %s vs %s" % (mx["columns"], cols))
    check("stage2+replay+replay_scope" in mx["columns"], "replay_scope's column name")
    rows = {a["attack"]: a for a in mx["attacks"]}
    check(list(rows) == list(dict.fromkeys(c["attack"] for c in cells)), "the same rows, in order")
    bad = []
    for c in cells:
        want = "-" if c["expected"] == "not applicable" else c["expected"]
        got = rows.get(c["attack"], {}).get("expected", {}).get(c["config"])
        if got != want:
            bad.append((c["attack"], c["config"], got, want))
    check(len(cells) >= 22 * 23 and not bad, "every cell as collab-attack matrix expects it: %d cells, %s"
          % (len(cells), bad[:5]))
    web_row = next(a for a in mx["attacks"] if a["attack"] == "web-csrf")
    check(web_row["expected"]["transport"] == "-" and web_row["expected"]["csrf"] == "BLOCKED",
          "a web row: no bus column, its web column: %s" % web_row["expected"])
    check(rows["store-snoop"]["runnable"] is False and rows[RUN_ATTACK]["runnable"] is True,
          "runnable: a cluster row is not, %s is" % RUN_ATTACK)
    check(all(isinstance(a.get("control"), str) and "attacker_holds" in a for a in mx["attacks"]),
          "each row has its control and what the attacker holds")


def test_run(web, attack_exe, broker, admin, csrf, worker, worker_csrf):
    check(len(csrf) == 64, "an admin's /api/me gives the CSRF token even under weak csrf")
    check(worker_csrf == "", "a non-admin's /api/me gives none under weak csrf")
    st, js = web.run(worker, worker_csrf, RUN_ATTACK)
    check(st == 403 and js["error"] == "forbidden", "a non-admin may not run: %s %s" % (st, js))
    st, js = web.run(admin, "", RUN_ATTACK)
    check(st == 403 and js["error"] == "csrf", "no token, weak csrf: 403 csrf: %s %s" % (st, js))
    st, js = web.run(admin, csrf, RUN_ATTACK, origin=False)
    check(st == 403 and js["error"] == "csrf", "no Origin: 403 csrf: %s %s" % (st, js))
    st, js = web.request("POST", "/api/lab/run", {"attack": RUN_ATTACK}, cookie=admin,
                         headers={WEB_CSRF: csrf, "Origin": "http://127.0.0.1:1"})
    check(st == 403 and js["error"] == "csrf", "another Origin: 403 csrf: %s %s" % (st, js))
    st, js = web.run(admin, csrf, "no-such-attack")
    check(st == 400 and js["error"] == "unknown_attack", "an unknown attack: 400: %s %s" % (st, js))
    for row in ("store-snoop", "cover-tracks", "weak-role"):
        st, js = web.run(admin, csrf, row)
        check(st == 400 and js["error"] == "not_runnable" and js["message"].startswith(row),
              "%s is refused with why: %s %s" % (row, st, js))
    s = Stream(web, "/api/lab/run", admin)
    evs = list(s.events())
    check(s.status == 200 and evs and evs[-1][0] == "done" and evs[-1][1]["attack"] is None,
          "before any run the stream says so and ends: %s" % evs)
    st, _ = web.request("GET", "/api/lab/run", cookie=worker)
    check(st == 403, "a non-admin may not watch a run: %s" % st)

    want = cli_verdict(attack_exe, RUN_ATTACK, broker)
    st, js = web.run(admin, csrf, RUN_ATTACK)
    check(st == 202 and js["attack"] == RUN_ATTACK, "the run starts: %s %s" % (st, js))
    s = Stream(web, "/api/lab/run", admin, timeout=90)
    evs = list(s.events())
    names = [n for n, _ in evs]
    verdicts = [d for n, d in evs if n == "verdict"]
    check(names.count("line") >= 2 and names[-1] == "done" and len(verdicts) == 1,
          "lines, one verdict, done: %s" % names)
    check(evs and evs[0][1]["line"].startswith("$ collab-attack %s --json --broker %s" % (RUN_ATTACK, broker)),
          "the first line is the command, with the gateway's own broker: %s" % (evs[:1],))
    if verdicts:
        v = verdicts[0]
        check(v["verdict"] == want["verdict"] and v["verdict"] in ("SUCCEEDED", "BLOCKED")
              and "evidence" in v and "decided_by" in v,
              "the streamed verdict is the command line's: %s vs %s" % (v, want))
    s2 = Stream(web, "/api/lab/run", admin)
    again = [n for n, _ in s2.events()]
    check(again == names, "a late viewer sees the whole last run: %s" % again)


def test_stub(web_exe, broker, creds, tmp):
    """A collab-attack that never ends: 409 while it runs, killed at the timeout."""
    stub = os.path.join(tmp, "stub-attack")
    with open(stub, "w") as f:
        f.write("#!/bin/sh\necho \"stub $1 started\" >&2\nexec tail -f /dev/null\n")
    os.chmod(stub, 0o755)
    web = Web(web_exe, broker, creds, ["--attack-bin", stub, "--set", "web.lab_timeout_s=2"])
    try:
        admin, csrf = web.login("admin", "admin123")
        st, _ = web.run(admin, csrf, RUN_ATTACK)
        check(st == 202, "the stand-in starts: %s" % st)
        st, js = web.run(admin, csrf, "replay")
        check(st == 409 and js["error"] == "busy", "a second run while one runs: 409 busy: %s %s" % (st, js))
        t0 = time.monotonic()
        s = Stream(web, "/api/lab/run", admin, timeout=30)
        evs = list(s.events())
        took = time.monotonic() - t0
        lines = [d["line"] for n, d in evs if n == "line"]
        verdict = [d for n, d in evs if n == "verdict"]
        check("stub %s started" % RUN_ATTACK in lines, "its stderr lines are streamed: %s" % lines)
        check(verdict and verdict[0]["verdict"] == "ERROR" and "timeout" in verdict[0]["evidence"] and took < 10,
              "killed at web.lab_timeout_s: ERROR timeout (%.1f s): %s" % (took, verdict))
        st, _ = web.run(admin, csrf, RUN_ATTACK)
        check(st == 202, "after the timeout another run may start: %s" % st)
        check(stop(web.proc) == 0, "the gateway stops with a run going, exit 0")
        check(web.err.wait("ended: ERROR") is not None, "the run is ended at shutdown")
    finally:
        if web.proc.poll() is None:
            web.proc.kill()
            web.proc.wait()


def test_bus(web_exe, sniff_exe, broker, creds, web):
    admin, _ = web.login("admin", "admin123")
    st, js = web.request("GET", "/api/lab/bus", cookie=admin)
    check(st == 404 and js["error"] == "no_capture", "no capture: 404 no_capture: %s %s" % (st, js))
    if os.geteuid() != 0:
        print("not root: the bus view's capture is not exercised")
        return
    cap = Web(web_exe, broker, creds, ["--sniff-bin", sniff_exe, "--set", "web.capture=1"])
    try:
        admin, _ = cap.login("admin", "admin123")
        worker, _ = cap.login("worker1", "worker123")
        st, _ = cap.request("GET", "/api/lab/bus", cookie=worker)
        check(st == 403, "the bus view is for admins: %s" % st)
        s = Stream(cap, "/api/lab/bus", admin, timeout=15)
        check(s.status == 200, "the bus stream opens: %s" % s.status)
        ready = cap.err.wait("the bus view started")
        got = None
        if ready:
            cap.login("viewer1", "viewer123")  # traffic on the bus while it captures
            for name, data in s.events():
                if name == "bus" and "stderr" not in data:
                    got = data
                    break
                if name == "bus" and "ready" in data.get("stderr", ""):
                    cap.login("viewer1", "viewer123")
        check(got is not None, "a bus event of collab-sniff after a login: %s" % got)
        s.close()
        cap.login("viewer1", "viewer123")  # a write on the closed stream ends it
        check(cap.err.wait("the bus view stopped", 20) is not None, "the sniffer stops when its viewer leaves")
        check(stop(cap.proc) == 0, "the capturing gateway exits 0")
    finally:
        if cap.proc.poll() is None:
            cap.proc.kill()
            cap.proc.wait()


def cheap_demo_credentials(sample_data, tmp):
    """The demo agents' keys (collab-attack's default victims sign with them) with the test
    file's cost-4 hashes of the same passwords: logins cost no 0.2 s of bcrypt each."""
    with open(os.path.join(sample_data, "valid_credentials.json")) as f:
        demo = json.load(f)
    with open(os.path.join(sample_data, "test_credentials.json")) as f:
        cheap = {a["agent_id"]: a["password_hash"] for a in json.load(f)["agents"]}
    for a in demo["agents"]:
        a["password_hash"] = cheap[a["agent_id"]]
    path = os.path.join(tmp, "credentials.json")
    with open(path, "w") as f:
        json.dump(demo, f)
    return path


def main():
    broker_exe, web_exe, attack_exe, sniff_exe, sample_data = sys.argv[1:6]
    tmp = tempfile.mkdtemp(prefix="collab-web-lab-")
    creds = cheap_demo_credentials(sample_data, tmp)
    broker = web = None
    try:
        broker = subprocess.Popen([broker_exe, "--bind", "tcp://127.0.0.1:*", "--state", tmp + "/state.db",
                                   "--credentials", creds, "--security-log", tmp + "/security.log",
                                   "--log-level", "warning"], stdout=subprocess.PIPE,
                                  stderr=open(tmp + "/broker.err", "wb"))
        line = Lines(broker.stdout).wait("listening ")
        endpoint = line.split(" ", 1)[1].strip()
        web = Web(web_exe, endpoint, creds, ["--attack-bin", attack_exe, "--catalogue",
                                            os.path.join(sample_data, "attack_scenarios.json")])
        admin, csrf = web.login("admin", "admin123")
        worker, worker_csrf = web.login("worker1", "worker123")
        test_matrix(web, attack_exe, sample_data, tmp, worker)
        test_run(web, attack_exe, endpoint, admin, csrf, worker, worker_csrf)
        test_stub(web_exe, endpoint, creds, tmp)
        test_bus(web_exe, sniff_exe, endpoint, creds, web)
        check(stop(web.proc) == 0, "the gateway exits 0 on SIGTERM")
        check(stop(broker) == 0, "the broker exits 0")
    finally:
        for p in (web.proc if web else None, broker):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
