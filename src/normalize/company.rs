//! Company names: legal forms (法人格), branch names, and the company match key.
//!
//! Recognises every legal form in `rules/legal_forms.tsv` in all its
//! notations — full (`株式会社`, old `株式會社`), parenthesised abbreviations
//! (`(株)` `（株）` `㈱` `(一社)`, after width folding), bank-transfer kana
//! (`カ)` before the name, `(カ` after it, `(カ)` in the middle) and English
//! (`K.K.`, and the forms of `rules/english_legal_forms.tsv` such as
//! `Co., Ltd.`) — and where it stood: before the name (前株), after it (後株),
//! or in the middle (before a branch name). The display value writes the form
//! as the rules ask (`full` / `abbreviated` / `remove`) at the position the
//! input had it, with no space beside it.
//!
//! A trailing branch or office (`札幌支店`, `本社`, `第二工場`) is split off into
//! the `branch` part when it is clearly separate from the name: after a space
//! (several office words in a row stay together: `札幌支店 営業部`), after the
//! legal form, or as a known place name and/or `第N` + office word. It never
//! cuts into a name it cannot tell apart (`ABC本店` stays whole). An honorific
//! after the name (`御中`, `様`) is dropped.
//!
//! The match key is the name without legal form and branch, without spaces or
//! punctuation, lower-cased, hiragana as katakana, variant kanji folded and
//! small kana made large (`キャノン` keys as `キヤノン`, `さっぽろ` as
//! `サツポロ`), then mapped through the company alias
//! dictionary (`NTT` → `日本電信電話`).

use super::IssueKind;
use super::{kana, text, Dictionaries, Normalized};
use crate::rules::{CompanyOptions, LegalFormStyle};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::OnceLock;

const LEGAL_FORMS: &str = include_str!("../../rules/legal_forms.tsv");
const ENGLISH_FORMS: &str = include_str!("../../rules/english_legal_forms.tsv");

/// Office words that end a branch name. Not 研究所, センター or 製作所: they end
/// too many company names (株式会社豊田中央研究所, 株式会社日立製作所).
const BRANCH_WORDS: [&str; 15] = [
    "支店",
    "支社",
    "営業所",
    "工場",
    "出張所",
    "事業所",
    "本社",
    "本店",
    "事務所",
    "営業部",
    "支部",
    "支所",
    "本部",
    "製油所",
    "製造所",
];

/// Places that commonly name a branch written straight after the company name
/// (`ABC商事大阪支店`). Prefectures are matched with and without 都府県.
const BRANCH_PLACES: &[&str] = &[
    "北海道",
    "青森",
    "岩手",
    "宮城",
    "秋田",
    "山形",
    "福島",
    "茨城",
    "栃木",
    "群馬",
    "埼玉",
    "千葉",
    "東京",
    "神奈川",
    "新潟",
    "富山",
    "石川",
    "福井",
    "山梨",
    "長野",
    "岐阜",
    "静岡",
    "愛知",
    "三重",
    "滋賀",
    "京都",
    "大阪",
    "兵庫",
    "奈良",
    "和歌山",
    "鳥取",
    "島根",
    "岡山",
    "広島",
    "山口",
    "徳島",
    "香川",
    "愛媛",
    "高知",
    "福岡",
    "佐賀",
    "長崎",
    "熊本",
    "大分",
    "宮崎",
    "鹿児島",
    "沖縄",
    "札幌",
    "仙台",
    "横浜",
    "川崎",
    "名古屋",
    "神戸",
    "北九州",
    "さいたま",
    "浜松",
    "堺",
    "相模原",
    "金沢",
    "那覇",
    "松山",
    "高松",
    "盛岡",
    "郡山",
    "宇都宮",
    "高崎",
    "水戸",
    "柏",
    "船橋",
    "立川",
    "八王子",
    "厚木",
    "豊橋",
    "豊田",
    "四日市",
    "姫路",
    "倉敷",
    "福山",
    "下関",
    "久留米",
    "東北",
    "関東",
    "関西",
    "中部",
    "東海",
    "北陸",
    "近畿",
    "中国",
    "四国",
    "九州",
    "首都圏",
    "甲信越",
    "山陰",
    "山陽",
    "南九州",
    "北関東",
    "東日本",
    "西日本",
    "本町",
    "梅田",
    "新宿",
    "渋谷",
    "池袋",
    "品川",
    "上野",
    "銀座",
    "丸の内",
    "日本橋",
    "難波",
    "天神",
    "博多",
    "栄",
    "東",
    "西",
    "南",
    "北",
    "中央",
];

