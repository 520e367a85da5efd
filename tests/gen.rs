//! `nayose gen`: byte-identical files for one seed, exact counts, a truth
//! file that covers every id once, and files that `nayose clean` reads with
//! every column detected as the intended type and nothing rejected.

use std::collections::HashSet;
use std::path::Path;

use crate::common::nayose;

fn gen(dir: &Path, kind: &str, n: usize, seed: u64, name: &str) -> (Vec<u8>, Vec<u8>) {
    let out = dir.join(format!("{name}.csv"));
    let truth = dir.join(format!("{name}.truth.csv"));
    let o = nayose(&[
        "gen",
        "--kind",
        kind,
        "--records",
        &n.to_string(),
        "--seed",
        &seed.to_string(),
        "-o",
        out.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (std::fs::read(out).unwrap(), std::fs::read(truth).unwrap())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let d = tempfile::tempdir().unwrap();
    for kind in ["btob", "btoc"] {
        let a = gen(d.path(), kind, 1500, 42, "a");
        let b = gen(d.path(), kind, 1500, 42, "b");
        let c = gen(d.path(), kind, 1500, 43, "c");
        assert!(a == b, "{kind}: same seed, different files");
        assert!(a.0 != c.0, "{kind}: other seed, same file");
    }
}

#[test]
fn exact_count_and_truth_covers_every_id_once() {
    let d = tempfile::tempdir().unwrap();
    let (data, truth) = gen(d.path(), "btoc", 2345, 1, "c");
    let data = String::from_utf8(data).unwrap();
    let truth = String::from_utf8(truth).unwrap();
    let ids: Vec<&str> = data
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 2345);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2345);
    assert!(ids.iter().all(|id| id.starts_with('R') && id.len() == 8));
    let mut lines = truth.lines();
    assert_eq!(lines.next(), Some("id,entity_id"));
    let truth_ids: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(truth_ids.len(), 2345);
    assert_eq!(
        truth_ids.iter().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );
}

#[test]
fn clean_detects_every_column_and_rejects_nothing() {
    let d = tempfile::tempdir().unwrap();
    let expected = [
        (
            "btob",
            vec![
                ("会社名", "company_name"),
                ("会社名カナ", "company_kana"),
                ("担当者名", "person_name"),
                ("郵便番号", "postal_code"),
                ("住所", "address"),
                ("電話番号", "phone"),
                ("メールアドレス", "email"),
                ("法人番号", "corporate_number"),
            ],
        ),
        (
            "btoc",
            vec![
                ("氏名", "person_name"),
                ("フリガナ", "person_kana"),
                ("生年月日", "date"),
                ("性別", "gender"),
                ("郵便番号", "postal_code"),
                ("住所", "address"),
                ("電話番号", "phone"),
                ("メールアドレス", "email"),
            ],
        ),
    ];
    for (kind, columns) in expected {
        gen(d.path(), kind, 3000, 9, kind);
        let input = d.path().join(format!("{kind}.csv"));
        let out = d.path().join(format!("{kind}.clean.csv"));
        let report = d.path().join(format!("{kind}.report.json"));
        let o = nayose(&[
            "clean",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "-q",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        assert_eq!(r["rows_in"], 3000);
        assert_eq!(r["rows_out"], 3000);
        assert_eq!(r["rows_rejected"], 0);
        let cols = r["columns"].as_array().unwrap();
        for (name, ty) in columns {
            let c = cols.iter().find(|c| c["column"] == name).unwrap();
            assert_eq!(c["field_type"], ty, "{kind} {name}");
            // Generated values are real notations: only typos and a few
            // towns the normalizer cannot place are left invalid.
            let invalid = c["invalid"].as_u64().unwrap();
            assert!(invalid < 60, "{kind} {name}: {invalid} invalid");
        }
    }
}
