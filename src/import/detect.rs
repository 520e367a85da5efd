//! Column type detection: which [`FieldType`] each column of an import holds.
//!
//! Owns the guess, in this order: an override from the command line
//! (`--field COL=TYPE`, matched on the header exactly, then after
//! [`header_key`] folding); the header, through [`Rules::field_for_header`]
//! (the rule set lists Japanese and English aliases per field); the values,
//! from a sample of up to [`SAMPLE`] non-empty values of which at least 80%
//! must look like one type; else `text`. The sample is taken from the rows
//! the caller passes: `clean` streams its input and passes the first 65,536
//! rows (fewer when every column already has its sample there).
//!
//! Value detection asks the normalizers themselves: a value looks like an
//! e-mail, a phone number or a postal code when that normalizer gives it a
//! canonical form; a date when it parses (an impossible `2024-13-01` does
//! not count); a corporate number when it is 13 digits (check digit right or
//! wrong); an address when the address normalizer finds its city; a company
//! name when the company normalizer finds a legal form. So detection and
//! normalization cannot disagree, and there is one table of legal forms, one
//! of prefectures, one date parser. Kana and person-name columns are recognised only by header: their
//! values look like any other text. So are the generic types (`name`,
//! `code`, `number`): a column of digits may be a code, a number or a
//! Japanese postal code, and only the schema knows; they are chosen by the
//! rule file's headers or by `--field`.

use super::Row;
use crate::normalize::{IssueKind, Normalizer};
use crate::record::FieldType;
use crate::rules::{header_key, Rules};

/// Values sampled per column for value detection.
pub const SAMPLE: usize = 200;

/// Share of sampled values that must agree on a type.
const THRESHOLD: f64 = 0.8;

/// How a column's type was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedBy {
    /// Given by the user.
    Override,
    /// The header names a field of the rule set.
    Header,
    /// The values look like the type.
    Values,
    /// Nothing matched: `text`.
    Default,
}

impl DetectedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DetectedBy::Override => "override",
            DetectedBy::Header => "header",
            DetectedBy::Values => "values",
            DetectedBy::Default => "default",
        }
    }
}

/// The detected type of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    pub field_type: FieldType,
    /// The name of the matched [`crate::rules::FieldRule`], if any.
    pub rule: Option<String>,
    pub source: DetectedBy,
}

/// The column a user named (`--field`, `--id-column`): the header exactly,
/// else after [`header_key`] folding.
pub fn find_column(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name).or_else(|| {
        let key = header_key(name);
        headers.iter().position(|h| header_key(h) == key)
    })
}

/// Per column, the column holding its branch when it is a company name
/// followed in the file by the `<column>_branch` column `clean` writes
/// (`会社名` and `会社名_branch`). Read back together, a cleaned file cleans
/// and deduplicates as the raw file did: the branch is a part of the
/// company name, never a text column of its own.
pub fn branch_columns(headers: &[String], types: &[FieldType]) -> Vec<Option<usize>> {
    headers
        .iter()
        .zip(types)
        .map(|(h, t)| {
            if *t != FieldType::CompanyName {
                return None;
            }
            let name = format!("{h}_branch");
            headers.iter().position(|x| *x == name)
        })
        .collect()
}

/// The company name of a row with its branch column's value after it (see
/// [`branch_columns`]); the name alone when there is none.
pub fn with_branch<'a>(name: &'a str, branch: Option<&str>) -> std::borrow::Cow<'a, str> {
    match branch.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) if !name.trim().is_empty() => format!("{} {b}", name.trim_end()).into(),
        _ => name.into(),
    }
}

/// The first `--field` override that names no column of the file.
pub fn unknown_override<'a>(
    headers: &[String],
    overrides: &'a [(String, FieldType)],
) -> Option<&'a str> {
    overrides
        .iter()
        .map(|(c, _)| c.as_str())
        .find(|c| find_column(headers, c).is_none())
}

/// Do `rows` hold a full sample of non-empty values ([`SAMPLE`]) for each of
/// `columns` columns? More rows would not change what values detect.
pub fn has_samples(columns: usize, rows: &[Row]) -> bool {
    (0..columns).all(|col| sample(rows, col).count() == SAMPLE)
}

/// The values of column `col` that value detection looks at: the first
/// [`SAMPLE`] non-empty ones.
fn sample(rows: &[Row], col: usize) -> impl Iterator<Item = &String> {
    rows.iter()
        .filter_map(move |r| r.fields.get(col))
        .filter(|v| !v.trim().is_empty())
        .take(SAMPLE)
}

/// Detect the type of every column (see the module docs). `overrides` are
/// `(header, type)` pairs; one that names no column is ignored here (the
/// caller should report it).
pub fn detect_columns(
    headers: &[String],
    rows: &[Row],
    rules: &Rules,
    normalizer: &Normalizer,
    overrides: &[(String, FieldType)],
) -> Vec<ColumnType> {
    headers
        .iter()
        .enumerate()
        .map(|(col, header)| detect_one(col, header, rows, rules, normalizer, overrides))
        .collect()
}

