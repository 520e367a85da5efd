//! Import and export of tabular files: reading CSV, TSV, XLSX and Parquet
//! into a [`Table`] of raw string rows, writing CSV/TSV/Parquet output ([`TableWriter`],
//! [`write_rejects`]), and guessing each column's field type
//! ([`detect_columns`]).
//!
//! This module owns bytes → rows and rows → bytes. It does not normalize
//! values (that is `normalize/`), does not decide what a column means beyond
//! the guess in [`detect_columns`] (the `clean` pipeline applies rules and
//! overrides), and never fails a whole file because of one bad record.
//!
//! # Reading
//!
//! - [`read_path`] picks the format: `opts.format` if set; else an XLSX by its
//!   ZIP signature (`PK\x03\x04`) and a Parquet file by its (`PAR1`)
//!   whatever the extension (`arrow.rs` reads its columns as text); a file named
//!   `.xlsx`/`.xlsm` without that signature is [`ImportErrorKind::NotXlsx`];
//!   else a delimited file whose delimiter comes from the extension (`.tsv` →
//!   tab, `.csv` → comma) unless the header line contains only the other one,
//!   and for any other extension (`.txt`, none) from the header line (more
//!   tabs than commas → TSV). [`read_bytes`] takes the format as given (for
//!   CSV/TSV the delimiter is the format's, no sniffing).
//! - Delimited files are UTF-8, UTF-8 with BOM or CP932, detected from the
//!   bytes (see `encoding.rs`); UTF-16 is refused with a clear error.
//!   Undecodable bytes reject only the row they are in (with the column and
//!   the byte offset in the file).
//! - The parser (`delimited.rs`) follows RFC 4180 (quotes, `""`, CRLF, LF or
//!   CR, line breaks inside quoted fields) and is lenient about a stray quote
//!   inside an unquoted field (kept as text). A quote that is never closed
//!   rejects the record that opened it and parsing resumes on the next
//!   physical line; see `delimited.rs` for the "closed much later" heuristic.
//! - The first non-empty record is the header. Header names are trimmed; an
//!   empty name becomes `column_N` (N is the 1-based column), and a repeated
//!   name gets a suffix: `phone`, `phone_2`, `phone_3`.
//! - **Every data record ends up in [`Table::rows`] or [`Table::rejects`]**,
//!   never dropped: wrong column count, undecodable bytes, a NUL byte, a field
//!   over [`ReadOptions::max_field_bytes`], an unbalanced quote (CSV/TSV), or
//!   an error cell such as `#N/A` (XLSX) reject the record with its line, the
//!   column where known, and its original text. Empty lines, lines of only
//!   spaces and empty sheet rows are not records and are skipped; a line of
//!   only delimiters (`,,,`) is a record of empty fields and becomes a row.
//! - File-level problems are an [`ImportError`]: cannot read, empty file (0
//!   bytes, only a BOM or whitespace), not an XLSX, no such sheet (the message
//!   lists the sheets), unreadable header.
//! - XLSX (`xlsx.rs`, through calamine): the first sheet or
//!   [`ReadOptions::sheet`]; integers are written without `.0`, dates as
//!   `YYYY-MM-DD` (`YYYY-MM-DD HH:MM:SS` when there is a time), text cells as
//!   they are (leading zeros kept). A number cell has already lost its leading
//!   zeros in Excel; nothing can bring them back here. [`Row::line`] is the
//!   sheet's row number.
//!
//! # Writing
//!
//! [`TableWriter`] writes CSV or TSV (RFC 4180 quoting, CRLF line ends) in
//! UTF-8, UTF-8 with BOM (what Excel wants) or CP932. Characters CP932 cannot
//! represent (`𠮷`, emoji, …) are written as HTML decimal references
//! (`&#134071;`), so the character can be read back, and every occurrence is counted per
//! row and column in [`WriteStats`] for the report (`〜` and the other
//! JIS/CP932 variants are written as CP932's `～` etc., see `write.rs`). [`write_rejects`] writes a
//! rejects file (UTF-8, header `line,column,error,raw`).
//!
//! # Column types
//!
//! [`detect_columns`] (`detect.rs`): an override wins, then the header via
//! [`Rules::field_for_header`], then the values (a sample of up to 200
//! non-empty values, 80% must agree), else `text`.
//!
//! # API in one screen
//!
//! ```text
//! read_path(&Path, &ReadOptions) -> Result<Table, ImportError>
//! read_bytes(&[u8], Format, &ReadOptions) -> Result<Table, ImportError>
//! Table { format, encoding: Option<InputEncoding>, headers, rows: Vec<Row>, rejects: Vec<Reject> }
//! Row { line, fields }            Reject { line, column: Option<usize>, reason, raw }
//! ReadOptions { format: Option<Format>, sheet: Option<String>, max_field_bytes }  (Default: 1 MiB)
//! ImportError { path: Option<PathBuf>, kind: ImportErrorKind }
//! TableWriter::create(&Path, Format, OutputEncoding) -> io::Result<TableWriter>
//!   .write_row(&[&str]) -> io::Result<()>    .finish() -> io::Result<WriteStats>
//!   .block() -> EncodedRows (.push(&[&str]) on any thread)   .write_rows(&EncodedRows)
//! Format::for_output(&Path) -> Format        "cp932".parse::<OutputEncoding>()
//! write_rejects(&Path, &[Reject]) -> io::Result<()>
//! detect_columns(&[String], &[Row], &Rules, &Normalizer, &[(String, FieldType)]) -> Vec<ColumnType>
//! ```
//!
//! [`ImportError`] is a struct (an optional path and an [`ImportErrorKind`])
//! rather than a flat enum, so that every kind can name the file without each
//! variant carrying a path: match on `err.kind`.
//!
//! # Performance
//!
//! The parser works on bytes and allocates one `String` per field and one
//! `Vec` per row, nothing else per field; a CP932 file is decoded whole
//! first (in parallel). Figures: `benches/RESULTS.md`.

