#!/usr/bin/python3
# web_victim.py: the scripted victim of collab-attack's web attacks (docs/WEB.md 5), the web
# counterpart of collab-victim. It logs in as its agent with its own password (read from
# --password-file, or its own line of --passwords FILE "agent password"; the attack hands it
# the path and never reads it) and prints only non-secret progress lines: never its
# password, its session id or its cookie's value (a cookie is shown by its attributes and a
# SHA-256 of its value, so that an attack can prove that what it stole is that cookie).
#
# Scripts:
#   login   HTTP only (no browser): POST /api/login, then exits; the web session stays open
#           in the gateway (jwt-forge: the admin is logged in to the console).
#   hold    HTTP only: logs in, then checks GET /api/me every 200 ms until --timeout-s; prints
#           "revoked status=N error=E" and exits when the session stops answering (web-csrf's
#           target: a coordinator logged in to the console).
#   click   Chromium: logs in through login.html, opens the board through its navigation link
#           (under weak web_session the pages' links carry the session), finds the link of a
#           task result that starts with --link-prefix and clicks it, as a reader of results
#           does (web-cookie-theft).
#   visit   Chromium: logs in as an admin, counts --target's sessions in its own admin view
#           (GET /api/admin/sessions from the page), visits --url (the attacker's page) until
#           its title says "sent", then counts again (web-csrf).
#   board   Chromium: logs in, opens the board, waits for the task titled --wait-text, then at
#           most --settle-s for a project named --expect-project to appear (web-xss).
# Exit: 0 done, 1 failed (the last line says why), 2 usage.
import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request


def say(line):
    print(line, flush=True)


def fail(why):
    say("failed " + why)
    sys.exit(1)


def password_of(args):
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    if os.path.isdir(args.passwords):
        with open(os.path.join(args.passwords, args.agent + ".pw"), encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    with open(args.passwords, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#") and parts[0] == args.agent:
                return parts[1]
    fail("no password for %s" % args.agent)


# ---- HTTP only (login, hold) ----------------------------------------------------------------

class Session:
    """A script's web session: the cookie the gateway set at login, sent back as a browser on
    loopback would (Chromium treats loopback as secure, so a Secure __Host- cookie goes back
    over http://127.0.0.1; Python's cookie jar would keep it)."""

    def __init__(self):
        self.cookie = ""
        self.opener = urllib.request.build_opener()

    def open(self, req, timeout):
        if isinstance(req, str):
            req = urllib.request.Request(req)
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        r = self.opener.open(req, timeout=timeout)
        set_cookie = r.headers.get("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0].strip()
        return r


def http_opener():
    return Session()


def http_call(opener, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        req.add_header("Content-Type", "application/json")
        req.add_header("Origin", url.split("/api/")[0])  # the gateway's own page would
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}
    except (urllib.error.URLError, OSError, ValueError) as e:
        return 0, {"error": str(e)}


def http_login(args):
    opener = http_opener()
    status, body = http_call(opener, args.web + "api/login",
                             {"agent_id": args.agent, "password": password_of(args)})
    if status != 200:
        fail("login status=%d error=%s" % (status, body.get("error", "")))
    say("logged_in agent=%s role=%s" % (args.agent, body.get("role", "?")))
    return opener


def script_hold(args):
    """Listens on its event stream as the board page does; when an event ends the session, or
    the stream ends, asks /api/me whether the session still answers."""
    opener = http_login(args)
    deadline = time.monotonic() + args.timeout_s
    status, body = http_call(opener, args.web + "api/me")
    if status != 200:
        fail("the new web session does not answer: status=%d error=%s" % (
            status, body.get("error", "")))
    say("holding")
    while time.monotonic() < deadline:
        left = max(0.1, deadline - time.monotonic())
        try:
            with opener.open(args.web + "api/events", timeout=left) as stream:
                for raw in stream:
                    line = raw.decode("utf-8", "replace").strip()
                    if line.startswith("event:") and line.split(":", 1)[1].strip() in (
                            "session_revoked", "session_expired", "session_evicted"):
                        break
        except (urllib.error.URLError, OSError, ValueError):
            pass  # refused or cut: /api/me tells which
        status, body = http_call(opener, args.web + "api/me")
        if status != 200:
            say("revoked status=%d error=%s" % (status, body.get("error", "")))
            return
    say("still_valid")


# ---- Chromium (click, visit, board) ---------------------------------------------------------

def browser(args):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = args.chromium
    profile = tempfile.mkdtemp(prefix="collab-web-victim-")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-extensions", "--window-size=1280,900", "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
    d.set_page_load_timeout(args.timeout_s)
    d.set_script_timeout(args.timeout_s)
    d._collab_profile = profile
    return d


def wait(d, cond, timeout, what):
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.1).until(cond)
    except Exception:
        fail("timed out waiting for " + what)


def page_login(d, args):
    from selenium.webdriver.common.by import By
    d.get(args.web + "login.html")
    wait(d, lambda d: d.execute_script("return document.body.dataset.loginReady") == "true",
         args.timeout_s, "login.html")
    d.find_element(By.ID, "agent-id").send_keys(args.agent)
    d.find_element(By.ID, "password").send_keys(password_of(args))
    d.find_element(By.ID, "login-submit").click()
    wait(d, lambda d: "board.html" in d.current_url and
         d.execute_script("return document.body.dataset.boardReady") == "true",
         args.timeout_s, "the board after login")
    say("logged_in agent=%s ua=%s" % (args.agent,
                                      "HeadlessChrome" if "HeadlessChrome" in
                                      d.execute_script("return navigator.userAgent") else "?"))
    for c in d.get_cookies():  # the stored cookie, read back from Chromium
        say("cookie name=%s sha256=%s httponly=%s secure=%s samesite=%s" % (
            c["name"], hashlib.sha256(c["value"].encode()).hexdigest(),
            str(c.get("httpOnly", False)).lower(), str(c.get("secure", False)).lower(),
            c.get("sameSite", "")))


def console_errors(d):
    try:
        for e in d.get_log("browser"):
            if "Content Security Policy" in e.get("message", ""):
                say("csp_violation")
                return
    except Exception:
        pass


def script_click(d, args):
    from selenium.webdriver.common.by import By
    page_login(d, args)
    nav = d.find_elements(By.CSS_SELECTOR, 'nav a[data-page="board.html"]')
    if nav:  # a person clicks around: the navigation's own link to the board
        nav[0].click()
        wait(d, lambda d: d.execute_script("return document.body.dataset.boardReady") == "true",
             args.timeout_s, "the board")
    say("board_url_carries_session=%s" % str("session=" in d.current_url).lower())
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".task-title"), args.timeout_s,
         "a task on the board")
    links = [a for a in d.find_elements(By.CSS_SELECTOR, ".task-result a[href]")
             if (a.get_attribute("href") or "").startswith(args.link_prefix)]
    if not links:
        texts = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".task-result")]
        shown = any(args.link_prefix in t for t in texts)
        say("no_link result_shown_as_text=%s" % str(shown).lower())
        return
    say("clicked " + links[0].get_attribute("href"))
    links[0].click()
    wait(d, lambda d: d.current_url.startswith(args.link_prefix) and
         d.execute_script("return document.readyState") == "complete",
         args.timeout_s, "the link's page")