#[derive(Debug)]
struct LegalForm {
    full: String,
    /// Shorter display for `abbreviated` (`(株)`); full when none exists.
    abbreviated: String,
    english: bool,
}

#[derive(Debug)]
struct Tables {
    forms: Vec<LegalForm>,
    /// Full spellings, longest first.
    full: Vec<(String, usize)>,
    /// Text inside parentheses → form.
    paren: HashMap<String, usize>,
    /// English spellings (lower case), longest first.
    english: Vec<(String, usize)>,
    /// Katakana readings as kana keys, longest first.
    readings: Vec<(String, usize)>,
    /// All full spellings at once (`full`'s order), for one pass over a name.
    full_matcher: AhoCorasick,
    /// Bank-transfer abbreviation → the one form it names, for `(カ)`,
    /// `カ)…` and `…(カ` lookups.
    bank_form: HashMap<String, usize>,
    /// `place`, `place都`, … for every branch place, longest first.
    branch_places: Vec<String>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(build_tables)
}

fn data_lines(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // header
        .map(|l| l.split('\t').collect())
}

fn alternatives(col: Option<&&str>) -> Vec<String> {
    col.map(|c| {
        c.split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

fn build_tables() -> Tables {
    let mut t = Tables {
        forms: Vec::new(),
        full: Vec::new(),
        paren: HashMap::new(),
        english: Vec::new(),
        full_matcher: AhoCorasick::new(std::iter::empty::<&str>()).expect("empty automaton"),
        bank_form: HashMap::new(),
        branch_places: Vec::new(),
        readings: Vec::new(),
    };
    for cols in data_lines(LEGAL_FORMS) {
        let full = cols[0].to_string();
        let abbrs = alternatives(cols.get(2));
        let idx = t.forms.len();
        t.forms.push(LegalForm {
            abbreviated: abbrs
                .first()
                .map(|a| format!("({a})"))
                .unwrap_or_else(|| full.clone()),
            full: full.clone(),
            english: false,
        });
        t.full.push((full.clone(), idx));
        for s in alternatives(cols.get(1)) {
            t.full.push((s, idx));
        }
        for a in abbrs {
            // The first (most specific) form to claim an abbreviation keeps it,
            // except that a plain form (医療法人) wins over its sub-forms.
            match t.paren.get(&a) {
                Some(&old) if t.forms[old].full.chars().count() <= full.chars().count() => {}
                _ => {
                    t.paren.insert(a, idx);
                }
            }
        }
        for e in alternatives(cols.get(3)) {
            t.english.push((e.to_lowercase(), idx));
        }
        for r in alternatives(cols.get(4)) {
            t.readings.push((kana::kana_key(&r), idx));
        }
        for b in alternatives(cols.get(5)) {
            // Several forms share a bank abbreviation (イ for the three 医療法人
            // forms, シヤ for 一般/公益社団法人). One form must be shown for it,
            // decided by the table rather than by sort order: the first listed
            // keeps it, except that a plain form wins over its sub-forms.
            match t.bank_form.get(&b) {
                Some(&old) if t.forms[old].full.chars().count() <= full.chars().count() => {}
                _ => {
                    t.bank_form.insert(b, idx);
                }
            }
        }
    }
    for cols in data_lines(ENGLISH_FORMS) {
        let idx = t.forms.len();
        let canonical = cols[0].to_string();
        t.forms.push(LegalForm {
            full: canonical.clone(),
            abbreviated: canonical.clone(),
            english: true,
        });
        t.english.push((canonical.to_lowercase(), idx));
        for s in alternatives(cols.get(1)) {
            t.english.push((s.to_lowercase(), idx));
        }
    }
    let by_len = |a: &(String, usize), b: &(String, usize)| {
        b.0.chars()
            .count()
            .cmp(&a.0.chars().count())
            .then(a.1.cmp(&b.1))
    };
    t.full.sort_by(by_len);
    t.english.sort_by(by_len);
    t.full_matcher = AhoCorasick::new(t.full.iter().map(|(f, _)| f.as_str()))
        .expect("legal form spellings build an automaton");
    let mut places: Vec<String> = BRANCH_PLACES
        .iter()
        .flat_map(|p| ["", "都", "府", "県", "市"].map(|suffix| format!("{p}{suffix}")))
        .collect();
    places.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
    t.branch_places = places;
    t.readings.sort_by(by_len);
    t
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Before,
    After,
    Middle,
}

impl Position {
    fn label(self) -> &'static str {
        match self {
            Position::Before => "前",
            Position::After => "後",
            Position::Middle => "中",
        }
    }
}

/// A legal form found in a string: byte range and form index.
#[derive(Debug, Clone, Copy)]
struct Found {
    start: usize,
    end: usize,
    form: usize,
}

/// Find the legal form in folded text. Preference: at the start, at the end,
/// then the earliest occurrence in the middle.
fn find_legal_form(s: &str) -> Option<Found> {
    let t = tables();
    let mut candidates: Vec<Found> = Vec::new();

    // Parenthesised abbreviations: (株) ( 株 ) (一社) (カ) — and bank kana
    // without one of the parentheses at the edges: カ)… and …(カ.
    let mut i = 0;
    while let Some(off) = s[i..].find('(') {
        let open = i + off;
        if let Some(close_off) = s[open..].find(')') {
            let close = open + close_off;
            let inner = s[open + 1..close].trim();
            if let Some(&form) = t.paren.get(inner) {
                candidates.push(Found {
                    start: open,
                    end: close + 1,
                    form,
                });
            } else if let Some(&form) = t.bank_form.get(inner) {
                candidates.push(Found {
                    start: open,
                    end: close + 1,
                    form,
                });
            }
        }
        i = open + 1;
    }
    let kana_like = |r: &str| {
        r.chars().all(|c| {
            text::is_katakana(c)
                || matches!(c, 'ー' | ' ' | '.' | '-' | '・')
                || c.is_ascii_alphanumeric()
        })
    };
    // `カ)…`: the text before the first `)` is a bank abbreviation.
    if let Some(close) = s.find(')') {
        if let Some(&form) = t.bank_form.get(&s[..close]) {
            let end = close + 1;
            if s.len() > end && kana_like(&s[end..]) {
                candidates.push(Found {
                    start: 0,
                    end,
                    form,
                });
            }
        }
    }
    // `…(カ`: the text after the last `(` is one, with no `)` after it.
    if let Some(open) = s.rfind('(') {
        if let Some(&form) = t.bank_form.get(&s[open + 1..]) {
            if open > 0 && kana_like(&s[..open]) {
                candidates.push(Found {
                    start: open,
                    end: s.len(),
                    form,
                });
            }
        }
    }

    // Full spellings anywhere, every occurrence (overlaps included; the
    // containment rule below prefers 一般社団法人 over the 社団法人 in it).
    for m in t.full_matcher.find_overlapping_iter(s) {
        candidates.push(Found {
            start: m.start(),
            end: m.end(),
            form: t.full[m.pattern().as_usize()].1,
        });
    }

    // English forms: after a space or comma, at the end or before a branch
    // (`コプロ Co., Ltd. 本社`).
    if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        let lower = s.to_lowercase();
        if lower.len() == s.len() {
            'forms: for (e, form) in &t.english {
                for (start, _) in lower.match_indices(e.as_str()) {
                    let end = start + e.len();
                    let before = s[..start].chars().last();
                    let rest = &s[end..];
                    let ends = rest.is_empty() || rest.starts_with(' ') && is_branch(rest);
                    if start > 0 && matches!(before, Some(' ') | Some(',')) && ends {
                        candidates.push(Found {
                            start,
                            end,
                            form: *form,
                        });
                        break 'forms;
                    }
                }
            }
        }
    }

    if candidates.is_empty() {
        return None;
    }
    // Drop candidates contained in a longer one (社団法人 inside 一般社団法人).
    let contained = |a: &Found, b: &Found| {
        (b.start <= a.start && a.end <= b.end) && (b.end - b.start > a.end - a.start)
    };
    let all = candidates.clone();
    candidates.retain(|a| !all.iter().any(|b| contained(a, b)));
    let at_start = candidates
        .iter()
        .filter(|c| c.start == 0)
        .max_by_key(|c| c.end);
    if let Some(c) = at_start {
        return Some(*c);
    }
    let at_end = candidates
        .iter()
        .filter(|c| s[c.end..].trim().is_empty())
        .min_by_key(|c| c.start);
    if let Some(c) = at_end {
        return Some(*c);
    }
    candidates
        .iter()
        .min_by_key(|c| (c.start, usize::MAX - c.end))
        .copied()
}

