//! `nayose clean IN -o OUT`: the arguments, the progress bar and the printed
//! summary around [`nayose::clean::clean_file`].

use super::{distinct_files, ensure_parent, given, load_rules, parse_field_override};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nayose::clean::{clean_file, CleanOptions, FileJob, Progress, Report};
use nayose::import::OutputEncoding;
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file: .csv, .tsv (UTF-8, UTF-8 with BOM or CP932, detected), .xlsx or .parquet.
    input: PathBuf,
    /// Output file (.csv, .tsv or .parquet).
    #[arg(short, long)]
    output: PathBuf,
    /// Rule file (default: the built-in Japanese rule set).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Set a column's field type: --field 取引先=company_name (repeatable).
    #[arg(long = "field", value_name = "COL=TYPE", value_parser = parse_field_override)]
    fields: Vec<(String, FieldType)>,
    /// Where rows that cannot be read go (default: OUT.rejects.csv, written only when needed).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Add a `<column>_raw` column with the original value after each column.
    #[arg(long)]
    keep_raw: bool,
    /// Add prefecture, city, street (Kyoto), town, lot and building columns after an address column.
    #[arg(long)]
    address_parts: bool,
    /// Add an `issues` column listing each row's issues as column:kind.
    #[arg(long)]
    issues_column: bool,
    /// Output encoding: utf-8, utf-8-bom (for Excel) or cp932.
    #[arg(long, default_value = "utf-8")]
    encoding: OutputEncoding,
    #[command(flatten)]
    read: super::ReadArgs,
    /// No summary and no progress bar on stderr.
    #[arg(short, long)]
    quiet: bool,
}

/// A progress bar on stderr for files big enough to wait for; indicatif
/// draws nothing when stderr is not a terminal.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, rows: usize) {
        self.0.set_length(rows as u64);
        if rows < 20_000 {
            self.0.set_draw_target(ProgressDrawTarget::hidden());
        }
    }
    fn rows_done(&self, n: usize) {
        self.0.inc(n as u64);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    distinct_files(
        &[
            Some(("input", args.input.as_path())),
            given("--rules", &args.rules),
        ],
        &[
            Some(("--output", args.output.as_path())),
            given("--rejects", &args.rejects),
            given("--report", &args.report),
        ],
    )?;
    let rules = load_rules(args.rules.as_deref())?;
    let normalizer = Normalizer::new(&rules);
    ensure_parent(&args.output)?;
    if let Some(r) = &args.rejects {
        ensure_parent(r)?;
    }
    let job = FileJob {
        input: args.input.clone(),
        output: args.output.clone(),
        rejects: args.rejects.clone(),
        overrides: args.fields.clone(),
        read: args.read.options(),
        clean: CleanOptions {
            keep_raw: args.keep_raw,
            address_parts: args.address_parts,
            issues_column: args.issues_column,
        },
        encoding: args.encoding,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("cleaning [{bar:40}] {pos}/{len} rows ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let report = clean_file(&job, &rules, &normalizer, &Bar(bar))?;
    if let Some(path) = &args.report {
        ensure_parent(path)?;
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !args.quiet {
        print_summary(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &Report) {
    eprintln!(
        "{}: {} rows in, {} written to {}, {} rejected{}",
        r.input,
        r.rows_in,
        r.rows_out,
        r.output,
        r.rows_rejected,
        r.rejects_file
            .as_ref()
            .map(|f| format!(" (see {f})"))
            .unwrap_or_default()
    );
    for rej in r.rejects.iter().take(10) {
        match rej.column {
            Some(c) => eprintln!("  rejected line {}, column {}: {}", rej.line, c, rej.reason),
            None => eprintln!("  rejected line {}: {}", rej.line, rej.reason),
        }
    }
    if r.rejects.len() > 10 {
        eprintln!("  … and {} more", r.rejects.len() - 10);
    }
    if r.unencodable_chars > 0 {
        eprintln!(
            "  warning: {} character(s) cannot be written in {} and were written as &#N; references",
            r.unencodable_chars, r.output_encoding
        );
    }
    eprintln!(
        "  {} {:<16} {:>8} {:>8} {:>8} {:>8}  issues",
        pad("column", 20),
        "type",
        "values",
        "empty",
        "changed",
        "invalid"
    );
    for c in &r.columns {
        let issues: Vec<String> = c.issues.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprintln!(
            "  {} {:<16} {:>8} {:>8} {:>8} {:>8}  {}",
            pad(&c.column, 20),
            c.field_type,
            c.values,
            c.empty,
            c.changed,
            c.invalid,
            issues.join(" ")
        );
    }
}

/// Left-align in `width` terminal columns (a kanji takes two).
fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}
