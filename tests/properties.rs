//! Properties every normalizer keeps, on arbitrary Unicode and on strings
//! built from the characters Japanese customer data is made of:
//! - no panic;
//! - idempotence: normalizing the display value again gives it back;
//! - the raw value is never needed back from the normalizer — the pipeline
//!   keeps it — but a value is never invented from an empty input.

use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use nayose::rules::Rules;
use proptest::prelude::*;
use std::sync::OnceLock;

fn normalizer() -> &'static Normalizer {
    static N: OnceLock<Normalizer> = OnceLock::new();
    N.get_or_init(|| Normalizer::new(&Rules::default_rules()))
}

/// Strings of the characters that matter here: kana of both widths, kanji
/// seen in names and addresses, digits of both widths, dashes, spaces,
/// parentheses, legal-form marks and a few Latin letters.
fn japanese_ish() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "株式会社有限合同(株)（株）㈱㈲ｶﾌﾞｼｷｶﾞｲｼｬアイウエオカキクケコサシスセソャュョッーｰ-−‐―１２３４５６７８９0123456789丁目番地号東京都千代田区霞が関一二三四五六七八九十髙﨑邊齋 　\u{3000}abcABC.,@令和平成年月日元条西北南の之ノヶケ大字字〒"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..40)
        .prop_map(|v| v.into_iter().collect())
}

