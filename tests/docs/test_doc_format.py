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