pub mod arrow;
mod delimited;
mod detect;
mod encoding;
pub mod labels;
mod write;
mod xlsx;

pub use detect::{
    branch_columns, detect_columns, find_column, has_samples, unknown_override, with_branch,
    ColumnType, DetectedBy,
};
pub use encoding::{InputEncoding, OutputEncoding};
pub use write::{
    default_rejects_path, write_rejects, EncodedRows, TableWriter, Unmappable, WriteStats,
};

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

#[cfg(doc)]
use crate::rules::Rules;

/// The kind of an input or output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Xlsx,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
        }
    }

    /// The format a file name's extension says, if it says one (`.txt` does
    /// not: its delimiter is sniffed).
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "parquet" | "parq" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The format to write to `path`: TSV for `.tsv`/`.tab`, Parquet for
    /// `.parquet`, CSV otherwise.
    pub fn for_output(path: &Path) -> Format {
        match Format::from_extension(path) {
            Some(f @ (Format::Tsv | Format::Parquet)) => f,
            _ => Format::Csv,
        }
    }

    pub(crate) fn delimiter(self) -> u8 {
        match self {
            Format::Tsv => b'\t',
            _ => b',',
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// A field longer than this (in bytes of its content, quotes and `""`
    /// escapes aside; an XLSX cell's text) rejects its record.
    pub max_field_bytes: usize,
    /// What an XLSX workbook's parts may expand to, together, in bytes.
    pub max_xlsx_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            sheet: None,
            max_field_bytes: 1 << 20,
            max_xlsx_bytes: 512 << 20,
        }
    }
}

/// A file read into raw string rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub format: Format,
    /// The detected text encoding; `None` for XLSX.
    pub encoding: Option<InputEncoding>,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    pub rejects: Vec<Reject>,
}

/// One data record; `fields.len() == headers.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based physical line where the record starts (XLSX: the sheet row).
    pub line: usize,
    pub fields: Vec<String>,
}

/// A data record that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based physical line where the record starts (XLSX: the sheet row).
    pub line: usize,
    /// 1-based column the problem is in, where there is one.
    pub column: Option<usize>,
    pub reason: String,
    /// The record's original text; undecodable bytes are written as `\xNN`.
    pub raw: String,
}

