//! `nayose normalize TYPE [VALUE...]`: one canonical value per line (stdin
//! lines when no VALUE). An invalid value prints an empty line and its reason
//! on stderr; the exit code is 1 when any value was invalid. `--json` prints
//! the whole result (value, key, parts, issues) as one JSON object a line.

use super::load_rules;
use anyhow::Result;
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Field type: text, company_name, company_kana, person_name, person_kana,
    /// address, postal_code, phone, email, date, corporate_number, gender,
    /// name, code, number
    #[arg(value_parser = |s: &str| s.parse::<FieldType>())]
    field_type: FieldType,
    /// Values to normalize; read from stdin, one per line, when none given.
    values: Vec<String>,
    /// Rule file (default: the built-in Japanese rule set).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print value, match key, parts and issues as JSON lines.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rules = load_rules(args.rules.as_deref())?;
    let normalizer = Normalizer::new(&rules);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut any_invalid = false;
    let mut count = 0usize;
    let mut one = |raw: &str, out: &mut dyn Write| -> Result<()> {
        count += 1;
        let n = normalizer.normalize(args.field_type, raw);
        if args.json {
            #[derive(serde::Serialize)]
            struct Line<'a> {
                input: &'a str,
                #[serde(flatten)]
                result: &'a nayose::Normalized,
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string(&Line {
                    input: raw,
                    result: &n
                })?
            )?;
        } else {
            writeln!(out, "{}", n.value.as_deref().unwrap_or(""))?;
        }
        for issue in &n.issues {
            // The message quotes the value; the number says which line it is.
            eprintln!("{count}: {}: {}", issue.kind, issue.message);
        }
        if n.value.is_none() && !raw.trim().is_empty() {
            any_invalid = true;
        }
        Ok(())
    };
    if args.values.is_empty() {
        for line in io::stdin().lock().lines() {
            one(&line?, &mut out)?;
        }
    } else {
        for v in &args.values {
            one(v, &mut out)?;
        }
    }
    out.flush()?;
    Ok(if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
