//! Writing CSV/TSV output files ([`TableWriter`]) and rejects files
//! ([`write_rejects`]).
//!
//! Owns: quoting (RFC 4180: a field is quoted when it contains the delimiter,
//! a quote, CR or LF; quotes are doubled), line ends (always CRLF, which is
//! what RFC 4180 and Excel expect), the output encoding and the count of
//! characters CP932 cannot represent. Does not own what goes into the rows.
//!
//! CP932 output: a character with no CP932 code (`𠮷`, `😀`, …) is written as
//! an HTML decimal reference (`&#134071;`), the WHATWG encoder's convention.
//! We chose that over `?` because the character can be read back from the
//! file (unless the input already held literal `&#N;` text, which then
//! cannot be told apart: the report's count says how many to look for) and
//! is easy to search for; each occurrence is
//! also counted per row and column in [`WriteStats`], so the report can say
//! exactly where the output differs from the data. Before that, the few
//! characters that JIS X 0208 and CP932 write differently (`〜` U+301C → `～`,
//! `‖` → `∥`, `—` → `―`, `¢£¬` → `￠￡￢`) are written as CP932's form of the
//! same code, as every Windows program does, and are not counted. As in
//! every CP932 file, `¥` and `\` are the same byte (0x5C).

use super::encoding::{encode_cp932, OutputEncoding, UTF8_BOM};
use super::{Format, Reject};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Characters that could not be written in the output encoding, in one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmappable {
    /// 1-based index of the `write_row` call (the header, when written
    /// first, is row 1).
    pub row: usize,
    /// 1-based column.
    pub column: usize,
    /// How many characters were written as `&#N;`.
    pub count: usize,
}

/// What a [`TableWriter`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Rows written (including a header row).
    pub rows: usize,
    pub bytes: u64,
    /// Cells with characters the output encoding cannot represent (CP932
    /// only), in the order written.
    pub unmappable: Vec<Unmappable>,
}

impl WriteStats {
    /// Total number of characters written as numeric references.
    pub fn unmappable_chars(&self) -> usize {
        self.unmappable.iter().map(|u| u.count).sum()
    }
}

/// Rows turned into the bytes of an output file: RFC 4180 quoting, CRLF,
/// the output encoding, and the cells CP932 could not represent. Rows can be
/// encoded on any thread, in blocks, and the blocks written in order by
/// [`TableWriter::write_rows`]: `clean` encodes in parallel this way, so its
/// one writer only copies bytes.
#[derive(Debug, Clone)]
pub struct EncodedRows {
    /// `None` for a Parquet file: the rows are kept as cells.
    delim: Option<u8>,
    /// Parquet: the rows' values, row after row.
    cells: Vec<String>,
    encoding: OutputEncoding,
    bytes: Vec<u8>,
    rows: usize,
    /// Rows numbered from 1 within this block.
    unmappable: Vec<Unmappable>,
    /// A quoted field, reused.
    field: String,
}

