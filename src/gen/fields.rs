//! Field values shared by both kinds of customer: addresses from the postal
//! master, phone numbers, birth dates, corporate numbers, e-mail domains, and
//! the notations each is written in. Pure functions of an RNG.

use super::data::data;
use super::text;
use crate::normalize::phone_jp;
use rand::Rng;

/// Probability that an address notation leaves out the prefecture
/// (people often start at the city when the postal code says where it is).
pub const P_NO_PREFECTURE: f64 = 0.10;
/// Probability that an address is written with full-width digits.
pub const P_FULLWIDTH_DIGITS: f64 = 0.08;
/// Probability that 大字 is left out where the official town has it.
pub const P_DROP_OAZA: f64 = 0.5;
/// Probability that the postal code is written without its hyphen, with 〒,
/// or full-width (each a third of it).
pub const P_POSTAL_VARIANT: f64 = 0.15;

/// A postal address: a real postal code and its town, plus made-up lot
/// numbers and building.
#[derive(Debug, Clone)]
pub struct Address {
    pub postal: u32,
    pub prefecture: &'static str,
    pub city: &'static str,
    /// The town as the official registry writes it, without 丁目
    /// (`霞が関`, `大字伊勢野`).
    pub town: &'static str,
    /// 丁目 number when the town has 丁目.
    pub chome: Option<u32>,
    /// 番地 (or 番) and 号.
    pub banchi: u32,
    pub go: Option<u32>,
    /// Building name and room or floor (`サンライズマンション`, `201号室`).
    pub building: Option<(String, String)>,
}

const BUILDING_WORDS: &[&str] = &[
    "サンライズ",
    "グリーン",
    "第一",
    "第二",
    "第三",
    "日の出",
    "桜",
    "中央",
    "駅前",
    "富士",
    "東和",
    "セントラル",
    "パーク",
    "ロイヤル",
    "グラン",
    "朝日",
    "大和",
    "丸の内",
    "新和",
    "ニュー",
    "ヒルズ",
    "メゾン",
    "リバーサイド",
    "アーバン",
    "光",
    "協和",
    "松竹",
    "三和",
];
const RESIDENCE_KINDS: &[&str] = &[
    "マンション",
    "ハイツ",
    "コーポ",
    "レジデンス",
    "荘",
    "ハイム",
    "コート",
];

/// A random residential address in `prefecture` (any when `None`).
pub fn address<R: Rng>(rng: &mut R, prefecture: Option<&str>, office: bool) -> Address {
    let d = data();
    let i = match prefecture.and_then(|p| d.postal_by_prefecture.get(p)) {
        Some(ids) => ids[rng.gen_range(0..ids.len())] as usize,
        None => rng.gen_range(0..d.postal.len()),
    };
    let (entry, (town, max_chome)) = (d.postal[i], d.postal_towns[i]);
    let chome = (max_chome > 0).then(|| rng.gen_range(1..=max_chome as u32));
    let (banchi, go) = if chome.is_some() {
        (rng.gen_range(1..=30), Some(rng.gen_range(1..=25)))
    } else {
        // Rural lot numbers run into the thousands; most are small.
        let b = if rng.gen_bool(0.7) {
            rng.gen_range(1..=300)
        } else {
            rng.gen_range(301..=3000)
        };
        (b, rng.gen_bool(0.6).then(|| rng.gen_range(1..=30)))
    };
    let building = if rng.gen_bool(if office { 0.6 } else { 0.35 }) {
        Some(building(rng, office))
    } else {
        None
    };
    Address {
        postal: entry.code,
        prefecture: entry.prefecture,
        city: entry.city,
        town,
        chome,
        banchi,
        go,
        building,
    }
}

pub fn building<R: Rng>(rng: &mut R, office: bool) -> (String, String) {
    let word = BUILDING_WORDS[rng.gen_range(0..BUILDING_WORDS.len())];
    if office {
        let floor = rng.gen_range(1..=12);
        let room = if rng.gen_bool(0.7) {
            format!("{floor}F")
        } else {
            format!("{floor}階")
        };
        (format!("{word}ビル"), room)
    } else {
        let kind = RESIDENCE_KINDS[rng.gen_range(0..RESIDENCE_KINDS.len())];
        let room = rng.gen_range(1..=8) * 100 + rng.gen_range(1..=12);
        let room = if rng.gen_bool(0.6) {
            format!("{room}号室")
        } else {
            room.to_string()
        };
        (format!("{word}{kind}"), room)
    }
}

