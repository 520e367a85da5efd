//! `nayose eval --truth TRUTH.csv --clusters CLUSTERS.csv [--json FILE]`:
//! reads both files through [`nayose::import`] and prints the figures of
//! [`nayose::eval::evaluate`].
//!
//! Columns, by header (case, spaces, `_` and `-` ignored): the id is `id`,
//! else the first column; the label is `entity_id`, `cluster_id` or
//! `entity`/`cluster`, else the second column. Ids and labels are trimmed;
//! an empty label makes its record a singleton. A duplicate id, an
//! unreadable row, or an id that is in one file only is an error (exit code
//! 2): the figures would be about records nobody chose.

use super::ensure_parent;
use anyhow::{bail, Context, Result};
use nayose::eval::{evaluate, Figures, Labelling, Labels};
use nayose::import::{read_path, ReadOptions};
use nayose::rules::header_key;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The true entities: a file with an id column and an entity column
    /// (`id,entity_id`).
    #[arg(long)]
    truth: PathBuf,
    /// The predicted clusters: `id,cluster_id` (as `nayose dedupe` writes).
    #[arg(long)]
    clusters: PathBuf,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let truth = read_labels(&args.truth)?;
    let clusters = read_labels(&args.clusters)?;
    let figures = evaluate(&truth, &clusters).with_context(|| {
        format!(
            "{} and {} cannot be compared",
            args.truth.display(),
            args.clusters.display()
        )
    })?;
    print!("{}", render(&figures));
    // A million ids are two million small strings; the process ends here,
    // and freeing them one by one would take longer than the evaluation.
    std::mem::forget((truth, clusters));
    if let Some(path) = &args.json {
        ensure_parent(path)?;
        let json = serde_json::to_string_pretty(&figures)? + "\n";
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// id → label of one file (see the module docs for the columns).
fn read_labels(path: &Path) -> Result<Labelling> {
    let table = read_path(path, &ReadOptions::default())?;
    if let Some(r) = table.rejects.first() {
        bail!(
            "{}: {} rows cannot be read (first at line {}: {})",
            path.display(),
            table.rejects.len(),
            r.line,
            r.reason
        );
    }
    if table.headers.len() < 2 {
        bail!(
            "{}: needs an id column and a label column, has {} column(s)",
            path.display(),
            table.headers.len()
        );
    }
    let find = |names: &[&str]| {
        table
            .headers
            .iter()
            .position(|h| names.contains(&header_key(h).as_str()))
    };
    let id_col = find(&["id"]).unwrap_or(0);
    let label_col = find(&["entityid", "clusterid", "entity", "cluster"])
        .or_else(|| (0..table.headers.len()).find(|&i| i != id_col))
        .unwrap_or(1);
    let mut numbers = Labels::default();
    let mut labels = Labelling::with_capacity_and_hasher(table.rows.len(), Default::default());
    for mut row in table.rows {
        let id = trimmed(std::mem::take(&mut row.fields[id_col]));
        if id.is_empty() {
            bail!("{}:{}: empty id", path.display(), row.line);
        }
        let label = numbers.number(row.fields[label_col].trim());
        match labels.entry(id) {
            Entry::Occupied(e) => bail!(
                "{}:{}: id `{}` appears a second time",
                path.display(),
                row.line,
                e.key()
            ),
            Entry::Vacant(e) => {
                e.insert(label);
            }
        }
    }
    Ok(labels)
}

/// `s` without surrounding whitespace, reusing its allocation when it has none.
fn trimmed(s: String) -> String {
    if s.trim().len() == s.len() {
        s
    } else {
        s.trim().to_string()
    }
}

fn render(f: &Figures) -> String {
    let p = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.4}"));
    format!(
        "records             {}\n\
         true entities       {:>8}   true pairs      {}\n\
         predicted clusters  {:>8}   predicted pairs {}   correct pairs {}\n\
         pairwise            precision {}   recall {}   F1 {}\n\
         exact clusters      {:>8}   precision {}   recall {}\n\
         B-cubed             precision {}   recall {}   F1 {}\n",
        f.records,
        f.true_entities,
        f.true_pairs,
        f.predicted_clusters,
        f.predicted_pairs,
        f.correct_pairs,
        p(f.precision),
        p(f.recall),
        p(f.f1),
        f.exact_clusters,
        p(f.cluster_precision),
        p(f.cluster_recall),
        p(f.bcubed_precision),
        p(f.bcubed_recall),
        p(f.bcubed_f1),
    )
}