/// Does `s` end with an office word, and is it short enough to be a branch?
fn is_branch(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.chars().count() <= 20 && BRANCH_WORDS.iter().any(|w| s.ends_with(w))
}

/// Split a trailing branch off a name without a legal-form boundary:
/// after the last space, or a known place (+ optional 第N) + office word.
/// Every office at the end goes, however written (`ABC第一事業所
/// 札幌出張所`, `ABC 東京本社大阪事業所`), so the name normalizes to
/// itself; the branch is the rest of the text as written.
fn split_branch(body: &str) -> (String, Option<String>) {
    let mut name = body;
    loop {
        let stem = strip_offices(name);
        if stem.len() == name.len() {
            break;
        }
        name = stem;
    }
    if name.len() == body.len() {
        return (body.to_string(), None);
    }
    (
        name.to_string(),
        Some(body[name.len()..].trim().to_string()),
    )
}

/// `body` without its trailing offices, one round: the words after spaces
/// that are office names (`ABC 札幌支店 営業部`), then the offices written
/// onto what is left.
fn strip_offices(body: &str) -> &str {
    let mut name = body;
    while let Some(sp) = name.rfind(' ') {
        if name[..sp].trim().is_empty() || !is_branch(&name[sp + 1..]) {
            break;
        }
        name = name[..sp].trim_end();
    }
    while let (stem, Some(_)) = split_attached_branch(name) {
        name = stem;
    }
    name
}

