//! A person's name written only in kanji against one written only in kana
//! (`佐藤 健` / `サトウ ケン`): orders taken by phone and kana-only systems
//! keep the reading, forms and registers keep the kanji, and without a
//! reading of the kanji the two say nothing about each other.
//!
//! The readings come from IPADIC's person names
//! (`rules/master/person_readings.tsv.gz`, see `rules/master/README.md`):
//! a surname's and a given name's readings, all of them (`健`: ケン, タケシ,
//! タケル). They are only ever compared, never written into a record: a
//! name with several readings agrees with each, a name the table does not
//! know gives no value and the comparison says nothing (never a guess).
//!
//! [`value`] prepares the one comparison ([`super::compare::Comparator::Reading`])
//! of a record: its written reading when it has kana and no kanji, the
//! readings of its kanji when it has kanji and no kana, else nothing. Only a
//! record of each kind gives a level ([`super::level`]); two records with
//! kana are compared by the kana comparison, two with kanji by the name's.

use super::compare::Value;
use crate::normalize::{kana, text, Normalized};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

const READINGS_GZ: &[u8] = include_bytes!("../../rules/master/person_readings.tsv.gz");

/// At most this many (surname, given name) readings of one name are kept:
/// a long unspaced name can be cut in several places.
pub const MAX_CANDIDATES: usize = 64;

/// What separates a surname's reading from the given name's in a candidate.
const SEP: char = '\t';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Surname = 0,
    Given = 1,
}

/// The table: per [`Part`], written form → readings as kana match keys.
fn table() -> &'static [HashMap<String, Vec<String>>; 2] {
    static TABLE: OnceLock<[HashMap<String, Vec<String>>; 2]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut text = String::new();
        GzDecoder::new(READINGS_GZ)
            .read_to_string(&mut text)
            .expect("the embedded reading table is gzip'd UTF-8");
        let mut out = [HashMap::new(), HashMap::new()];
        for line in text.lines() {
            let mut f = line.split('\t');
            let (Some(surface), Some(kind), Some(readings)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let part = match kind {
                "s" => Part::Surname,
                "g" => Part::Given,
                _ => continue,
            };
            // Two readings may have one key (`オウノ`, `オオノ`).
            let mut keys: Vec<String> = readings.split('|').filter_map(reading_key).collect();
            keys.sort();
            keys.dedup();
            if !keys.is_empty() {
                out[part as usize].insert(surface.to_string(), keys);
            }
        }
        out
    })
}

/// A reading's kana match key, as the kana field's own key is made.
fn reading_key(reading: &str) -> Option<String> {
    kana::person_kana(reading).key.filter(|k| !k.is_empty())
}

/// The readings of one written part: a part written in kana reads as
/// written (`佐藤 さくら`); else the table's, looked up as written and, only
/// when that misses, as `fold` writes it (`髙橋` → `高橋`).
fn readings(written: &str, fold: impl Fn(&str) -> String, part: Part) -> Vec<String> {
    if !written.is_empty() && written.chars().all(|c| text::is_kana(c) || c == 'ー') {
        return reading_key(written).into_iter().collect();
    }
    let t = &table()[part as usize];
    t.get(written)
        .or_else(|| t.get(&fold(written)))
        .cloned()
        .unwrap_or_default()
}

/// Whether two given names written in kanji are two names rather than one
/// name slipped: of one length, one kanji apart (`昌子` / `花子`, `亮` /
/// `昇`), both known to the table, and with no reading in common. A slip
/// of the input method keeps the reading (`裕子` / `祐子`, both ユウコ); a
/// name the table does not know says nothing.
/// Two such names at one address are two people of one household.
pub fn read_apart(a: &str, b: &str) -> bool {
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if ca.len() != cb.len() || !ca.iter().chain(&cb).all(|&c| text::is_kanji(c)) {
        return false;
    }
    if ca.iter().zip(&cb).filter(|(x, y)| x != y).count() != 1 {
        return false;
    }
    let t = &table()[Part::Given as usize];
    match (t.get(a), t.get(b)) {
        (Some(ra), Some(rb)) => !ra.iter().any(|r| rb.contains(r)),
        _ => false,
    }
}

/// Two names written without a space, cut after the longest surname the
/// table knows that both begin with (`大塚昭子` / `大塚優子`: `大塚`); their
/// given names, or `None` when no such surname leaves both a given name.
pub fn cut_after_common_surname<'a>(a: &'a str, b: &'a str) -> Option<(&'a str, &'a str)> {
    let t = &table()[Part::Surname as usize];
    let common: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    a[..common]
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .rev()
        .find(|&end| end < a.len() && end < b.len() && t.contains_key(&a[..end]))
        .map(|end| (&a[end..], &b[end..]))
}

