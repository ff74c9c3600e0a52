#!/usr/bin/env python3
# doc_commands.py: runs every command of the documents' ```sh blocks exactly as written, against
# a fresh swarm, and checks the outcome each command states beside it (ctest: doc_commands).
"""Executable documentation.

Every line of every ```sh block of the files named on the command line is a command (a line
ending in a backslash continues on the next one). Each must end with a comment stating its
outcome, else the test fails:

    # expect: exit N          the exit code is N
    # expect: SUCCEEDED       exit 0 and a line starting "SUCCEEDED" (an attack's verdict)
    # expect: BLOCKED         exit 10 and a line starting "BLOCKED"
    # expect: HOLDS           exit 0 and a line starting "HOLDS" (a collab-probe check)
    ...; output: TEXT         and the output (stdout + stderr) contains TEXT
    # expect: exit N after Ctrl-C; output: TEXT
                              runs until Ctrl-C (`docker-compose up`): started in a first
                              terminal, left running once TEXT shows in its output, then
                              interrupted as a terminal does (SIGINT to its process group)
                              before the next command, or at the end of its document; its exit
                              code must then be N. The output clause is required.

The prose before `expect:` may say two more things, in its own words:
    in another terminal       the command runs while the one before still runs until Ctrl-C
                              (that one is not interrupted first)
    typed: A, B, C            the lines a person types at the command's prompts: its
                              standard input, one line per item (else stdin is empty)

A prose comment may precede it (`# what it does; expect: exit 0`). Comment-only lines are prose,
except a label line `# [ID] text`, which names the command after it. Synopses with placeholders
belong in ```text blocks, which are not run; ```bash, ```shell and ```console blocks are refused
so that no command can hide from this test. The same command written twice in a file is refused.

The fidelity table: a file may hold a markdown table whose header starts `| seed |`. Each row's
first cell is a seed item (I1..I20, the seed's improvements; R1..R15, its remaining
weaknesses) and its last cell names the one labelled command that shows it (`[ID]`, a label of
an sh block of the same file). The test requires 20 I rows and 15 R rows, each naming exactly
one label that exists, and reports each row with its command's result. So the table holds no
second copy of any command.

How the commands run: each with `bash -c`, in order, from a work tree whose paths resolve as in
the repository (a temporary folder holding a symlink to every top-level entry of the source
tree, `build` pointing at this ctest build), with COLLAB_SWARM_PORT=auto,
COLLAB_SWARM_NO_BUILD=1 and COLLAB_SWARM_DIR inside the temporary folder. A line that assigns
variables (`E=$(scripts/swarm endpoint)`) carries them to the following lines of the same file;
every line's own exit code is checked. Each file starts without variables; the swarm is
whatever the file's own commands start (each file starts `scripts/swarm`, so from a fresh one).
At the end, even after a failure, the swarm is stopped and the folder removed.

Exemptions (listed by name when the test runs):
  - `scripts/test`: the suite itself; running it here would recurse.
  - the full matrix, `build/tools/attack/collab-attack matrix`: not rerun (minutes); its
    stated outcome is checked against the JSON that this ctest run's own `attack_matrix`
    test wrote (`--matrix-json`, fixture attack_matrix_result): every attack of the catalogue
    under every configuration, no cell differing, written after this ctest run began.
  - the fuzzing commands of the README (a clang tree and 60 s of libFuzzer): the suite
    replays the fuzz corpora in its own tests.
  - the container commands, `docker-compose` and `scripts/images`: they need a container
    engine, which this test does not start. ctest doc_containers starts one
    (tests/deploy/doc_containers.sh) and runs them with --containers: as written, in order,
    under a compose project name of its own (COMPOSE_PROJECT_NAME), and nothing else.

Not exempt, on purpose: the README's first command, `scripts/swarm` (the whole scenario run to
its end, a few seconds), because it is the first thing a new user types; and `scripts/swarm
stop`, which the documents write where a learner would stop the swarm.

The wire attacks capture on lo with libpcap, which needs root: elsewhere the test skips (77).
`--list` only reads the documents and checks their form (no root needed).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXPECT_RE = re.compile(
    r"\s#(?P<prose>[^#\n]*;)?\s*expect:\s*"
    r"(?P<what>exit\s+\d+(?P<ctrlc>\s+after\s+Ctrl-C)?|SUCCEEDED|BLOCKED|HOLDS)"
    r"(?:\s*;\s*output:\s*(?P<out>.*?))?\s*$")
TYPED_RE = re.compile(r"(?:^|;)\s*typed:\s*(?P<lines>[^;]*)")
ANOTHER_RE = re.compile(r"\bin another terminal\b")
LABEL_RE = re.compile(r"^\s*#\s*\[(?P<id>[A-Z]+[0-9]+[a-z]?)\]")
ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")
FENCE_RE = re.compile(r"^\s*```\s*([A-Za-z0-9_+-]*)\s*$")
REFUSED_LANGS = {"bash", "shell", "console", "zsh", "shell-session"}
VERDICT = {"SUCCEEDED": (0, "SUCCEEDED"), "BLOCKED": (10, "BLOCKED"), "HOLDS": (0, "HOLDS")}

EXEMPT_TEST = "scripts/test"
EXEMPT_MATRIX = "build/tools/attack/collab-attack matrix"
EXEMPT_FUZZ = "scripts/fuzz"
EXEMPT_SOAK = "scripts/soak"
EXEMPT_COMPOSE = "docker-compose"
EXEMPT_IMAGES = "scripts/images"


class Command:
    def __init__(self, path, line, text, label):
        self.path, self.line, self.text, self.label = path, line, text, label
        m = EXPECT_RE.search(text)
        self.expect = m.group("what") if m else None
        self.output = m.group("out") if m and m.group("out") else None
        prose = (m.group("prose") or "") if m else ""
        # runs until Ctrl-C: started, left running once its output shows, then interrupted
        self.ctrl_c = bool(m and m.group("ctrlc"))
        if self.ctrl_c:
            self.expect = "exit %s" % self.expect.split()[1]
        # typed while the one before still runs in the first terminal
        self.another_terminal = bool(ANOTHER_RE.search(prose))
        t = TYPED_RE.search(prose)
        self.typed = [w.strip() for w in t.group("lines").split(",")] if t else None
        self.bare = (text[:m.start()] if m else text).strip()
        self.result = None  # None: not run; True/False: passed or not

    def where(self):
        return "%s:%d" % (os.path.basename(self.path), self.line)


def parse_doc(path):
    """The sh commands of a markdown file and its fidelity table rows; errors as a list."""
    cmds, rows, errors = [], [], []
    lines = open(path, encoding="utf-8").read().split("\n")
    lang, label, pending, start = None, None, None, 0
    for n, raw in enumerate(lines, 1):
        fence = FENCE_RE.match(raw)
        if fence and lang is None:
            lang = fence.group(1).lower() or "-"
            if lang in REFUSED_LANGS:
                errors.append("%s:%d: a ```%s block: commands go in ```sh blocks, synopses in "
                              "```text" % (os.path.basename(path), n, lang))
            continue
        if fence and lang is not None and fence.group(1) == "":
            if pending is not None:
                errors.append("%s:%d: a continued line ends the block" % (path, n))
            lang, label, pending = None, None, None
            continue
        if lang is None:
            cells = [c.strip() for c in raw.strip().strip("|").split("|")]
            if raw.lstrip().startswith("|") and re.fullmatch(r"[IR][0-9]+", cells[0]):
                rows.append((n, cells))
            continue
        if lang != "sh":
            continue
        if pending is None:
            if not raw.strip():
                continue
            if raw.lstrip().startswith("#"):
                m = LABEL_RE.match(raw)
                if m:
                    label = m.group("id")
                continue
            pending, start = raw, n
        else:
            pending += "\n" + raw
        if pending.endswith("\\"):
            continue
        cmds.append(Command(path, start, pending, label))
        pending, label = None, None
    return cmds, rows, errors


def command_errors(c):
    """What is wrong with one command's stated outcome, as a list."""
    if c.expect is None:
        return ["%s: no stated outcome (# expect: ...): %s" % (c.where(), c.bare)]
    if c.ctrl_c and c.output is None:
        return ["%s: a command run until Ctrl-C states the output to wait for "
                "(...; output: TEXT): %s" % (c.where(), c.bare)]
    return []


