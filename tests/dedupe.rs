//! `nayose dedupe`: known duplicates found and hard negatives kept apart,
//! byte-identical output for the same input, the same clusters whatever the
//! row order, explanations that sum to the score, a reusable model, and clear
//! errors for bad ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::nayose;

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/dedupe")
        .join(name)
}

/// `nayose gen` of `n` records (seed 3) of the kind `what` says, with its truth.
fn generated(dir: &Path, n: usize, what: &[&str]) -> (PathBuf, PathBuf) {
    let data = dir.join("gen.csv");
    let truth = dir.join("gen.truth.csv");
    let n = n.to_string();
    let mut args = vec!["gen", "--records", &n, "--seed", "3", "-q"];
    args.extend(what);
    args.extend([
        "-o",
        data.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    ok(nayose(&args));
    (data, truth)
}

/// A generated BtoB file of `n` records with the hand-written known records
/// appended; returns (data, truth) paths.
fn population(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let (data, truth) = generated(dir, n, &["--kind", "btob"]);
    let append = |to: &Path, from: &str| {
        let extra = std::fs::read_to_string(fixture(from)).unwrap();
        let mut text = std::fs::read_to_string(to).unwrap();
        text.extend(extra.lines().skip(1).map(|l| format!("{l}\n")));
        std::fs::write(to, text).unwrap();
    };
    append(&data, "known.csv");
    append(&truth, "known.truth.csv");
    (data, truth)
}

fn dedupe(data: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    ok(nayose(&args));
}

/// Pairwise F1 of `clusters` against `truth`, as `nayose eval` computes it.
fn pairwise_f1(dir: &Path, truth: &Path, clusters: &Path) -> f64 {
    let json = dir.join("eval.json");
    ok(nayose(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]));
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    figures["f1"].as_f64().unwrap()
}

/// id → cluster_id
fn clusters(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,cluster_id,cluster_size,best_score,best_match_id")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}

#[test]
fn known_pairs_found_hard_negatives_apart_and_f1() {
    let d = tempfile::tempdir().unwrap();
    let (data, truth) = population(d.path(), 3000);
    let out = d.path().join("clusters.csv");
    dedupe(&data, &out, &[]);
    let c = clusters(&out);
    assert_eq!(c.len(), 3005, "every input record has a row");
    assert_eq!(c["K001"], c["K002"], "㈱ＡＢＣ商事 / ABC商事（株）");
    assert_eq!(c["K004"], c["K005"], "勅使河原工務店, two notations");
    assert_ne!(
        c["K001"], c["K003"],
        "the Sapporo branch is another customer"
    );
    assert_ne!(c["K001"], c["K004"]);

    let f1 = pairwise_f1(d.path(), &truth, &out);
    assert!(f1 >= 0.9, "pairwise F1 {f1}");
}

#[test]
fn same_input_same_bytes_and_row_order_does_not_matter() {
    let d = tempfile::tempdir().unwrap();
    let (data, _) = population(d.path(), 1500);
    let (a, b) = (d.path().join("a.csv"), d.path().join("b.csv"));
    let (pa, pb) = (d.path().join("pa.csv"), d.path().join("pb.csv"));
    dedupe(&data, &a, &["--pairs", pa.to_str().unwrap()]);
    dedupe(&data, &b, &["--pairs", pb.to_str().unwrap()]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap());

    // Reverse the data rows: the same id → cluster mapping, the same pairs.
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let reversed = d.path().join("reversed.csv");
    std::fs::write(&reversed, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let (r, pr) = (d.path().join("r.csv"), d.path().join("pr.csv"));
    dedupe(&reversed, &r, &["--pairs", pr.to_str().unwrap()]);
    assert_eq!(clusters(&a), clusters(&r));
    assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pr).unwrap());

    // A rule file that only restates a default option keeps the built-in
    // field sheet: the same bytes.
    let rules = d.path().join("rules.toml");
    std::fs::write(&rules, "[matching]\nentity = \"establishment\"\n").unwrap();
    let (o, po) = (d.path().join("o.csv"), d.path().join("po.csv"));
    dedupe(
        &data,
        &o,
        &[
            "--pairs",
            po.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&o).unwrap());
    assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&po).unwrap());
}

