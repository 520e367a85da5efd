//! `nayose eval`: the figures printed and written as JSON for a small
//! hand-computed case, and the errors for files that do not match.

use std::path::Path;

use crate::common::nayose;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Truth {1,2,3} {4,5} {6}; predicted {1,2} {3,4,5,6}: see the hand
/// computation in `src/eval.rs` (P = 2/7, R = 1/2, F1 = 4/11).
#[test]
fn prints_and_writes_the_figures() {
    let d = tempfile::tempdir().unwrap();
    let truth = d.path().join("truth.csv");
    let clusters = d.path().join("clusters.csv");
    let json = d.path().join("out/eval.json");
    std::fs::write(&truth, "id,entity_id\n1,a\n2,a\n3,a\n4,b\n5,b\n6,c\n").unwrap();
    // Another column order, padding spaces and an extra column.
    std::fs::write(
        &clusters,
        "cluster_id,score,id\nx,1, 1\nx,1,2\ny,1,3\ny,1,4\ny,1,5\ny,1,6\n",
    )
    .unwrap();
    let o = nayose(&[
        "eval",
        "--truth",
        s(&truth),
        "--clusters",
        s(&clusters),
        "--json",
        s(&json),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("precision 0.2857   recall 0.5000   F1 0.3636"),
        "{stdout}"
    );
    assert!(stdout.contains("correct pairs 2"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["records"], 6);
    assert_eq!(v["true_pairs"], 4);
    assert_eq!(v["predicted_pairs"], 7);
    assert_eq!(v["correct_pairs"], 2);
    assert_eq!(v["exact_clusters"], 0);
    assert!((v["f1"].as_f64().unwrap() - 4.0 / 11.0).abs() < 1e-12);
}

#[test]
fn ids_in_one_file_only_are_an_error() {
    let d = tempfile::tempdir().unwrap();
    let truth = d.path().join("truth.csv");
    let clusters = d.path().join("clusters.csv");
    std::fs::write(&truth, "id,entity_id\n1,a\n2,a\n3,b\n").unwrap();
    std::fs::write(&clusters, "id,cluster_id\n1,x\n2,x\n9,y\n").unwrap();
    let o = nayose(&["eval", "--truth", s(&truth), "--clusters", s(&clusters)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 id only in the truth (3)"), "{err}");
    assert!(err.contains("1 id only in the clusters (9)"), "{err}");
}

#[test]
fn a_duplicate_id_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let truth = d.path().join("truth.csv");
    std::fs::write(&truth, "id,entity_id\n1,a\n1,b\n").unwrap();
    let o = nayose(&["eval", "--truth", s(&truth), "--clusters", s(&truth)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(":3: id `1` appears a second time"), "{err}");
}