impl EncodedRows {
    /// An empty block. `format` must be CSV, TSV or Parquet.
    pub fn new(format: Format, encoding: OutputEncoding) -> io::Result<EncodedRows> {
        let delim = match format {
            Format::Csv => Some(b','),
            Format::Tsv => Some(b'\t'),
            Format::Parquet => None,
            Format::Xlsx => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "XLSX output is not supported; write CSV or TSV",
                ))
            }
        };
        Ok(EncodedRows {
            delim,
            cells: Vec::new(),
            encoding,
            bytes: Vec::new(),
            rows: 0,
            unmappable: Vec::new(),
            field: String::new(),
        })
    }

    /// Append one row.
    pub fn push(&mut self, fields: &[&str]) {
        self.rows += 1;
        let Some(delim) = self.delim else {
            self.cells.extend(fields.iter().map(|f| f.to_string()));
            return;
        };
        for (i, value) in fields.iter().enumerate() {
            if i > 0 {
                self.bytes.push(delim);
            }
            // A lone blank field would be a blank line, which readers skip:
            // quote it so the row survives a round trip.
            let lone_blank = fields.len() == 1 && value.trim().is_empty();
            let text: &str = if lone_blank || needs_quotes(value, delim) {
                self.field.clear();
                self.field.push('"');
                for c in value.chars() {
                    if c == '"' {
                        self.field.push('"');
                    }
                    self.field.push(c);
                }
                self.field.push('"');
                &self.field
            } else {
                value
            };
            match self.encoding {
                OutputEncoding::Utf8 | OutputEncoding::Utf8Bom => {
                    self.bytes.extend_from_slice(text.as_bytes())
                }
                OutputEncoding::Cp932 => {
                    let count = encode_cp932(text, &mut self.bytes);
                    if count > 0 {
                        self.unmappable.push(Unmappable {
                            row: self.rows,
                            column: i + 1,
                            count,
                        });
                    }
                }
            }
        }
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// Rows in the block.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Empty the block for reuse (its buffers are kept).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.cells.clear();
        self.rows = 0;
        self.unmappable.clear();
    }
}

/// Writes a CSV, TSV or Parquet file, a row or a block of [`EncodedRows`]
/// at a time. A Parquet file's first row names its columns (all text; an
/// empty value is a null), its rows are written in row groups of 65,536,
/// Snappy-compressed (what Spark writes).
pub struct TableWriter {
    sink: Sink,
    stats: WriteStats,
    /// The row being written by `write_row`, reused.
    row: EncodedRows,
}

enum Sink {
    Delimited(BufWriter<File>),
    Parquet(Box<ParquetSink>),
}

struct ParquetSink {
    /// Until the header row names the columns.
    file: Option<File>,
    writer: Option<parquet::arrow::ArrowWriter<File>>,
    batch: Option<super::arrow::BatchBuilder>,
}

impl ParquetSink {
    fn push(&mut self, fields: &[&str]) -> io::Result<()> {
        let Some(batch) = &mut self.batch else {
            // The header: the schema.
            let schema = super::arrow::text_schema(fields);
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .set_max_row_group_row_count(Some(super::arrow::BATCH_ROWS))
                .build();
            let file = self.file.take().expect("a file until the header");
            self.writer = Some(
                parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(io::Error::other)?,
            );
            self.batch = Some(super::arrow::BatchBuilder::new(schema));
            return Ok(());
        };
        match (batch.push(fields), &mut self.writer) {
            (Some(full), Some(w)) => w.write(&full).map_err(io::Error::other),
            _ => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let (Some(w), Some(b)) = (&mut self.writer, &mut self.batch) {
            if let Some(rest) = b.finish() {
                w.write(&rest).map_err(io::Error::other)?;
            }
        }
        Ok(())
    }
}

impl TableWriter {
    /// Create (truncate) `path`. `format` must be CSV, TSV or Parquet; pass
    /// [`Format::for_output`] of the path to follow its extension. The
    /// encoding applies to CSV and TSV (Parquet text is UTF-8).
    pub fn create(
        path: &Path,
        format: Format,
        encoding: OutputEncoding,
    ) -> io::Result<TableWriter> {
        let row = EncodedRows::new(format, encoding)?;
        let file = File::create(path)?;
        let mut stats = WriteStats::default();
        let sink = if format == Format::Parquet {
            Sink::Parquet(Box::new(ParquetSink {
                file: Some(file),
                writer: None,
                batch: None,
            }))
        } else {
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            if encoding == OutputEncoding::Utf8Bom {
                out.write_all(UTF8_BOM)?;
                stats.bytes += UTF8_BOM.len() as u64;
            }
            Sink::Delimited(out)
        };
        Ok(TableWriter { sink, stats, row })
    }

    /// A block for this file's format and encoding, to fill with rows (on
    /// any thread) and pass to [`TableWriter::write_rows`].
    pub fn block(&self) -> EncodedRows {
        let mut block = self.row.clone();
        block.clear();
        block
    }

