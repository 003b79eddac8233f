#!/usr/bin/env python3
"""Plot one-way latency from ZeroCP's latency bench and the peer benchmark.

Usage:
    scripts/plot_latency.py BENCH_OUTPUT PEER_OUTPUT [-o docs/latency.svg] [--title TEXT]

Both inputs are the stdout of `cargo bench -p zerocp --bench latency` and of
the peer's `run.sh`: one line per case, `case payload median_ns p99_ns
max_ns msgs_per_s`, after a header line; lines starting with `#` and `n/a`
results are skipped. The SVG has two panels, busy-polling and blocking
receivers; each case is a line through its medians over the payload sizes,
with a whisker up to its p99, on a logarithmic axis. Cases of the peer are
dashed and prefixed with `peer`. Only the Python standard library is used.
"""

import argparse
import math
import os
import sys
from html import escape

PAYLOADS = ["8B", "64B", "4KiB", "64KiB", "1MiB", "4MiB"]
BLOCKING = {"uds", "zerocp-wait", "zerocp-sleep", "iox2-event", "iox2-waitset"}
PALETTE = {
    "floor": "#555555",
    "floor-copy": "#9467bd",
    "zerocp": "#d62728",
    "zerocp-wait": "#d62728",
    "zerocp-sleep": "#ff7f0e",
    "iox2": "#1f77b4",
    "iox2-event": "#1f77b4",
    "iox2-waitset": "#17becf",
    "uds": "#2ca02c",
    "uds-spin": "#2ca02c",
}
EXTRA_COLORS = ["#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"]

WIDTH, HEIGHT = 1000, 560
PANEL_TOP, PANEL_BOTTOM = 70, 470
MARGIN_LEFT, PANEL_GAP, MARGIN_RIGHT = 80, 70, 20


def parse(path, source):
    """Returns {(source, case): {payload: (median, p99)}} from one output file."""
    series = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if len(fields) != 6 or line.startswith("#") or fields[0] == "case":
                continue
            case, payload, median, p99 = fields[0], fields[1], fields[2], fields[3]
            if median == "n/a" or p99 == "n/a":
                continue
            if payload not in PAYLOADS:
                sys.exit(f"{path}:{lineno}: unknown payload {payload!r}")
            try:
                values = (float(median), float(p99))
            except ValueError:
                sys.exit(f"{path}:{lineno}: not a result line: {line.strip()!r}")
            series.setdefault((source, case), {})[payload] = values
    if not series:
        sys.exit(f"{path}: no result lines")
    return series


def label(source, case):
    return case if source == "ours" else f"peer {case}"


def color(case, used):
    if case in PALETTE:
        return PALETTE[case]
    return EXTRA_COLORS[len(used) % len(EXTRA_COLORS)]


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:g} µs"
    return f"{ns:g} ns"