def check_table(path, rows, labels):
    """The fidelity table: 20 improvements and 15 weaknesses, one existing label each."""
    errors, refs = [], []
    seen = {}
    for n, cells in rows:
        seen.setdefault(cells[0], []).append(n)
        found = re.findall(r"\[([A-Z]+[0-9]+[a-z]?)\]", cells[-1])
        if len(found) != 1:
            errors.append("%s:%d: row %s names %d commands, not one" % (path, n, cells[0],
                                                                           len(found)))
        elif found[0] not in labels:
            errors.append("%s:%d: row %s names [%s], which no sh command has" % (
                path, n, cells[0], found[0]))
        else:
            refs.append((cells[0], cells[1], found[0]))
    for kind, count in (("I", 20), ("R", 15)):
        for i in range(1, count + 1):
            key = "%s%d" % (kind, i)
            if len(seen.get(key, [])) != 1:
                errors.append("%s: fidelity row %s appears %d times, not once" % (
                    path, key, len(seen.get(key, []))))
    extra = [k for k in seen if not (k[0] == "I" and 1 <= int(k[1:]) <= 20)
             and not (k[0] == "R" and 1 <= int(k[1:]) <= 15)]
    errors += ["%s: fidelity row %s is not a seed item" % (path, k) for k in extra]
    return refs, errors


