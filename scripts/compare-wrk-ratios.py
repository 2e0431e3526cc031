#!/usr/bin/env python3
"""Compares two runs' engine-to-wrk throughput ratios, point by point (`make reproducibility`).

Usage: compare-wrk-ratios.py REPORTS_A REPORTS_B [EXPERIMENT ...] [--min-share 0.8] [--markdown FILE]

Each REPORTS directory is a rendered report (`report --format markdown --out DIR`); each experiment's page
directory holds `wrk-ratios.csv` (pooling, concurrency, engine, reps, ratio, ratio_low, ratio_high, wrk_rps).
A point (experiment, pooling, concurrency, engine) agrees when each run's ratio lies within the other run's
interval or within 10% of the other run's ratio. Prints a Markdown table of every point and the share that
agrees; exits 1 when that share is below --min-share, 2 on bad input (a missing file or point).
"""

import argparse
import csv
import os
import sys

TOLERANCE = 0.10


def fail(message):
    print(f"compare-wrk-ratios: {message}", file=sys.stderr)
    sys.exit(2)


def load(directory, experiment):
    path = os.path.join(directory, experiment, "wrk-ratios.csv")
    if not os.path.isfile(path):
        fail(f"{path} is missing; render the report of a run that has wrk cells first")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    points = {}
    for row in rows:
        try:
            key = (experiment, row["pooling"], int(row["concurrency"]), row["engine"])
            points[key] = (float(row["ratio"]), float(row["ratio_low"]), float(row["ratio_high"]), int(row["reps"]))
        except (KeyError, ValueError) as error:
            fail(f"{path}: a row is not (pooling, concurrency, engine, reps, ratio, "
                 f"ratio_low, ratio_high): {row} ({error})")
    return points


def provenance(directory, experiment):
    """The run's commit and start/end times from the page's Provenance table, or "" when the page has none."""
    path = os.path.join(directory, experiment, "README.md")
    found = {}
    if os.path.isfile(path):
        for line in open(path):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) == 2 and cells[0] in ("git commit", "started / ended (UTC)"):
                found.setdefault(cells[0], cells[1])
    return ", ".join(f"{key} {value}" for key, value in found.items())


def agrees(value, other):
    ratio, low, high, _ = other
    return low <= value <= high or abs(value - ratio) <= TOLERANCE * ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="reports directory of the first run")
    parser.add_argument("second", help="reports directory of the second run")
    parser.add_argument("experiments", nargs="*", default=["engines", "pooling"])
    parser.add_argument("--min-share", type=float, default=0.8, help="share of points that must agree (0.8)")
    parser.add_argument("--markdown", help="also write the table to this file")
    options = parser.parse_args()

    lines = [
        "# Reproducibility: each engine's throughput as a ratio to wrk, in two runs",
        "",
        "Ratios are medians over repetitions of engine / wrk throughput in the same repetition, with intervals "
        "from order statistics (coverage at least 95%, but 93.8% with 5 repetitions, and the range of the runs "
        "with fewer). The two runs are separate invocations:",
        "",
    ]
    for name, directory in (("first", options.first), ("second", options.second)):
        runs = "; ".join(f"{e}: {provenance(directory, e) or 'no provenance found'}" for e in options.experiments)
        lines.append(f"- {name} run (`{directory}`): {runs}")
    lines += [
        "",
        "| experiment | pooling | concurrency | engine | first run: ratio to wrk [interval] (reps) "
        "| second run: ratio to wrk [interval] (reps) | agree |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    total = agreeing = 0
    for experiment in options.experiments:
        first, second = load(options.first, experiment), load(options.second, experiment)
        if first.keys() != second.keys():
            missing = sorted(first.keys() ^ second.keys())
            fail(f"{experiment}: the runs have different points: {missing}")
        for key in sorted(first):
            a, b = first[key], second[key]
            ok = agrees(a[0], b) and agrees(b[0], a)
            total += 1
            agreeing += ok
            _, pooling, concurrency, engine = key
            lines.append(
                f"| {experiment} | {pooling or '-'} | {concurrency} | {engine} "
                f"| {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}] ({a[3]}) | {b[0]:.3f} [{b[1]:.3f}, {b[2]:.3f}] ({b[3]}) "
                f"| {'yes' if ok else 'no'} |")
    if total == 0:
        fail("no points to compare")
    share = agreeing / total
    lines += ["", f"{agreeing} of {total} points agree ({share:.0%}); required {options.min_share:.0%}. A point "
              f"agrees when each run's ratio lies within the other run's interval or within "
              f"{TOLERANCE:.0%} of its ratio."]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if options.markdown:
        with open(options.markdown, "w") as handle:
            handle.write(text)
    sys.exit(0 if share >= options.min_share else 1)


if __name__ == "__main__":
    main()