class Panel:
    """One plot area: payloads on x, log10(ns) on y."""

    def __init__(self, x0, x1, lo, hi, title):
        self.x0, self.x1, self.lo, self.hi, self.title = x0, x1, lo, hi, title

    def x(self, payload):
        step = (self.x1 - self.x0) / len(PAYLOADS)
        return self.x0 + step * (PAYLOADS.index(payload) + 0.5)

    def y(self, ns):
        frac = (math.log10(max(ns, 1e-9)) - self.lo) / (self.hi - self.lo)
        return PANEL_BOTTOM - frac * (PANEL_BOTTOM - PANEL_TOP)

    def frame(self, out):
        out.append(
            f'<text x="{(self.x0 + self.x1) / 2:.1f}" y="{PANEL_TOP - 12}" '
            f'text-anchor="middle" font-weight="bold">{escape(self.title)}</text>'
        )
        out.append(
            f'<rect x="{self.x0}" y="{PANEL_TOP}" width="{self.x1 - self.x0}" '
            f'height="{PANEL_BOTTOM - PANEL_TOP}" fill="none" stroke="#999"/>'
        )
        for decade in range(int(self.lo), int(self.hi) + 1):
            for mult in (1, 2, 5):
                ns = mult * 10**decade
                if not self.lo <= math.log10(ns) <= self.hi:
                    continue
                y = self.y(ns)
                major = mult == 1
                out.append(
                    f'<line x1="{self.x0}" x2="{self.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{"#ccc" if major else "#eee"}"/>'
                )
                if major:
                    out.append(
                        f'<text x="{self.x0 - 6}" y="{y + 4:.1f}" text-anchor="end" '
                        f'font-size="11">{fmt_ns(ns)}</text>'
                    )
        for p in PAYLOADS:
            out.append(
                f'<text x="{self.x(p):.1f}" y="{PANEL_BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11">{p}</text>'
            )

    def series(self, out, name, points, stroke, dashed):
        xs = [p for p in PAYLOADS if p in points]
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        if len(xs) > 1:
            path = " ".join(f"{self.x(p):.1f},{self.y(points[p][0]):.1f}" for p in xs)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{stroke}" '
                f'stroke-width="2"{dash}/>'
            )
        for p in xs:
            median, p99 = points[p]
            x = self.x(p)
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.y(median):.1f}" '
                f'y2="{self.y(p99):.1f}" stroke="{stroke}" stroke-opacity="0.45"/>'
            )
            out.append(
                f'<circle cx="{x:.1f}" cy="{self.y(median):.1f}" r="3.5" '
                f'fill="{"white" if dashed else stroke}" stroke="{stroke}" stroke-width="1.5">'
                f"<title>{escape(name)} {p}: median {median:g} ns, p99 {p99:g} ns</title></circle>"
            )

    def legend(self, out, entries):
        y = PANEL_BOTTOM + 36
        x = self.x0
        for name, stroke, dashed in entries:
            dash = ' stroke-dasharray="6,4"' if dashed else ""
            out.append(
                f'<line x1="{x}" x2="{x + 24}" y1="{y - 4}" y2="{y - 4}" stroke="{stroke}" '
                f'stroke-width="2"{dash}/>'
            )
            out.append(f'<text x="{x + 30}" y="{y}" font-size="11">{escape(name)}</text>')
            x += 40 + 7 * len(name)
            if x > self.x1 - 80:
                x, y = self.x0, y + 16


def render(series, title, sources):
    values = [v for points in series.values() for pair in points.values() for v in pair]
    lo = math.floor(math.log10(min(values)))
    hi = math.ceil(math.log10(max(values)))
    panel_w = (WIDTH - MARGIN_LEFT - PANEL_GAP - MARGIN_RIGHT) / 2
    left = Panel(MARGIN_LEFT, MARGIN_LEFT + panel_w, lo, hi, "busy-polling receiver")
    right_x0 = MARGIN_LEFT + panel_w + PANEL_GAP
    right = Panel(right_x0, right_x0 + panel_w, lo, hi, "blocking receiver (zerocp-wait spins briefly first)")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="42" text-anchor="middle" font-size="11" fill="#444">'
        "one-way latency = RTT/2, dot = median, whisker = p99, log scale; "
        "solid = this repository's bench, dashed = peer benchmark</text>",
    ]
    left.frame(out)
    right.frame(out)
    legends = {id(left): [], id(right): []}
    used = []
    for (source, case), points in sorted(series.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        panel = right if case in BLOCKING else left
        stroke = color(case, used)
        used.append(case)
        name = label(source, case)
        dashed = source == "peer"
        panel.series(out, name, points, stroke, dashed)
        legends[id(panel)].append((name, stroke, dashed))
    left.legend(out, legends[id(left)])
    right.legend(out, legends[id(right)])
    out.append(
        f'<text x="{WIDTH - MARGIN_RIGHT}" y="{HEIGHT - 8}" text-anchor="end" font-size="10" '
        f'fill="#666">data: {escape(sources)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", help="stdout of `cargo bench -p zerocp --bench latency`")
    ap.add_argument("peer", help="stdout of the peer's run.sh")
    ap.add_argument("-o", "--output", default="docs/latency.svg", help="SVG to write")
    ap.add_argument("--title", default="ZeroCP vs. iceoryx2 and baselines: one-way latency")
    args = ap.parse_args()
    series = parse(args.bench, "ours")
    series.update(parse(args.peer, "peer"))
    names = f"{os.path.basename(args.bench)}, {os.path.basename(args.peer)}"
    svg = render(series, args.title, names)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"wrote {args.output} ({len(series)} series)")


if __name__ == "__main__":
    main()