def _named(cmd, script):
    """The command runs script itself, with or without arguments or a leading nice."""
    words = cmd.bare.split()
    if words[:1] == ["nice"]:
        words = words[3:] if words[1:2] == ["-n"] else words[1:]
    return words[:1] == [script]


# Set in the sanitizer build's run (--matrix-configs): browsers run in the normal build only.
SANITIZED = False
BROWSER_ATTACK_RE = re.compile(r"\bcollab-attack\b.*\b(web-cookie-theft|web-csrf|web-xss)\b")


def exemption(cmd):
    if SANITIZED and BROWSER_ATTACK_RE.search(cmd.bare):
        return ("a browser attack (a headless Chromium is its victim): browsers run in the "
                "normal build only, whose doc_commands runs it as written")
    if _named(cmd, EXEMPT_TEST):
        return "scripts/test (the suite itself: it would recurse)"
    if cmd.bare == EXEMPT_MATRIX:
        return "the full matrix (checked from this ctest run's attack_matrix result)"
    if _named(cmd, EXEMPT_FUZZ):
        return "scripts/fuzz (a clang tree and minutes of libFuzzer; the suite replays the corpora)"
    if _named(cmd, EXEMPT_SOAK):
        return "scripts/soak (about 10 minutes of load; ctest soak_script runs it small)"
    if container_command(cmd):
        return ("a container command: ctest doc_containers runs it as written, on a "
                "container engine (--containers)")
    return None


def container_command(cmd):
    """The commands that need a container engine: run only with --containers."""
    return _named(cmd, EXEMPT_COMPOSE) or _named(cmd, EXEMPT_IMAGES)


def ctest_start():
    """Start time (epoch seconds) of the nearest ctest ancestor, or None."""
    hz = os.sysconf("SC_CLK_TCK")
    boot = None
    for line in open("/proc/stat"):
        if line.startswith("btime "):
            boot = int(line.split()[1])
    pid = os.getppid()
    while pid > 1:
        try:
            stat = open("/proc/%d/stat" % pid).read()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
        except OSError:
            return None
        if comm == "ctest":
            return boot + int(fields[19]) / hz
        pid = int(fields[1])
    return None


