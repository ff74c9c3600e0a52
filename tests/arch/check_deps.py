#!/usr/bin/env python3
"""check_deps.py: the architecture's include rules, checked over the sources.

Reads docs/architecture.rules (modules as file globs, the dependencies each may have, the
calls only one module may make) and the #include lines of every C file of the tree, then:
  check   fails, naming the file and line, when an include crosses a boundary the rules do
          not allow, when a restricted call appears outside its module, or when the files
          of a folder declared acyclic include each other in a circle;
  dot     prints the modules and their allowed dependencies as a Graphviz graph.
Standard library only."""
import argparse
import fnmatch
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SKIP_DIRS = {".git", "node_modules"}


class Rules:
    def __init__(self):
        self.modules = []  # (name, [globs]) in order: the first match wins
        self.allow = {}  # module -> set of modules it may include
        self.system = {}  # module -> set of system headers it may not include
        self.only = []  # (module, regex, text) : only that module may match regex
        self.acyclic = []  # folders whose files may not include each other in a circle
        self.labels = {}
        self.units = {}  # file -> the unit it is part of, for the circle check
        self.omit = set()  # modules left out of the picture


def parse_rules(path):
    r = Rules()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            word, _, rest = line.partition(" ")
            rest = rest.strip()
            if word == "module":
                name, *globs = rest.split()
                r.modules.append((name, globs))
                r.allow.setdefault(name, set())
            elif word == "label":
                name, _, text = rest.partition(" ")
                r.labels[name] = text.strip()
            elif word == "allow":
                src, arrow, *dst = rest.split()
                if arrow != "->":
                    sys.exit(f"{path}:{n}: allow NAME -> NAME...")
                r.allow.setdefault(src, set()).update(dst)
            elif word == "forbid-system":
                src, *hdrs = rest.split()
                r.system.setdefault(src, set()).update(hdrs)
            elif word == "only":
                src, _, regex = rest.partition(" ")
                r.only.append((src, re.compile(regex.strip()), regex.strip()))
            elif word == "omit-from-picture":
                r.omit.update(rest.split())
            elif word == "unit":
                f, u = rest.split()
                r.units[f] = u
            elif word == "acyclic":
                r.acyclic.append(rest.rstrip("/"))
            else:
                sys.exit(f"{path}:{n}: unknown rule '{word}'")
    names = {m for m, _ in r.modules}
    for src, dsts in r.allow.items():
        for d in dsts | {src}:
            if d not in names:
                sys.exit(f"{path}: allow names an unknown module '{d}'")
    return r


def sources(root):
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
        for f in files:
            if f.endswith((".c", ".h", ".def")):
                out.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(out)


def module_of(rules, path):
    for name, globs in rules.modules:
        if any(fnmatch.fnmatch(path, g) for g in globs):
            return name
    return None


def resolve(path, header, by_base):
    """The tree's file a quoted include names: beside the includer, else by its name."""
    local = os.path.normpath(os.path.join(os.path.dirname(path), header))
    if local in by_base.get(os.path.basename(header), []):
        return local
    cands = by_base.get(os.path.basename(header), [])
    return cands[0] if len(cands) == 1 else None


def includes(root, files):
    by_base = {}
    for p in files:
        by_base.setdefault(os.path.basename(p), []).append(p)
    for p in files:
        with open(os.path.join(root, p), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            target = resolve(p, m.group(2), by_base) if m.group(1) == '"' else None
            yield p, line, m.group(1), m.group(2), target, text


def unit(path, rules=None):
    if rules and path in rules.units:
        return rules.units[path]
    return os.path.splitext(path)[0]


def find_cycle(graph):
    """A circle in graph (node -> set of nodes) as a list of nodes, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def check(root, rules):
    files = sources(root)
    errors = []
    unmapped = [p for p in files if module_of(rules, p) is None]
    for p in unmapped:
        errors.append(f"{p}: in no module of the rules (add it to one)")
    graphs = {d: {} for d in rules.acyclic}
    used = {}  # module -> modules whose headers it includes
    texts = {}
    for p, line, kind, header, target, text in includes(root, files):
        texts[p] = text
        src = module_of(rules, p)
        if src is None:
            continue
        if kind == "<":
            if header in rules.system.get(src, ()):
                errors.append(f"{p}:{line}: module {src} may not include <{header}>")
            continue
        if target is None:
            continue
        dst = module_of(rules, target)
        if dst and dst != src and dst not in rules.allow.get(src, ()):
            errors.append(f"{p}:{line}: {src} may not include {header} (module {dst})")
        if dst and dst != src:
            used.setdefault(src, set()).add(dst)
        for d in rules.acyclic:
            a, b = unit(p, rules), unit(target, rules)
            if p.startswith(d + "/") and target.startswith(d + "/") and a != b:
                graphs[d].setdefault(a, set()).add(b)
    for p in files:
        if p not in texts:
            with open(os.path.join(root, p), encoding="utf-8", errors="replace") as f:
                texts[p] = f.read()
    for owner, regex, raw in rules.only:
        for p in files:
            if module_of(rules, p) == owner:
                continue
            code = strip_comments(texts[p])
            for m in regex.finditer(code):
                line = code.count("\n", 0, m.start()) + 1
                errors.append(f"{p}:{line}: only module {owner} may call /{raw}/")
    c = find_cycle(used)
    if c:
        errors.append("modules include each other in a circle: " + " -> ".join(c))
    for d, g in graphs.items():
        c = find_cycle(g)
        if c:
            errors.append(f"{d}/: files include each other in a circle: " + " -> ".join(c))
    return errors


def strip_comments(text):
    """The text with comments and string literals blanked, lines kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def reduced(rules, shown):
    """The allowed edges among shown modules, less each one a longer path already gives."""
    edges = {m: set(rules.allow.get(m, ())) & set(shown) - {m} for m in shown}

    def reach(src, skip):
        seen, todo = set(), [d for d in edges[src] if (src, d) != skip]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(edges[n])
        return seen

    return {m: {d for d in edges[m] if d not in reach(m, (m, d))} for m in shown}


def dot(rules):
    out = ["// Drawn from docs/architecture.rules by tests/arch/check_deps.py dot: an arrow A -> B",
           "// says A may include B's headers; an arrow that a longer path already implies is",
           "// left out. Regenerate, never edit by hand.",
           "digraph taskcollab {", "  rankdir=TB;",
           '  node [shape=box, fontname="sans", fontsize=11];']
    shown = [m for m, _ in rules.modules if m not in rules.omit]
    for name in shown:
        label = rules.labels.get(name, name).replace('"', "'").replace(": ", ":\\n", 1)
        out.append(f'  "{name}" [label="{label}"];')
    edges = reduced(rules, shown)
    for src in shown:
        for dst in sorted(edges[src]):
            out.append(f'  "{src}" -> "{dst}";')
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["check", "dot"])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--rules", default=None)
    ap.add_argument("--compare", metavar="FILE",
                    help="dot: fail unless FILE holds exactly the graph the rules give")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    rules = parse_rules(a.rules or os.path.join(root, "docs", "architecture.rules"))
    if a.command == "dot":
        graph = dot(rules)
        if not a.compare:
            sys.stdout.write(graph)
            return 0
        with open(a.compare, encoding="utf-8") as f:
            if f.read() == graph:
                return 0
        print(f"{a.compare} is not the graph of the rules: run "
              f"tests/arch/check_deps.py dot > {os.path.relpath(a.compare, root)}")
        return 1
    errors = check(root, rules)
    for e in errors:
        print(e)
    print(f"check_deps: {len(sources(root))} files, {len(errors)} violations", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
