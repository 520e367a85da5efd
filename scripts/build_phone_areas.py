#!/usr/bin/env python3
"""Regenerate rules/master/phone_areas.tsv: which prefecture a Japanese
fixed-line number's area code (市外局番) belongs to.

Input: the PyPI package `phonenumbers` (Apache-2.0), pinned by version and
sha256 below: its geocoding data maps number prefixes (`81` + the national
number without its leading 0) to the numbering area (番号区画, MA) in
Japanese (`ja`, the name the 総務省 list uses) and usually in English with
the prefecture (`en`: `Iwakuni, Yamaguchi`).

Where the prefecture comes from:
  * the English label's prefecture, unless CORRECTIONS lists that label as
    wrong for that area (libphonenumber has e.g. 下市 0747-5 as
    `Shimonoseki, Yamaguchi`; 下市町 is in 奈良県);
  * for areas with no English label, JA_ONLY: the area name's prefecture,
    written down by hand (the names are those of the 総務省 list).
The script stops when an area has no prefecture, when a correction no
longer applies, and when a prefix's prefecture is neither the same as nor a
neighbour of (rules/prefecture_neighbours.tsv) any other area's in the same
first three (else two) digits: that is how the corrections below were found,
and how a new release's mistakes would be.

Usage:
  scripts/build_phone_areas.py [--unpacked DIR] [--out FILE]

Output (sorted by prefix, so a rerun is byte-identical):
  phone_areas.tsv  prefix<TAB>prefecture<TAB>area, the prefix being the
                   national number's leading digits without the 0 (`3` for
                   03, `827` for 0827).

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from build_master import RULES, download_pinned

PINNED = [
    ("phonenumbers", "9.0.43",
     "349bc799f15e010e35bd2c7d28149950ae74479cb1e11fb054ed9a95ecb4b437"),
]

EN_PREFECTURES = (
    "Hokkaido Aomori Iwate Miyagi Akita Yamagata Fukushima Ibaraki Tochigi Gunma "
    "Saitama Chiba Tokyo Kanagawa Niigata Toyama Ishikawa Fukui Yamanashi Nagano Gifu "
    "Shizuoka Aichi Mie Shiga Kyoto Osaka Hyogo Nara Wakayama Tottori Shimane Okayama "
    "Hiroshima Yamaguchi Tokushima Kagawa Ehime Kochi Fukuoka Saga Nagasaki Kumamoto "
    "Oita Miyazaki Kagoshima Okinawa"
).split()

# (area name, the wrong English label) -> the prefecture the area is in.
CORRECTIONS = {
    ("下市", "Shimonoseki, Yamaguchi"): "奈良県",   # 0747-5, 吉野郡下市町
    ("木江", "Mima, Tokushima"): "広島県",          # 0846-6, 豊田郡大崎上島町木江
    ("神岡", "Kamioka, Akita"): "岐阜県",           # 0578, 飛騨市神岡町
    ("今市", "Imabari, Ehime"): "栃木県",           # 0288, 日光市今市
    ("新宮", "Shingu, Fukuoka"): "和歌山県",        # 0735-2…5, 新宮市
    ("大野", "Ono, Gifu"): "福井県",                # 0779, 大野市
}

# Areas the data names only in Japanese -> their prefecture.
JA_ONLY = {
    "北海道": "門別富川 根室標津 十勝池田 十勝清水 北見枝幸 利尻礼文 石狩深川 焼尻",
    "青森県": "鰺ケ沢",
    "宮城県": "迫 築館 古川",
    "福島県": "磐城富岡 会津山口",
    "新潟県": "新井 巻 小出",
    "長野県": "大町 長野 木曾福島",
    "茨城県": "水海道 竜ケ崎",
    "千葉県": "大原",
    "東京都": "武蔵野三鷹 伊豆大島 三宅 八丈島",
    "山梨県": "鰍沢青柳",
    "静岡県": "浜松 天竜 修善寺大仁",
    "愛知県": "尾張横須賀",
    "岐阜県": "美濃白川 郡上八幡 高富",
    "三重県": "上野 三瀬谷",
    "大阪府": "岸和田貝塚",
    "和歌山県": "和歌山橋本",
    "奈良県": "大和榛原 五条",
    "京都府": "峰山",
    "兵庫県": "播磨山崎 竜野 丹波柏原 八鹿",
    "山口県": "久賀",
    "広島県": "安芸吉田 千代田 甲山",
    "島根県": "石見大田",
    "鳥取県": "根雨",
    "岡山県": "福渡",
    "香川県": "三本松",
    "高知県": "窪川 土佐中村 土佐山田 嶺北",
    "徳島県": "阿波池田 丹生谷 牟岐",
    "長崎県": "郷ノ浦 厳原 対馬佐賀 有川",
    "熊本県": "松橋 熊本一の宮 矢部",
    "沖縄県": "沖縄宮古",
    "鹿児島県": "中之島 硫黄島 大根占 中甑 種子島",
}

# Numbers that are not tied to a place: 020 (M2M/pager), 050 (IP), 060,
# 070/080/090 (mobile), 0120/0800 (free dial), 0570 (navi dial), 0990.
NON_GEOGRAPHIC = ("20", "50", "60", "70", "80", "90", "120", "570", "800", "990")


def prefectures() -> list[str]:
    """The 47 prefectures in the master's order (a line at column 0 of towns.txt.gz)."""
    with gzip.open(RULES / "master" / "towns.txt.gz", "rt", encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l[0] not in "#\t"]