fn detect_one(
    col: usize,
    header: &str,
    rows: &[Row],
    rules: &Rules,
    normalizer: &Normalizer,
    overrides: &[(String, FieldType)],
) -> ColumnType {
    let by_header = rules.field_for_header(header);
    let overridden = overrides.iter().find(|(h, _)| h == header).or_else(|| {
        let key = header_key(header);
        overrides.iter().find(|(h, _)| header_key(h) == key)
    });
    if let Some((_, t)) = overridden {
        let rule = by_header
            .filter(|r| r.field_type == *t)
            .or_else(|| rules.fields.iter().find(|r| r.field_type == *t))
            .map(|r| r.name.clone());
        return ColumnType {
            field_type: *t,
            rule,
            source: DetectedBy::Override,
        };
    }
    if let Some(r) = by_header {
        return ColumnType {
            field_type: r.field_type,
            rule: Some(r.name.clone()),
            source: DetectedBy::Header,
        };
    }
    if let Some(t) = type_of_values(sample(rows, col), normalizer) {
        return ColumnType {
            field_type: t,
            rule: rules
                .fields
                .iter()
                .find(|r| r.field_type == t)
                .map(|r| r.name.clone()),
            source: DetectedBy::Values,
        };
    }
    ColumnType {
        field_type: FieldType::Text,
        rule: None,
        source: DetectedBy::Default,
    }
}

/// The candidate types, most specific first: a 13-digit number is a
/// corporate number before anything else, a 7-digit one a postal code.
const CANDIDATES: [FieldType; 7] = [
    FieldType::Email,
    FieldType::CorporateNumber,
    FieldType::PostalCode,
    FieldType::Phone,
    FieldType::Date,
    FieldType::Address,
    FieldType::CompanyName,
];

/// The type at least 80% of the values look like, if any.
pub(crate) fn type_of_values<'a>(
    values: impl Iterator<Item = &'a String>,
    normalizer: &Normalizer,
) -> Option<FieldType> {
    let mut counts = [0usize; CANDIDATES.len()];
    let mut n = 0usize;
    for v in values {
        n += 1;
        for (i, t) in CANDIDATES.iter().enumerate() {
            if looks_like(normalizer, *t, v) {
                counts[i] += 1;
            }
        }
    }
    if n == 0 {
        return None;
    }
    // The most frequent; ties go to the earlier (more specific) candidate.
    let (best, count) =
        counts
            .iter()
            .enumerate()
            .fold((0, 0), |acc, (i, c)| if *c > acc.1 { (i, *c) } else { acc });
    (count as f64 >= THRESHOLD * n as f64 && count > 0).then_some(CANDIDATES[best])
}