/// `clean` then `dedupe` finds what `dedupe` finds on the raw file: the
/// company's `_branch` column a clean writes is read back as the branch of
/// the name, not compared as a text of its own. Cleaning the cleaned file
/// changes nothing.
#[test]
fn a_cleaned_file_cleans_and_dedupes_as_the_raw_file() {
    let d = tempfile::tempdir().unwrap();
    let (data, truth) = population(d.path(), 1500);
    let path = |n: &str| d.path().join(n);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    ok(nayose(&[
        "clean",
        &s(&data),
        "-o",
        &s(&path("c1.csv")),
        "-q",
    ]));
    ok(nayose(&[
        "clean",
        &s(&path("c1.csv")),
        "-o",
        &s(&path("c2.csv")),
        "-q",
    ]));
    let (c1, c2) = (
        std::fs::read_to_string(path("c1.csv")).unwrap(),
        std::fs::read_to_string(path("c2.csv")).unwrap(),
    );
    assert!(
        c1.lines().next().unwrap().contains("_branch"),
        "{}",
        c1.lines().next().unwrap()
    );
    assert!(c1 == c2, "cleaning a cleaned file changed it");
    dedupe(&data, &path("raw.clusters.csv"), &[]);
    dedupe(&path("c1.csv"), &path("clean.clusters.csv"), &[]);
    let raw = pairwise_f1(d.path(), &truth, &path("raw.clusters.csv"));
    let clean = pairwise_f1(d.path(), &truth, &path("clean.clusters.csv"));
    assert!(clean >= raw - 1e-9, "raw {raw}, cleaned {clean}");
    let model = path("model.toml");
    dedupe(
        &path("c1.csv"),
        &path("x.csv"),
        &["--save-model", &s(&model)],
    );
    let model = std::fs::read_to_string(model).unwrap();
    assert!(
        !model.contains("_branch\""),
        "the branch column is compared: {model}"
    );
}

#[test]
fn explanations_sum_to_the_score_and_the_model_is_reusable() {
    let d = tempfile::tempdir().unwrap();
    let (data, _) = population(d.path(), 1500);
    let (out, pairs, model, report) = (
        d.path().join("c.csv"),
        d.path().join("p.csv"),
        d.path().join("model.toml"),
        d.path().join("report.html"),
    );
    dedupe(
        &data,
        &out,
        &[
            "--pairs",
            pairs.to_str().unwrap(),
            "--save-model",
            model.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&pairs).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let weight_cols: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].ends_with(":weight"))
        .collect();
    let (w, prior) = (
        header.iter().position(|h| *h == "weight").unwrap(),
        header.iter().position(|h| *h == "prior").unwrap(),
    );
    let mut n = 0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let total: f64 = f[w].parse().unwrap();
        let sum: f64 = f[prior].parse::<f64>().unwrap()
            + weight_cols
                .iter()
                .map(|&i| f[i].parse::<f64>().unwrap())
                .sum::<f64>();
        // Each figure is rounded to 3 decimals.
        assert!(
            (total - sum).abs() <= 0.0005 * (weight_cols.len() + 2) as f64,
            "{l}"
        );
        n += 1;
    }
    assert!(n > 100, "pairs written: {n}");

    // The saved model is readable and gives the same clusters when reused.
    let m = std::fs::read_to_string(&model).unwrap();
    assert!(m.contains("comparator = \"company\""), "{m}");
    let again = d.path().join("again.csv");
    dedupe(&data, &again, &["--model", model.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());

    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.matches("<svg").count() >= 3);
}