def control_names(source):
    """The controls of protocol/collab_controls.def, in its order."""
    with open(os.path.join(source, "protocol", "collab_controls.def")) as f:
        return re.findall(r'^COLLAB_CONTROL\(\w+, "(\w+)"', f.read(), re.M)


def matrix_columns(source):
    """The matrix's columns after stage2 and hardened: the controls of
    protocol/collab_controls.def, in its order, a control that requires another
    (COLLAB_CONTROL_REQUIRES) named stage2+REQUIRED+NAME."""
    with open(os.path.join(source, "protocol", "collab_controls.def")) as f:
        text = f.read()
    ids = dict(re.findall(r'^COLLAB_CONTROL\((\w+), "(\w+)"', text, re.M))
    requires = dict(re.findall(r'^COLLAB_CONTROL_REQUIRES\((\w+), (\w+)\)', text, re.M))
    columns = []
    for ident, name in re.findall(r'^COLLAB_CONTROL\((\w+), "(\w+)"', text, re.M):
        chain, k = [], ident
        while k in ids and k not in chain:
            chain.insert(0, k)
            k = requires.get(k)
        columns.append(name if len(chain) == 1 else "+".join(["stage2"] + [ids[c] for c in chain]))
    return columns


def check_matrix(cmd, json_path, sample_data, only_configs=None):
    """The full matrix's stated outcome, from this ctest run's attack_matrix result (in the
    sanitizer build that test runs only some columns: only_configs names them)."""
    if cmd.output is not None:
        return False, "an output clause cannot be checked on the reused matrix result"
    if not cmd.expect.startswith("exit "):
        return False, "the matrix states an exit code"
    if not json_path or not os.path.exists(json_path):
        return False, "no attack_matrix result at %s (the attack_matrix test must run first)" % (
            json_path)
    started = ctest_start()
    mtime = os.path.getmtime(json_path)
    if started is not None and mtime < started:
        return False, "%s predates this ctest run: a stored copy, not this run's result" % (
            json_path)
    if started is None and time.time() - mtime > 3600:
        return False, "%s is older than an hour and this is no ctest run" % json_path
    try:
        result = json.load(open(json_path))
        cat = json.load(open(os.path.join(sample_data, "attack_scenarios.json")))
        controls = matrix_columns(os.path.dirname(sample_data))
    except (OSError, ValueError) as e:
        return False, "cannot read the matrix result: %s" % e
    attacks = {a["attack"] for a in cat.get("attacks", [])}
    if not controls:
        return False, "no COLLAB_CONTROL line in protocol/collab_controls.def"
    configs = {"stage2", "hardened"} | set(controls)
    if only_configs:
        configs = set(only_configs)
    cells = result.get("cells", [])
    got = {(c.get("attack"), c.get("config")) for c in cells}
    missing = [(a, c) for a in sorted(attacks) for c in sorted(configs) if (a, c) not in got]
    if missing:
        return False, "the matrix result lacks %d cells, e.g. %s under %s" % (
            len(missing), missing[0][0], missing[0][1])
    differ = [c for c in cells if c.get("verdict") != c.get("expected")]
    rc = 0 if not differ and result.get("mismatches") == 0 else 1
    want = int(cmd.expect.split()[1])
    if rc != want:
        return False, "the matrix result has %d differing cells (exit %d, expected %d)" % (
            len(differ), rc, want)
    return True, "%d cells%s, %d differ (exit %d), written %s, %s" % (
        len(cells), " (columns %s only)" % ",".join(sorted(configs)) if only_configs else "",
        len(differ), rc, time.strftime("%H:%M:%S", time.localtime(mtime)),
        "after this ctest run began (%s)" % time.strftime("%H:%M:%S", time.localtime(started))
        if started is not None else "within the hour (no ctest run)")


