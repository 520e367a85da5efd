#!/usr/bin/env python3
"""Dedupe benchmark driver: generate data with `nayose gen`, run `nayose dedupe`
and `nayose eval`, print pairwise F1, wall time and peak memory per set.

    cargo build --release && python3 scripts/bench_dedupe.py [--million] [--sets btob,btoc,febrl3,febrl4]

Sets: btob / btoc: 20,000 generated records (seed 1); crm: 20,000 generated
consumers, `--profile crm` (seed 1); febrl3 / febrl4: the
Febrl benchmark files (fetched by scripts/fetch_febrl.py into data/febrl/, with
rules/examples/febrl.toml); --million adds 1,000,000 generated BtoC records.
Each dedupe runs as its own process; peak memory is that process's maximum
resident set size (measured by a fresh parent per command). Python 3 stdlib only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "nayose")


# Runs one command in a fresh Python process and prints its peak RSS (KiB):
# RUSAGE_CHILDREN is a maximum over all children, so each measured command
# needs a parent of its own.
PEAK = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(p.returncode)\n"
)


def run(args):
    """Run a command; return (seconds, peak RSS in MiB, stderr)."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", PEAK] + args, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    lines = p.stderr.strip().splitlines()
    return secs, int(lines[-1]) / 1024.0, "\n".join(lines[:-1])


def evaluate(truth, clusters, tmp):
    out = os.path.join(tmp, "eval.json")
    run([BIN, "eval", "--truth", truth, "--clusters", clusters, "--json", out])
    with open(out) as f:
        return json.load(f)


def generated(kind, n, seed, tmp, profile="forms"):
    data = os.path.join(tmp, f"{kind}{n}{profile}.csv")
    truth = os.path.join(tmp, f"{kind}{n}{profile}.truth.csv")
    run([BIN, "gen", "--kind", kind, "--profile", profile, "--records", str(n), "--seed", str(seed),
         "-o", data, "--truth", truth, "-q"])
    return data, truth, []


def febrl(name):
    d = os.path.join(ROOT, "data", "febrl")
    data = os.path.join(d, f"{name}.csv")
    if not os.path.exists(data):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fetch_febrl.py")], check=True)
    rules = os.path.join(ROOT, "rules", "examples", "febrl.toml")
    return data, os.path.join(d, f"{name}.truth.csv"), ["--rules", rules, "--id-column", "rec_id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="btob,btoc,crm,febrl3,febrl4")
    ap.add_argument("--million", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    sets = a.sets.split(",") + (["btoc1m"] if a.million else [])
    print(f"{'set':<8} {'records':>9} {'precision':>9} {'recall':>7} {'F1':>7} {'wall s':>7} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for s in sets:
            if s == "btob":
                data, truth, extra = generated("btob", 20000, 1, tmp)
            elif s == "btoc":
                data, truth, extra = generated("btoc", 20000, 1, tmp)
            elif s == "crm":
                data, truth, extra = generated("btoc", 20000, 1, tmp, "crm")
            elif s == "btoc1m":
                data, truth, extra = generated("btoc", 1000000, 11, tmp)
            elif s in ("febrl3", "febrl4"):
                data, truth, extra = febrl(s)
            else:
                sys.exit(f"unknown set {s}")
            clusters = os.path.join(tmp, f"{s}.clusters.csv")
            secs, peak, log = run([BIN, "dedupe", data, "-o", clusters, "-q"] + extra)
            f = evaluate(truth, clusters, tmp)
            fmt = lambda x: "n/a" if x is None else f"{x:.4f}"
            print(f"{s:<8} {f['records']:>9} {fmt(f['precision']):>9} {fmt(f['recall']):>7} "
                  f"{fmt(f['f1']):>7} {secs:>7.1f} {peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
