//! The `clean` pipeline: an import file in; the cleaned file, the rejects and
//! a per-column summary out. [`clean_file`] runs the whole job (the `clean`
//! command and the benchmark driver both call it); [`Cleaner`] decides what
//! every output cell holds and does no IO.
//!
//! Output columns are the input's, in order, each cleaned in place; after a
//! company-name column comes its derived `<column>_branch` column (when the
//! rules split branches), with `--keep-raw` every cleaned column is followed by
//! `<column>_raw`, with `--address-parts` an address column by its structured
//! parts, and with `--issues-column` a last `issues` column lists each row's
//! issues as `column:kind`. A value that cannot be normalized keeps its raw
//! text (the issue says why), so the output never loses anything.
//!
//! Rows are normalized in parallel (rayon) in fixed chunks and reassembled in
//! input order, so the output is byte-identical whatever the thread count.

use crate::import::{
    self, ColumnType, EncodedRows, Format, ImportError, OutputEncoding, ReadOptions, Reject, Row,
    TableWriter,
};
use crate::normalize::{check_field_rule, Normalized, Normalizer};
use crate::record::FieldType;
use crate::rules::{FieldRule, Rules};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// What to add beside the cleaned columns.
#[derive(Debug, Clone, Default)]
pub struct CleanOptions {
    pub keep_raw: bool,
    pub address_parts: bool,
    pub issues_column: bool,
}

const ADDRESS_PARTS: [&str; 7] = [
    "prefecture",
    "city",
    "street",
    "town",
    "lot",
    "building",
    "note",
];

/// One output column and where its value comes from.
#[derive(Debug, Clone)]
enum OutColumn {
    Cleaned(usize),
    Raw(usize),
    Part(usize, &'static str),
    Issues,
}

/// The plan for a table: resolved per column once, used for every row.
pub struct Cleaner<'a> {
    normalizer: &'a Normalizer,
    columns: Vec<PlannedColumn>,
    out: Vec<OutColumn>,
    headers: Vec<String>,
    postal_column: Option<usize>,
    /// Per column, the column holding its branch: a cleaned file's
    /// `会社名_branch`, read with its company name and written in its own
    /// place ([`import::branch_columns`]).
    branch_of: Vec<Option<usize>>,
}

struct PlannedColumn {
    header: String,
    field_type: FieldType,
    detected_by: String,
    rule: Option<FieldRule>,
}

/// Per-column counts for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnSummary {
    pub column: String,
    pub field_type: String,
    pub detected_by: String,
    pub rule: Option<String>,
    /// Non-empty input values.
    pub values: usize,
    pub empty: usize,
    /// Values whose output differs from the input.
    pub changed: usize,
    /// Values that could not be normalized (kept raw).
    pub invalid: usize,
    pub issues: BTreeMap<&'static str, usize>,
}

impl ColumnSummary {
    fn merge(&mut self, other: &ColumnSummary) {
        self.values += other.values;
        self.empty += other.empty;
        self.changed += other.changed;
        self.invalid += other.invalid;
        for (k, v) in &other.issues {
            *self.issues.entry(k).or_default() += v;
        }
    }
}

/// One cleaned row, with its input line.
pub struct CleanRow {
    pub line: usize,
    pub fields: Vec<String>,
}

/// `names` made distinct: those marked `keep` stay as they are (they are
/// distinct already), the others take the first free `name_2`, `name_3`, ….
fn distinct_names(names: Vec<String>, keep: &[bool]) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> = names
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(n, _)| n.clone())
        .collect();
    names
        .into_iter()
        .zip(keep)
        .map(|(name, &k)| {
            if k {
                return name;
            }
            let mut candidate = name.clone();
            let mut n = 2;
            while taken.contains(&candidate) {
                candidate = format!("{name}_{n}");
                n += 1;
            }
            taken.insert(candidate.clone());
            candidate
        })
        .collect()
}

