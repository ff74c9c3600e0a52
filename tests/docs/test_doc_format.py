#!/usr/bin/env python3
# test_doc_format.py: the doc test's reading of markdown (ctest: doc_commands_format), checked
# on small documents, so that a command without an outcome or a hidden block cannot slip by;
# and README.md's table of the controls against protocol/collab_controls.def.
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doc_commands as dc  # noqa: E402


def parse(text):
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
        f.write(text)
    try:
        return dc.parse_doc(f.name)
    finally:
        os.unlink(f.name)


class Outcomes(unittest.TestCase):
    def test_each_form(self):
        cmds, _, errors = parse("```sh\n"
                                "a   # expect: exit 3\n"
                                "b   # expect: SUCCEEDED\n"
                                "c   # expect: BLOCKED; output: nonce seen\n"
                                "d   # prose first; expect: HOLDS\n"
                                "```\n")
        self.assertEqual(errors, [])
        self.assertEqual([(c.bare, c.expect, c.output) for c in cmds],
                         [("a", "exit 3", None), ("b", "SUCCEEDED", None),
                          ("c", "BLOCKED", "nonce seen"), ("d", "HOLDS", None)])

    def test_missing_outcome_is_a_command_without_one(self):
        cmds, _, _ = parse("```sh\nscripts/swarm   # starts it\n```\n")
        self.assertEqual(len(cmds), 1)
        self.assertIsNone(cmds[0].expect)

    def test_unknown_outcome_is_none(self):
        cmds, _, _ = parse("```sh\nx   # expect: PASSED\n```\n")
        self.assertIsNone(cmds[0].expect)

    def test_continuation_and_label(self):
        cmds, _, _ = parse("```sh\n# [W1] the first\nlong \\\n  command   # expect: exit 0\n```\n")
        self.assertEqual(cmds[0].label, "W1")
        self.assertEqual(cmds[0].bare, "long \\\n  command")
        self.assertEqual(cmds[0].line, 3)


class Terminals(unittest.TestCase):
    """`after Ctrl-C`, `in another terminal` and `typed:`, read and then run for real."""

    def test_forms_are_read(self):
        cmds, _, errors = parse("```sh\n"
                                "up   # the swarm; expect: exit 0 after Ctrl-C; output: done\n"
                                "c    # in another terminal: menu; typed: 1, x y, 0; "
                                "expect: exit 0; output: 3 projects in all.\n"
                                "d    # typed: a; expect: exit 2\n"
                                "```\n")
        self.assertEqual(errors, [])
        self.assertEqual([(c.expect, c.ctrl_c, c.another_terminal, c.typed, c.output)
                          for c in cmds],
                         [("exit 0", True, False, None, "done"),
                          ("exit 0", False, True, ["1", "x y", "0"], "3 projects in all."),
                          ("exit 2", False, False, ["a"], None)])

    def test_container_commands(self):
        for line, want in (("docker-compose up", True), ("scripts/images --offline", True),
                           ("docker-composed", False), ("scripts/swarm", False)):
            c = dc.Command("d.md", 1, line + "   # expect: exit 0", None)
            self.assertEqual(dc.container_command(c), want, line)
            self.assertEqual(dc.exemption(c) is not None, want, line)

    def run_here(self, line, background=False):
        tmp = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(tmp, ignore_errors=True))
        state = os.path.join(tmp, "vars.sh")
        open(state, "w").close()
        cmd = dc.Command("d.md", 1, line, None)
        if not background:
            return dc.run_one(cmd, tmp, dict(os.environ), state, 20, tmp, 1)
        return dc.Background(cmd, tmp, dict(os.environ), state, 20, tmp, 1)

    def test_typed_lines_are_stdin(self):
        ok, why, _ = self.run_here('read a; read b; echo "<$b$a>"   '
                                   '# typed: x, y z; expect: exit 0; output: <y zx>')
        self.assertTrue(ok, why)

    def test_until_ctrl_c(self):
        bg = self.run_here("trap 'exit 3' INT; echo ready; sleep 30; exit 9   "
                           "# expect: exit 3 after Ctrl-C; output: ready", background=True)
        ok, why = bg.wait_output()
        self.assertTrue(ok, why)
        self.assertIsNone(bg.proc.poll())  # left running
        ok, why, _ = bg.interrupt()
        self.assertTrue(ok, why)

    def test_until_ctrl_c_wrong_exit(self):
        bg = self.run_here("trap 'exit 4' INT; echo ready; sleep 30   "
                           "# expect: exit 3 after Ctrl-C; output: ready", background=True)
        self.assertTrue(bg.wait_output()[0])
        ok, why, _ = bg.interrupt()
        self.assertFalse(ok)
        self.assertIn("exit 4, expected 3", why)

    def test_until_ctrl_c_ended_early(self):
        bg = self.run_here("echo other; exit 0   # expect: exit 0 after Ctrl-C; output: ready",
                           background=True)
        ok, why = bg.wait_output()
        self.assertFalse(ok)
        self.assertIn("before its output showed", why)

    def test_ctrl_c_needs_output(self):
        cmds, _, _ = parse("```sh\nup   # expect: exit 0 after Ctrl-C\nok   # expect: exit 0\n"
                           "no   # nothing\n```\n")
        errors = [dc.command_errors(c) for c in cmds]
        self.assertIn("states the output to wait for", errors[0][0])
        self.assertEqual(errors[1], [])
        self.assertIn("no stated outcome", errors[2][0])