/// A file that cannot be imported at all.
#[derive(Debug)]
pub struct ImportError {
    /// The file, when reading from a path.
    pub path: Option<PathBuf>,
    pub kind: ImportErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportErrorKind {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty: there is no header line")]
    Empty,
    #[error("sheet `{0}` is empty: there is no header row")]
    EmptySheet(String),
    #[error("not an XLSX workbook: {0}")]
    NotXlsx(String),
    #[error("cannot read the XLSX workbook: {0}")]
    Xlsx(String),
    #[error("no sheet named `{sheet}` (the workbook has: {})", .available.join(", "))]
    NoSuchSheet {
        sheet: String,
        available: Vec<String>,
    },
    #[error("the workbook has no sheets")]
    NoSheets,
    #[error("line {line}: cannot read the header: {reason}")]
    BadHeader { line: usize, reason: String },
    #[error("the file is {0}, which is not supported; save it as UTF-8 or CP932 (Shift_JIS)")]
    UnsupportedEncoding(&'static str),
    #[error(
        "columns {first} and {second} are both named `{name}`: give each column a name of its own"
    )]
    DuplicateHeader {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("the workbook is too large to read safely: {0}")]
    XlsxTooLarge(String),
    #[error("not a Parquet file nayose can read: {0}")]
    Parquet(String),
    #[error("cannot read the table: {0}")]
    Arrow(String),
    #[error("column `{name}` is of type {data_type}; nayose reads columns of text, numbers, dates and booleans (flatten it first)")]
    UnsupportedColumn { name: String, data_type: String },
    #[error("line {line}{}: {reason}", column.map(|c| format!(", column {c}")).unwrap_or_default())]
    BadLabels {
        line: usize,
        column: Option<usize>,
        reason: String,
    },
}

impl ImportError {
    pub(crate) fn new(kind: ImportErrorKind) -> ImportError {
        ImportError { path: None, kind }
    }

    fn at(mut self, path: &Path) -> ImportError {
        self.path = Some(path.to_path_buf());
        self
    }
}

impl From<ImportErrorKind> for ImportError {
    fn from(kind: ImportErrorKind) -> ImportError {
        ImportError::new(kind)
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ImportErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const PARQUET_MAGIC: &[u8] = b"PAR1";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Read a file, detecting its format (see the module docs).
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<Table, ImportError> {
    Ok(open_path(path, opts)?.read_all())
}

/// A table read a batch of records at a time, so a large file never has all
/// its rows in memory: a CSV/TSV is parsed as batches are asked for (the
/// file's bytes are held whole); an XLSX is read whole first. Every record
/// comes out once, as a row or a reject, in file order within each.
pub struct TableReader<'a> {
    pub format: Format,
    /// The detected text encoding; `None` for XLSX.
    pub encoding: Option<InputEncoding>,
    pub headers: Vec<String>,
    source: Source<'a>,
}

enum Source<'a> {
    Delimited(delimited::RowReader<'a>),
    Whole {
        rows: std::vec::IntoIter<Row>,
        rejects: Vec<Reject>,
        total: usize,
    },
}

impl TableReader<'_> {
    /// Up to `max` more records, each added to `rows` or to `rejects`; none
    /// are added at the end of the table.
    pub fn next_batch(&mut self, max: usize, rows: &mut Vec<Row>, rejects: &mut Vec<Reject>) {
        match &mut self.source {
            Source::Delimited(r) => r.next_batch(max, rows, rejects),
            Source::Whole {
                rows: rest,
                rejects: all_rejects,
                ..
            } => {
                rejects.append(all_rejects);
                rows.extend(rest.take(max));
            }
        }
    }

    /// The share of the table read so far, from 0 to 1 (for a progress bar).
    pub fn fraction_read(&self) -> f64 {
        match &self.source {
            Source::Delimited(r) => r.fraction_read(),
            Source::Whole { rows, total, .. } if *total > 0 => {
                1.0 - rows.len() as f64 / *total as f64
            }
            Source::Whole { .. } => 1.0,
        }
    }

