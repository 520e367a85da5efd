#!/usr/bin/env python3
"""Regenerate rules/master/person_readings.tsv.gz: the readings of Japanese
surnames and given names, for comparing a name written only in kanji with one
written only in kana (`佐藤 健` / `サトウ ケン`).

Input: IPADIC's person-name entries (`Noun.name.csv`, 人名 / 姓 and 名), as
Debian ships them in the package `mecab-ipadic`, pinned by version and sha256
below and fetched with `apt-get download` from the Debian archive. IPADIC is
© Nara Institute of Science and Technology, with entries from ICOT Free
Software; its licence (rules/master/person_readings.NOTICE) allows
distribution, original or modified, with the notice and the NO WARRANTY
section attached. The full-name entries (人名 / 一般: famous people) are
left out.

Usage:
  scripts/build_person_readings.py [--deb FILE] [--out FILE]

Output (sorted, gzip with mtime 0, so a rerun is byte-identical):
  person_readings.tsv.gz  surface<TAB>kind<TAB>readings, kind `s` (姓) or
                          `g` (名), readings in katakana as IPADIC writes
                          them (its reading column, not the pronunciation:
                          サトウ, not サトー), `|` separated, sorted.

Python 3.11 standard library, plus apt-get and dpkg-deb.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from build_master import RULES

PACKAGE = "mecab-ipadic"
VERSION = "2.7.0-20070801+main-3"
SHA256 = "2a59bb65193b605cec3e5540e69e7d3ce8db4624744f8686f419aa0cf3f327f2"
CSV_IN_DEB = "usr/share/mecab/dic/ipadic/Noun.name.csv"
KINDS = {"姓": "s", "名": "g"}


def fetch_deb(workdir: Path) -> Path:
    subprocess.run(
        ["apt-get", "download", f"{PACKAGE}={VERSION}"],
        cwd=workdir,
        check=True,
    )
    debs = list(workdir.glob(f"{PACKAGE}_*.deb"))
    if len(debs) != 1:
        sys.exit(f"expected one {PACKAGE} package in {workdir}, found {debs}")
    return debs[0]


def read_entries(deb: Path, workdir: Path) -> dict[tuple[str, str], set[str]]:
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{deb}: sha256 {digest}, pinned {SHA256}")
    out = workdir / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
    text = (out / CSV_IN_DEB).read_bytes().decode("euc-jp")
    entries: dict[tuple[str, str], set[str]] = {}
    for row in csv.reader(io.StringIO(text)):
        surface, kind, reading = row[0], row[7], row[11]
        if kind not in KINDS or not reading or reading == "*":
            continue
        entries.setdefault((surface, KINDS[kind]), set()).add(reading)
    return entries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deb", type=Path, help="an already downloaded mecab-ipadic .deb")
    ap.add_argument("--out", type=Path, default=RULES / "master" / "person_readings.tsv.gz")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        deb = args.deb or fetch_deb(work)
        entries = read_entries(deb, work)
    lines = [
        f"{surface}\t{kind}\t{'|'.join(sorted(readings))}\n"
        for (surface, kind), readings in sorted(entries.items())
    ]
    body = "".join(lines).encode("utf-8")
    with open(args.out, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
            gz.write(body)
    print(f"{args.out}: {len(lines)} names", file=sys.stderr)


if __name__ == "__main__":
    main()
