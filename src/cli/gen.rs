//! `nayose gen --kind btob|btoc --records N -o FILE --truth TRUTH`: the
//! arguments and the printed summary around [`nayose::gen`].

use super::ensure_parent;
use anyhow::{bail, Context, Result};
use nayose::gen::{self, GenOptions, Kind, Profile};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// btob (companies) or btoc (consumers).
    #[arg(long)]
    kind: Kind,
    /// How a consumer file was gathered: forms (sign-up forms, the default)
    /// or crm (years of shops and call centres: birth dates mostly unknown,
    /// phones and e-mails that change, moves, marriages, kana slips).
    #[arg(long, default_value = "forms")]
    profile: Profile,
    /// Exactly this many records.
    #[arg(long)]
    records: usize,
    /// Seed: the same arguments give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output CSV (UTF-8, header row).
    #[arg(short, long)]
    output: PathBuf,
    /// Ground truth CSV: id,entity_id.
    #[arg(long)]
    truth: PathBuf,
    /// Share of entities that get 1–4 duplicate records (0.0–1.0).
    #[arg(long, default_value_t = gen::DEFAULT_DUP_RATE)]
    dup_rate: f64,
    /// No summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.dup_rate) {
        bail!("--dup-rate must be between 0 and 1, not {}", args.dup_rate);
    }
    if args.kind == Kind::BtoB && args.profile != Profile::Forms {
        bail!("--profile crm is a consumer profile: use it with --kind btoc");
    }
    super::distinct_files(
        &[],
        &[
            Some(("--output", args.output.as_path())),
            Some(("--truth", args.truth.as_path())),
        ],
    )?;
    ensure_parent(&args.output)?;
    ensure_parent(&args.truth)?;
    let opts = GenOptions {
        kind: args.kind,
        profile: args.profile,
        records: args.records,
        seed: args.seed,
        dup_rate: args.dup_rate,
    };
    let start = Instant::now();
    let generated = gen::generate(&opts);
    let summary = gen::write(&generated, &args.output, &args.truth).with_context(|| {
        format!(
            "cannot write {} or {}",
            args.output.display(),
            args.truth.display()
        )
    })?;
    // Freeing a million rows of small strings takes seconds and the process
    // ends now: let the OS reclaim them.
    std::mem::forget(generated);
    let secs = start.elapsed().as_secs_f64();
    if !args.quiet {
        eprintln!(
            "{}: {} records of {} entities ({} with duplicates), truth in {}; {:.2} s, {:.0} rows/s",
            args.output.display(),
            summary.records,
            summary.entities,
            summary.duplicated_entities,
            args.truth.display(),
            secs,
            summary.records as f64 / secs.max(1e-9)
        );
    }
    Ok(ExitCode::SUCCESS)
}
