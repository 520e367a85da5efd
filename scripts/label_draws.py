#!/usr/bin/env python3
"""What `nayose dedupe --labels` gains from a steward's labels, over draws.

    cargo build --release && python3 scripts/label_draws.py [--labels 300] [--seeds 1-7]

Generates the CRM set of scripts/bench_dedupe.py (20,000 consumers,
`--profile crm`, seed 1), runs `nayose dedupe` once without labels, then per
seed draws `--labels` pairs at random from that run's review band, labels
each from the truth, and runs `nayose dedupe --labels` with the default
rules and with `auto_merge_precision` set (`--precision`, calibrated bands).
Prints pairwise F1 (`nayose eval`) for each run and the term-frequency
scales the labels taught (the model's `tf_scale`, where not 1).
Python 3 stdlib only.
"""
import argparse
import csv
import json
import os
import random
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "nayose")


def run(*args):
    subprocess.run([BIN, *args], check=True, capture_output=True)


def f1(work, truth, clusters):
    out = os.path.join(work, "eval.json")
    run("eval", "--truth", truth, "--clusters", clusters, "--json", out)
    with open(out, encoding="utf-8") as f:
        e = json.load(f)
    return e.get("pairwise", e)["f1"]


def scales(model_path):
    """`comparison/level=scale` for each level whose tf_scale is written."""
    found, name, label = [], None, None
    with open(model_path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip().strip('"')
            if key == "name":
                name = value
            elif key == "label":
                label = value
            elif key == "tf_scale":
                found.append(f"{name}/{label}={float(value):.3f}")
    return " ".join(found) or "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", type=int, default=300, help="labels per draw")
    ap.add_argument("--seeds", default="1-7", help="draws, as first-last")
    ap.add_argument("--precision", type=float, default=0.9, help="auto_merge_precision of the calibrated run")
    ap.add_argument("--records", type=int, default=20000)
    a = ap.parse_args()
    first, _, last = a.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    with tempfile.TemporaryDirectory() as work:
        data, truth = os.path.join(work, "crm.csv"), os.path.join(work, "crm.truth.csv")
        run("gen", "--kind", "btoc", "--profile", "crm", "--records", str(a.records), "--seed", "1",
            "-o", data, "--truth", truth, "-q")
        clusters, pairs = os.path.join(work, "c.csv"), os.path.join(work, "p.csv")
        run("dedupe", data, "-o", clusters, "--pairs", pairs, "-q")
        with open(truth, encoding="utf-8") as f:
            entity = {r["id"]: r["entity_id"] for r in csv.DictReader(f)}
        with open(pairs, encoding="utf-8") as f:
            review = [(r["left_id"], r["right_id"]) for r in csv.DictReader(f) if r["band"] == "review"]
        with open(os.path.join(ROOT, "rules", "default.toml"), encoding="utf-8") as f:
            rules = f.read()
        calibrated = os.path.join(work, "calibrated.toml")
        with open(calibrated, "w", encoding="utf-8") as f:
            f.write(rules.replace("[matching]", f"[matching]\nauto_merge_precision = {a.precision}", 1))
        print(f"review band {len(review)} pairs; F1 without labels {f1(work, truth, clusters):.4f}")
        print("seed | matches | F1 with labels | F1 calibrated | tf scales taught")
        for seed in seeds:
            random.seed(seed)
            pick = random.sample(review, min(a.labels, len(review)))
            labels = os.path.join(work, "labels.csv")
            with open(labels, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(["id_a", "id_b", "label"])
                for x, y in pick:
                    w.writerow([x, y, "match" if entity[x] == entity[y] else "non_match"])
            matches = sum(entity[x] == entity[y] for x, y in pick)
            model = os.path.join(work, "model.toml")
            run("dedupe", data, "-o", clusters, "--labels", labels, "--save-model", model, "-q")
            plain = f1(work, truth, clusters)
            run("dedupe", data, "-o", clusters, "--labels", labels, "--rules", calibrated, "-q")
            print(f"{seed} | {matches} | {plain:.4f} | {f1(work, truth, clusters):.4f} | {scales(model)}")


if __name__ == "__main__":
    main()