    pub fn write_row(&mut self, fields: &[&str]) -> io::Result<()> {
        self.row.clear();
        self.row.push(fields);
        let TableWriter { sink, stats, row } = self;
        write_block(sink, stats, row)
    }

    /// Write a block of encoded rows after the rows written so far.
    pub fn write_rows(&mut self, block: &EncodedRows) -> io::Result<()> {
        write_block(&mut self.sink, &mut self.stats, block)
    }

    /// Flush the file and return what was written.
    pub fn finish(mut self) -> io::Result<WriteStats> {
        match self.sink {
            Sink::Delimited(mut out) => {
                out.flush()?;
                out.get_ref().sync_all().ok();
            }
            Sink::Parquet(mut p) => {
                if p.writer.is_none() {
                    return Err(io::Error::other("a Parquet file needs a header row"));
                }
                p.flush()?;
                let file = p
                    .writer
                    .take()
                    .expect("checked above")
                    .into_inner()
                    .map_err(io::Error::other)?;
                file.sync_all().ok();
                self.stats.bytes = file.metadata()?.len();
            }
        }
        Ok(self.stats)
    }
}

fn write_block(sink: &mut Sink, stats: &mut WriteStats, block: &EncodedRows) -> io::Result<()> {
    match sink {
        Sink::Delimited(out) => {
            out.write_all(&block.bytes)?;
            stats.bytes += block.bytes.len() as u64;
        }
        Sink::Parquet(p) => {
            if let Some(width) = block.cells.len().checked_div(block.rows).filter(|&w| w > 0) {
                for row in block.cells.chunks(width) {
                    let fields: Vec<&str> = row.iter().map(String::as_str).collect();
                    p.push(&fields)?;
                }
            }
        }
    }
    let before = stats.rows;
    stats
        .unmappable
        .extend(block.unmappable.iter().map(|u| Unmappable {
            row: before + u.row,
            ..u.clone()
        }));
    stats.rows += block.rows;
    Ok(())
}

fn needs_quotes(value: &str, delim: u8) -> bool {
    value
        .bytes()
        .any(|b| b == delim || b == b'"' || b == b'\r' || b == b'\n')
}

/// The rejects file used when none is named: `<output>.rejects.csv`.
pub fn default_rejects_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".rejects.csv");
    output.with_file_name(name)
}