impl<'a> Cleaner<'a> {
    pub fn new(
        normalizer: &'a Normalizer,
        rules: &Rules,
        headers: &[String],
        detected: &[ColumnType],
        opts: &CleanOptions,
    ) -> Cleaner<'a> {
        let columns: Vec<PlannedColumn> = headers
            .iter()
            .zip(detected)
            .map(|(h, d)| PlannedColumn {
                header: h.clone(),
                field_type: d.field_type,
                detected_by: d.source.as_str().to_string(),
                rule: d
                    .rule
                    .as_ref()
                    .and_then(|name| rules.fields.iter().find(|f| &f.name == name).cloned()),
            })
            .collect();
        let mut out = Vec::new();
        let mut out_headers = Vec::new();
        let split_branch = normalizer.options().company_name.split_branch();
        let types: Vec<FieldType> = columns.iter().map(|c| c.field_type).collect();
        let branch_of = if split_branch {
            import::branch_columns(headers, &types)
        } else {
            vec![None; columns.len()]
        };
        for (i, c) in columns.iter().enumerate() {
            // A cleaned file's branch column holds its company's branch
            // again, where it is.
            if let Some(company) = branch_of.iter().position(|b| *b == Some(i)) {
                out.push(OutColumn::Part(company, "branch"));
                out_headers.push(c.header.clone());
                continue;
            }
            out.push(OutColumn::Cleaned(i));
            out_headers.push(c.header.clone());
            if opts.keep_raw {
                out.push(OutColumn::Raw(i));
                out_headers.push(format!("{}_raw", c.header));
            }
            if c.field_type == FieldType::CompanyName && split_branch && branch_of[i].is_none() {
                out.push(OutColumn::Part(i, "branch"));
                out_headers.push(format!("{}_branch", c.header));
            }
            if c.field_type == FieldType::Address && opts.address_parts {
                for p in ADDRESS_PARTS {
                    out.push(OutColumn::Part(i, p));
                    out_headers.push(format!("{}_{p}", c.header));
                }
            }
        }
        if opts.issues_column {
            out.push(OutColumn::Issues);
            out_headers.push("issues".to_string());
        }
        // A postal code completes an address only when the row has one of
        // each: with two pairs (本店 and 送付先) the pairing cannot be known,
        // and completing from the wrong code would be a guess.
        let count = |t: FieldType| columns.iter().filter(|c| c.field_type == t).count();
        let postal_column = if count(FieldType::PostalCode) == 1 && count(FieldType::Address) == 1 {
            columns
                .iter()
                .position(|c| c.field_type == FieldType::PostalCode)
        } else {
            None
        };
        // Derived columns must not take an input column's name (`issues`,
        // `会社名_branch` already in the file) nor each other's: an input
        // column keeps its name, a derived one gets `_2`, `_3`, …, so the
        // output reads back with distinct names.
        let is_input: Vec<bool> = out
            .iter()
            .zip(&out_headers)
            .map(|(o, h)| match o {
                OutColumn::Cleaned(_) => true,
                OutColumn::Part(_, "branch") => headers.contains(h),
                _ => false,
            })
            .collect();
        let out_headers = distinct_names(out_headers, &is_input);
        Cleaner {
            normalizer,
            columns,
            out,
            headers: out_headers,
            postal_column,
            branch_of,
        }
    }

    pub fn output_headers(&self) -> &[String] {
        &self.headers
    }

    fn empty_summaries(&self) -> Vec<ColumnSummary> {
        self.columns
            .iter()
            .map(|c| ColumnSummary {
                column: c.header.clone(),
                field_type: c.field_type.to_string(),
                detected_by: c.detected_by.clone(),
                rule: c.rule.as_ref().map(|r| r.name.clone()),
                ..ColumnSummary::default()
            })
            .collect()
    }

    /// Clean one row, counting into `summary`, and hand its output cells to
    /// `emit`. `results` is scratch space reused from row to row.
    fn clean_row<R>(
        &self,
        row: &Row,
        summary: &mut [ColumnSummary],
        results: &mut Vec<Normalized>,
        emit: impl FnOnce(&[&str]) -> R,
    ) -> R {
        let postal = self
            .postal_column
            .and_then(|i| row.fields.get(i))
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty());
        results.clear();
        for (i, c) in self.columns.iter().enumerate() {
            let raw = row.fields.get(i).map(String::as_str).unwrap_or("");
            let mut n = if c.field_type == FieldType::Address {
                self.normalizer
                    .normalize_address_with_postal(c.field_type, raw, postal)
            } else if let Some(b) = self.branch_of[i] {
                let branch = row.fields.get(b).map(String::as_str);
                let whole = import::with_branch(raw, branch);
                self.normalizer.normalize(c.field_type, &whole)
            } else {
                self.normalizer.normalize(c.field_type, raw)
            };
            if let Some(rule) = &c.rule {
                check_field_rule(rule, raw, &mut n);
            }
            let s = &mut summary[i];
            if raw.trim().is_empty() {
                s.empty += 1;
            } else {
                s.values += 1;
                match &n.value {
                    Some(v) if v != raw => s.changed += 1,
                    Some(_) => {}
                    None => s.invalid += 1,
                }
            }
            for issue in &n.issues {
                *s.issues.entry(issue.kind.as_str()).or_default() += 1;
            }
            results.push(n);
        }
        let raw = |i: usize| row.fields.get(i).map(String::as_str).unwrap_or("");
        let mut issues = String::new();
        if matches!(self.out.last(), Some(OutColumn::Issues)) {
            for (i, n) in results.iter().enumerate() {
                for issue in &n.issues {
                    if !issues.is_empty() {
                        issues.push(';');
                    }
                    issues.push_str(&self.columns[i].header);
                    issues.push(':');
                    issues.push_str(issue.kind.as_str());
                }
            }
        }
        let fields: Vec<&str> = self
            .out
            .iter()
            .map(|o| match *o {
                // A value with no canonical form is written as it came.
                OutColumn::Cleaned(i) => results[i].value.as_deref().unwrap_or_else(|| raw(i)),
                OutColumn::Raw(i) => raw(i),
                OutColumn::Part(i, name) => results[i].part(name).unwrap_or(""),
                OutColumn::Issues => issues.as_str(),
            })
            .collect();
        emit(&fields)
    }

    /// Clean all rows (in parallel, order kept); `progress` is called with the
    /// number of rows just finished.
    pub fn clean_rows(
        &self,
        rows: &[Row],
        progress: &(dyn Fn(usize) + Sync),
    ) -> (Vec<CleanRow>, Vec<ColumnSummary>) {
        let (parts, summary) = self.in_chunks(rows, progress, Vec::new, |chunk, row, fields| {
            chunk.push(CleanRow {
                line: row.line,
                fields: fields.iter().map(|f| f.to_string()).collect(),
            })
        });
        (parts.into_iter().flatten().collect(), summary)
    }

    /// Clean rows and encode them for the output file, in parallel: blocks
    /// (copies of the empty `block`) to write in order, and the summary.
    pub fn encode_rows(
        &self,
        rows: &[Row],
        block: &EncodedRows,
        progress: &(dyn Fn(usize) + Sync),
    ) -> (Vec<EncodedRows>, Vec<ColumnSummary>) {
        self.in_chunks(
            rows,
            progress,
            || block.clone(),
            |out, _row, fields| out.push(fields),
        )
    }

    /// Clean `rows` in parallel chunks, each collected by `add` into its own
    /// `start()`; the chunks come back in input order, with the summary of
    /// all of them.
    fn in_chunks<T: Send>(
        &self,
        rows: &[Row],
        progress: &(dyn Fn(usize) + Sync),
        start: impl Fn() -> T + Sync,
        add: impl Fn(&mut T, &Row, &[&str]) + Sync,
    ) -> (Vec<T>, Vec<ColumnSummary>) {
        // Small chunks: at the end of a batch no thread waits long for the
        // last one.
        const CHUNK: usize = 256;
        let parts = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut summary = self.empty_summaries();
                let mut results = Vec::with_capacity(self.columns.len());
                let mut out = start();
                for row in chunk {
                    self.clean_row(row, &mut summary, &mut results, |fields| {
                        add(&mut out, row, fields)
                    });
                }
                progress(chunk.len());
                (out, summary)
            })
            .collect::<Vec<_>>();
        let mut total = self.empty_summaries();
        let mut outs = Vec::with_capacity(parts.len());
        for (out, summary) in parts {
            outs.push(out);
            for (t, s) in total.iter_mut().zip(&summary) {
                t.merge(s);
            }
        }
        (outs, total)
    }
}