    /// Every record not read yet, as a [`Table`].
    pub fn read_all(mut self) -> Table {
        let (mut rows, mut rejects) = (Vec::new(), Vec::new());
        self.next_batch(usize::MAX, &mut rows, &mut rejects);
        Table {
            format: self.format,
            encoding: self.encoding,
            headers: self.headers,
            rows,
            rejects,
        }
    }
}

/// Open a file for reading in batches, detecting its format; the header
/// (and for an XLSX, the whole sheet) is read now.
pub fn open_path(path: &Path, opts: &ReadOptions) -> Result<TableReader<'static>, ImportError> {
    let bytes =
        std::fs::read(path).map_err(|e| ImportError::from(ImportErrorKind::Io(e)).at(path))?;
    let format = match opts.format {
        Some(f) => f,
        None => detect_format(path, &bytes),
    };
    open(Cow::Owned(bytes), format, opts).map_err(|e| e.at(path))
}

fn open<'a>(
    bytes: Cow<'a, [u8]>,
    format: Format,
    opts: &ReadOptions,
) -> Result<TableReader<'a>, ImportError> {
    match format {
        Format::Csv | Format::Tsv => {
            let r = delimited::open(bytes, format, opts)?;
            Ok(TableReader {
                format,
                encoding: Some(r.input_encoding),
                headers: r.headers.clone(),
                source: Source::Delimited(r),
            })
        }
        Format::Xlsx | Format::Parquet => {
            let table = match (format, bytes) {
                // The file's bytes handed over, not copied.
                (Format::Parquet, Cow::Owned(v)) => read_parquet(bytes::Bytes::from(v), opts)?,
                (_, bytes) => read_bytes(&bytes, format, opts)?,
            };
            let total = table.rows.len();
            Ok(TableReader {
                format,
                encoding: table.encoding,
                headers: table.headers,
                source: Source::Whole {
                    rows: table.rows.into_iter(),
                    rejects: table.rejects,
                    total,
                },
            })
        }
    }
}

fn detect_format(path: &Path, bytes: &[u8]) -> Format {
    if bytes.starts_with(ZIP_MAGIC) {
        return Format::Xlsx;
    }
    if bytes.starts_with(PARQUET_MAGIC) {
        return Format::Parquet;
    }
    match Format::from_extension(path) {
        // Not a ZIP or a Parquet file: `read_bytes` says why.
        Some(f @ (Format::Xlsx | Format::Parquet)) => f,
        hint => delimited::sniff_format(bytes, hint),
    }
}

/// Read bytes in the given format.
pub fn read_bytes(bytes: &[u8], format: Format, opts: &ReadOptions) -> Result<Table, ImportError> {
    match format {
        Format::Xlsx => {
            if !bytes.starts_with(ZIP_MAGIC) {
                let why = if bytes.is_empty() {
                    "the file is empty".to_string()
                } else if bytes.starts_with(OLE_MAGIC) {
                    "this is a legacy Excel 97-2003 (.xls) file; save it as .xlsx or CSV"
                        .to_string()
                } else {
                    "it is not a ZIP archive (is it a CSV file with an .xlsx name?)".to_string()
                };
                return Err(ImportErrorKind::NotXlsx(why).into());
            }
            xlsx::read(bytes, opts)
        }
        Format::Parquet => read_parquet(bytes::Bytes::copy_from_slice(bytes), opts),
        Format::Csv | Format::Tsv => Ok(open(Cow::Borrowed(bytes), format, opts)?.read_all()),
    }
}

/// A Parquet file, every column as text ([`arrow`]).
fn read_parquet(bytes: bytes::Bytes, opts: &ReadOptions) -> Result<Table, ImportError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    if bytes.is_empty() {
        return Err(ImportErrorKind::Empty.into());
    }
    let not_parquet = |e: parquet::errors::ParquetError| ImportErrorKind::Parquet(e.to_string());
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(not_parquet)?
        .with_batch_size(8192)
        .build()
        .map_err(not_parquet)?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    arrow::read_batches(&schema, reader, opts)
}

