//! The large-data driver for `clean`: generates a customer file (default
//! 100,000 rows × 8 columns) from the bundled sample and cleans it with the
//! same function the `clean` command runs, printing rows/s and peak memory.
//!
//! `cargo bench --bench clean_throughput [-- ROWS]`
//!
//! Generation: row i takes each column from a different sample row (a fixed
//! stride per column, so combinations vary) and makes its phone number,
//! e-mail and customer id unique, so no value-level repetition helps. The
//! values keep the sample's messiness (legal-form notations, widths, 和暦,
//! 丁目 in digits, invalid phones). Peak memory is the process's high-water
//! mark (VmHWM), which includes the generator (< 1/3 of the total).
//! It runs the `nayose` command itself first (a fresh process each run, so
//! start-up and the tables' first load count), then `clean_file` in this
//! process with the tables loaded. It then says where the time goes: the
//! pipeline on one thread, the read, and the bare normalizers row by row
//! and column by column.

use nayose::clean::{clean_file, CleanOptions, FileJob, NoProgress};
use nayose::import::{self, OutputEncoding, ReadOptions};
use nayose::normalize::Normalizer;
use nayose::rules::Rules;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

// The allocator the `nayose` binary runs with (src/main.rs), so the figures
// are the command's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COLUMNS: [&str; 8] = [
    "会社名",
    "会社名カナ",
    "担当者名",
    "郵便番号",
    "住所",
    "電話番号",
    "メールアドレス",
    "生年月日",
];

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn generate(rows: usize, path: &Path) -> std::io::Result<u64> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/customers.csv");
    let table = import::read_path(&sample, &ReadOptions::default()).expect("sample readable");
    let col = |name: &str| table.headers.iter().position(|h| h == name).expect(name);
    let idx: Vec<usize> = COLUMNS.iter().map(|c| col(c)).collect();
    let seeds = &table.rows;
    let n = seeds.len();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{}", COLUMNS.join(","))?;
    let strides = [1usize, 7, 13, 31, 37, 61, 73, 97];
    for i in 0..rows {
        let mut fields: Vec<String> = Vec::with_capacity(8);
        for (c, &j) in idx.iter().enumerate() {
            let seed = &seeds[(i * strides[c] + c * 11) % n];
            let v = seed.fields[j].clone();
            let v = match COLUMNS[c] {
                // Unique phone: keep the notation, rewrite the last four digits.
                "電話番号" => {
                    let tail = format!("{:04}", i % 10_000);
                    let mut chars: Vec<char> = v.chars().collect();
                    let mut k = 4;
                    for ch in chars.iter_mut().rev() {
                        if k == 0 {
                            break;
                        }
                        if ch.is_ascii_digit() {
                            k -= 1;
                            *ch = tail.as_bytes()[k] as char;
                        }
                    }
                    chars.into_iter().collect()
                }
                "メールアドレス" => v.replacen('@', &format!(".{i}@"), 1),
                _ => v,
            };
            fields.push(quote(&v));
        }
        writeln!(out, "{}", fields.join(","))?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("customers.csv");
    let t = Instant::now();
    let bytes = generate(rows, &input).expect("generate");
    println!(
        "generated {rows} rows × {} columns, {:.1} MB, in {:.2} s",
        COLUMNS.len(),
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let rules = Rules::default_rules();
    let normalizer = Normalizer::new(&rules);
    // The command as an operator runs it: a fresh process each time, so
    // start-up and the tables' first load are in the figure.
    let mut rates = Vec::new();
    for run in 1..=3 {
        let t = Instant::now();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_nayose"))
            .arg("clean")
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join("command.csv"))
            .arg("-q")
            .status()
            .expect("run nayose");
        assert!(status.success(), "nayose clean failed");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "nayose clean run {run}: {:.2} s: {:.0} rows/s",
            secs,
            rows as f64 / secs
        );
        rates.push(rows as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    println!("nayose clean median: {:.0} rows/s", rates[1]);

    // In this process: the tables loaded once, as a long-running process
    // would have them; the first-load time is printed apart.
    let t = Instant::now();
    normalizer.load_tables();
    println!("table load: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    let job = FileJob {
        input: input.clone(),
        output: dir.path().join("clean.csv"),
        rejects: None,
        overrides: Vec::new(),
        read: ReadOptions::default(),
        clean: CleanOptions::default(),
        encoding: OutputEncoding::Utf8,
    };
    // Three runs; this is a shared 2-core VM, so the median is the figure.
    let threads = rayon::current_num_threads();
    let mut rates = Vec::new();
    for run in 1..=3 {
        let t = Instant::now();
        let report = clean_file(&job, &rules, &normalizer, &NoProgress).expect("clean");
        let secs = t.elapsed().as_secs_f64();
        let rate = report.rows_in as f64 / secs;
        println!(
            "clean run {run}: {} rows in, {} out, {} rejected in {:.2} s on {threads} threads: {:.0} rows/s",
            report.rows_in, report.rows_out, report.rows_rejected, secs, rate
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("clean median: {:.0} rows/s", rates[1]);
    match peak_rss_mib() {
        Some(m) => println!("peak memory of the clean runs (VmHWM): {m:.0} MiB"),
        None => println!("peak memory: not available on this platform"),
    }

    // Where the time goes, on one thread: the clean pipeline on one thread,
    // and the bare normalizers called row by row (as clean does) and column
    // by column (each normalizer's tables stay in cache).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let t = Instant::now();
    let report =
        pool.install(|| clean_file(&job, &rules, &normalizer, &NoProgress).expect("clean"));
    println!(
        "clean on 1 thread: {:.0} rows/s",
        report.rows_in as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let table = import::read_path(&input, &ReadOptions::default()).expect("read");
    println!("read + decode: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let types: Vec<_> =
        import::detect_columns(&table.headers, &table.rows, &rules, &normalizer, &[])
            .into_iter()
            .map(|c| c.field_type)
            .collect();
    println!(
        "column detection: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let per_row_us = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / table.rows.len() as f64;
    let t = Instant::now();
    for row in &table.rows {
        for (ty, v) in types.iter().zip(&row.fields) {
            std::hint::black_box(normalizer.normalize(*ty, v));
        }
    }
    println!(
        "normalizers row by row, 1 thread: {:.1} µs/row",
        per_row_us(t)
    );
    let t = Instant::now();
    for (c, ty) in types.iter().enumerate() {
        for row in &table.rows {
            std::hint::black_box(normalizer.normalize(*ty, &row.fields[c]));
        }
    }
    println!(
        "normalizers column by column, 1 thread: {:.1} µs/row",
        per_row_us(t)
    );
}