def spawn(cmd, work, env, state, outdir, index):
    """Starts one command with bash -c in a session of its own (a terminal's process group);
    returns the process and the paths of its stdout and stderr."""
    names = [m.group(1) for m in (ASSIGN_RE.match(cmd.bare),) if m]
    script = "source %s\n%s\n__doc_rc=$?\n" % (state, cmd.text)
    for name in names:
        script += "declare -p %s >> %s 2>/dev/null\n" % (name, state)
    script += "exit $__doc_rc\n"
    out_path = os.path.join(outdir, "%03d.out" % index)
    err_path = os.path.join(outdir, "%03d.err" % index)
    stdin = subprocess.DEVNULL
    if cmd.typed is not None:  # what the document says to type, one line each
        in_path = os.path.join(outdir, "%03d.in" % index)
        with open(in_path, "w") as f:
            f.write("".join(line + "\n" for line in cmd.typed))
        stdin = open(in_path, "rb")
    # files, not pipes: a command may leave a background process holding its output
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, stdout=out,
                                stderr=err, stdin=stdin, start_new_session=True)
    if stdin is not subprocess.DEVNULL:
        stdin.close()
    return proc, out_path, err_path


def read_output(cmd, out_path, err_path):
    cmd.stdout = open(out_path, "rb").read().decode("utf-8", "replace")
    cmd.stderr = open(err_path, "rb").read().decode("utf-8", "replace")


def run_one(cmd, work, env, state, timeout, outdir, index):
    """Runs one command with bash -c; returns (passed, why, seconds)."""
    t0 = time.monotonic()
    proc, out_path, err_path = spawn(cmd, work, env, state, outdir, index)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rc = None
    except BaseException:  # the test is stopped: the command goes with it
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    secs = time.monotonic() - t0
    read_output(cmd, out_path, err_path)
    return judge(cmd, rc, timeout, secs)


class Background:
    """A command that runs until Ctrl-C (`expect: exit N after Ctrl-C; output: TEXT`): started,
    left running once TEXT is in its output, so that the commands typed "in another terminal"
    run beside it, then interrupted as a terminal does (SIGINT to its process group) before
    the next command of the same terminal, or at the end of its document."""

    def __init__(self, cmd, work, env, state, timeout, outdir, index):
        self.cmd, self.timeout, self.t0 = cmd, timeout, time.monotonic()
        self.proc, self.out_path, self.err_path = spawn(cmd, work, env, state, outdir, index)

    def wait_output(self):
        """(True, why) once the stated output shows; (False, why) if it ends or times out."""
        deadline = self.t0 + self.timeout
        while True:
            read_output(self.cmd, self.out_path, self.err_path)
            if self.cmd.output in self.cmd.stdout + self.cmd.stderr:
                return True, "its output shows %r after %.1f s; left running" % (
                    self.cmd.output, time.monotonic() - self.t0)
            rc = self.proc.poll()
            if rc is not None:
                return False, "it ended (exit %d) before its output showed %r" % (
                    rc, self.cmd.output)
            if time.monotonic() > deadline:
                self.kill()
                return False, "its output did not show %r in %d s" % (self.cmd.output,
                                                                      self.timeout)
            time.sleep(0.2)  # polls the output file; the deadline above bounds the wait

    def interrupt(self):
        """Ctrl-C, then its exit code is judged: (passed, why, seconds)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        secs = time.monotonic() - self.t0
        read_output(self.cmd, self.out_path, self.err_path)
        passed, why, secs = judge(self.cmd, rc, self.timeout, secs)
        return passed, "after Ctrl-C: " + why, secs

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def judge(cmd, rc, timeout, secs):
    """The stated outcome against what happened: (passed, why, seconds)."""
    stdout, stderr = cmd.stdout, cmd.stderr
    if rc is None:
        return False, "timed out after %d s" % timeout, secs
    if cmd.expect.startswith("exit "):
        want_rc, verdict = int(cmd.expect.split()[1]), None
    else:
        want_rc, verdict = VERDICT[cmd.expect]
    if rc != want_rc:
        return False, "exit %d, expected %d" % (rc, want_rc), secs
    if verdict and not re.search(r"^%s\b" % verdict, stdout, re.M):
        return False, "no line starting %s on stdout" % verdict, secs
    if cmd.output is not None and cmd.output not in stdout + stderr:
        return False, "the output lacks %r" % cmd.output, secs
    return True, "exit %d" % rc, secs


def report(c, ok, why, secs):
    """Prints a command's result; 1 when it failed."""
    c.result = ok
    label = "[%s] " % c.label if c.label else ""
    print("  %s %5.1fs %s %s%s  (%s)" % ("ok  " if ok else "FAIL", secs, c.where(), label,
                                        c.bare, why), flush=True)
    if not ok:
        print("    stdout:\n%s\n    stderr:\n%s" % (tail(c.stdout), tail(c.stderr)))
    return 0 if ok else 1


