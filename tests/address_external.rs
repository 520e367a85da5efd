//! The address normalizer against the test cases of japanese-address-parser
//! (MIT, © Yuuki Toriyama and contributors), kept in
//! `../shared/external/japanese-address-parser/*.csv` beside the crate.
//!
//! Each row gives an address and its official prefecture, city, town and the
//! rest as written. The expected display value is prefecture + city + town +
//! the rest with its lot numbers written `N-N` (`1798番地1` → `1798-1`,
//! `19－23` → `19-23`). The expectation is computed from the CSV columns, not
//! from our normalizer, so this test fails when the normalizer is wrong.

use nayose::normalize::address;
use nayose::rules::AddressOptions;
use std::path::Path;

/// Where the suite (written from Geolonia's data) spells a name otherwise
/// than the Address Base Registry, nayose writes the registry's spelling: a
/// notation choice, listed in the README. (suite's, registry's)
const REGISTRY_SPELLINGS: [(&str, &str); 2] = [("龍ヶ崎市", "龍ケ崎市"), ("外ケ浜町", "外ヶ浜町")];

/// Towns the registry lists in both spellings (two entries): nayose keeps
/// the one the address writes.
const BOTH_IN_REGISTRY: [(&str, &str); 2] =
    [("木月祗園町", "木月祇園町"), ("大字桧原", "大字檜原")];

/// The suite's expectation with the notation choices above applied.
fn as_the_registry_writes(input: &str, expected: &str) -> String {
    let mut e = expected.to_string();
    for (suite, registry) in REGISTRY_SPELLINGS {
        e = e.replace(suite, registry);
    }
    for (a, b) in BOTH_IN_REGISTRY {
        let bare = |s: &str| s.trim_start_matches("大字").to_string();
        for (from, to) in [(a, b), (b, a)] {
            if e.contains(from) && input.contains(&bare(to)) {
                e = e.replace(from, to);
            }
        }
    }
    e
}

/// `字平山14番地1` → `字平山14-1`, `1番1号` → `1-1`, `8番地` → `8`, `19－23` → `19-23`.
fn expected_rest(rest: &str) -> String {
    let rest = nayose::normalize::text::fold(rest);
    let mut out = String::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_digit = out.chars().last().is_some_and(|p| p.is_ascii_digit());
        if prev_digit {
            let mut matched = None;
            for sep in ["番地", "番", "号", "-"] {
                let n = sep.chars().count();
                if chars[i..].iter().take(n).copied().eq(sep.chars()) {
                    matched = Some(n);
                    break;
                }
            }
            if let Some(n) = matched {
                let next_digit = chars.get(i + n).is_some_and(|d| d.is_ascii_digit());
                if next_digit {
                    out.push('-');
                }
                i += n;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

#[test]
fn japanese_address_parser_cases() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/external/japanese-address-parser");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "{} is missing; skipping the external address cases",
            dir.display()
        );
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    let opts = AddressOptions::default();
    let (mut total, mut passed) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable CSV");
        for (line_no, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line_no == 0 || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split(',').collect();
            assert_eq!(cols.len(), 5, "{}:{}: {line}", file.display(), line_no + 1);
            let expected = as_the_registry_writes(
                cols[0],
                &format!(
                    "{}{}{}{}",
                    cols[1],
                    cols[2],
                    cols[3],
                    expected_rest(cols[4])
                ),
            );
            let got = address::normalize(cols[0], &opts).value.unwrap_or_default();
            total += 1;
            if got == expected {
                passed += 1;
            } else {
                let name = file
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                failures.push(format!(
                    "{name}:{}: {}\n    expected {expected}\n    got      {got}",
                    line_no + 1,
                    cols[0]
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    let rate = passed as f64 / total.max(1) as f64;
    eprintln!(
        "japanese-address-parser cases: {passed}/{total} ({:.1}%)",
        rate * 100.0
    );
    assert!(total > 0, "no cases found in {}", dir.display());
    assert_eq!(passed, total, "every case, with the notation choices above");
}

#[test]
fn notation_choices_touch_only_their_names() {
    assert_eq!(
        as_the_registry_writes("竜ヶ崎市馴馬町", "茨城県龍ヶ崎市馴馬町5387"),
        "茨城県龍ケ崎市馴馬町5387"
    );
    let kizuki = "神奈川県川崎市中原区木月祗園町17-1";
    assert_eq!(as_the_registry_writes("木月祗園町17-1", kizuki), kizuki);
    assert_eq!(
        as_the_registry_writes("木月祇園町17-1", kizuki),
        "神奈川県川崎市中原区木月祇園町17-1"
    );
    let other = "東京都千代田区霞が関一丁目2-1";
    assert_eq!(as_the_registry_writes("霞が関1-2-1", other), other);
}

#[test]
fn expected_rest_is_computed_as_documented() {
    assert_eq!(expected_rest("1798番地1"), "1798-1");
    assert_eq!(expected_rest("19－23"), "19-23");
    assert_eq!(expected_rest("字平山14番地1"), "字平山14-1");
    assert_eq!(expected_rest("88番地10号"), "88-10");
    assert_eq!(expected_rest("8番地"), "8");
    assert_eq!(expected_rest("8ー1"), "8-1");
}
