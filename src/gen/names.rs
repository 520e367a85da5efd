//! People's names: drawing a surname (Zipf-weighted) and a given name, and
//! writing a name and its reading the way one record writes them.

use super::data::{data, GivenName, Surname};
use super::text;
use rand::Rng;

/// Probability that a record writes a surname that has variant kanji in
/// another of its spellings (`髙橋` for `高橋` or back): forms typed on a PC
/// often lose the 髙, hand-written ones keep it.
pub const P_VARIANT_KANJI: f64 = 0.25;
/// Probability that a person's own spelling is a variant (`髙橋` is the
/// registered name), when the surname has one.
pub const P_OWN_VARIANT: f64 = 0.2;
/// Probability of a one-character typo in a name.
pub const P_TYPO_NAME: f64 = 0.02;
/// Probability of a one-character typo in a reading.
pub const P_TYPO_KANA: f64 = 0.03;
/// Reading written in hiragana / half-width kana.
pub const P_HIRAGANA: f64 = 0.08;
pub const P_HALFWIDTH_KANA: f64 = 0.10;

pub fn surname<R: Rng>(rng: &mut R) -> &'static Surname {
    let d = data();
    let total = *d.surname_cum.last().unwrap_or(&1);
    let x = rng.gen_range(0..total);
    let i = d.surname_cum.partition_point(|&c| c <= x);
    &d.surnames[i.min(d.surnames.len() - 1)]
}

pub fn given<R: Rng>(rng: &mut R, female: bool) -> &'static GivenName {
    let d = data();
    let list = if female { &d.female } else { &d.male };
    // Mildly skewed towards the head of the list (the commoner names).
    let a = rng.gen_range(0..list.len());
    let b = rng.gen_range(0..list.len());
    &list[a.min(b)]
}

/// The spelling a person registers: usually the standard one.
pub fn own_spelling<R: Rng>(s: &'static Surname, rng: &mut R) -> &'static str {
    if !s.variants.is_empty() && rng.gen_bool(P_OWN_VARIANT) {
        s.variants[rng.gen_range(0..s.variants.len())]
    } else {
        s.name
    }
}

fn separator<R: Rng>(rng: &mut R) -> &'static str {
    match rng.gen_range(0..10) {
        0..=4 => " ",
        5..=7 => "\u{3000}",
        _ => "",
    }
}

/// `佐藤 健`, `佐藤　健`, `佐藤健`, sometimes with the other kanji spelling
/// or a typo.
pub fn render_name<R: Rng>(
    surname: &'static Surname,
    spelling: &str,
    given: &GivenName,
    rng: &mut R,
) -> String {
    let mut family = spelling;
    if !surname.variants.is_empty() && rng.gen_bool(P_VARIANT_KANJI) {
        let all: Vec<&str> = std::iter::once(surname.name)
            .chain(surname.variants.iter().copied())
            .filter(|s| *s != spelling)
            .collect();
        family = all[rng.gen_range(0..all.len())];
    }
    let s = format!("{family}{}{}", separator(rng), given.name);
    if rng.gen_bool(P_TYPO_NAME) {
        text::typo(&s, rng)
    } else {
        s
    }
}

/// The reading: `サトウ ケン`, hiragana or half-width, spaces or none.
pub fn render_reading<R: Rng>(family: &str, given: &str, rng: &mut R) -> String {
    let mut s = format!("{family}{}{given}", separator(rng));
    if rng.gen_bool(P_TYPO_KANA) {
        s = text::typo(&s, rng);
    }
    kana_notation(&s, rng)
}

/// Katakana as written: mostly as is, sometimes hiragana or half-width.
pub fn kana_notation<R: Rng>(s: &str, rng: &mut R) -> String {
    let x: f64 = rng.gen();
    if x < P_HIRAGANA {
        text::hiragana(s)
    } else if x < P_HIRAGANA + P_HALFWIDTH_KANA {
        text::halfwidth_kana(s)
    } else {
        s.to_string()
    }
}

/// An e-mail local part from a reading: `ken.sato`, `sato_ken`, `ksato84`.
pub fn email_local<R: Rng>(family: &str, given: &str, rng: &mut R, year: Option<u32>) -> String {
    let f = text::romaji(family);
    let g = text::romaji(given);
    let mut s = match rng.gen_range(0..6) {
        0 => format!("{g}.{f}"),
        1 => format!("{f}.{g}"),
        2 => format!("{f}_{g}"),
        3 => format!("{}{f}", g.chars().next().unwrap_or('x')),
        4 => format!("{g}{f}"),
        _ => format!("{f}{}", g.chars().next().unwrap_or('x')),
    };
    match (year, rng.gen_range(0..3)) {
        (Some(y), 0) => s.push_str(&format!("{:02}", y % 100)),
        (_, 1) => s.push_str(&rng.gen_range(1..1000).to_string()),
        _ => {}
    }
    s
}