def tail(text, n=15):
    lines = text.rstrip("\n").split("\n")
    return "\n".join("      | " + l for l in lines[-n:]) if text.strip() else "      | (empty)"


def make_work_tree(source, build, tmp):
    work = os.path.join(tmp, "tree")
    os.mkdir(work)
    for entry in os.listdir(source):
        if entry != "build":
            os.symlink(os.path.join(source, entry), os.path.join(work, entry))
    os.symlink(build, os.path.join(work, "build"))
    return work


def stop_swarm(work, env):
    subprocess.run(["bash", "-c", "scripts/swarm stop"], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def on_signal(signum, _frame):
    # ctest's timeout or ^C: unwind, so that the swarm is stopped and the folder removed
    raise SystemExit("doc_commands: stopped by signal %d" % signum)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True, help="the source tree")
    ap.add_argument("--build", required=True, help="the build tree whose binaries run")
    ap.add_argument("--matrix-json", help="this ctest run's attack_matrix result")
    ap.add_argument("--matrix-configs", type=lambda v: v.split(","),
                    help="the columns attack_matrix ran, when not all (the sanitizer build)")
    ap.add_argument("--timeout", type=int, default=240, help="seconds per command")
    ap.add_argument("--list", action="store_true", help="parse and list, run nothing")
    ap.add_argument("--containers", action="store_true",
                    help="run only the container commands (docker-compose, scripts/images), "
                         "on the engine of DOCKER_HOST, which the caller provides")
    ap.add_argument("docs", nargs="+", help="markdown files, relative to --source")
    args = ap.parse_args()
    source, build = os.path.realpath(args.source), os.path.realpath(args.build)

    plans, errors = [], []
    for doc in args.docs:
        path = os.path.join(source, doc)
        cmds, rows, errs = parse_doc(path)
        errors += errs
        labels = {}
        seen = {}
        for c in cmds:
            errors += command_errors(c)
            if c.bare in seen:
                errors.append("%s: the same command as line %d: %s" % (c.where(), seen[c.bare],
                                                                       c.bare))
            seen.setdefault(c.bare, c.line)
            if c.label:
                if c.label in labels:
                    errors.append("%s: label [%s] used twice" % (c.where(), c.label))
                labels[c.label] = c
        refs, errs = check_table(doc, rows, labels) if rows else ([], [])
        errors += errs
        plans.append((doc, cmds, refs, labels))
    if errors:
        print("doc_commands: the documents do not follow the format:")
        for e in errors:
            print("  " + e)
        return 1
    if args.list:
        for doc, cmds, refs, _ in plans:
            print("== %s: %d commands, %d fidelity rows" % (doc, len(cmds), len(refs)))
            for c in cmds:
                print("  %s%s  %s" % (c.where(), " [%s]" % c.label if c.label else "", c.bare))
        return 0
    if os.geteuid() != 0 and not args.containers:
        print("skipped: the documents' wire attacks and captures need root (libpcap on lo)")
        return 77

    tmp = tempfile.mkdtemp(prefix="doc-commands-")
    work = make_work_tree(source, build, tmp)
    env = dict(os.environ, COLLAB_SWARM_PORT="auto", COLLAB_SWARM_NO_BUILD="1",
               COLLAB_SWARM_DIR=os.path.join(tmp, "swarm"))
    if args.containers and "COMPOSE_PROJECT_NAME" not in env:
        env["COMPOSE_PROJECT_NAME"] = "tcdoc%d" % os.getpid()
    for var in ("COLLAB_BROKER", "COLLAB_AGENT_ID", "COLLAB_PASSWORD_FILE",
                "COLLAB_CREDENTIALS", "COLLAB_BUILD_DIR", "E", "S"):
        env.pop(var, None)
    outdir = os.path.join(tmp, "out")
    os.mkdir(outdir)
    failed, summary, index, bg = 0, [], 0, None
    global SANITIZED
    SANITIZED = bool(args.matrix_configs)
    t_all = time.monotonic()
    print("doc_commands: work tree %s (build -> %s)" % (work, build))
    try:
        for doc, cmds, refs, labels in plans:
            state = os.path.join(tmp, "vars-%s.sh" % re.sub(r"\W", "_", doc))
            open(state, "w").close()
            ran, exempt, t_doc = 0, [], time.monotonic()
            print("== %s" % doc)
            for c in cmds:
                index += 1
                if args.containers and not container_command(c):
                    continue  # doc_commands runs it
                why_exempt = None if args.containers else exemption(c)
                if why_exempt and c.bare != EXEMPT_MATRIX:
                    exempt.append("%s: %s: %s" % (c.where(), c.bare, why_exempt))
                    c.result = True
                    continue
                if bg is not None and not c.another_terminal:
                    failed += report(bg.cmd, *bg.interrupt())
                    bg = None
                if c.another_terminal and bg is None:
                    ok, why, secs = False, "no command runs in the first terminal", 0.0
                    c.stdout = c.stderr = ""
                    ran += 1
                elif c.ctrl_c:
                    if bg is not None:
                        failed += report(bg.cmd, *bg.interrupt())
                    bg = Background(c, work, env, state, args.timeout, outdir, index)
                    ok, why = bg.wait_output()
                    secs = time.monotonic() - bg.t0
                    ran += 1
                    if not ok:
                        bg = None
                    else:
                        print("  run  %5.1fs %s %s  (%s)" % (secs, c.where(), c.bare, why),
                              flush=True)
                        continue
                elif why_exempt:  # the matrix
                    ok, why = check_matrix(c, args.matrix_json,
                                           os.path.join(source, "sample_data"),
                                           args.matrix_configs)
                    secs = 0.0
                    exempt.append("%s: %s: %s" % (c.where(), c.bare, why_exempt))
                    c.stdout = c.stderr = ""
                else:
                    ok, why, secs = run_one(c, work, env, state, args.timeout, outdir, index)
                    ran += 1
                failed += report(c, ok, why, secs)
            if bg is not None:  # the document ends: its first terminal gets Ctrl-C
                failed += report(bg.cmd, *bg.interrupt())
                bg = None
            for key, claim, label in refs if not args.containers else ():
                if not labels[label].result:
                    failed += 1
                    print("  FAIL fidelity row %s (%s): its command [%s] failed" % (key, claim,
                                                                                   label))
            summary.append("%s: ran %d commands in %.0f s%s; %d exempt%s" % (
                doc, ran, time.monotonic() - t_doc,
                ", fidelity table %d rows, %d shown" % (
                    len(refs), sum(1 for _, _, l in refs if labels[l].result)) if refs else "",
                len(exempt), "".join("\n    exempt " + e for e in exempt)))
    finally:
        if bg is not None:
            bg.kill()
        try:
            stop_swarm(work, env)
        except (OSError, subprocess.SubprocessError) as e:
            print("doc_commands: stopping the swarm failed: %s" % e)
        shutil.rmtree(tmp, ignore_errors=True)
    print("doc_commands: %.0f s" % (time.monotonic() - t_all))
    for line in summary:
        print("  " + line)
    if failed:
        print("doc_commands: %d failure(s)" % failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