/// The (surname, given name) readings of a name written as `words`
/// (`fold(w)` gives a word's variant-folded form): the surname's and the
/// given name's when written apart, else those of every cut into a known
/// surname and a known given name. At most [`MAX_CANDIDATES`], sorted.
pub fn candidates(words: &[&str], fold: impl Fn(&str) -> String) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |surname: &str, given: &str| {
        let s = readings(surname, &fold, Part::Surname);
        if s.is_empty() {
            return;
        }
        let g = readings(given, &fold, Part::Given);
        for a in &s {
            for b in &g {
                out.push((a.clone(), b.clone()));
            }
        }
    };
    match words {
        [surname, given] => add(surname, given),
        [name] => {
            let cuts: Vec<usize> = name.char_indices().map(|(i, _)| i).skip(1).collect();
            for i in cuts {
                add(&name[..i], &name[i..]);
            }
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out.truncate(MAX_CANDIDATES);
    out
}

/// The reading comparison's value of a record: `kana` and `name` are its
/// normalized kana and kanji name fields (`None`: not in the file);
/// `kana_value` makes the written reading's value (as [`super::prepare`]
/// makes a kana name's: its key and, when written apart, [surname, given
/// name]); `fold` folds a word's variant kanji. The kanji's readings have
/// an empty key and one part per candidate, `surname<TAB>given`.
pub fn value(
    kana: Option<&Normalized>,
    name: Option<&Normalized>,
    kana_value: impl FnOnce() -> Option<Value>,
    fold: impl Fn(&str) -> String,
) -> Option<Value> {
    let present = |n: Option<&Normalized>| {
        n.and_then(|n| n.key.as_deref())
            .is_some_and(|k| !k.is_empty())
    };
    match (present(kana), present(name)) {
        (true, false) => kana_value(),
        (false, true) => {
            let display = name?.value.as_deref().unwrap_or("");
            let words: Vec<&str> = display.split(' ').filter(|w| !w.is_empty()).collect();
            let c = candidates(&words, fold);
            (!c.is_empty()).then(|| {
                Value::with_parts(
                    "",
                    c.into_iter()
                        .map(|(s, g)| format!("{s}{SEP}{g}").into())
                        .collect(),
                )
            })
        }
        _ => None,
    }
}

/// Whether a reading value is the readings of a kanji name (else a written
/// reading).
pub fn is_derived(v: &Value) -> bool {
    v.key.is_empty()
}

/// The written reading `written` against the kanji's readings `derived`:
/// the best [`super::compare::compare_person`] level over the candidates,
/// the written reading cut where a candidate's surname ends (or its given
/// name begins) when it was not written apart.
pub fn compare(written: &Value, derived: &Value) -> u8 {
    let mut best = u8::MAX;
    for candidate in derived.parts.iter() {
        let Some((s, g)) = candidate.split_once(SEP) else {
            continue;
        };
        let reading = Value::with_parts(format!("{s}{g}"), vec![s.into(), g.into()]);
        let key = &*written.key;
        let cut = if written.parts.len() == 2 {
            None
        } else if let Some(rest) = key.strip_prefix(s).filter(|r| !r.is_empty()) {
            Some((s, rest))
        } else {
            key.strip_suffix(g)
                .filter(|r| !r.is_empty())
                .map(|first| (first, g))
        };
        let level = match cut {
            Some((a, b)) => super::compare::compare_person(
                &Value::with_parts(key, vec![a.into(), b.into()]),
                &reading,
            ),
            None => super::compare::compare_person(written, &reading),
        };
        best = best.min(level);
        if best == 1 {
            break;
        }
    }
    if best == u8::MAX {
        super::compare::Comparator::Reading.levels().len() as u8
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(words: &[&str]) -> Value {
        let c = candidates(words, |w| w.to_string());
        Value::with_parts(
            "",
            c.into_iter()
                .map(|(s, g)| format!("{s}{SEP}{g}").into())
                .collect(),
        )
    }

    /// A written reading, keyed as the kana field keys it (`サトウ` → `サトオ`).
    fn written(kana: &str, parts: &[&str]) -> Value {
        let k = |s: &str| kana::kana_key(s);
        Value::with_parts(k(kana), parts.iter().map(|&p| k(p).into()).collect())
    }

    #[test]
    fn a_kanji_name_reads_as_the_table_says_every_reading() {
        let c = candidates(&["佐藤", "健"], |w| w.to_string());
        let given: Vec<&str> = c.iter().map(|(_, g)| g.as_str()).collect();
        // Keyed as the kana field is: サトウ is サトオ.
        assert!(c.iter().all(|(s, _)| s == "サトオ"), "{c:?}");
        for g in ["ケン", "タケシ"] {
            assert!(given.contains(&g), "{g} in {given:?}");
        }
        // Unspaced: cut where a known surname meets a known given name.
        let unspaced = candidates(&["佐藤健"], |w| w.to_string());
        for pair in &c {
            assert!(unspaced.contains(pair), "{pair:?} in {unspaced:?}");
        }
        // A given name in kana reads as written; a variant kanji is looked
        // up folded; an unknown name has no reading at all.
        assert_eq!(
            candidates(&["佐藤", "さくら"], |w| w.to_string()),
            vec![("サトオ".to_string(), "サクラ".to_string())]
        );
        assert!(candidates(&["髙橋", "一郎"], |_| String::new()).is_empty());
        assert!(!candidates(&["髙橋", "一郎"], |w| w.replace('髙', "高")).is_empty());
        assert!(candidates(&["鏖鏖", "鏖"], |w| w.to_string()).is_empty());
    }

    #[test]
    fn a_written_reading_against_the_kanjis_readings() {
        let kanji = derived(&["佐藤", "健"]);
        // Written apart or not, in either reading of 健.
        assert_eq!(
            compare(&written("サトウケン", &["サトウ", "ケン"]), &kanji),
            1
        );
        assert_eq!(compare(&written("サトウタケシ", &[]), &kanji), 1);
        // A kana slip; a married name (the given name only); another of
        // the household (the surname only); another person.
        assert_eq!(compare(&written("サドウケン", &[]), &kanji), 2);
        assert_eq!(compare(&written("スズキケン", &[]), &kanji), 3);
        assert_eq!(compare(&written("サトウハナコ", &[]), &kanji), 4);
        assert_eq!(
            compare(&written("ヤマダハナコ", &["ヤマダ", "ハナコ"]), &kanji),
            5
        );
        assert_eq!(compare(&written("ヤマダハナコ", &[]), &derived(&[])), 5);
    }
}
