#!/usr/bin/python3
"""test_browser.py: the web console in a real headless Chromium (docs/WEB.md 4 and 7).

Usage: test_browser.py --build BUILD --source SOURCE [--artifacts DIR] [--axe AXE_JS] CHECK
CHECK is one of:
  static    the pages' rules, read from web/static (no browser): no inline script, handler
            or style attribute, no CDN, only render.js writes text into the page
  layout    each page at 375 and 1280 px wide has no horizontal scroll; screenshots saved
  axe       axe-core finds no WCAG 2.0/2.1 A or AA violation on any page
  keyboard  log in and create a project, then assign a task, with Tab and Enter only
  live      coordinator1 creates a project and assigns a task in the page; the worker
            completes it over HTTP; the board updates by itself, and after load the page
            made no request but its event stream (and the two actions' POSTs)
  observer  an observer sees no action; its forged POST is refused by the broker (403
            forbidden) and the page shows the broker's refusal
  revoke    the admin revokes a session in the admin page; the revoked user's page says so
  lab       the lab page shows the controls in force as the gateway states them
  labrun    the admin runs one attack from the lab page against the gateway's own broker;
            the page shows the narration and the verdict the command line gives
  strong    the pages under the four web controls strong: HttpOnly __Host-tc cookie, no
            session in a link, the CSRF token on every POST, strict CSP, markup kept as text
Each check starts its own broker and gateway on ephemeral ports and stops them by pid."""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weblib  # noqa: E402
from weblib import Browser, HttpClient, Swarm, Keys, check, log, path_of  # noqa: E402

PAGES = ("login", "board", "board-worker", "board-observer", "admin", "lab")


# ---- the data every page shows ------------------------------------------------------------

def seed(swarm):
    """A project with tasks in several statuses, made over HTTP as coordinator1 and workers."""
    coord = HttpClient(swarm.url)
    coord.login("coordinator1", swarm.password("coordinator1"))
    pid = coord.ok("POST", "/api/projects", {"name": "Website redesign",
                                             "description": "The lab's demo project"})["project_id"]
    coord.ok("POST", "/api/projects", {"name": "Quarterly audit"})
    tasks = {}
    for title, worker in (("Write the style guide", "worker1"), ("Check the contrast", "worker1"),
                          ("Fix the login form", "worker2"), ("Review the release notes", "worker1")):
        tasks[title] = coord.ok("POST", "/api/tasks", {"project_id": pid, "worker": worker,
                                                       "title": title})["task_id"]
    w1 = HttpClient(swarm.url)
    w1.login("worker1", swarm.password("worker1"))
    w1.ok("POST", "/api/tasks/status", {"task_id": tasks["Check the contrast"], "status": "in_progress"})
    w1.ok("POST", "/api/tasks/status", {"task_id": tasks["Write the style guide"], "status": "in_progress"})
    w1.ok("POST", "/api/tasks/status", {"task_id": tasks["Write the style guide"], "status": "completed",
                                        "result": "docs/style.md, 4 pages"})
    w2 = HttpClient(swarm.url)
    w2.login("worker2", swarm.password("worker2"))
    w2.ok("POST", "/api/tasks/status", {"task_id": tasks["Fix the login form"], "status": "in_progress"})
    w2.ok("POST", "/api/tasks/status", {"task_id": tasks["Fix the login form"], "status": "failed",
                                        "result": "needs the gateway's new route"})
    return pid, tasks


def open_page(br, swarm, page):
    """Opens the page as its user, logged in through login.html (login: logged out)."""
    who = {"board": "coordinator1", "board-worker": "worker1", "board-observer": "viewer1",
           "admin": "admin", "lab": "admin"}
    br.driver.delete_all_cookies()
    if page == "login":
        br.go("login.html")
        br.wait_js("document.body.dataset.loginReady === 'true'", "the login page")
        return
    file = page.split("-")[0] + ".html"
    ready = {"board.html": "boardReady", "admin.html": "adminReady", "lab.html": "labReady"}[file]
    br.login(who[page], swarm.password(who[page]), file, ready)
    if file == "board.html":
        br.wait(lambda d: br.finds("li.task"), "the seeded tasks on the board")