/// Header names as the table exposes them: trimmed, an empty one named
/// `column_N` (N is the 1-based column; `column_N_2`, … when a header of
/// the file already has that name). Two columns with the same name are an
/// error: which of them a rule, a `--field` or an import means could not be
/// told, and one of them would go uncleaned.
pub fn unique_headers(raw: Vec<String>) -> Result<Vec<String>, ImportErrorKind> {
    let trimmed: Vec<Option<String>> = raw
        .into_iter()
        .map(|h| {
            let t = h.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
            (!t.is_empty()).then(|| t.to_string())
        })
        .collect();
    for (i, h) in trimmed.iter().enumerate() {
        let Some(h) = h else { continue };
        if let Some(first) = trimmed[..i].iter().position(|o| o.as_ref() == Some(h)) {
            return Err(ImportErrorKind::DuplicateHeader {
                name: h.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(trimmed.len());
    for (i, h) in trimmed.iter().enumerate() {
        let name = match h {
            Some(h) => h.clone(),
            None => {
                let base = format!("column_{}", i + 1);
                let taken = |n: &str, out: &[String]| {
                    out.iter().any(|o| o == n) || trimmed.iter().flatten().any(|o| o == n)
                };
                let mut name = base.clone();
                let mut n = 2;
                while taken(&name, &out) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                name
            }
        };
        out.push(name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_headers_are_named_and_repeated_ones_refused() {
        let h = |v: &[&str]| unique_headers(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(h(&["a", " ", "b"]).unwrap(), ["a", "column_2", "b"]);
        assert_eq!(h(&["column_2", ""]).unwrap(), ["column_2", "column_2_2"]);
        for (headers, name, first, second) in [
            (&["tel", "tel", "tel"][..], "tel", 1, 2),
            (&[" 氏名 ", "住所", "氏名"][..], "氏名", 1, 3),
        ] {
            let e = h(headers).unwrap_err();
            assert!(
                matches!(&e, ImportErrorKind::DuplicateHeader { name: n, first: f, second: s }
                    if n == name && *f == first && *s == second),
                "{e}"
            );
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn import_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.csv");
        std::fs::write(&p, b"").unwrap();
        let e = read_path(&p, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::Empty));
        assert!(e.to_string().contains("empty.csv"), "{e}");

        let e = read_path(&dir.path().join("missing.csv"), &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::Io(_)));
        assert!(e.to_string().contains("missing.csv"), "{e}");
    }

    #[test]
    fn xlsx_name_on_a_csv_is_not_xlsx() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("customers.xlsx");
        std::fs::write(&p, "会社名,住所\nA,B\n").unwrap();
        let e = read_path(&p, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::NotXlsx(_)), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("customers.xlsx") && msg.contains("not an XLSX"),
            "{msg}"
        );

        let p = dir.path().join("old.xlsx");
        let mut b = OLE_MAGIC.to_vec();
        b.extend_from_slice(&[0; 100]);
        std::fs::write(&p, b).unwrap();
        let e = read_path(&p, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains(".xls"), "{e}");
    }

    #[test]
    fn format_from_extension_and_sniffing() {
        let dir = tempfile::tempdir().unwrap();
        let tsv_as_txt = dir.path().join("export.txt");
        std::fs::write(&tsv_as_txt, "氏名\t電話\n山田\t03-1234-5678\n").unwrap();
        let t = read_path(&tsv_as_txt, &ReadOptions::default()).unwrap();
        assert_eq!(t.format, Format::Tsv);
        assert_eq!(t.headers, ["氏名", "電話"]);

        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "a,b\tc\n1,2\n").unwrap();
        let t = read_path(&csv, &ReadOptions::default()).unwrap();
        assert_eq!(t.format, Format::Csv);
        assert_eq!(t.headers, ["a", "b\tc"]);

        let tsv = dir.path().join("a.tsv");
        std::fs::write(&tsv, "a\tb,c\n1\t2\n").unwrap();
        let t = read_path(&tsv, &ReadOptions::default()).unwrap();
        assert_eq!(t.format, Format::Tsv);
        assert_eq!(t.headers, ["a", "b,c"]);
    }
}
