#!/usr/bin/env python3
"""plot_history.py: draws bench/history.tsv (appended by every scripts/bench run) as one SVG,
one panel per figure of the table: its ratio against the run, in run order, labelled by
commit, with the target as a dashed line. Runs whose setup differs (--storm-pin, broker
arguments, other durations) are their own series in the panel; machines are told apart by
the marker's shape. No plotting library: plain SVG, so it works offline and in any browser.

Usage: plot_history.py HISTORY.tsv OUT.svg
"""
import csv
import html
import sys

PANEL_W, PANEL_H, COLS = 460, 240, 2
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 44, 58
COLOURS = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#555555"]


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def load(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")]
    panels = {}
    for r in rows:
        ratio, target = number(r["ratio"]), r["target"].split()
        if ratio is None:
            ratio = number(r["value"])  # an absolute target (row_abs): the value itself
        if ratio is None or len(target) != 2 or number(target[1]) is None:
            continue
        key = (r["scenario"], r["figure"])
        panels.setdefault(key, {"op": target[0], "target": number(target[1]), "runs": []})
        panels[key]["target"] = number(target[1])  # the newest target is the one drawn
        panels[key]["op"] = target[0]
        panels[key]["runs"].append(r | {"y": ratio})
    return panels


def marker(shape, x, y, colour):
    if shape == 0:
        return '<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, colour)
    if shape == 1:
        return '<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s"/>' % (x - 3.5, y - 3.5, colour)
    return '<path d="M%.1f %.1f l4 7 h-8 z" fill="%s"/>' % (x, y - 4, colour)


def panel(out, ox, oy, title, p, machines):
    runs = p["runs"]
    w, h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    ys = [r["y"] for r in runs] + [p["target"]]
    lo, hi = min(0.0, min(ys)), max(ys) * 1.15 or 1.0
    sx = (lambda i: ox + LEFT + (w * (i + 0.5) / len(runs)))
    sy = (lambda v: oy + TOP + h - h * (v - lo) / (hi - lo))
    out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (ox + 8, oy + 16, html.escape(title)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (ox + LEFT, oy + TOP, w, h))
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append('<text x="%d" y="%.1f" text-anchor="end" font-size="10">%.3g</text>' % (ox + LEFT - 4, sy(v) + 3, v))
    out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#2e8b57" stroke-dasharray="5 3"/>' % (
        ox + LEFT, ox + LEFT + w, sy(p["target"]), sy(p["target"])))
    out.append('<text x="%d" y="%.1f" font-size="10" fill="#2e8b57">target %s %g</text>' % (
        ox + LEFT + 4, sy(p["target"]) - 3, html.escape(p["op"]), p["target"]))
    setups = sorted({r["setup"] for r in runs}, key=lambda s: (s != "", s))
    for si, setup in enumerate(setups):
        colour = COLOURS[si % len(COLOURS)]
        pts = [(i, r) for i, r in enumerate(runs) if r["setup"] == setup]
        out.append('<polyline fill="none" stroke="%s" points="%s"/>' % (
            colour, " ".join("%.1f,%.1f" % (sx(i), sy(r["y"])) for i, r in pts)))
        for i, r in pts:
            tip = "%s %s %s: %s" % (r["date"], r["commit"], r["machine"], r["ratio"] or r["value"])
            out.append('<g><title>%s</title>%s</g>' % (html.escape(tip), marker(
                machines.index(r["machine"]) % 3, sx(i), sy(r["y"]), colour)))
        out.append('<text x="%d" y="%d" font-size="10" fill="%s" text-anchor="end">%s</text>' % (
            ox + PANEL_W - RIGHT - 160 * si, oy + TOP - 4, colour, html.escape(setup or "default")))
    step = max(1, len(runs) // 12)
    for i, r in enumerate(runs):
        if i % step == 0:
            x, y = sx(i), oy + TOP + h + 8
            out.append('<text x="%.1f" y="%d" font-size="9" transform="rotate(45 %.1f %d)">%s</text>' % (
                x, y, x, y, html.escape(r["commit"])))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    panels = load(sys.argv[1])
    if not panels:
        sys.exit("plot_history: %s holds no row with a ratio and a target" % sys.argv[1])
    machines = sorted({r["machine"] for p in panels.values() for r in p["runs"]})
    rows = (len(panels) + COLS - 1) // COLS
    legend = 20 + 14 * len(machines)
    width, height = PANEL_W * COLS, PANEL_H * rows + legend
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    for n, (key, p) in enumerate(panels.items()):
        title = "%s: %s" % key if len(key[1]) < 30 else key[0]
        panel(out, PANEL_W * (n % COLS), PANEL_H * (n // COLS), title, p, machines)
    y = PANEL_H * rows + 14
    for k, m in enumerate(machines):
        out.append(marker(k % 3, 14, y + 14 * k - 4, "#333"))
        out.append('<text x="24" y="%d" font-size="11">%s</text>' % (y + 14 * k, html.escape(m)))
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    print("plot_history: %d panels, %d runs, written to %s" % (
        len(panels), max(len(p["runs"]) for p in panels.values()), sys.argv[2]))


if __name__ == "__main__":
    main()
