#!/usr/bin/python3
"""test_web_attacks.py: the four web attacks of collab-attack (docs/WEB.md 5) both ways.

Each attack runs against a fresh collab-broker and a fresh collab-web (ephemeral ports, a
fresh folder) under stage2 (SUCCEEDED), hardened (BLOCKED) and stage2 with its own control
strong (BLOCKED, decided_by that control). The verdict is the attack's; the test then reads
the gateway's own log, one line per request with its status and user agent, for what really
happened, independently of the attack's word:
  web-xss           HeadlessChrome's POST /api/projects 200 (the script ran as coordinator1),
                    none under the control
  web-csrf          HeadlessChrome's POST /api/admin/revoke: 200, or 403 under the control
  web-cookie-theft  the attacker's own client (user agent collab-attack) answered 200 on
                    /api/me and creating a project with the leaked session; under the control
                    no such project
  jwt-forge         the attacker's GET /api/admin/sessions 200, or 401 under the control
And one lesson of web-cookie-theft as a case of its own: with its listener on the gateway's
own host (--listen 127.0.0.1, another port) it SUCCEEDS under web_session strong, since a
browser sends a host's cookies, __Host- and SameSite=Strict ones included, to every port of
that host.
The browser attacks need Debian's chromium, chromium-driver and python3-selenium (the normal
build only); jwt-forge is HTTP only and runs in both builds.
usage: test_web_attacks.py ATTACK_EXE BROKER_EXE WEB_EXE SAMPLE_DATA ATTACK[,ATTACK...]
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

OWN = {"web-cookie-theft": "web_session", "web-csrf": "csrf", "web-xss": "web_output",
       "jwt-forge": "web_token"}
START_S = 15
ATTACK_S = 150


def read_line(proc, prefix, deadline):
    """The first line of proc's stdout starting with prefix, or None at the deadline."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    while time.monotonic() < deadline:
        if not sel.select(max(0.0, deadline - time.monotonic())):
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith(prefix):
                return line
    return None


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Cell:
    """A fresh broker and gateway under one configuration."""

    def __init__(self, exes, sample, config):
        self.dir = tempfile.mkdtemp(prefix="collab-web-attack-")
        self.broker = self.web = None
        self.sample = sample
        self.config = config
        self.pw = os.path.join(self.dir, "pw")
        os.mkdir(self.pw, 0o700)
        with open(os.path.join(sample, "test_passwords.txt")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and not line.startswith("#"):
                    path = os.path.join(self.pw, parts[0] + ".pw")
                    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
                        out.write(parts[1] + "\n")
        key = os.path.join(self.dir, "web-token.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        self.creds = os.path.join(sample, "test_credentials.json")
        conf = ["--profile", "hardened" if config == "hardened" else "stage2",
                "--set", "state_at_rest.key_file=%s/state.key" % self.dir,
                "--set", "audit.key_file=%s/audit.key" % self.dir,
                "--set", "web.token_key_file=" + key,
                "--set", "transport.server_cert=%s/curve/broker.cert" % sample,
                "--set", "transport.clients_dir=%s/curve/clients" % sample]
        if config not in ("stage2", "hardened"):
            conf += ["--set", config + "=strong"]
        attack_exe, broker_exe, web_exe = exes
        self.broker = subprocess.Popen(
            [broker_exe, "--bind", "tcp://127.0.0.1:*", "--state", self.dir + "/state.db",
             "--security-log", self.dir + "/security.log", "--credentials", self.creds,
             "--log-level", "error"] + conf, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = read_line(self.broker, "listening ", time.monotonic() + START_S)
        if not line:
            raise RuntimeError("the broker did not start (%s)" % config)
        self.endpoint = line.split()[1]
        self.log = os.path.join(self.dir, "web.log")
        curve = ["--curve-dir", os.path.join(sample, "curve")] if config == "hardened" else []
        with open(self.log, "w") as err:
            self.web = subprocess.Popen(
                [web_exe, "--broker", self.endpoint, "--set", "credentials=" + self.creds,
                 "--bind", "127.0.0.1:0"] + conf + curve, stdout=subprocess.PIPE, stderr=err)
        line = read_line(self.web, "collab-web: http://", time.monotonic() + START_S)
        if not line:
            raise RuntimeError("collab-web did not start (%s): %s" % (config, open(self.log).read()))
        self.url = line.split()[1]

    def attack(self, attack_exe, attack, extra):
        argv = [attack_exe, attack, "--broker", self.endpoint, "--web", self.url, "--json",
                "--victim-passwords", self.pw, "--victim-credentials", self.creds] + extra
        if attack != "web-csrf":
            argv += ["--agent", "worker1", "--password-file", self.pw + "/worker1.pw"]
        if self.config == "hardened":
            argv += ["--curve-dir", os.path.join(self.sample, "curve")]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=ATTACK_S)
        return p.returncode, p.stdout, p.stderr

    def close(self):
        """Stops the gateway, then the broker; the gateway's log lines."""
        stop(self.web)
        stop(self.broker)
        try:
            with open(self.log) as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        shutil.rmtree(self.dir, ignore_errors=True)
        return lines


def requests(lines, method_path, status=None, agent=None):
    """The gateway's log lines of METHOD PATH (with that status, from that user agent)."""
    out = []
    for line in lines:
        m = re.match(r'collab-web: \S+ (\S+ \S+) (\d+)\S* .*"([^"]*)"$', line)
        if m and m.group(1) == method_path and (status is None or m.group(2) == str(status)) \
                and (agent is None or agent in m.group(3)):
            out.append(line)
    return out


def check_log(attack, config, want, lines):
    """What the gateway saw, by attack: a list of failures."""
    blocked = want == "BLOCKED"
    chrome, mine = "HeadlessChrome/", "collab-attack"
    fails = []
    if attack != "jwt-forge" and not [l for l in lines if chrome in l]:
        fails.append("no request of a real HeadlessChrome in the gateway's log")
    if attack == "web-xss":
        made = requests(lines, "POST /api/projects", 200, chrome)
        if bool(made) == blocked:
            fails.append("HeadlessChrome's POST /api/projects 200: %d line(s)" % len(made))
    elif attack == "web-csrf":
        want = 403 if config == "csrf" else 200
        if config != "hardened" and not requests(lines, "POST /api/admin/revoke", want, chrome):
            fails.append("no HeadlessChrome POST /api/admin/revoke %d" % want)
        if blocked and requests(lines, "POST /api/admin/revoke", 200):
            fails.append("a POST /api/admin/revoke 200 under %s" % config)
    elif attack == "web-cookie-theft":
        made = requests(lines, "POST /api/projects", 200, mine)
        if bool(made) == blocked:
            fails.append("the attacker's POST /api/projects 200: %d line(s)" % len(made))
    elif attack == "jwt-forge":
        ok = requests(lines, "GET /api/admin/sessions", 200, mine)
        if bool(ok) == blocked:
            fails.append("the attacker's GET /api/admin/sessions 200: %d line(s)" % len(ok))
        if config == "web_token" and not requests(lines, "GET /api/admin/sessions", 401, mine):
            fails.append("no refused (401) forged GET /api/admin/sessions")
    return fails


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    attack_exe, broker_exe, web_exe, sample, attacks = sys.argv[1:6]
    failures = 0
    for attack in attacks.split(","):
        own = OWN[attack]
        cases = [("stage2", "SUCCEEDED", []), ("hardened", "BLOCKED", []), (own, "BLOCKED", [])]
        if attack == "web-cookie-theft":
            cases.append((own, "SUCCEEDED", ["--listen", "127.0.0.1"]))
        for config, want, extra in cases:
            t0 = time.monotonic()
            cell = None
            try:
                cell = Cell((attack_exe, broker_exe, web_exe), sample, config)
                rc, out, err = cell.attack(attack_exe, attack, extra)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                rc, out, err = -1, "", str(e)
            lines = cell.close() if cell else []
            try:
                v = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                v = {}
            fails = []
            if v.get("verdict") != want or rc != (0 if want == "SUCCEEDED" else 10):
                fails.append("verdict %s (exit %d), want %s" % (v.get("verdict"), rc, want))
            if config == own and want == "BLOCKED" and v.get("decided_by") != own:
                fails.append("decided_by %s, want %s" % (v.get("decided_by"), own))
            if not fails:
                fails = check_log(attack, config, want, lines)
            if extra and not fails and "Cookie header" not in v.get("evidence", ""):
                fails.append("the session did not come in the Cookie header")
            config += " " + " ".join(extra) if extra else ""
            took = time.monotonic() - t0
            if fails:
                failures += 1
                print("FAIL %s under %s (%.1f s): %s\n  evidence: %s\n  narration:\n%s" % (
                    attack, config, took, "; ".join(fails), v.get("evidence", out), err))
            else:
                print("ok   %s under %s: %s (%.1f s): %s" % (attack, config, want, took,
                                                            v.get("evidence", "")))
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
