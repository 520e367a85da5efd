//! `nayose dedupe IN -o CLUSTERS.csv`: arguments, a progress bar per stage and
//! the printed summary around [`nayose::dedupe::dedupe_file`].

use super::{distinct_files, ensure_parent, given, load_rules, parse_field_override};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nayose::dedupe::{dedupe_file, DedupeJob, DedupeResult, StageProgress};
use nayose::matching::model::Model;
use nayose::matching::Band;
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file: .csv, .tsv (UTF-8, UTF-8 with BOM or CP932, detected), .xlsx or .parquet.
    input: PathBuf,
    /// Clusters file: id, cluster_id, cluster_size, best_score, best_match_id (input row order).
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the pairs in the match and review bands, each comparison's level and weight.
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Write a self-contained HTML report: score histogram with the thresholds,
    /// cluster sizes, each comparison's weights, the most uncertain pairs.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Rule file (default: the built-in Japanese rule set); its [matching] section sets k, thresholds, ….
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Set a column's field type: --field 取引先=company_name (repeatable).
    #[arg(long = "field", value_name = "COL=TYPE", value_parser = parse_field_override)]
    fields: Vec<(String, FieldType)>,
    /// The column holding record ids (default: the `id` field of the rules, else the line number).
    #[arg(long)]
    id_column: Option<String>,
    /// Use this trained model (a file written by --save-model) instead of training.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Decided pairs, `id_a,id_b,label` (`match` or `non_match`): a match
    /// links its pair in the clusters, a non-match keeps it from linking them.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Write the trained model (readable TOML) to this file.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Where rows that cannot be read go (default: CLUSTERS.rejects.csv, written only when needed).
    #[arg(long)]
    rejects: Option<PathBuf>,
    #[command(flatten)]
    read: super::ReadArgs,
    /// No summary and no progress bar on stderr.
    #[arg(short, long)]
    quiet: bool,
}

/// One bar, restarted per stage; indicatif draws nothing when stderr is not a
/// terminal.
struct Bar {
    bar: ProgressBar,
    quiet: bool,
}

impl StageProgress for Bar {
    fn stage(&self, name: &str, total: u64) {
        if self.quiet {
            return;
        }
        self.bar.reset();
        self.bar.set_length(total);
        let template = if total > 0 {
            "{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})"
        } else {
            "{msg:>12} {spinner} {elapsed}"
        };
        self.bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.bar.set_message(name.to_string());
        self.bar.tick();
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    distinct_files(
        &[
            Some(("input", args.input.as_path())),
            given("--rules", &args.rules),
            given("--model", &args.model),
            given("--labels", &args.labels),
        ],
        &[
            Some(("--output", args.output.as_path())),
            given("--pairs", &args.pairs),
            given("--report", &args.report),
            given("--save-model", &args.save_model),
            given("--rejects", &args.rejects),
        ],
    )?;
    let rules = load_rules(args.rules.as_deref())?;
    let normalizer = Normalizer::new(&rules);
    ensure_parent(&args.output)?;
    let model = match &args.model {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read model {}", p.display()))?;
            Some(
                Model::from_toml(&text)
                    .with_context(|| format!("{} is not a nayose model", p.display()))?,
            )
        }
        None => None,
    };
    for p in [&args.pairs, &args.save_model, &args.rejects]
        .into_iter()
        .flatten()
    {
        ensure_parent(p)?;
    }
    let job = DedupeJob {
        input: args.input.clone(),
        output: args.output.clone(),
        pairs: args.pairs.clone(),
        rejects: args.rejects.clone(),
        overrides: args.fields.clone(),
        id_column: args.id_column.clone(),
        read: args.read.options(),
        model,
        labels: args.labels.clone(),
    };
    let bar = ProgressBar::new(0);
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let progress = Bar {
        bar,
        quiet: args.quiet,
    };
    let result = dedupe_file(&job, &rules, &normalizer, &progress)?;
    if let Some(p) = &args.save_model {
        std::fs::write(p, result.model.to_toml())
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.report {
        let title = args
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let page = nayose::report::render_html(&result.report(&title, &rules.matching));
        std::fs::write(p, page).with_context(|| format!("cannot write {}", p.display()))?;
    }
    // A warning, even with --quiet: the column the entry meant is compared.
    for i in &result.unused_ignore {
        eprintln!(
            "warning: [matching] ignore names `{i}`, which is no column of this file \
             (by header, field name or a field's header): it leaves nothing out"
        );
    }
    if !args.quiet {
        print_summary(&result);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &DedupeResult) {
    eprintln!(
        "{} records ({} rejected), {} candidate pairs: {} match, {} review, {} no match",
        r.records,
        r.rejected,
        r.candidate_pairs,
        r.bands.get(Band::Match),
        r.bands.get(Band::Review),
        r.bands.get(Band::NoMatch)
    );
    eprintln!(
        "{} clusters of 2 or more records; the largest has {}",
        r.clusters,
        r.largest_cluster()
    );
    eprintln!(
        "model: prior {:.4} ({} EM iterations{}), {} random pairs for u",
        r.model.prior,
        r.model.training.em_iterations,
        if r.model.training.converged {
            ", converged"
        } else {
            ", not converged"
        },
        r.model.training.random_pairs
    );
    for c in &r.model.comparisons {
        let levels: Vec<String> = c
            .levels
            .iter()
            .zip(1u8..)
            .map(|(l, level)| format!("{} {:+.1}", l.label, c.weight(level)))
            .collect();
        eprintln!("  {:<24} {}", c.name, levels.join("  "));
    }
    if let Some(l) = &r.labels {
        eprintln!(
            "labels: {} match and {} non_match pairs bound the clusters",
            l.matches, l.non_matches
        );
        if let Some(line) = l.first_unknown_line {
            eprintln!(
                "labels: {} rows name an id this file does not have (the first on line {line}); left out",
                l.unknown
            );
        }
        let p = |w: f64| nayose::matching::model::Model::probability(w);
        eprintln!(
            "labels: bands used: auto-merge ≥ {:.4}, review ≥ {:.4} (probability)",
            p(l.bands.match_weight),
            p(l.bands.review_weight)
        );
        let e = &l.estimates;
        let show = |name: &str, x: &Option<nayose::matching::band::Estimate>| match x {
            Some(x) => eprintln!(
                "labels: {name} {:.4} (95% {:.4}–{:.4}, {} labelled pairs)",
                x.value, x.low, x.high, x.n
            ),
            None => eprintln!("labels: {name}: no labelled pair to count"),
        };
        show("auto-merge precision", &e.auto_merge_precision);
        show("review precision", &e.review_precision);
        show("auto-merge recall", &e.auto_merge_recall);
        show("review recall", &e.review_recall);
    }
    if !r.oversized.is_empty() {
        eprintln!(
            "{} exact keys shared by too many records were not blocked on, e.g. {} `{}` ({} records)",
            r.oversized.len(),
            r.oversized[0].field,
            r.oversized[0].value,
            r.oversized[0].records
        );
    }
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|(n, s)| format!("{n} {s:.2}s"))
        .collect();
    eprintln!("time: {}", stages.join(", "));
}