/// Write rejects as a UTF-8 CSV with the header `line,column,error,raw`
/// (`column` is empty when the problem is not in one column).
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> io::Result<()> {
    let mut w = TableWriter::create(path, Format::Csv, OutputEncoding::Utf8)?;
    w.write_row(&["line", "column", "error", "raw"])?;
    for r in rejects {
        let line = r.line.to_string();
        let column = r.column.map(|c| c.to_string()).unwrap_or_default();
        w.write_row(&[&line, &column, &r.reason, &r.raw])?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{read_path, InputEncoding, ReadOptions};

    #[test]
    fn csv_quoting_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let mut w = TableWriter::create(&p, Format::Csv, OutputEncoding::Utf8).unwrap();
        w.write_row(&["a", "b,c", "say \"hi\""]).unwrap();
        w.write_row(&["1\n2", "", "x\ty"]).unwrap();
        let stats = w.finish().unwrap();
        assert_eq!(stats.rows, 2);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"1\n2\",,x\ty\r\n");
        assert_eq!(stats.bytes, text.len() as u64);
    }

    #[test]
    fn tsv_and_bom() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.tsv");
        let mut w = TableWriter::create(&p, Format::Tsv, OutputEncoding::Utf8Bom).unwrap();
        w.write_row(&["氏名", "a,b"]).unwrap();
        w.write_row(&["x\ty", "z"]).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes, "\u{FEFF}氏名\ta,b\r\n\"x\ty\"\tz\r\n".as_bytes());
        let t = read_path(&p, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Utf8Bom));
        assert_eq!(t.format, Format::Tsv);
        assert_eq!(t.rows[0].fields, ["x\ty", "z"]);
    }

    #[test]
    fn cp932_round_trip_with_unmappable_characters() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let mut w = TableWriter::create(&p, Format::Csv, OutputEncoding::Cp932).unwrap();
        w.write_row(&["会社名", "氏名", "備考"]).unwrap();
        w.write_row(&["株式会社ＡＢＣ", "山田 太郎", "①髙"])
            .unwrap();
        w.write_row(&["𠮷野家", "佐藤", "😀 \"ok\""]).unwrap();
        let stats = w.finish().unwrap();
        assert_eq!(
            stats.unmappable,
            [
                Unmappable {
                    row: 3,
                    column: 1,
                    count: 1
                },
                Unmappable {
                    row: 3,
                    column: 3,
                    count: 1
                },
            ]
        );
        assert_eq!(stats.unmappable_chars(), 2);

        let t = read_path(&p, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Cp932));
        assert_eq!(t.headers, ["会社名", "氏名", "備考"]);
        assert_eq!(t.rows[0].fields, ["株式会社ＡＢＣ", "山田 太郎", "①髙"]);
        assert_eq!(
            t.rows[1].fields,
            ["&#134071;野家", "佐藤", "&#128512; \"ok\""]
        );
        assert!(t.rejects.is_empty());
    }

    #[test]
    fn blocks_encoded_apart_write_the_same_file_as_rows() {
        let dir = tempfile::tempdir().unwrap();
        let rows: [[&str; 2]; 4] = [
            ["会社名", "備考"],
            ["a,b", "①"],
            ["𠮷野家", "x"],
            ["c", "😀"],
        ];
        let by_row = dir.path().join("rows.csv");
        let mut w = TableWriter::create(&by_row, Format::Csv, OutputEncoding::Cp932).unwrap();
        for r in &rows {
            w.write_row(r).unwrap();
        }
        let by_row_stats = w.finish().unwrap();

        let by_block = dir.path().join("blocks.csv");
        let mut w = TableWriter::create(&by_block, Format::Csv, OutputEncoding::Cp932).unwrap();
        w.write_row(&rows[0]).unwrap();
        // Two blocks, filled independently (as `clean`'s workers do).
        let (mut first, mut second) = (w.block(), w.block());
        first.push(&rows[1]);
        second.push(&rows[2]);
        second.push(&rows[3]);
        assert_eq!((first.rows(), second.rows()), (1, 2));
        w.write_rows(&first).unwrap();
        w.write_rows(&second).unwrap();
        let by_block_stats = w.finish().unwrap();

        assert_eq!(
            std::fs::read(&by_row).unwrap(),
            std::fs::read(&by_block).unwrap()
        );
        assert_eq!(by_row_stats, by_block_stats);
        // Unmappable cells are numbered in the file, not in their block.
        let rows_with_unmappable: Vec<usize> =
            by_block_stats.unmappable.iter().map(|u| u.row).collect();
        assert_eq!(rows_with_unmappable, [3, 4]);
    }

    #[test]
    fn rejects_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rejects.csv");
        let rejects = [
            Reject {
                line: 3,
                column: None,
                reason: "expected 3 columns, found 2".into(),
                raw: "a,b".into(),
            },
            Reject {
                line: 7,
                column: Some(2),
                reason: "unbalanced quote opened at line 7, column 2".into(),
                raw: "x,\"y".into(),
            },
        ];
        write_rejects(&p, &rejects).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "line,column,error,raw\r\n3,,\"expected 3 columns, found 2\",\"a,b\"\r\n\
             7,2,\"unbalanced quote opened at line 7, column 2\",\"x,\"\"y\"\r\n"
        );
    }

    #[test]
    fn xlsx_output_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.xlsx");
        assert!(TableWriter::create(&p, Format::Xlsx, OutputEncoding::Utf8).is_err());
    }
}