/// The address written the way one record writes it.
pub fn render_address<R: Rng>(a: &Address, rng: &mut R, keep_building: bool) -> String {
    let mut s = String::with_capacity(64);
    if !rng.gen_bool(P_NO_PREFECTURE) {
        s.push_str(a.prefecture);
    }
    s.push_str(a.city);
    match a.town.strip_prefix("大字") {
        Some(t) if rng.gen_bool(P_DROP_OAZA) => s.push_str(t),
        _ => s.push_str(a.town),
    }
    let go = a.go;
    match a.chome {
        Some(c) => match rng.gen_range(0..10) {
            // 1-2-3: what most forms and CRMs hold.
            0..=4 => s.push_str(&lot(&[c, a.banchi], go, "-")),
            5 => {
                s.push_str(&format!(
                    "{}丁目{}番",
                    crate::normalize::text::to_kanji_number(c),
                    a.banchi
                ));
                if let Some(g) = go {
                    s.push_str(&format!("{g}号"));
                }
            }
            6 | 7 => s.push_str(&format!("{}丁目{}", c, lot(&[a.banchi], go, "-"))),
            _ => s.push_str(&format!(
                "{}丁目{}",
                crate::normalize::text::to_kanji_number(c),
                lot(&[a.banchi], go, "-")
            )),
        },
        None => match rng.gen_range(0..10) {
            0..=6 => s.push_str(&lot(&[a.banchi], go, "-")),
            7 | 8 => {
                s.push_str(&format!("{}番地", a.banchi));
                if let Some(g) = go {
                    s.push_str(&g.to_string());
                }
            }
            _ => {
                s.push_str(&format!("{}番", a.banchi));
                if let Some(g) = go {
                    s.push_str(&format!("{g}号"));
                }
            }
        },
    }
    if let (Some((name, room)), true) = (&a.building, keep_building) {
        if rng.gen_bool(0.7) {
            s.push(' ');
        } else if rng.gen_bool(0.5) {
            s.push('\u{3000}');
        }
        s.push_str(name);
        if rng.gen_bool(0.8) {
            s.push(' ');
        }
        s.push_str(room);
    }
    if rng.gen_bool(P_FULLWIDTH_DIGITS) {
        s = text::fullwidth_ascii(&s).replace('\u{3000}', " ");
    }
    s
}

fn lot(parts: &[u32], go: Option<u32>, sep: &str) -> String {
    let mut v: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    if let Some(g) = go {
        v.push(g.to_string());
    }
    v.join(sep)
}

pub fn render_postal<R: Rng>(code: u32, rng: &mut R) -> String {
    let s = format!("{:03}-{:04}", code / 10_000, code % 10_000);
    if !rng.gen_bool(P_POSTAL_VARIANT) {
        return s;
    }
    match rng.gen_range(0..3) {
        0 => s.replace('-', ""),
        1 => format!("〒{s}"),
        _ => text::fullwidth_ascii(&s),
    }
}

/// Main area code of each prefecture (its capital's), for landlines.
const AREA_CODES: &[(&str, &str)] = &[
    ("北海道", "011"),
    ("青森県", "017"),
    ("岩手県", "019"),
    ("宮城県", "022"),
    ("秋田県", "018"),
    ("山形県", "023"),
    ("福島県", "024"),
    ("茨城県", "029"),
    ("栃木県", "028"),
    ("群馬県", "027"),
    ("埼玉県", "048"),
    ("千葉県", "043"),
    ("東京都", "03"),
    ("神奈川県", "045"),
    ("新潟県", "025"),
    ("富山県", "076"),
    ("石川県", "076"),
    ("福井県", "0776"),
    ("山梨県", "055"),
    ("長野県", "026"),
    ("岐阜県", "058"),
    ("静岡県", "054"),
    ("愛知県", "052"),
    ("三重県", "059"),
    ("滋賀県", "077"),
    ("京都府", "075"),
    ("大阪府", "06"),
    ("兵庫県", "078"),
    ("奈良県", "0742"),
    ("和歌山県", "073"),
    ("鳥取県", "0857"),
    ("島根県", "0852"),
    ("岡山県", "086"),
    ("広島県", "082"),
    ("山口県", "083"),
    ("徳島県", "088"),
    ("香川県", "087"),
    ("愛媛県", "089"),
    ("高知県", "088"),
    ("福岡県", "092"),
    ("佐賀県", "0952"),
    ("長崎県", "095"),
    ("熊本県", "096"),
    ("大分県", "097"),
    ("宮崎県", "0985"),
    ("鹿児島県", "099"),
    ("沖縄県", "098"),
];

/// A phone number in national format, split where its hyphens go
/// (`03`, `1234`, `5678`).
#[derive(Debug, Clone)]
pub struct Phone {
    pub area: String,
    pub exchange: String,
    pub line: String,
}

