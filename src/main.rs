//! The `nayose` command line. Each subcommand lives in `cli/<name>.rs`; this
//! file only parses arguments and prints the error chain of a failure.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// The service allocates many short strings per request (normalizing,
/// scoring, JSON); mimalloc spends less time on them than the system's
/// allocator (`cargo bench --bench serve_load` shows the CPU per request).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            let mut said = e.to_string();
            eprintln!("error: {said}");
            // A wrapper that shows its cause's message says it already.
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !said.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                said = text;
            }
            ExitCode::from(2)
        }
    }
}