def each_page(args, fn):
    """fn(browser, page) on every page, as its user, in one Chromium."""
    swarm = Swarm(args.build, args.source)
    br = None
    try:
        seed(swarm)
        br = Browser(swarm, args.artifacts)
        for page in PAGES:
            open_page(br, swarm, page)
            fn(br, page)
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def check_user_agent(swarm):
    """The gateway logs each request's user agent: a real headless Chromium made them."""
    check("HeadlessChrome/" in swarm.gateway_log(),
          "the gateway's log shows no HeadlessChrome/ user agent")


# ---- the checks ---------------------------------------------------------------------------

def check_static(args):
    static = os.path.join(args.source, "web", "static")
    files = sorted(os.listdir(static))
    for name in ("index.html", "login.html", "board.html", "admin.html", "lab.html", "style.css",
                 "api.js", "render.js", "login.js", "board.js", "admin.js", "lab.js"):
        check(name in files, f"web/static/{name} is missing")
    problems = []
    for name in files:
        text = open(os.path.join(static, name), encoding="utf-8").read()
        if re.search(r"(?i)\b(?:https?:)?//(?!www\.w3\.org/2000/svg)[a-z0-9.-]+\.[a-z]{2,}", text) \
                and not name.endswith(".js"):
            problems.append(f"{name}: a reference to another host (the pages work offline)")
        if name.endswith(".html"):
            for m in re.finditer(r"<script\b([^>]*)>", text, re.I):
                if "src=" not in m.group(1) or 'type="module"' not in m.group(1):
                    problems.append(f"{name}: a script that is not an external module: {m.group(0)}")
            if re.search(r"<script\b[^>]*>\s*[^<\s]", text, re.I):
                problems.append(f"{name}: inline script")
            if re.search(r"\son[a-z]+\s*=", text, re.I):
                problems.append(f"{name}: an inline event handler")
            if re.search(r"\sstyle\s*=", text, re.I) or re.search(r"<style\b", text, re.I):
                problems.append(f"{name}: inline style")
            if 'lang="en"' not in text or 'name="viewport"' not in text:
                problems.append(f"{name}: no lang or no viewport")
            for ref in re.findall(r'(?:src|href)="([^"#?:]+)"', text):
                if not os.path.exists(os.path.join(static, ref)):
                    problems.append(f"{name}: {ref} does not exist")
        if name.endswith(".js"):
            if re.search(r"https?://", text):
                problems.append(f"{name}: an absolute URL (no CDN, same origin only)")
            if re.search(r"\beval\s*\(|new Function\s*\(|setTimeout\s*\(\s*['\"]", text):
                problems.append(f"{name}: code from a string")
            for m in re.finditer(r"\.(innerHTML|outerHTML|textContent|innerText|insertAdjacentHTML)\b"
                                 r"|document\.write", text):
                if name != "render.js":
                    problems.append(f"{name}: writes text into the page ({m.group(0)}): only render.js may")
            for m in re.finditer(r"import\s*[^'\"]*['\"]\./([^'\"]+)['\"]", text):
                if m.group(1) not in files:
                    problems.append(f"{name}: imports {m.group(1)}, which does not exist")
    check(not problems, "\n".join(problems))
    # render.js follows web_output: innerHTML only under weak, textContent under strong
    render = open(os.path.join(static, "render.js"), encoding="utf-8").read()
    check("innerHTML" in render and "textContent" in render and "web_output" in render,
          "render.js does not switch on web_output")
    log(f"static: {len(files)} files follow the pages' rules")


def check_layout(args):
    bad = []

    def at_widths(br, page):
        for width in (375, 1280):
            br.resize(width)
            over, culprits = br.horizontal_overflow()
            log(f"layout {page} at {width} px: {over} px too wide")
            if over > 0:
                bad.append(f"{page} at {width} px scrolls sideways by {over} px: {culprits}")
            br.screenshot(f"{page}-{width}")
    each_page(args, at_widths)
    check(not bad, "\n".join(bad))