/// Draws numbers that start with `prefix` and have `digits` digits in all
/// until one is in the Japanese numbering plan. Which exchanges exist (011-9xx
/// does not, 011-2xx does) is libphonenumber's knowledge, compiled into
/// `normalize::phone_jp`; it is used here as the numbering plan, and it also
/// says where the hyphens go.
fn valid_number<R: Rng>(rng: &mut R, prefix: &str, digits: usize) -> Option<Phone> {
    for _ in 0..40 {
        let mut n = String::with_capacity(digits);
        n.push_str(&prefix[1..]);
        n.push(char::from(b'0' + rng.gen_range(1..10u8)));
        while n.len() < digits - 1 {
            n.push(char::from(b'0' + rng.gen_range(0..10u8)));
        }
        if let Some(f) = phone_jp::format_valid(&n) {
            let mut parts = f.split('-');
            if let (Some(a), Some(e), Some(l), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            {
                return Some(Phone {
                    area: a.to_string(),
                    exchange: e.to_string(),
                    line: l.to_string(),
                });
            }
        }
    }
    None
}

/// A landline in `prefecture` (its capital's area code).
pub fn landline<R: Rng>(rng: &mut R, prefecture: &str) -> Phone {
    let area = AREA_CODES
        .iter()
        .find(|(p, _)| *p == prefecture)
        .map(|(_, a)| *a)
        .unwrap_or("03");
    valid_number(rng, area, 10)
        .or_else(|| valid_number(rng, "03", 10))
        .unwrap_or_else(|| Phone {
            area: "03".into(),
            exchange: "5555".into(),
            line: format!("{:04}", rng.gen_range(0..10_000)),
        })
}

pub fn mobile<R: Rng>(rng: &mut R) -> Phone {
    let area = ["090", "090", "080", "080", "070"][rng.gen_range(0..5)];
    valid_number(rng, area, 11).unwrap_or_else(|| Phone {
        area: area.into(),
        exchange: format!("{}{:03}", rng.gen_range(1..=9), rng.gen_range(0..1000)),
        line: format!("{:04}", rng.gen_range(0..10_000)),
    })
}

/// A toll-free 0120 number.
pub fn freedial<R: Rng>(rng: &mut R) -> Phone {
    valid_number(rng, "0120", 10).unwrap_or_else(|| landline(rng, "東京都"))
}

/// Probability that a phone number is written in a notation other than
/// `03-1234-5678`.
pub const P_PHONE_VARIANT: f64 = 0.3;

pub fn render_phone<R: Rng>(p: &Phone, rng: &mut R) -> String {
    let (a, e, l) = (p.area.as_str(), &p.exchange, &p.line);
    if !rng.gen_bool(P_PHONE_VARIANT) {
        return format!("{a}-{e}-{l}");
    }
    match rng.gen_range(0..10) {
        0..=3 => format!("{a}{e}{l}"),
        4 | 5 => format!("({a}){e}-{l}"),
        6 if a != "0120" => format!("+81 {}-{e}-{l}", &a[1..]),
        7 => format!("{a} {e} {l}"),
        _ => text::fullwidth_ascii(&format!("{a}-{e}-{l}")),
    }
}

/// A birth date between 1940-01-01 and 2005-12-31.
pub fn birth_date<R: Rng>(rng: &mut R, years: std::ops::RangeInclusive<u32>) -> (u32, u32, u32) {
    let y = rng.gen_range(years);
    let m = rng.gen_range(1..=12);
    let d = rng.gen_range(1..=days_in_month(y, m));
    (y, m, d)
}

pub fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Probability that a date is written in a notation other than the file's
/// usual `1980/04/01`.
pub const P_DATE_VARIANT: f64 = 0.3;

pub fn render_date<R: Rng>((y, m, d): (u32, u32, u32), rng: &mut R) -> String {
    if !rng.gen_bool(P_DATE_VARIANT) {
        return format!("{y}/{m:02}/{d:02}");
    }
    // Shōwa ran to 1989-01-07, Heisei from 1989-01-08.
    let showa = (y, m, d) <= (1989, 1, 7);
    let (era, era_letter, ey) = if showa {
        ("昭和", "S", y - 1925)
    } else {
        ("平成", "H", y - 1988)
    };
    match rng.gen_range(0..6) {
        0 => format!("{y}{m:02}{d:02}"),
        1 => format!("{era_letter}{ey}.{m}.{d}"),
        2 => format!("{era}{ey}年{m}月{d}日"),
        3 => format!("{y}-{m}-{d}"),
        4 => format!("{y}-{m:02}-{d:02}"),
        _ => format!("{y}年{m}月{d}日"),
    }
}

/// A 13-digit corporate number with a valid check digit (the normalizer's
/// own [`crate::normalize::corporate_number::check_digit`]).
pub fn corporate_number<R: Rng>(rng: &mut R) -> String {
    let base: Vec<u32> = (0..12).map(|_| rng.gen_range(0..10)).collect();
    let mut s = crate::normalize::corporate_number::check_digit(&base).to_string();
    for d in base {
        s.push(char::from(b'0' + d as u8));
    }
    s
}

/// Free-mail-like domains for consumers; all under reserved `example` names.
pub const FREE_MAIL: &[&str] = &[
    "mail.example.jp",
    "example.ne.jp",
    "freemail.example.com",
    "docomo.example.ne.jp",
    "ezweb.example.ne.jp",
    "softbank.example.ne.jp",
    "example.com",
    "icloud.example.com",
];