def neighbours() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for line in (RULES / "prefecture_neighbours.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        first, *rest = line.split("\t")
        for other in rest:
            out[first].add(other)
            out[other].add(first)
    return out


def build(geocode: dict[str, dict[str, str]]) -> str:
    prefs = prefectures()
    en_to_ja = dict(zip(EN_PREFECTURES, prefs))
    ja_only = {name: p for p, names in JA_ONLY.items() for name in names.split()}
    jp = {k[2:]: v for k, v in geocode.items() if k.startswith("81")}
    used_corrections = set()
    rows: dict[str, tuple[str, str]] = {}
    for prefix in sorted(jp):
        v = jp[prefix]
        # An area with no Japanese name is named as its longest shorter prefix.
        area = v.get("ja") or next(
            (jp[prefix[:n]]["ja"] for n in range(len(prefix) - 1, 0, -1)
             if "ja" in jp.get(prefix[:n], {})), None)
        if area is None:
            sys.exit(f"0{prefix}: no Japanese area name")
        en = v.get("en")
        if en is not None and (area, en) in CORRECTIONS:
            pref = CORRECTIONS[(area, en)]
            used_corrections.add((area, en))
        elif en is not None:
            pref = en_to_ja[en.split(", ")[-1]]
        elif area in ja_only:
            pref = ja_only[area]
        else:
            sys.exit(f"0{prefix} {area}: no prefecture (add it to JA_ONLY)")
        if prefix.startswith(NON_GEOGRAPHIC):
            sys.exit(f"0{prefix} {area}: a non-geographic prefix has a place")
        rows[prefix] = (pref, area)
    stale = set(CORRECTIONS) - used_corrections
    if stale:
        sys.exit(f"corrections that no longer apply: {sorted(stale)}")
    near = neighbours()
    odd = []
    for prefix, (pref, area) in rows.items():
        for n in (3, 2):
            others = {p for k, (p, a) in rows.items() if k[:n] == prefix[:n] and a != area}
            if others:
                break
        if others and not others & ({pref} | near[pref]):
            odd.append(f"0{prefix} {area} {pref}: the others of 0{prefix[:n]} are {sorted(others)}")
    if odd:
        sys.exit("areas far from their neighbours' prefectures:\n" + "\n".join(odd))
    head = (
        "# nayose phone areas: national prefix (no leading 0)<TAB>prefecture<TAB>area (番号区画)\n"
        "# from libphonenumber's geocoding data (PyPI phonenumbers, Apache-2.0);\n"
        "# generated by scripts/build_phone_areas.py, see README.md\n"
    )
    return head + "".join(f"{k}\t{p}\t{a}\n" for k, (p, a) in sorted(rows.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unpacked", type=Path, help="a directory holding the unpacked phonenumbers wheel")
    ap.add_argument("--out", type=Path, default=RULES / "master" / "phone_areas.tsv")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = args.unpacked or download_pinned(Path(tmp), PINNED)
        sys.path.insert(0, str(unpacked))
        geocode = importlib.import_module("phonenumbers.geodata").GEOCODE_DATA
        args.out.write_text(build(geocode), encoding="utf-8")
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