def count_sessions(d, args):
    r = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('api/admin/sessions', {credentials: 'same-origin'})"
        ".then(r => r.json().then(j => done([r.status, j])))"
        ".catch(e => done([0, {error: String(e)}]));")
    status, body = r
    if status != 200:
        fail("admin sessions status=%d error=%s" % (status, body.get("error", "")))
    return sum(1 for s in body.get("sessions", []) if s.get("agent_id") == args.target)


def script_visit(d, args):
    page_login(d, args)
    say("sessions_before=%d" % count_sessions(d, args))
    d.get(args.url)  # the admin follows a link to the attacker's page
    wait(d, lambda d: d.title == "sent", args.timeout_s, "the attacker's page")
    say("attacker_page_done")
    d.get(args.web + "board.html")
    wait(d, lambda d: d.execute_script("return document.body.dataset.boardReady") == "true" or
         d.find_elements("id", "session-ended"), args.timeout_s, "the board again")
    say("sessions_after=%d" % count_sessions(d, args))


def script_board(d, args):
    from selenium.webdriver.common.by import By
    page_login(d, args)
    wait(d, lambda d: any(args.wait_text in e.text
                          for e in d.find_elements(By.CSS_SELECTOR, ".task-title")),
         args.timeout_s, "the task " + args.wait_text)
    say("task_shown")
    deadline = time.monotonic() + args.settle_s
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        WebDriverWait(d, max(0.1, deadline - time.monotonic()), poll_frequency=0.1).until(
            lambda d: any(e.text == args.expect_project
                          for e in d.find_elements(By.CSS_SELECTOR, ".project-name")))
        say("project_appeared")
    except Exception:
        say("no_project")
    console_errors(d)


def main():
    ap = argparse.ArgumentParser(description="the scripted victim of the web attacks")
    ap.add_argument("--web", required=True, help="the gateway's URL, http://HOST:PORT/")
    ap.add_argument("--agent", required=True)
    ap.add_argument("--password-file")
    ap.add_argument("--passwords")
    ap.add_argument("--script", required=True,
                    choices=["login", "hold", "click", "visit", "board"])
    ap.add_argument("--url", default="", help="visit: the attacker's page")
    ap.add_argument("--target", default="", help="visit: whose sessions to count")
    ap.add_argument("--link-prefix", default="", help="click: the link to follow")
    ap.add_argument("--wait-text", default="", help="board: the task title to wait for")
    ap.add_argument("--expect-project", default="", help="board: the project to look for")
    ap.add_argument("--settle-s", type=float, default=3.0)
    ap.add_argument("--timeout-s", type=float, default=20.0)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = ap.parse_args()
    if not args.password_file and not args.passwords:
        ap.error("--password-file or --passwords is required")
    if not args.web.endswith("/"):
        args.web += "/"
    # the attack stops its victim with SIGTERM: leave through `finally`, which quits the
    # browser and its chromedriver, instead of leaving them behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say("ready")
    if args.script == "login":
        http_login(args)
    elif args.script == "hold":
        script_hold(args)
    else:
        d = browser(args)
        try:
            {"click": script_click, "visit": script_visit, "board": script_board}[args.script](
                d, args)
        finally:
            d.quit()
            shutil.rmtree(d._collab_profile, ignore_errors=True)
    say("done")


if __name__ == "__main__":
    main()