def check_axe(args):
    check(args.axe and os.path.exists(args.axe),
          f"axe-core is not installed at {args.axe} (the browser_axe_install test installs it with npm)")
    found = []

    def run_axe(br, page):
        for width in (1280, 375):
            br.resize(width)
            violations = br.axe(args.axe)
            log(f"axe {page} at {width} px: {len(violations)} violation(s)")
            for v in violations:
                found.append(f"{page} at {width} px: {v['id']} ({v.get('impact')}): {v['help']}\n    "
                             + "\n    ".join(v["nodes"]))
    each_page(args, run_axe)
    check(not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found))


def check_keyboard(args):
    swarm = Swarm(args.build, args.source)
    br = None
    try:
        br = Browser(swarm, args.artifacts)
        br.go("login.html")
        br.wait_js("document.body.dataset.loginReady === 'true'", "the login page")
        br.tab_to("agent-id")
        br.keys("coordinator1")
        br.keys(Keys.TAB)
        check(br.active_id() == "password", f"Tab from the agent id went to {br.active_id()}")
        br.keys(swarm.password("coordinator1"), Keys.ENTER)
        br.wait_js("document.body.dataset.boardReady === 'true'", "the board after a keyboard login")
        br.tab_to("project-name")
        name = f"Keyboard project {os.getpid()}"
        br.keys(name)
        # to the form's button: Tab past the description, then Enter on the button
        br.keys(Keys.TAB)
        check(br.active_id() == "project-desc", f"Tab from the name went to {br.active_id()}")
        br.keys(Keys.TAB)
        check(br.js("return document.activeElement.closest('#create-project-form') !== null && "
                    "document.activeElement.type === 'submit'"),
              f"Tab from the description did not reach Create project ({br.active_id()})")
        br.keys(Keys.ENTER)
        article = br.wait(lambda d: [a for a in br.finds("article.project")
                                     if name in a.find_element(weblib.By.CSS_SELECTOR, "h3").text],
                          "the project made with the keyboard")[0]
        pid = article.get_attribute("data-project-id")
        check(br.js("return document.activeElement.closest('#create-project-form') !== null"),
              f"the focus left the form after its action ({br.active_id()})")
        log(f"keyboard: project {pid} created with Tab and Enter")
        # assign a task in it, still with the keyboard only
        br.tab_to(f"p{pid}-title")
        br.keys("Keyboard task", Keys.TAB, "worker1", Keys.TAB, Keys.TAB)
        check(br.js("return document.activeElement.type === 'submit' && "
                    "document.activeElement.closest('form').classList.contains('assign-form')"),
              f"Tab did not reach Assign task ({br.active_id()})")
        br.keys(Keys.ENTER)
        br.wait(lambda d: br.finds(f'article[data-project-id="{pid}"] li.task[data-status="assigned"]'),
                "the task assigned with the keyboard")
        br.screenshot("keyboard-board-1280")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def api_requests(reqs):
    """The requests of the gateway's API and pages among reqs, as (method, path)."""
    return [(m, path_of(u)) for m, u, _ in reqs if u.startswith(("http:", "https:"))]


