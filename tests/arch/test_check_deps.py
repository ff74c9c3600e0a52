#!/usr/bin/env python3
"""test_check_deps.py: the include checker finds what it must, on small trees made here."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "check_deps.py")

RULES = """
module core   lib/core/*
module app    lib/app/*
module spawn  lib/spawn/*
allow app -> core spawn
forbid-system core zmq.h
only spawn \\bfork\\s*\\(
acyclic lib/app
"""


def tree(files):
    root = tempfile.mkdtemp()
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return root


def run(root, extra_rules=""):
    rules = os.path.join(root, "rules")
    with open(rules, "w") as f:
        f.write(RULES + extra_rules)
    p = subprocess.run([sys.executable, TOOL, "check", "--root", root, "--rules", rules],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


GOOD = {
    "lib/core/a.h": "int a(void);\n",
    "lib/core/a.c": '#include "a.h"\nint a(void) { return 0; }\n',
    "lib/app/b.h": '#include "a.h"\n',
    "lib/app/b.c": '#include "b.h"\n#include "spawn.h"\n/* fork() in a comment */\n',
    "lib/spawn/spawn.h": "int sp(void);\n",
    "lib/spawn/spawn.c": "#include <unistd.h>\nint sp(void) { return fork(); }\n",
}


class CheckDeps(unittest.TestCase):
    def test_allowed_tree_passes(self):
        rc, out = run(tree(GOOD))
        self.assertEqual((rc, out), (0, ""))

    def test_upward_include_fails(self):
        t = dict(GOOD)
        t["lib/core/a.c"] = '#include "b.h"\n'
        rc, out = run(tree(t))
        self.assertEqual(rc, 1)
        self.assertIn("lib/core/a.c:1: core may not include b.h (module app)", out)

    def test_forbidden_system_header_fails(self):
        t = dict(GOOD)
        t["lib/core/a.c"] = "#include <zmq.h>\n"
        rc, out = run(tree(t))
        self.assertIn("module core may not include <zmq.h>", out)
        self.assertEqual(rc, 1)

    def test_restricted_call_outside_its_module_fails(self):
        t = dict(GOOD)
        t["lib/app/b.c"] = "int f(void) { return fork (); }\n"
        rc, out = run(tree(t))
        self.assertIn("lib/app/b.c:1: only module spawn may call", out)

    def test_circle_of_files_fails(self):
        t = dict(GOOD)
        t["lib/app/c.h"] = '#include "b.h"\n'
        t["lib/app/b.c"] = '#include "c.h"\n'
        t["lib/app/b.h"] = '#include "c.h"\n'
        rc, out = run(tree(t))
        self.assertIn("circle", out)

    def test_circle_of_modules_fails(self):
        t = dict(GOOD)
        t["lib/core/a.c"] = '#include "b.h"\n'
        rc, out = run(tree(t), "allow core -> app\n")
        self.assertIn("modules include each other in a circle: app -> core -> app", out)

    def test_picture_compare(self):
        root = tree(GOOD)
        rules = os.path.join(root, "rules")
        with open(rules, "w") as f:
            f.write(RULES)
        drawn = subprocess.run([sys.executable, TOOL, "dot", "--root", root, "--rules", rules],
                               capture_output=True, text=True).stdout
        self.assertIn('"app" -> "core";', drawn)
        pic = os.path.join(root, "pic.dot")
        for text, rc in ((drawn, 0), (drawn.replace("core", "kore"), 1)):
            with open(pic, "w") as f:
                f.write(text)
            p = subprocess.run([sys.executable, TOOL, "dot", "--root", root, "--rules", rules,
                                "--compare", pic], capture_output=True, text=True)
            self.assertEqual(p.returncode, rc)

    def test_file_in_no_module_fails(self):
        t = dict(GOOD)
        t["other/x.c"] = "int x;\n"
        rc, out = run(tree(t))
        self.assertIn("other/x.c: in no module", out)


if __name__ == "__main__":
    unittest.main()
