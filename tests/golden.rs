//! Golden normalization cases: every `fixtures/normalize/*.tsv` file, one
//! case a line, walked by one test.
//!
//! File name: `<field_type>.tsv`, or `<field_type>--<variant>.tsv` for a set
//! run under other options. Lines starting with `#!` are rule-file text
//! (TOML) applied to that file, e.g. `#! [options.company_name]` and
//! `#! legal_form = "abbreviated"`; other `#` lines are comments.
//! Columns (tab-separated): input, expected display value (empty = no value),
//! expected issue kinds (comma-separated, empty = none), and optionally the
//! expected match key, and optionally expected parts as `name=value` pairs
//! separated by `;` (`branch=札幌支店;legal_form=株式会社`; `branch=` with
//! nothing after it says there must be no such part). `\t`, `\n`, `\s` (a
//! space) and `\u{XXXX}` (any code point, for invisible characters) are
//! escapes in the input, expected value and key columns.

use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use nayose::rules::Rules;
use std::path::Path;

fn unescape(s: &str) -> String {
    let s = s
        .replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace("\\s", " ");
    // \u{XXXX}: a code point written out, for characters a reader cannot see.
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(pos) = rest.find("\\u{") {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 3..];
        let end = after.find('}').expect("\\u{ without }");
        let cp = u32::from_str_radix(&after[..end], 16).expect("hex code point");
        out.push(char::from_u32(cp).expect("a valid code point"));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn golden_normalization_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/normalize");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/normalize exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let type_name = stem.split("--").next().unwrap();
        let field_type: FieldType = type_name
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        let rule_text: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("#!"))
            .map(|l| format!("{}\n", l.trim()))
            .collect();
        let rules =
            Rules::parse(&rule_text, &file.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        let normalizer = Normalizer::new(&rules);
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let input = unescape(cols[0]);
            let expected = unescape(cols.get(1).copied().unwrap_or(""));
            let expected = expected.as_str();
            let expected_issues: Vec<&str> = cols
                .get(2)
                .map(|c| {
                    c.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let expected_key = cols.get(3).map(|k| unescape(k)).filter(|k| !k.is_empty());
            let expected_key = expected_key.as_deref();
            let expected_parts: Vec<(&str, &str)> = cols
                .get(4)
                .map(|c| {
                    c.split(';')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            p.split_once('=')
                                .unwrap_or_else(|| panic!("part `{p}` needs name=value"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            total += 1;
            let n = normalizer.normalize(field_type, &input);
            let got = n.value.as_deref().unwrap_or("");
            let mut got_issues: Vec<&str> = n.issues.iter().map(|i| i.kind.as_str()).collect();
            got_issues.sort();
            got_issues.dedup();
            let mut want_issues = expected_issues.clone();
            want_issues.sort();
            let key_ok = expected_key.is_none_or(|k| n.key.as_deref() == Some(k));
            let parts_ok = expected_parts
                .iter()
                .all(|(name, value)| n.part(name).unwrap_or("") == *value);
            if got != expected || got_issues != want_issues || !key_ok || !parts_ok {
                failures.push(format!(
                    "{}:{}: {input:?}\n    want {expected:?} {want_issues:?}{}{}\n    got  {got:?} {got_issues:?} key={:?} parts={:?}",
                    file.file_name().unwrap().to_string_lossy(),
                    i + 1,
                    expected_key.map(|k| format!(" key={k:?}")).unwrap_or_default(),
                    if expected_parts.is_empty() { String::new() } else { format!(" parts={expected_parts:?}") },
                    n.key,
                    n.parts.iter().map(|p| format!("{}={}", p.name, p.value)).collect::<Vec<_>>(),
                ));
            }
        }
    }
    println!(
        "golden cases: {total} in {} files, {} failed",
        files.len(),
        failures.len()
    );
    assert!(total > 0, "no golden cases found");
    assert!(
        failures.is_empty(),
        "{} of {total} golden cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
