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