class Blocks(unittest.TestCase):
    def test_text_and_plain_blocks_do_not_run(self):
        cmds, _, errors = parse("```text\nx ARG\n```\n```\ny\n```\n")
        self.assertEqual((cmds, errors), ([], []))

    def test_bash_block_is_refused(self):
        _, _, errors = parse("```bash\nrm -rf /tmp/x\n```\n")
        self.assertEqual(len(errors), 1)
        self.assertIn("```bash", errors[0])


class Table(unittest.TestCase):
    def rows(self, n_improvements, n_weaknesses, cell="[X1]"):
        lines = ["| I%d | claim | %s |" % (i, cell) for i in range(1, n_improvements + 1)]
        lines += ["| R%d | claim | %s |" % (i, cell) for i in range(1, n_weaknesses + 1)]
        _, rows, _ = parse("\n".join(lines) + "\n")
        return rows

    def test_complete_table(self):
        refs, errors = dc.check_table("d.md", self.rows(20, 15), {"X1": object()})
        self.assertEqual((len(refs), errors), (35, []))

    def test_missing_row_and_unknown_label(self):
        refs, errors = dc.check_table("d.md", self.rows(19, 15, "[Y2]"), {"X1": object()})
        self.assertEqual(refs, [])
        self.assertTrue(any("row I20 appears 0 times" in e for e in errors))
        self.assertTrue(any("names [Y2]" in e for e in errors))

    def test_two_commands_in_a_row(self):
        _, errors = dc.check_table("d.md", self.rows(20, 15, "[X1] [X1]"), {"X1": object()})
        self.assertEqual(len(errors), 35)


class Exemptions(unittest.TestCase):
    def exempt(self, line):
        return dc.exemption(dc.Command("d.md", 1, line + "   # expect: exit 0", None))

    def test_by_name(self):
        self.assertIsNotNone(self.exempt("scripts/test"))
        self.assertIsNotNone(self.exempt("build/tools/attack/collab-attack matrix"))
        self.assertIsNone(self.exempt("build/tools/attack/collab-attack matrix --attacks replay"))
        self.assertIsNone(self.exempt("scripts/swarm"))
        self.assertIsNotNone(self.exempt("scripts/fuzz 300"))
        self.assertIsNotNone(self.exempt("nice -n 10 scripts/fuzz 300"))
        self.assertIsNotNone(self.exempt("scripts/soak --profile hardened"))
        self.assertIsNone(self.exempt("scripts/fuzzy"))
        self.assertIsNone(self.exempt("scripts/soaked"))
        self.assertIsNone(self.exempt("cp -r tests/fuzz/corpus /tmp/corpus"))

    def test_browser_attacks_in_the_sanitizer_build(self):
        cmd = "build/tools/attack/collab-attack matrix --attacks web-xss --configs csrf"
        self.assertIsNone(self.exempt(cmd))  # the normal build runs it
        dc.SANITIZED = True
        try:
            self.assertIsNotNone(self.exempt(cmd))
            self.assertIsNotNone(self.exempt("build/tools/attack/collab-attack web-csrf --web $W"))
            self.assertIsNone(self.exempt("build/tools/attack/collab-attack jwt-forge --web $W"))
            self.assertIsNone(self.exempt("build/tools/attack/collab-attack matrix --attacks replay"))
        finally:
            dc.SANITIZED = False


class ControlTable(unittest.TestCase):
    """README.md's table of the controls lists protocol/collab_controls.def, in its order."""

    def test_readme_lists_every_control(self):
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        names = dc.control_names(source)
        self.assertGreater(len(names), 0)
        with open(os.path.join(source, "README.md")) as f:
            readme = f.read()
        rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", readme, re.M)
        self.assertEqual(rows, [(str(i + 1), n) for i, n in enumerate(names)])
        self.assertIn("each of the %d controls of LAB.md" % len(names), readme)


if __name__ == "__main__":
    unittest.main()