def check_live(args):
    swarm = Swarm(args.build, args.source)
    br = None
    try:
        br = Browser(swarm, args.artifacts)
        br.login("coordinator1", swarm.password("coordinator1"))
        br.wait_js("document.getElementById('stream-state').dataset.state === 'open'", "the stream open")
        links = [a.get_attribute("href") for a in br.finds("nav a")]
        check(all("session=" in h for h in links),
              f"under weak web_session the pages' links do not carry the session: {links}")
        loading = api_requests(br.requests())
        log(f"live: the load made {loading}")
        check(sum(1 for m, p in loading if p == "/api/events") >= 1, "the board opened no event stream")
        # the coordinator's two actions, in the page
        name = f"Live project {os.getpid()}"
        br.find("#project-name").send_keys(name)
        br.find("#create-project-form button[type=submit]").click()
        article = br.wait(lambda d: [a for a in br.finds("article.project")
                                     if name in a.find_element(weblib.By.CSS_SELECTOR, "h3").text],
                          "the new project on the board")[0]
        pid = int(article.get_attribute("data-project-id"))
        br.find(f"#p{pid}-title").send_keys("Count the widgets")
        br.find(f"#p{pid}-worker").send_keys("worker1")
        br.find(f'form.assign-form[data-project-id="{pid}"] button[type=submit]').click()
        li = br.wait(lambda d: br.finds(f'article[data-project-id="{pid}"] li.task[data-status="assigned"]'),
                     "the assigned task on the board")[0]
        tid = int(li.get_attribute("data-task-id"))
        actions = api_requests(br.requests())
        log(f"live: the actions made {actions}")
        extra = [r for r in actions if r not in (("POST", "/api/projects"), ("POST", "/api/tasks"))
                 and r[1] != "/api/events"]
        check(not extra, f"the actions made other requests: {extra}")
        # the worker does its work elsewhere; the board follows by itself
        worker = HttpClient(swarm.url)
        worker.login("worker1", swarm.password("worker1"))
        worker.ok("POST", "/api/tasks/status", {"task_id": tid, "status": "in_progress"})
        br.wait(lambda d: br.finds(f'li.task[data-task-id="{tid}"][data-status="in_progress"]'),
                "the task in progress, from the stream")
        # stage2's weak web_output inserts results as HTML (control 20's weakness, on purpose:
        # web-xss depends on it); the strong check shows the same markup kept as text
        result = f'counted <b class="weak-markup">42</b> widgets ({os.getpid()})'
        worker.ok("POST", "/api/tasks/status", {"task_id": tid, "status": "completed", "result": result})
        done = br.wait(lambda d: br.finds(f'section.group-completed li.task[data-task-id="{tid}"]'),
                       "the task completed, from the stream")[0]
        check(f"counted 42 widgets ({os.getpid()})" in done.text,
              f"the completed task does not show its result: {done.text!r}")
        check(br.finds(f'li.task[data-task-id="{tid}"] .task-result b.weak-markup'),
              "under weak web_output the result's markup did not become HTML")
        after = api_requests(br.requests())
        log(f"live: while the worker worked the page made {after}")
        check(all(p == "/api/events" for _, p in after),
              f"after load the page made requests besides its event stream: {after}")
        br.screenshot("board-live-1280")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def check_observer(args):
    swarm = Swarm(args.build, args.source)
    br = None
    try:
        seed(swarm)
        br = Browser(swarm, args.artifacts)
        br.login("viewer1", swarm.password("viewer1"))
        br.wait(lambda d: br.finds("li.task"), "the seeded tasks on the observer's board")
        actions = br.js("return [...document.querySelectorAll('main button, main form, main input, "
                        "main select, main textarea')].filter(e => e.offsetParent !== null).length")
        check(actions == 0, f"the observer's board offers {actions} action element(s)")
        check(not br.finds("#create-project-form:not([hidden])") or
              not br.find("#create-project").is_displayed(), "the observer sees the create form")
        # a forged request: the page's own API module, past the hidden buttons
        forged = br.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            Promise.all([import('/api.js'), import('/render.js')]).then(async ([api, render]) => {
              try {
                await api.post('/api/projects', {name: 'forged by the observer'});
                done({ok: true});
              } catch (e) {
                render.sayRefusal(document.getElementById('live'), 'Creating the project', e);
                done({ok: false, status: e.status, name: e.name, message: e.message});
              }
            }).catch(e => done({ok: true, error: String(e)}));""")
        log(f"observer: the forged POST got {forged}")
        check(not forged.get("ok") and forged.get("status") == 403 and forged.get("name") == "forbidden",
              f"the forged POST was not refused 403 forbidden: {forged}")
        br.wait(lambda d: "forbidden" in br.text("#live"), "the refusal shown in the live region")
        coord = HttpClient(swarm.url)
        coord.login("coordinator1", swarm.password("coordinator1"))
        names = [p.get("name") for p in coord.ok("GET", "/api/board").get("projects", [])]
        check("forged by the observer" not in names, f"the forged project exists: {names}")
        br.screenshot("board-observer-forged-1280")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def check_revoke(args):
    swarm = Swarm(args.build, args.source)
    victim = admin = None
    try:
        victim = Browser(swarm, args.artifacts)
        victim.login("worker1", swarm.password("worker1"))
        victim.wait_js("document.getElementById('stream-state').dataset.state === 'open'", "the worker's stream")
        log("revoke: worker1's board is live")
        admin = Browser(swarm, args.artifacts)
        admin.login("admin", swarm.password("admin"), "admin.html", "adminReady")
        log("revoke: the admin page is ready")
        rows = admin.finds('#sessions-body tr[data-agent="worker1"]')
        check(len(rows) == 1, f"the admin sees {len(rows)} session(s) of worker1")
        token = victim.text("#who-session-id")  # stage2: the user's own page shows it
        check(len(token) >= 16, f"the worker's own page shows no session id ({token!r})")
        check(token not in admin.driver.page_source, "the admin page shows a bearer token")
        rows[0].find_element(weblib.By.CSS_SELECTOR, "button").send_keys(Keys.ENTER)
        admin.wait(lambda d: "Revoked" in admin.text("#live"), "the admin's confirmation")
        log("revoke: the admin revoked worker1's session")
        admin.wait(lambda d: not admin.finds('#sessions-body tr[data-agent="worker1"]'),
                   "worker1's session gone from the list")
        admin.screenshot("admin-revoked-1280")
        victim.wait(lambda d: victim.find("#session-ended").is_displayed()
                    and "revoked" in victim.text("#session-ended"), "the revoked user's page saying so")
        victim.screenshot("board-revoked-1280")
        # and the next call of any page gets session_invalid, which the page says too
        victim.go("board.html")
        victim.wait(lambda d: victim.find("#session-ended").is_displayed()
                    and "session_invalid" in victim.text("#session-ended"),
                    "session_invalid on the revoked user's next page")
        check_user_agent(swarm)
    finally:
        for b in (victim, admin):
            if b:
                b.close()
        swarm.stop()


def check_strong(args):
    """The pages under the web controls strong (on stage2's bus): the web session cookie
    is __Host-tc (HttpOnly, never in a URL), every POST carries the CSRF token of /api/me,
    the strict CSP runs the pages, and markup in a title or result stays text."""
    sets = ["web_session = strong", "csrf = strong", "web_output = strong", "web_token = strong"]
    swarm = Swarm(args.build, args.source, sets=sets)
    br = None
    try:
        br = Browser(swarm, args.artifacts)
        br.login("coordinator1", swarm.password("coordinator1"))
        cookies = {c["name"]: c for c in br.driver.get_cookies()}
        check("__Host-tc" in cookies and cookies["__Host-tc"].get("httpOnly"),
              f"no HttpOnly __Host-tc cookie: {list(cookies)}")
        check(not br.finds("#who-session-id"), "the bus session id is shown under strong web_session")
        links = [a.get_attribute("href") for a in br.finds("nav a")]
        check(all("session=" not in (h or "") for h in links), f"a link carries the session: {links}")
        check(br.js("return document.documentElement.dataset.webOutput") == "strong",
              "the page does not follow strong web_output")
        br.wait_js("document.getElementById('stream-state').dataset.state === 'open'", "the stream open")
        name = "<b>Strong</b> project"
        br.find("#project-name").send_keys(name)
        br.find("#create-project-form button[type=submit]").click()
        article = br.wait(lambda d: [a for a in br.finds("article.project")
                                     if name in a.find_element(weblib.By.CSS_SELECTOR, "h3").text],
                          "the new project, its name as text")[0]
        pid = int(article.get_attribute("data-project-id"))
        br.find(f"#p{pid}-title").send_keys('<img src="x" id="injected-title">Markup title')
        br.find(f"#p{pid}-worker").send_keys("worker1")
        br.find(f'form.assign-form[data-project-id="{pid}"] button[type=submit]').click()
        li = br.wait(lambda d: br.finds(f'article[data-project-id="{pid}"] li.task'), "the task")[0]
        tid = int(li.get_attribute("data-task-id"))
        worker = HttpClient(swarm.url)
        me = worker.login("worker1", swarm.password("worker1"))
        check(me.get("csrf"), "/api/me gives no csrf token under strong csrf")
        worker.ok("POST", "/api/tasks/status", {"task_id": tid, "status": "in_progress"})
        worker.ok("POST", "/api/tasks/status", {"task_id": tid, "status": "completed",
                                                "result": '<b id="injected-result">bold</b> result'})
        done = br.wait(lambda d: br.finds(f'section.group-completed li.task[data-task-id="{tid}"]'),
                       "the completed task, from the stream")[0]
        check('<b id="injected-result">bold</b>' in done.text, f"the result is not shown as text: {done.text!r}")
        check(not br.finds("#injected-title, #injected-result, article.project h3 b"),
              "markup from the server became elements under strong web_output")
        # a POST without the token is refused by the gateway (403), before the broker
        status = br.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('/api/projects', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                    body: JSON.stringify({name: 'no token'}), credentials: 'same-origin'})
              .then(r => r.json().then(j => done([r.status, j.error])), e => done([0, String(e)]));""")
        check(status[0] == 403, f"a POST without the CSRF token got {status}")
        br.screenshot("board-strong-1280")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def check_lab(args):
    """The lab page as the admin sees it: every control in force with its setting as the
    gateway states it (stage2: all weak), the web controls among them."""
    swarm = Swarm(args.build, args.source, sets=["csrf = strong"])
    br = None
    try:
        admin = HttpClient(swarm.url)
        admin.login("admin", swarm.password("admin"))
        stated = admin.ok("GET", "/api/lab/controls")
        want = {c["name"]: c["setting"] for c in stated["controls"]}
        br = Browser(swarm, args.artifacts)
        br.login("admin", swarm.password("admin"), "lab.html", "labReady")
        shown = br.js("""return Object.fromEntries([...document.querySelectorAll('#controls-body tr[data-control]')]
                         .map(tr => [tr.dataset.control, tr.querySelector('.setting').textContent]))""")
        check(shown == want, f"the page's controls {shown} are not the gateway's {want}")
        for name in ("web_session", "csrf", "web_output", "web_token"):
            check(name in shown, f"the control {name} is not shown")
        check(shown["csrf"] == "strong" and shown["replay"] == "weak",
              f"the settings shown are not the ones in force: {shown}")
        br.screenshot("lab-controls-1280")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