/// An office name written onto the company name with no space
/// (`ABC札幌支店`, `ABC第一工場`): split off when a place or 第N is right
/// before the office word and at least two characters of name are left.
fn split_attached_branch(body: &str) -> (&str, Option<&str>) {
    for w in BRANCH_WORDS {
        let Some(stem) = body.strip_suffix(w) else {
            continue;
        };
        // 本社/本店 straight after a name are too often part of it (ABC本店).
        if matches!(w, "本社" | "本店") {
            continue;
        }
        // Place name, optionally with 都/府/県/市 and 第N, right before the word.
        let mut best: Option<usize> = None;
        for place in &tables().branch_places {
            if let Some(name) = stem.strip_suffix(place.as_str()) {
                if name.chars().count() >= 2 {
                    let start = name.len();
                    best = Some(best.map_or(start, |b: usize| b.min(start)));
                }
            }
        }
        if best.is_none() {
            // 第一工場, 第2営業所
            if let Some(pos) = stem.rfind('第') {
                let num = &stem[pos + '第'.len_utf8()..];
                if !num.is_empty()
                    && num
                        .chars()
                        .all(|c| c.is_ascii_digit() || text::is_kanji_numeral(c))
                    && stem[..pos].chars().count() >= 2
                {
                    best = Some(pos);
                    // A place before 第N belongs to the branch too (関東第一営業所).
                    for p in BRANCH_PLACES {
                        for suffix in ["", "都", "府", "県", "市"] {
                            let place = format!("{p}{suffix}");
                            if let Some(name) = stem[..pos].strip_suffix(place.as_str()) {
                                if name.chars().count() >= 2 {
                                    best = Some(best.map_or(name.len(), |b| b.min(name.len())));
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(start) = best {
            return (&body[..start], Some(&body[start..]));
        }
    }
    (body, None)
}

fn form_display(form: &LegalForm, style: LegalFormStyle) -> &str {
    match style {
        LegalFormStyle::Full => &form.full,
        LegalFormStyle::Abbreviated => &form.abbreviated,
        LegalFormStyle::Remove => "",
    }
}

/// Normalize a company name (see module docs).
pub fn normalize(raw: &str, opts: &CompanyOptions, dict: &Dictionaries) -> Normalized {
    let folded = text::fold(raw);
    let folded = text::strip_honorific(&folded, None).to_string();
    if folded.is_empty() {
        return Normalized::empty();
    }
    let t = tables();
    let mut n = Normalized::default();
    let style = opts.legal_form;

    let (display, body, branch) = match find_legal_form(&folded) {
        Some(found) => {
            let form = &t.forms[found.form];
            let before = folded[..found.start].trim().trim_end_matches(',').trim();
            let after = folded[found.end..].trim();
            let (position, name, mut branch) = if before.is_empty() {
                (Position::Before, after.to_string(), None)
            } else if after.is_empty() {
                (Position::After, before.to_string(), None)
            } else if opts.split_branch() && is_branch(after) {
                (Position::After, before.to_string(), Some(after.to_string()))
            } else {
                (Position::Middle, format!("{before} {after}"), None)
            };
            let mut name = name;
            if branch.is_none() && opts.split_branch() && position != Position::Middle {
                let (nm, br) = split_branch(&name);
                name = nm;
                branch = br;
            }
            let shown = form_display(form, style);
            let display = match position {
                Position::Before => format!("{shown}{name}"),
                Position::After if form.english && !shown.is_empty() => format!("{name} {shown}"),
                Position::After => format!("{name}{shown}"),
                Position::Middle => format!("{before}{shown}{after}"),
            };
            n.push_part("legal_form", form.full.clone());
            n.push_part("legal_form_position", position.label());
            // A second legal form left in the name is worth a look.
            if let Some(other) = find_legal_form(&name) {
                n.issue(
                    IssueKind::MultipleLegalForms,
                    format!(
                        "more than one legal form: {} and {}",
                        form.full, t.forms[other.form].full
                    ),
                );
            }
            (display, name, branch)
        }
        None => {
            let (name, branch) = if opts.split_branch() {
                split_branch(&folded)
            } else {
                (folded.clone(), None)
            };
            (name.clone(), name, branch)
        }
    };

    let key = company_key(&body, dict);
    if key.is_empty() {
        n.issue(
            IssueKind::NoCompanyName,
            "only a legal form or branch, no name",
        );
    }
    n.value = Some(display.trim().to_string());
    n.key = Some(key);
    if let Some(b) = branch {
        n.push_part("branch", b);
    }
    n
}

/// The company match key of a name without legal form (see module docs).
pub fn company_key(name: &str, dict: &Dictionaries) -> String {
    let mut key = String::with_capacity(name.len());
    // Hiragana becomes katakana *before* small kana are made large: the other
    // way round, `さっぽろ` kept its small `ッ` and never met `サッポロ`.
    for c in name.chars().map(kana::katakana_of) {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if text::is_kanji(c) || text::is_kana(c) || c == 'ー' {
            // Kanji and kana have no case.
            key.push(kana::large_kana(dict.variants.fold_char(c)));
        } else if c.is_alphanumeric() {
            key.extend(dict.variants.fold_char(c).to_lowercase());
        }
    }
    match dict.company_aliases.get(&key) {
        Some(canonical) => canonical.clone(),
        None => key,
    }
}

/// For `company_kana`: the kana match key without legal-form readings or bank
/// abbreviations, and the legal form found.
pub fn kana_key_without_legal_form(v: &str) -> (String, Option<String>) {
    let t = tables();
    let mut body = v.to_string();
    let mut form_found: Option<usize> = None;
    if let Some(found) = find_legal_form(v) {
        // Only bank/paren notations make sense in a kana field.
        if !v[found.start..found.end].chars().any(text::is_kanji) {
            body = format!("{}{}", &v[..found.start], &v[found.end..]);
            form_found = Some(found.form);
        }
    }
    // A reading written as a word of its own may stand anywhere, also between
    // the name and a branch (`イトウチユウシヨウジ カブシキガイシヤ サツポロシシヤ`).
    if form_found.is_none() {
        let words: Vec<&str> = body.split(' ').collect();
        let hit = words.iter().enumerate().find_map(|(i, w)| {
            let k = kana::kana_key(w);
            t.readings
                .iter()
                .find(|(r, _)| !r.is_empty() && *r == k)
                .map(|(_, form)| (i, *form))
        });
        if let Some((i, form)) = hit {
            form_found = Some(form);
            body = words
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, w)| *w)
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    let mut key = kana::kana_key(&body);
    for (r, form) in &t.readings {
        if r.is_empty() || form_found.is_some() {
            continue;
        }
        if let Some(rest) = key.strip_prefix(r.as_str()) {
            key = rest.to_string();
            form_found = form_found.or(Some(*form));
            break;
        }
        if let Some(rest) = key.strip_suffix(r.as_str()) {
            key = rest.to_string();
            form_found = form_found.or(Some(*form));
            break;
        }
    }
    (key, form_found.map(|f| t.forms[f].full.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::CompanyOptions;

    fn norm(s: &str) -> Normalized {
        normalize(s, &CompanyOptions::default(), &Dictionaries::default())
    }

    #[test]
    fn design_examples() {
        assert_eq!(
            norm("㈱ＡＢＣ商事").value.as_deref(),
            Some("株式会社ABC商事")
        );
        assert_eq!(
            norm("ABC商事（株）").value.as_deref(),
            Some("ABC商事株式会社")
        );
        assert_eq!(
            norm("(一社)日本IT協会").value.as_deref(),
            Some("一般社団法人日本IT協会")
        );
        assert_eq!(norm("㈱ＡＢＣ商事").key, norm("ABC商事（株）").key);
    }

    #[test]
    fn bank_kana_and_branch() {
        let n = norm("ｶ)ｴｰﾋﾞｰｼｰ");
        assert_eq!(n.value.as_deref(), Some("株式会社エービーシー"));
        let n = norm("ABC商事株式会社 札幌支店");
        assert_eq!(n.value.as_deref(), Some("ABC商事株式会社"));
        assert_eq!(n.part("branch"), Some("札幌支店"));
        let n = norm("ABC本店");
        assert_eq!(n.value.as_deref(), Some("ABC本店"));
        assert_eq!(n.part("branch"), None);
        let n = norm("株式会社ABC 札幌支店 営業部");
        assert_eq!(n.part("branch"), Some("札幌支店 営業部"));
        let n = norm("株式会社ABC商事関東第一営業所");
        assert_eq!(n.part("branch"), Some("関東第一営業所"));
        // An English legal form before the office.
        let n = norm("コプロ Co., Ltd. 本社");
        assert_eq!(n.key.as_deref(), Some("コプロ"));
        assert_eq!(n.part("branch"), Some("本社"));
        assert_eq!(norm("コプロ Co., Ltd.").key.as_deref(), Some("コプロ"));
        // An office written onto the name before a spaced one: both are
        // the branch, and the name normalizes to itself.
        let n = norm("ABC第一事業所 札幌出張所");
        assert_eq!(n.value.as_deref(), Some("ABC"));
        assert_eq!(n.part("branch"), Some("第一事業所 札幌出張所"));
        assert_eq!(norm("ABC").value.as_deref(), Some("ABC"));
        // Too little name is left: not split, whether spaced or not.
        let n = norm("X第一事業所 札幌出張所");
        assert_eq!(n.value.as_deref(), Some("X第一事業所"));
        assert_eq!(norm("X第一事業所").value.as_deref(), Some("X第一事業所"));
    }

    #[test]
    fn honorifics_after_the_name_are_dropped() {
        assert_eq!(
            norm("ＡＢＣ商事㈱　御中").value.as_deref(),
            Some("ABC商事株式会社")
        );
        assert_eq!(norm("株式会社ABC様").value.as_deref(), Some("株式会社ABC"));
        assert_eq!(norm("ABC御殿").value.as_deref(), Some("ABC御殿"));
    }

    #[test]
    fn hiragana_keys_like_katakana_with_small_kana_made_large() {
        assert_eq!(norm("コープさっぽろ").key, norm("コープサッポロ").key);
        assert_eq!(
            norm("コープさっぽろ").key.as_deref(),
            Some("コープサツポロ")
        );
    }

    #[test]
    fn shared_bank_abbreviations_name_one_form() {
        assert_eq!(norm("ｲ)ｹｲｼﾞﾝｶｲ").part("legal_form"), Some("医療法人"));
        assert_eq!(norm("ｼﾔ)ｴｰﾋﾞｰｼｰ").part("legal_form"), Some("一般社団法人"));
        assert_eq!(norm("ｴｰﾋﾞｰｼｰ(ｻﾞｲ").part("legal_form"), Some("一般財団法人"));
    }

    #[test]
    fn kana_key_strips_readings() {
        let (a, fa) = kana_key_without_legal_form("カブシキガイシャ エービーシー");
        let (b, fb) = kana_key_without_legal_form("カ)エービーシー");
        assert_eq!(a, b);
        assert_eq!(fa.as_deref(), Some("株式会社"));
        assert_eq!(fb.as_deref(), Some("株式会社"));
        let (c, _) = kana_key_without_legal_form("エービーシー カブシキガイシャ サッポロシテン");
        assert_eq!(c, kana::kana_key("エービーシー サッポロシテン"));
    }
}
