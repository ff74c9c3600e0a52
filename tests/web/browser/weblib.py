"""weblib.py: the browser tests' small library (docs/WEB.md 7). It starts a real collab-broker
(test credentials, a fresh state, an ephemeral port) and a real collab-web in front of it (an
ephemeral port), drives Debian's headless Chromium through chromedriver (python3-selenium),
logs in through login.html, waits on DOM conditions with WebDriverWait (never a sleep),
saves screenshots as PNG artifacts, injects axe-core, and reads Chromium's performance log
for the requests a page made. Everything it starts it stops by pid; every temporary folder
it makes it removes.

Run with Debian's /usr/bin/python3 (python3-selenium). A missing dependency is a failure,
never a skip: scripts/deps installs them."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # a failure, not a skip: scripts/deps installs python3-selenium
    sys.exit(f"weblib: python3-selenium is missing ({e}); run scripts/deps")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 30          # one DOM condition at most (a loaded machine runs ctest -j)
START_S = 20         # a process's "listening" line at most


class TestFailure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_passwords(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            agent, pw = line.split(None, 1)
            out[agent] = pw
    return out


# ---- processes ------------------------------------------------------------------------------

class Proc:
    """A child process whose stdout's first line matching pattern gives its address. A thread
    copies its stdout into NAME.out (waking the waiter on the matching line); stderr goes to
    NAME.err (the gateway's log is read back by the tests)."""

    def __init__(self, name, argv, folder, pattern, env=None):
        self.name = name
        self.out_path = os.path.join(folder, name + ".out")
        self.err_path = os.path.join(folder, name + ".err")
        self.err = open(self.err_path, "w", encoding="utf-8")
        self.rx = re.compile(pattern)
        self.match = None
        self.seen = threading.Event()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, cwd=folder,
                                     env=env, start_new_session=True, text=True)
        self.reader = threading.Thread(target=self._copy, daemon=True)
        self.reader.start()
        if not self.seen.wait(START_S) or not self.match:
            self.stop()
            raise TestFailure(f"{self.name} did not start: {self.stderr_text()[-2000:]}")

    def _copy(self):
        with open(self.out_path, "w", encoding="utf-8") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                if not self.match:
                    m = self.rx.search(line)
                    if m:
                        self.match = m
                        self.seen.set()
        self.seen.set()  # stdout closed: the child is gone (or closed it)

    def stderr_text(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stdout_text(self):
        try:
            with open(self.out_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        self.err.close()


def demo_credentials(source, folder):
    """The demo agents' keys (sample_data/valid_credentials.json, which collab-attack's
    default victims sign with) with the test file's cost-4 hashes of the same passwords, as
    a file in folder: an attack run from the lab page then works without bcrypt's cost 12."""
    with open(os.path.join(source, "sample_data", "valid_credentials.json")) as f:
        demo = json.load(f)
    with open(os.path.join(source, "sample_data", "test_credentials.json")) as f:
        cheap = {a["agent_id"]: a["password_hash"] for a in json.load(f)["agents"]}
    for a in demo["agents"]:
        a["password_hash"] = cheap[a["agent_id"]]
    path = os.path.join(folder, "credentials.json")
    with open(path, "w") as f:
        json.dump(demo, f)
    return path


class Swarm:
    """A broker and a gateway on ephemeral ports, with the test credentials, in a temporary
    folder removed at the end."""

    def __init__(self, build, source, profile="stage2", sets=(), web_sets=(), demo_keys=False):
        self.build, self.source = build, source
        self.dir = tempfile.mkdtemp(prefix="collab-browser-")
        self.creds = os.path.join(source, "sample_data", "test_credentials.json")
        if demo_keys:  # the keys collab-attack's default victims sign with, cheap hashes
            self.creds = demo_credentials(source, self.dir)
        self.passwords = read_passwords(os.path.join(source, "sample_data", "test_passwords.txt"))
        self.broker = self.web = None
        try:
            self._start(profile, sets, web_sets)
        except BaseException:
            self.stop()
            raise

    def exe(self, rel):
        path = os.path.join(self.build, rel)
        check(os.access(path, os.X_OK), f"{path} is not built")
        return path

    def _start(self, profile, sets, web_sets):
        cfg = os.path.join(self.dir, "broker.cfg")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(f"profile = {profile}\n")
            f.write(f"credentials = {self.creds}\n")
            f.write(f"state = {os.path.join(self.dir, 'state.db')}\n")
            f.write(f"security_log = {os.path.join(self.dir, 'security.log')}\n")
            f.write(f"state_at_rest.key_file = {os.path.join(self.dir, 'state.key')}\n")
            f.write(f"audit.key_file = {os.path.join(self.dir, 'audit.key')}\n")
            for s in sets:
                f.write(s + "\n")
        self.cfg = cfg
        self.broker = Proc("broker", [self.exe("broker/collab-broker"), "--config", cfg,
                                      "--bind", "tcp://127.0.0.1:*"],
                           self.dir, r"listening (tcp://\S+)")
        self.endpoint = self.broker.match.group(1)
        # the gateway reads the same file; its own keys come as --set (docs/WEB.md 2)
        self.web = Proc("web", [self.exe("web/collab-web"), "--config", cfg,
                                "--broker", self.endpoint, "--set", "web.bind=127.0.0.1:0",
                                "--set", "web.static_dir=" + os.path.join(self.build, "web", "static"),
                                "--set", "web.token_key_file=" + os.path.join(self.dir, "web-token.key")]
                           + [a for s in web_sets for a in ("--set", s)],
                        self.dir, r"collab-web: (http://[0-9.]+:\d+)")
        self.url = self.web.match.group(1)
        log(f"broker {self.endpoint}, gateway {self.url} ({profile})")

    def password(self, agent):
        return self.passwords[agent]

    def stop(self):
        for p in (self.web, self.broker):
            if p:
                p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def gateway_log(self):
        return self.web.stderr_text() + self.web.stdout_text()


# ---- an HTTP client, for what a test does outside the browser (the worker's side) ----------

class HttpClient:
    """The web API as a script sees it: the session cookie (kept by hand: a cookie jar would
    not send strong web_session's Secure __Host-tc over http://127.0.0.1, which Chromium
    does), JSON bodies, the CSRF token of /api/me when it gives one."""

    def __init__(self, base):
        self.base = base
        self.cookies = {}
        self.csrf = ""

    def _keep_cookies(self, headers):
        for line in headers.get_all("Set-Cookie") or []:
            pair = line.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if re.search(r"(?i)max-age=0|expires=thu, 01 jan 1970", line) or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("Origin", self.base)
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.csrf and method != "GET":
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                self._keep_cookies(res.headers)
                text = res.read().decode()
                return res.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            self._keep_cookies(e.headers)
            text = e.read().decode()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, {"error": f"http_{e.code}", "message": text}

    def ok(self, method, path, body=None):
        status, data = self.call(method, path, body)
        check(200 <= status < 300, f"{method} {path}: {status} {data}")
        return data

    def login(self, agent, password):
        self.ok("POST", "/api/login", {"agent_id": agent, "password": password})
        me = self.ok("GET", "/api/me")
        self.csrf = me.get("csrf", "") or ""
        return me


# ---- the browser ----------------------------------------------------------------------------

class Browser:
    """One headless Chromium with its own temporary profile (removed at close) and the
    performance log on, so that the requests a page makes can be listed."""

    def __init__(self, swarm, artifacts, width=1280, height=900):
        for path in (CHROMIUM, CHROMEDRIVER):
            check(os.access(path, os.X_OK), f"{path} is missing: run scripts/deps")
        self.swarm = swarm
        self.artifacts = artifacts
        self.profile = tempfile.mkdtemp(prefix="collab-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                  "--disable-background-networking", "--disable-sync",
                  "--disable-component-update", "--disable-features=Translate,MediaRouter",
                  f"--user-data-dir={self.profile}", f"--window-size={width},{height}"):
            opts.add_argument(a)
        if os.geteuid() == 0:
            opts.add_argument("--no-sandbox")
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(WAIT_S)
        self.driver.set_script_timeout(WAIT_S)
        self.resize(width, height)

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- the page --
    def go(self, page):
        self.driver.get(self.swarm.url + "/" + page)

    def resize(self, width, height=900):
        """The viewport exactly width x height CSS pixels (the window's chrome aside)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.width = width

    def wait(self, cond, what, timeout=WAIT_S):
        try:
            return WebDriverWait(self.driver, timeout).until(lambda d: cond(d))
        except TimeoutException:
            self.screenshot("FAILED-" + re.sub(r"[^a-z0-9]+", "-", what.lower())[:60])
            raise TestFailure(f"timed out waiting for {what}; page text: "
                              f"{self.text('body')[:1500]!r}")

    def wait_js(self, expr, what, timeout=WAIT_S):
        return self.wait(lambda d: d.execute_script("return " + expr), what, timeout)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        els = self.finds(css)
        return els[0].text if els else ""

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def active_id(self):
        return self.js("const a = document.activeElement; return a ? (a.id || a.tagName + '.' + (a.className || '') + ':' + (a.textContent || '').trim().slice(0, 40)) : ''")

    # -- logging in, through the page --
    def login(self, agent, password, page="board.html", ready="boardReady"):
        self.go("login.html")
        self.wait_js("document.body.dataset.loginReady === 'true'", "the login page")
        self.find("#agent-id").send_keys(agent)
        self.find("#password").send_keys(password)
        self.find("#login-submit").click()
        self.wait(lambda d: d.current_url.split("?")[0].endswith("/board.html"), "the board after login")
        if page != "board.html":
            self.go(page)
        self.wait_js(f"document.body.dataset.{ready} === 'true'", f"{page} ready")

    # -- artifacts --
    def screenshot(self, name):
        """The whole page (not only the viewport) as PNG: ARTIFACTS/name.png."""
        os.makedirs(self.artifacts, exist_ok=True)
        path = os.path.join(self.artifacts, name + ".png")
        try:
            height = int(self.js("return Math.min(6000, Math.max(document.documentElement.scrollHeight, 300))"))
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": self.width, "height": height, "deviceScaleFactor": 1,
                "mobile": self.width < 600})
            self.driver.save_screenshot(path)
        finally:
            self.resize(self.width)
        log(f"screenshot {path}")
        return path

    # -- checks --
    def horizontal_overflow(self):
        """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll),
        and the widest elements sticking out, for the message."""
        return self.js("""
            const de = document.documentElement;
            const over = Math.max(de.scrollWidth, document.body.scrollWidth) - de.clientWidth;
            const out = [];
            if (over > 0) for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.right > de.clientWidth + 1) out.push(el.tagName + '#' + el.id + '.' + el.className + ' ' + Math.round(r.right));
            }
            return [over, out.slice(0, 10)];""")

    def axe(self, axe_js):
        """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
        if not self.js("return typeof window.axe !== 'undefined'"):
            with open(axe_js, encoding="utf-8") as f:
                self.js(f.read())
        res = self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                               resultTypes: ['violations']})
              .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))
              .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));""")
        return res

    def requests(self):
        """The requests the page started since the last call: [(method, url, type)] from the
        performance log's Network.requestWillBeSent (reading the log empties it)."""
        out = []
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                p = msg["params"]
                out.append((p["request"]["method"], p["request"]["url"], p.get("type", "")))
        return out

    def keys(self, *keys):
        ActionChains(self.driver).send_keys(*keys).perform()

    def tab_to(self, element_id, limit=40):
        """Presses Tab until the element with that id has the focus (at most limit times)."""
        for _ in range(limit):
            if self.js("return document.activeElement && document.activeElement.id") == element_id:
                return
            self.keys(Keys.TAB)
        check(False, f"Tab never reached #{element_id} (focus on {self.active_id()})")


def path_of(url):
    return urllib.parse.urlsplit(url).path