/// Company names as they are written with their offices: a legal form
/// before or after the name, then up to three offices — a place, 第N, an
/// office word — each spaced or written on (`ABC第一事業所 札幌出張所`).
fn company_words() -> impl Strategy<Value = String> {
    let pick = |v: &[&'static str]| proptest::sample::select(v.to_vec());
    let office = (
        pick(&["", " ", "　"]),
        pick(&["", "東京", "札幌", "関東", "大阪府"]),
        pick(&["", "第一", "第2"]),
        pick(&[
            "事業所",
            "出張所",
            "支店",
            "営業所",
            "工場",
            "本社",
            "本店",
            "営業部",
        ]),
    )
        .prop_map(|(sep, place, nth, word)| format!("{sep}{place}{nth}{word}"));
    (
        pick(&["", "株式会社", "(株)", "有限会社 "]),
        pick(&["ABC", "X", "山田商事", "ナカノ", "東京ガス"]),
        pick(&["", "株式会社", "(株)", " Co., Ltd."]),
        proptest::collection::vec(office, 0..4),
    )
        .prop_map(|(before, name, after, offices)| {
            let after = if before.is_empty() { after } else { "" };
            format!("{before}{name}{after}{}", offices.concat())
        })
}

fn check(field_type: FieldType, raw: &str) -> Result<(), TestCaseError> {
    let n = normalizer().normalize(field_type, raw);
    if raw.trim().is_empty() {
        prop_assert!(n.value.is_none(), "value invented from empty input");
    }
    if let Some(v) = &n.value {
        let again = normalizer().normalize(field_type, v);
        prop_assert_eq!(
            again.value.as_deref(),
            Some(v.as_str()),
            "{} not idempotent on {:?}",
            field_type,
            raw
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn idempotent_and_no_panic_on_japanese_text(s in japanese_ish()) {
        for t in FieldType::ALL {
            check(t, &s)?;
        }
    }

    /// Company names made of the words their offices are written with:
    /// a name split into company and branch normalizes to itself.
    #[test]
    fn company_names_with_offices_are_idempotent(s in company_words()) {
        check(FieldType::CompanyName, &s)?;
    }

    #[test]
    fn no_panic_on_arbitrary_unicode(s in "\\PC{0,60}") {
        for t in FieldType::ALL {
            check(t, &s)?;
        }
    }
}

mod raw_is_recoverable {
    //! The pipeline keeps every raw value: with `--keep-raw` the raw column
    //! is the input byte for byte, and a value with no canonical form is
    //! written as it came.

    use super::normalizer;
    use nayose::clean::{CleanOptions, Cleaner};
    use nayose::import::{ColumnType, DetectedBy, Row};
    use nayose::record::FieldType;
    use nayose::rules::Rules;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

        #[test]
        fn raw_column_is_the_input(values in proptest::collection::vec(super::japanese_ish(), FieldType::ALL.len())) {
            let rules = Rules::default_rules();
            let headers: Vec<String> = FieldType::ALL.iter().map(|t| t.to_string()).collect();
            let detected: Vec<ColumnType> = FieldType::ALL
                .iter()
                .map(|&t| ColumnType { field_type: t, rule: None, source: DetectedBy::Override })
                .collect();
            let opts = CleanOptions { keep_raw: true, ..CleanOptions::default() };
            let cleaner = Cleaner::new(normalizer(), &rules, &headers, &detected, &opts);
            let row = Row { line: 2, fields: values.clone() };
            let (out, _) = cleaner.clean_rows(std::slice::from_ref(&row), &|_| {});
            let out_headers = cleaner.output_headers();
            for (i, t) in FieldType::ALL.iter().enumerate() {
                let raw_col = out_headers.iter().position(|h| *h == format!("{t}_raw")).unwrap();
                let clean_col = out_headers.iter().position(|h| *h == t.to_string()).unwrap();
                prop_assert_eq!(&out[0].fields[raw_col], &values[i]);
                let n = normalizer().normalize(*t, &values[i]);
                let expected = n.value.unwrap_or_else(|| values[i].clone());
                prop_assert_eq!(&out[0].fields[clean_col], &expected);
            }
        }
    }
}

mod address_completion {
    //! An address that names its prefecture and city normalizes to the same
    //! result with the prefecture left out, with the 郡 or the designated
    //! city left out (`ニセコ町…`, `上京区…`), or with both — or is refused
    //! with an issue; it is never completed as another place. Built from the
    //! master itself: every kind of city and town, written as the registry
    //! writes them, with a lot after.

    use nayose::master::{master, City, Town, TownSource};
    use nayose::normalize::{address, Normalized};
    use nayose::rules::AddressOptions;
    use proptest::prelude::*;

    /// The ways of writing one address with less of its head.
    fn shorter_heads(city: &City) -> Vec<String> {
        let mut heads = vec![city.name.to_string()];
        if city.short_name != city.name {
            heads.push(city.short_name.to_string());
            heads.push(format!("{}{}", city.prefecture, city.short_name));
        }
        heads
    }

    /// How one case came out.
    #[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
    enum Outcome {
        /// The full form itself is not understood: nothing to compare with.
        NotUnderstood,
        /// Every shorter form gives the same result.
        Same,
        /// Some shorter form is refused (an issue, no other place).
        Refused,
    }

    /// The outcome when the case holds; else what went wrong.
    fn check(city: &City, town: &Town, lot: &str) -> Result<Outcome, String> {
        let opts = AddressOptions::default();
        let full_input = format!("{}{}{}{lot}", city.prefecture, city.name, town.name);
        let full = address::normalize(&full_input, &opts);
        if !full.issues.is_empty() || full.part("city") != Some(city.name) {
            // The full form is not understood (a town name that reads as
            // another town and a 小字, …): nothing to compare with.
            return Ok(Outcome::NotUnderstood);
        }
        let mut outcome = Outcome::Same;
        for head in shorter_heads(city) {
            let input = format!("{head}{}{lot}", town.name);
            let n: Normalized = address::normalize(&input, &opts);
            let same = n.value == full.value && n.issues.is_empty();
            let refused = !n.issues.is_empty()
                && n.part("city").is_none_or(|c| c == city.name)
                && n.part("prefecture").is_none_or(|p| p == city.prefecture);
            if refused && !same {
                outcome = Outcome::Refused;
            }
            if !same && !refused {
                return Err(format!(
                    "{input:?} → {:?} {:?}; with its prefecture and city: {:?}",
                    n.value,
                    n.issues.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>(),
                    full.value
                ));
            }
        }
        Ok(outcome)
    }

    fn towns_of(city: &City) -> Vec<&'static Town> {
        master()
            .towns(city)
            .iter()
            .filter(|t| t.source != TownSource::Koaza && !t.name.starts_with(['（', '(']))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

        #[test]
        fn never_completed_as_another_place(
            city_pick in any::<prop::sample::Index>(),
            town_pick in any::<prop::sample::Index>(),
            lot in "[1-9][0-9]{0,3}(-[1-9][0-9]?)?",
        ) {
            let cities = master().cities();
            let city = &cities[city_pick.index(cities.len())];
            let towns = towns_of(city);
            prop_assume!(!towns.is_empty());
            let town = towns[town_pick.index(towns.len())];
            if let Err(wrong) = check(city, town, &lot) {
                prop_assert!(false, "{}", wrong);
            }
        }
    }

    /// Names several cities answer to (`北区`, `府中市`, `中央区`), with them.
    fn shared_names() -> Vec<(&'static str, Vec<&'static City>)> {
        let mut by_name: std::collections::BTreeMap<&str, Vec<&City>> = Default::default();
        for c in master().cities() {
            by_name.entry(c.name).or_default().push(c);
            if c.short_name != c.name {
                by_name.entry(c.short_name).or_default().push(c);
            }
        }
        by_name.into_iter().filter(|(_, cs)| cs.len() > 1).collect()
    }

    /// A shared name followed by a town none of its cities has: refused,
    /// never completed as the city that has a town spelled like its start
    /// (`東区` + `東雲町`, where one 東区 has a town `東`).
    fn check_foreign_town(
        name: &str,
        cities: &[&City],
        town: &Town,
        lot: &str,
    ) -> Result<(), String> {
        let key = |name: &str| {
            nayose::master::address_key(name.trim_start_matches("大字").trim_start_matches('字'))
        };
        if town.name.chars().skip(1).any(|c| c == '字') {
            // `水沢字上町`: a town and a 小字 — read so after any 水沢.
            return Ok(());
        }
        // 丁目 and 丁 are one (堺市 writes `常磐町一丁`, people `常磐町一丁目`).
        let chome = |k: String| k.replace("丁目", "丁");
        let written = chome(key(town.name));
        // A town of theirs spelled so, or so and more (`本町` for `本町一丁目`).
        let has = |c: &City| {
            master()
                .towns(c)
                .iter()
                .any(|t| chome(key(t.name)).starts_with(&written))
        };
        if cities.iter().any(|c| has(c)) {
            return Ok(());
        }
        let input = format!("{name}{}{lot}", town.name);
        let n = address::normalize(&input, &AddressOptions::default());
        if n.issues.is_empty() {
            return Err(format!("{input:?} → {:?} {:?}", n.value, n.parts));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

        #[test]
        fn a_shared_name_is_not_settled_by_part_of_a_town(
            name_pick in any::<prop::sample::Index>(),
            city_pick in any::<prop::sample::Index>(),
            town_pick in any::<prop::sample::Index>(),
            lot in "[1-9][0-9]{0,3}(-[1-9][0-9]?)?",
        ) {
            let names = shared_names();
            let (name, cities) = &names[name_pick.index(names.len())];
            let all = master().cities();
            let other = &all[city_pick.index(all.len())];
            let towns = towns_of(other);
            prop_assume!(!towns.is_empty());
            let town = towns[town_pick.index(towns.len())];
            if let Err(wrong) = check_foreign_town(name, cities, town, &lot) {
                prop_assert!(false, "{}", wrong);
            }
        }
    }

    /// Every town of the master, by hand: `cargo test --release --test
    /// integration -- --ignored every_town_of_the_master --nocapture`.
    #[test]
    #[ignore]
    fn every_town_of_the_master() {
        let mut outcomes = std::collections::BTreeMap::new();
        let mut wrong = Vec::new();
        for city in master().cities() {
            for town in towns_of(city) {
                match check(city, town, "1-2") {
                    Ok(o) => *outcomes.entry(format!("{o:?}")).or_insert(0usize) += 1,
                    Err(w) => wrong.push(w),
                }
            }
        }
        let names = shared_names();
        let mut foreign = 0usize;
        for (i, city) in master().cities().iter().enumerate() {
            for (j, town) in towns_of(city).into_iter().enumerate() {
                let (name, cities) = &names[(i * 31 + j) % names.len()];
                foreign += 1;
                if let Err(w) = check_foreign_town(name, cities, town, "1-2") {
                    wrong.push(w);
                }
            }
        }
        for w in wrong.iter().take(200) {
            eprintln!("{w}");
        }
        eprintln!(
            "{outcomes:?}, {foreign} foreign towns; {} completed as another place",
            wrong.len()
        );
        assert!(wrong.is_empty());
    }
}