/// Does a value look like the type? The normalizers themselves answer, so
/// detection and normalization never disagree about what a phone number, a
/// date or a legal form is (and there is one table of each, not two).
fn looks_like(n: &Normalizer, t: FieldType, v: &str) -> bool {
    let r = n.normalize(t, v);
    let has = |kind: IssueKind| r.issues.iter().any(|i| i.kind == kind);
    match t {
        FieldType::Email | FieldType::PostalCode | FieldType::Phone => r.value.is_some(),
        // A wrong check digit is still a corporate number's shape.
        FieldType::CorporateNumber => {
            r.value.is_some() || has(IssueKind::CorporateNumberCheckDigit)
        }
        FieldType::Date => r.value.is_some(),
        FieldType::Address => r.part("city").is_some(),
        FieldType::CompanyName => r.part("legal_form").is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(values: &[&[&str]]) -> Vec<Row> {
        values
            .iter()
            .enumerate()
            .map(|(i, r)| Row {
                line: i + 2,
                fields: r.iter().map(|s| s.to_string()).collect(),
            })
            .collect()
    }

    fn one_column(values: &[&str]) -> Option<FieldType> {
        let owned: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        type_of_values(owned.iter(), &Normalizer::new(&Rules::default_rules()))
    }

    #[test]
    fn by_header_japanese_and_english() {
        let rules = Rules::default_rules();
        let headers: Vec<String> = [
            "会社名",
            "ＴＥＬ",
            "E-Mail",
            "郵便番号",
            "生年月日",
            "FAX",
            "顧客ID",
            "メモ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cols = detect_columns(&headers, &[], &rules, &Normalizer::new(&rules), &[]);
        let got: Vec<(FieldType, Option<&str>, DetectedBy)> = cols
            .iter()
            .map(|c| (c.field_type, c.rule.as_deref(), c.source))
            .collect();
        use DetectedBy::*;
        assert_eq!(
            got,
            [
                (FieldType::CompanyName, Some("company_name"), Header),
                (FieldType::Phone, Some("phone"), Header),
                (FieldType::Email, Some("email"), Header),
                (FieldType::PostalCode, Some("postal_code"), Header),
                (FieldType::Date, Some("birth_date"), Header),
                (FieldType::Phone, Some("fax"), Header),
                (FieldType::Text, Some("id"), Header),
                (FieldType::Text, None, Default),
            ]
        );
    }

    #[test]
    fn by_values() {
        assert_eq!(
            one_column(&["taro@example.co.jp", "ＨＡＮＡＫＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ"]),
            Some(FieldType::Email)
        );
        assert_eq!(
            one_column(&[
                "03-1234-5678",
                "090-1234-5678",
                "(06)1234-5678",
                "+81-3-1234-5678"
            ]),
            Some(FieldType::Phone)
        );
        assert_eq!(
            one_column(&["100-0013", "〒060-0001", "1000013", "１６０－００２３"]),
            Some(FieldType::PostalCode)
        );
        assert_eq!(
            one_column(&[
                "2024-01-05",
                "2024/1/5",
                "R5.4.1",
                "平成5年4月1日",
                "令和元年5月1日"
            ]),
            Some(FieldType::Date)
        );
        assert_eq!(
            one_column(&["7000012050002", "T7000012050002"]),
            Some(FieldType::CorporateNumber)
        );
        assert_eq!(
            one_column(&[
                "東京都千代田区霞が関1-2-1",
                "八潮市伊勢野208-1",
                "大阪府大阪市北区"
            ]),
            Some(FieldType::Address)
        );
        assert_eq!(
            one_column(&["株式会社ABC", "ABC商事(株)", "㈱サンプル", "有限会社山田"]),
            Some(FieldType::CompanyName)
        );
        assert_eq!(one_column(&["りんご", "みかん"]), None);
        assert_eq!(one_column(&[]), None);
    }

    #[test]
    fn values_need_eighty_percent() {
        let mut v = vec!["03-1234-5678"; 8];
        v.extend(["不明", "なし"]);
        assert_eq!(one_column(&v), Some(FieldType::Phone));
        v.push("わからない");
        assert_eq!(one_column(&v), None);
    }

    #[test]
    fn value_detection_skips_empty_values_and_names_a_rule() {
        let rules = Rules::default_rules();
        let headers = vec!["連絡先".to_string(), "x".to_string()];
        let rows = rows_of(&[
            &["03-1234-5678", ""],
            &["", ""],
            &["  ", "a"],
            &["06-1234-5678", "b"],
        ]);
        let cols = detect_columns(&headers, &rows, &rules, &Normalizer::new(&rules), &[]);
        assert_eq!(
            cols[0],
            ColumnType {
                field_type: FieldType::Phone,
                rule: Some("phone".into()),
                source: DetectedBy::Values
            }
        );
        assert_eq!(cols[1].source, DetectedBy::Default);
    }

    #[test]
    fn overrides_win() {
        let rules = Rules::default_rules();
        let headers = vec!["会社名".to_string(), "取引先 コード".to_string()];
        let rows = rows_of(&[&["株式会社A", "03-1234-5678"]]);
        let overrides = vec![
            ("会社名".to_string(), FieldType::Text),
            ("取引先コード".to_string(), FieldType::PersonName),
        ];
        let cols = detect_columns(
            &headers,
            &rows,
            &rules,
            &Normalizer::new(&rules),
            &overrides,
        );
        assert_eq!(cols[0].field_type, FieldType::Text);
        assert_eq!(cols[0].source, DetectedBy::Override);
        assert_eq!(cols[1].field_type, FieldType::PersonName);
        assert_eq!(cols[1].rule.as_deref(), Some("person_name"));
        assert_eq!(cols[1].source, DetectedBy::Override);
    }

    #[test]
    fn free_text_is_not_mistaken() {
        assert_eq!(
            one_column(&["本日は晴天なり", "会議は3時から", "町内会の件"]),
            None
        );
        assert_eq!(one_column(&["12345", "678"]), None);
        assert_eq!(one_column(&["2024-13-01", "2024-02-40"]), None);
    }

    #[test]
    fn generic_types_come_from_headers_not_values() {
        // Names, codes and numbers are never guessed from values.
        assert_eq!(one_column(&["José", "mitchell", "Søren"]), None);
        assert_eq!(one_column(&["1,234", "007", "42", "3.5"]), None);
        assert_eq!(one_column(&["AB-123", "CX-9", "ZZ-12"]), None);
        let rules = Rules::parse(
            "[[field]]\nname = \"given_name\"\ntype = \"name\"\n\n[[field]]\nname = \"soc_sec_id\"\ntype = \"code\"\n",
            "x.toml",
        )
        .unwrap();
        let headers = vec!["given_name".to_string(), "soc_sec_id".to_string()];
        let rows = rows_of(&[&["mitchell", "1804974"]]);
        let cols = detect_columns(&headers, &rows, &rules, &Normalizer::new(&rules), &[]);
        assert_eq!(cols[0].field_type, FieldType::Name);
        assert_eq!(cols[1].field_type, FieldType::Code);
        assert_eq!(cols[1].source, DetectedBy::Header);
    }
}
