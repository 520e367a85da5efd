//! Subcommands and their arguments (clap). `--help` is the reference; the
//! contract is in DESIGN.md ("Command line contract").

mod clean;
mod dedupe;
mod eval;
mod gen;
mod normalize;
mod serve;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use nayose::record::FieldType;
use nayose::rules::Rules;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "nayose",
    version,
    about = "名寄せ: clean and deduplicate customer data"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the canonical form of values of one field type, one per line.
    Normalize(normalize::Args),
    /// Clean a CSV/TSV/XLSX file: same columns and row order, cleaned values.
    Clean(clean::Args),
    /// Find the records that are the same customer: clusters, pairs and why.
    Dedupe(dedupe::Args),
    /// Write a synthetic customer file with known duplicates and its ground truth.
    Gen(gen::Args),
    /// Score predicted clusters against the truth: pairwise, exact-cluster
    /// and B-cubed precision and recall.
    Eval(eval::Args),
    /// Run the review service: live checks, imports, proposals, stewards' decisions.
    Serve(serve::Args),
    /// Manage API tokens.
    Token(serve::TokenArgs),
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Normalize(a) => normalize::run(a),
        Command::Clean(a) => clean::run(a),
        Command::Dedupe(a) => dedupe::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Token(a) => serve::token(a),
    }
}

/// How the input file is read: the options `clean` and `dedupe` share.
#[derive(Debug, clap::Args)]
struct ReadArgs {
    /// XLSX sheet to read (default: the first).
    #[arg(long)]
    sheet: Option<String>,
    /// Largest field (or XLSX cell) accepted, in bytes; a row with a larger one is rejected.
    #[arg(long, default_value_t = 1 << 20)]
    max_field_bytes: usize,
    /// Largest size an XLSX workbook may expand to, in bytes (its parts together).
    #[arg(long, default_value_t = 512 << 20)]
    max_xlsx_bytes: u64,
}

impl ReadArgs {
    fn options(&self) -> nayose::import::ReadOptions {
        nayose::import::ReadOptions {
            format: None,
            sheet: self.sheet.clone(),
            max_field_bytes: self.max_field_bytes,
            max_xlsx_bytes: self.max_xlsx_bytes,
        }
    }
}

/// The rule set from `--rules`, or the built-in default.
fn load_rules(path: Option<&Path>) -> Result<Rules> {
    match path {
        Some(p) => Ok(Rules::load(p)?),
        None => Ok(Rules::default_rules()),
    }
}

/// `--field COL=TYPE`
fn parse_field_override(s: &str) -> Result<(String, FieldType), String> {
    let (col, ty) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}`: expected COLUMN=TYPE"))?;
    Ok((col.to_string(), ty.parse::<FieldType>()?))
}

/// An optional path argument as [`distinct_files`] takes it.
fn given<'a>(
    opt: &'static str,
    path: &'a Option<std::path::PathBuf>,
) -> Option<(&'static str, &'a Path)> {
    path.as_deref().map(|p| (opt, p))
}

/// Refuse a run that would write over one of its own inputs, or write two
/// outputs to one file: `inputs` and `outputs` are (option, path), `None`
/// for an option not given ([`given`]). Paths
/// are compared as the file system resolves them (`./a.csv` is `a.csv`).
fn distinct_files(
    inputs: &[Option<(&str, &Path)>],
    outputs: &[Option<(&str, &Path)>],
) -> Result<()> {
    let resolved = |p: &Path| -> std::path::PathBuf {
        if let Ok(c) = p.canonicalize() {
            return c;
        }
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.map_or_else(|| Path::new(".").canonicalize(), |d| d.canonicalize());
        match (dir, p.file_name()) {
            (Ok(d), Some(name)) => d.join(name),
            _ => p.to_path_buf(),
        }
    };
    let ins: Vec<_> = inputs
        .iter()
        .flatten()
        .map(|(o, p)| (*o, *p, resolved(p)))
        .collect();
    let mut outs: Vec<(&str, &Path, std::path::PathBuf)> = Vec::new();
    for (opt, path) in outputs.iter().flatten() {
        let r = resolved(path);
        if let Some((i, ip, _)) = ins.iter().find(|(_, _, x)| *x == r) {
            anyhow::bail!(
                "{opt} {} is the {i} file {}: nayose never writes over what it reads; \
                 choose another name",
                path.display(),
                ip.display()
            );
        }
        if let Some((o, _, _)) = outs.iter().find(|(_, _, x)| *x == r) {
            anyhow::bail!(
                "{o} and {opt} name one file, {}: give each output its own name",
                path.display()
            );
        }
        outs.push((opt, path, r));
    }
    Ok(())
}

fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    Ok(())
}