#[test]
fn duplicate_ids_and_unknown_id_columns_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("dup.csv");
    std::fs::write(
        &data,
        "id,会社名,電話番号\nA1,株式会社ABC,03-1234-5678\nA2,ABC株式会社,03-1234-5678\nA1,XYZ株式会社,03-9999-0000\n",
    )
    .unwrap();
    let out = d.path().join("c.csv");
    let o = nayose(&[
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`A1`") && err.contains("line 2") && err.contains("line 4"),
        "{err}"
    );

    let o = nayose(&[
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--id-column",
        "顧客番号X",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("顧客番号X"));
}

/// `--labels` with enough labelled matches (200) trains the model too:
/// each level's m is blended with the labelled matches', as the service
/// does; with fewer the model is the one trained without labels.
#[test]
fn enough_labelled_matches_move_the_model() {
    let d = tempfile::tempdir().unwrap();
    let (data, truth) = population(d.path(), 3000);
    let mut by_entity: HashMap<String, Vec<String>> = HashMap::new();
    for l in std::fs::read_to_string(&truth).unwrap().lines().skip(1) {
        let (id, e) = l.split_once(',').unwrap();
        by_entity
            .entry(e.to_string())
            .or_default()
            .push(id.to_string());
    }
    let mut entities: Vec<&Vec<String>> = by_entity.values().filter(|v| v.len() > 1).collect();
    entities.sort();
    let labels = |n: usize| {
        let mut text = String::from("id_a,id_b,label\n");
        for ids in entities.iter().take(n) {
            text.push_str(&format!("{},{},match\n", ids[0], ids[1]));
        }
        text
    };
    assert!(entities.len() >= 250, "{}", entities.len());
    let model_with = |name: &str, text: Option<String>| {
        let (out, model) = (
            d.path().join(format!("{name}.csv")),
            d.path().join(format!("{name}.toml")),
        );
        let mut extra = vec!["--save-model", model.to_str().unwrap()];
        let path = d.path().join(format!("{name}.labels.csv"));
        if let Some(t) = text {
            std::fs::write(&path, t).unwrap();
            extra.extend(["--labels", path.to_str().unwrap()]);
        }
        dedupe(&data, &out, &extra);
        std::fs::read_to_string(&model).unwrap()
    };
    let plain = model_with("plain", None);
    assert_eq!(
        model_with("few", Some(labels(150))),
        plain,
        "150 matches teach nothing yet"
    );
    assert_ne!(
        model_with("many", Some(labels(250))),
        plain,
        "250 matches move m"
    );
}

/// `--labels`: review-band pairs decided from the truth bind the clusters —
/// every labelled match ends in one cluster — and pairwise F1 rises over the
/// run without them; unknown ids are said and left out, a bad label is an
/// error with its line and column.
#[test]
fn labels_bind_the_clusters_and_raise_f1() {
    let d = tempfile::tempdir().unwrap();
    // Consumers as a CRM holds them: a review band of hundreds of pairs.
    let (data, truth) = generated(d.path(), 5000, &["--kind", "btoc", "--profile", "crm"]);
    let (plain, pairs) = (d.path().join("plain.csv"), d.path().join("pairs.csv"));
    dedupe(&data, &plain, &["--pairs", pairs.to_str().unwrap()]);
    let entity: HashMap<String, String> = std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (id, e) = l.split_once(',').unwrap();
            (id.to_string(), e.to_string())
        })
        .collect();
    // Up to 300 review-band pairs, each decided from the truth.
    let text = std::fs::read_to_string(&pairs).unwrap();
    let mut labels = String::from("id_a,id_b,label\n");
    let mut decided = Vec::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f[2] == "review" && decided.len() < 300 {
            let same = entity[f[0]] == entity[f[1]];
            let label = if same { "match" } else { "non_match" };
            labels.push_str(&format!("{},{},{label}\n", f[0], f[1]));
            decided.push((f[0].to_string(), f[1].to_string(), same));
        }
    }
    assert!(
        decided.iter().any(|d| d.2),
        "the review band holds a true match"
    );
    // An id the file does not have is left out, and said.
    labels.push_str("R9999999,R0000001,match\n");
    let labels_path = d.path().join("labels.csv");
    std::fs::write(&labels_path, labels).unwrap();
    let with = d.path().join("with.csv");
    let report = d.path().join("with.html");
    let o = ok(nayose(&[
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        with.to_str().unwrap(),
        "--labels",
        labels_path.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]));
    let said = String::from_utf8_lossy(&o.stderr);
    // The report has the estimates, counted on the same labels.
    let html = std::fs::read_to_string(&report).unwrap();
    let matches = decided.iter().filter(|d| d.2).count();
    assert!(
        html.contains(&format!(
            "一致 {} 件・不一致 {} 件",
            matches,
            decided.len() - matches
        )),
        "the report's label counts"
    );
    assert!(html.contains("要確認以上の適合率") && !html.contains("ラベルから較正"));
    assert!(
        said.contains("1 rows name an id this file does not have"),
        "{said}"
    );
    // Every labelled pair was in the review band: the estimates count them all.
    assert!(
        said.contains("labels: review precision")
            && said.contains(&format!("{} labelled pairs)", decided.len())),
        "{said}"
    );
    assert!(
        said.contains("labels: bands used: auto-merge ≥ 0.9000, review ≥ 0.5000"),
        "no calibration without a target: {said}"
    );
    let c = clusters(&with);
    let before = clusters(&plain);
    let mut joined = 0;
    for (a, b, same) in &decided {
        if *same {
            assert_eq!(c[a], c[b], "labelled match {a} {b}");
            joined += (before[a] != before[b]) as usize;
        }
    }
    assert!(joined > 0, "no labelled match was apart before");
    let without = pairwise_f1(d.path(), &truth, &plain);
    let with_labels = pairwise_f1(d.path(), &truth, &with);
    eprintln!("pairwise F1 {without:.4} without labels, {with_labels:.4} with");
    assert!(with_labels > without, "{with_labels} <= {without}");

    // With a precision target, the auto-merge band is calibrated: the
    // report draws the bands the clustering used, and says so. (Few of
    // these labelled review pairs are matches, 30 labels are the least a
    // calibration takes: a target of 0.1 moves the band down to them.)
    let rules = d.path().join("calibrated.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/default.toml"))
        .unwrap()
        .replace(
            "# auto_merge_precision = 0.995",
            "auto_merge_precision = 0.1",
        );
    std::fs::write(&rules, text).unwrap();
    let o = ok(nayose(&[
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        with.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--labels",
        labels_path.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]));
    let said = String::from_utf8_lossy(&o.stderr);
    let merge: f64 = said
        .split("bands used: auto-merge ≥ ")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(merge < 0.9, "calibrated below the rules' 0.9: {said}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("ラベルから較正"));
    let drawn: f64 = html
        .split("<td>p ≥ ")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .and_then(|t| t.parse().ok())
        .expect("the auto-merge row");
    assert!((drawn - merge).abs() < 6e-4, "band {merge}, report {drawn}");

    // A broken labels file is a clear error with its line and column.
    std::fs::write(&labels_path, "id_a,id_b,label\nK001,K002,same\n").unwrap();
    let o = nayose(&[
        "dedupe",
        data.to_str().unwrap(),
        "-o",
        with.to_str().unwrap(),
        "--labels",
        labels_path.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("line 2, column 3") && e.contains("same"), "{e}");
}

/// An `[matching] ignore` entry that names no column is a warning, even with
/// `-q` (the column it meant is compared); one that names a column by a
/// header of its field rule leaves it out.
#[test]
fn an_ignore_entry_that_names_no_column_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("c.csv");
    std::fs::write(
        &data,
        "id,会社名,TEL\nA1,株式会社ABC,03-1234-5678\nA2,ABC株式会社,03-1234-5678\nA3,XYZ株式会社,03-9999-0000\n",
    )
    .unwrap();
    let out = d.path().join("out.csv");
    let model = d.path().join("model.toml");
    let run = |ignore: &str| {
        let rules = d.path().join("rules.toml");
        std::fs::write(
            &rules,
            format!(
                "[matching]\nignore = [{ignore}]\n\n\
                 [[field]]\nname = \"id\"\ntype = \"code\"\n\n\
                 [[field]]\nname = \"company_name\"\ntype = \"company_name\"\nheaders = [\"会社名\"]\n\n\
                 [[field]]\nname = \"phone\"\ntype = \"phone\"\nheaders = [\"電話番号\", \"TEL\"]\n"
            ),
        )
        .unwrap();
        let o = ok(nayose(&[
            "dedupe",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            "--save-model",
            model.to_str().unwrap(),
            "-q",
        ]));
        let compared_phone = std::fs::read_to_string(&model).unwrap().contains("phone");
        (
            String::from_utf8_lossy(&o.stderr).into_owned(),
            compared_phone,
        )
    };
    let (err, phone) = run("\"電話番号x\"");
    assert!(
        err.contains("warning") && err.contains("`電話番号x`"),
        "{err}"
    );
    assert!(phone, "a misspelt entry leaves the phone compared");
    // `電話番号` is a header of the phone field; the file says TEL.
    let (err, phone) = run("\"電話番号\"");
    assert!(!err.contains("warning"), "{err}");
    assert!(!phone, "the phone is left out");
}