def check_labrun(args):
    """The Run button: one attack against the swarm's own broker, its narration and verdict
    streamed into the page; the verdict equals collab-attack's for the same attack and
    broker. sniff as root (its verdict does not depend on timing), else enumerate-agents."""
    attack = "sniff" if os.geteuid() == 0 else "enumerate-agents"
    swarm = Swarm(args.build, args.source, demo_keys=True)
    br = None
    try:
        br = Browser(swarm, args.artifacts)
        br.login("admin", swarm.password("admin"), "lab.html", "labReady")
        sel = f'#attack-list button[data-attack="{attack}"]'
        br.wait(lambda d: br.finds(sel), "the Run button of " + attack)
        br.find(sel).click()
        shown = br.wait_js("document.getElementById('run-verdict').dataset.verdict",
                           "the run's verdict", timeout=150)
        lines = br.finds("#run-lines li")
        check(len(lines) > 0, "the run's narration did not reach the page")
        br.screenshot("lab-run-1280")
        cli = subprocess.run([swarm.exe("tools/attack/collab-attack"), attack, "--json",
                              "--broker", swarm.endpoint], capture_output=True, text=True,
                             timeout=150)
        out = [ln for ln in cli.stdout.splitlines() if ln.startswith("{")]
        check(out, f"collab-attack {attack} printed no verdict: {cli.stderr[-500:]}")
        want = json.loads(out[-1])["verdict"]
        check(shown == want, f"the page shows {shown}, the command line gives {want}")
        log(f"{attack}: the page and the command line both say {want}")
        check_user_agent(swarm)
    finally:
        if br:
            br.close()
        swarm.stop()


CHECKS = {"static": check_static, "layout": check_layout, "axe": check_axe,
          "keyboard": check_keyboard, "live": check_live, "observer": check_observer,
          "revoke": check_revoke, "strong": check_strong,
          "lab": check_lab, "labrun": check_labrun}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--artifacts")
    ap.add_argument("--axe")
    ap.add_argument("check", choices=sorted(CHECKS))
    args = ap.parse_args()
    args.build, args.source = os.path.abspath(args.build), os.path.abspath(args.source)
    args.artifacts = os.path.abspath(args.artifacts or os.path.join(args.build, "web-screenshots"))
    t0 = time.monotonic()
    try:
        CHECKS[args.check](args)
    except weblib.TestFailure as e:
        print(f"FAIL {args.check}: {e}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print(f"FAIL {args.check}: an unexpected error", file=sys.stderr)
        return 1
    log(f"PASS {args.check} in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