/// Everything one `clean` run needs.
#[derive(Debug, Clone)]
pub struct FileJob {
    pub input: PathBuf,
    pub output: PathBuf,
    /// `None`: next to the output as `<output>.rejects.csv`, written only when
    /// there are rejects.
    pub rejects: Option<PathBuf>,
    pub overrides: Vec<(String, FieldType)>,
    pub read: ReadOptions,
    pub clean: CleanOptions,
    pub encoding: OutputEncoding,
}

/// Progress of a run, for a progress bar. All methods have no-op defaults.
pub trait Progress: Sync {
    fn start(&self, _rows: usize) {}
    fn rows_done(&self, _n: usize) {}
    fn finish(&self) {}
}

/// No progress reporting.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a run did: the report printed and written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub output: String,
    pub format: String,
    pub encoding: Option<String>,
    pub output_encoding: String,
    pub rows_in: usize,
    pub rows_out: usize,
    pub rows_rejected: usize,
    pub rejects_file: Option<String>,
    /// Characters the output encoding could not represent, written as `&#N;`.
    pub unencodable_chars: usize,
    pub columns: Vec<ColumnSummary>,
    #[serde(skip)]
    pub rejects: Vec<Reject>,
}

#[derive(Debug)]
pub enum CleanError {
    Import(ImportError),
    UnknownColumn {
        column: String,
        columns: Vec<String>,
    },
    XlsxOutput,
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for CleanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CleanError::Import(e) => write!(f, "{e}"),
            CleanError::UnknownColumn { column, columns } => write!(
                f,
                "--field {column}=…: there is no column `{column}` (columns: {})",
                columns.join(", ")
            ),
            CleanError::XlsxOutput => write!(
                f,
                "writing XLSX is not supported: name the output .csv (with --encoding utf-8-bom for Excel) or .tsv"
            ),
            CleanError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for CleanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CleanError::Import(e) => Some(e),
            CleanError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> CleanError + '_ {
    move |source| CleanError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Run a whole `clean` job: read, detect, normalize, write output and rejects.
pub fn clean_file(
    job: &FileJob,
    rules: &Rules,
    normalizer: &Normalizer,
    progress: &dyn Progress,
) -> Result<Report, CleanError> {
    if Format::from_extension(&job.output) == Some(Format::Xlsx) {
        return Err(CleanError::XlsxOutput);
    }
    let mut reader = import::open_path(&job.input, &job.read).map_err(CleanError::Import)?;
    if let Some(column) = import::unknown_override(&reader.headers, &job.overrides) {
        return Err(CleanError::UnknownColumn {
            column: column.to_string(),
            columns: reader.headers.clone(),
        });
    }

    // Read ahead: the rows column types are detected from (up to
    // `DETECT_ROWS`, fewer once every column has its sample of values),
    // and on a large file as many as can be read while the normalizers'
    // tables are built on the other core (up to `AHEAD_ROWS`).
    const AHEAD_ROWS: usize = 131_072;
    let large = std::fs::metadata(&job.input).is_ok_and(|m| m.len() > 1 << 20);
    let loaded = AtomicBool::new(!large);
    let (mut ahead, mut rejects) = (Vec::new(), Vec::new());
    let mut at_end = false;
    rayon::scope(|s| {
        if large {
            s.spawn(|_| {
                normalizer.load_tables();
                loaded.store(true, Ordering::Release);
            });
        }
        loop {
            at_end = !read_batch(&mut reader, &mut ahead, &mut rejects);
            let detectable =
                ahead.len() >= DETECT_ROWS || import::has_samples(reader.headers.len(), &ahead);
            if at_end || ahead.len() >= AHEAD_ROWS || (detectable && loaded.load(Ordering::Acquire))
            {
                break;
            }
        }
    });
    let detect_rows = &ahead[..ahead.len().min(DETECT_ROWS)];
    let detected = import::detect_columns(
        &reader.headers,
        detect_rows,
        rules,
        normalizer,
        &job.overrides,
    );
    let cleaner = Cleaner::new(normalizer, rules, &reader.headers, &detected, &job.clean);

    // Clean and write batch by batch: a batch is normalized and encoded in
    // parallel while the next is read, then written, so neither the rows nor
    // the cleaned text of the whole file are ever in memory at once.
    let mut writer =
        TableWriter::create(&job.output, Format::for_output(&job.output), job.encoding)
            .map_err(write_err(&job.output))?;
    let headers: Vec<&str> = cleaner
        .output_headers()
        .iter()
        .map(String::as_str)
        .collect();
    writer.write_row(&headers).map_err(write_err(&job.output))?;
    let mut summary = cleaner.empty_summaries();
    let mut rows_out = 0;
    let empty_block = writer.block();
    let mut current = ahead;
    let mut next = Vec::new();
    let estimate = |rows_read: usize, reader: &import::TableReader| {
        (rows_read as f64 / reader.fraction_read().max(1e-9)).round() as usize
    };
    progress.start(estimate(current.len() + rejects.len(), &reader));
    while !current.is_empty() {
        // One batch at a time, also out of the read-ahead, so the encoded
        // output waiting to be written stays one batch's worth.
        let take = current.len().min(READ_BATCH);
        let read_more = !at_end && current.len() - take < READ_BATCH;
        let ((blocks, batch_summary), ()) = rayon::join(
            || cleaner.encode_rows(&current[..take], &empty_block, &|n| progress.rows_done(n)),
            || {
                if read_more {
                    at_end = !read_batch(&mut reader, &mut next, &mut rejects);
                }
            },
        );
        for (total, s) in summary.iter_mut().zip(&batch_summary) {
            total.merge(s);
        }
        for block in &blocks {
            writer.write_rows(block).map_err(write_err(&job.output))?;
            rows_out += block.rows();
        }
        current.drain(..take);
        current.append(&mut next);
        progress.start(estimate(rows_out + current.len() + rejects.len(), &reader));
    }
    progress.finish();
    let stats = writer.finish().map_err(write_err(&job.output))?;

    let rejects_file = if rejects.is_empty() {
        None
    } else {
        let path = job
            .rejects
            .clone()
            .unwrap_or_else(|| import::default_rejects_path(&job.output));
        import::write_rejects(&path, &rejects).map_err(write_err(&path))?;
        Some(path)
    };

    // Every record the reader found is a row or a reject (its contract);
    // every row is written. The CLI tests count the records of the input,
    // the output and the rejects file independently of these figures.
    let rows_in = rows_out + rejects.len();
    Ok(Report {
        input: job.input.display().to_string(),
        output: job.output.display().to_string(),
        format: reader.format.as_str().to_string(),
        encoding: reader.encoding.map(|e| e.as_str().to_string()),
        output_encoding: job.encoding.as_str().to_string(),
        rows_in,
        rows_out,
        rows_rejected: rejects.len(),
        rejects_file: rejects_file.map(|p| p.display().to_string()),
        unencodable_chars: stats.unmappable_chars(),
        columns: summary,
        rejects,
    })
}

/// Records read at a time by `clean`.
const READ_BATCH: usize = 16_384;

/// At most this many rows tell the column types.
const DETECT_ROWS: usize = 65_536;

/// What [`clean_table`] gives: the output's column names, its rows (input
/// order), and the per-column summary.
pub struct CleanedTable {
    pub headers: Vec<String>,
    pub rows: Vec<CleanRow>,
    pub columns: Vec<ColumnSummary>,
}

/// Clean a table in memory (the Python package): the column types detected
/// and every row cleaned as [`clean_file`] does; nothing is read or written.
pub fn clean_table(
    table: &import::Table,
    overrides: &[(String, FieldType)],
    rules: &Rules,
    normalizer: &Normalizer,
    opts: &CleanOptions,
) -> Result<CleanedTable, CleanError> {
    if let Some(column) = import::unknown_override(&table.headers, overrides) {
        return Err(CleanError::UnknownColumn {
            column: column.to_string(),
            columns: table.headers.clone(),
        });
    }
    let detect_rows = &table.rows[..table.rows.len().min(DETECT_ROWS)];
    let detected =
        import::detect_columns(&table.headers, detect_rows, rules, normalizer, overrides);
    let cleaner = Cleaner::new(normalizer, rules, &table.headers, &detected, opts);
    let (rows, columns) = cleaner.clean_rows(&table.rows, &|_| {});
    Ok(CleanedTable {
        headers: cleaner.output_headers().to_vec(),
        rows,
        columns,
    })
}

/// Read the next batch of records; false when there were none left.
fn read_batch(
    reader: &mut import::TableReader,
    rows: &mut Vec<Row>,
    rejects: &mut Vec<Reject>,
) -> bool {
    let before = rows.len() + rejects.len();
    reader.next_batch(READ_BATCH, rows, rejects);
    rows.len() + rejects.len() > before
}
