//! The CSV/TSV reader: splits bytes into records and fields, tracks the
//! physical line of every record, and turns each record into a [`Row`] or a
//! [`Reject`].
//!
//! Owns: the RFC 4180 grammar (quoted fields, `""` escapes, CRLF/LF/CR line
//! ends, line breaks inside quotes), recovery from broken quoting, the column
//! count check and the field size limit. Does not own encoding detection or
//! decoding (`encoding.rs`): the parser works on bytes, which is safe for
//! UTF-8 and for CP932 alike because no CP932 trail byte is ever `"`, `,`,
//! tab, CR or LF.
//!
//! Leniency: a quote inside an unquoted field (`12"3`) is kept as text, and
//! text after a closing quote on the same line (`"abc"def`) is kept too.
//!
//! Broken quoting: a quote opened and never closed would swallow the rest of
//! the file. Instead the record that opened it is rejected ("unbalanced quote
//! opened at line L, column C") and parsing resumes at the next physical line
//! after the line where the quote opened. A quote that *is* closed, but much
//! later, is treated the same way when the quoted field spans lines **and**
//! either (a) the closing quote is followed by more text before the next
//! delimiter (`…7,"x",9` closing the quote at `7,"`: a well-formed file never
//! does this), or (b) the record then has the wrong number of columns. A
//! multi-line field that closes cleanly in a record of the right width is
//! valid CSV and is accepted: nothing can tell it from an intended one.
//!
//! Why not `csv-core` (the `csv` crate's state machine): measured against
//! this reader (`cargo bench --bench csv_reader`, figures in
//! `benches/RESULTS.md`), it splits a file somewhat faster on its own, but a
//! reader built on it must first tell UTF-8 from CP932, as this one does —
//! and with that check in front it is slower than this whole reader, before
//! the column count, the size limit, NUL bytes and the recovery from broken
//! quotes, none of which it does. Fields are found with `memchr` (SIMD).

use super::encoding::{self, InputEncoding};
use super::{unique_headers, Format, ImportError, ImportErrorKind, ReadOptions, Reject, Row};
use std::borrow::Cow;

/// The format of bytes that are not an XLSX: the extension's hint unless the
/// header line contains only the other delimiter; with no hint, tab when the
/// header line has more tabs than commas.
pub(crate) fn sniff_format(bytes: &[u8], hint: Option<Format>) -> Format {
    let body = bytes.strip_prefix(encoding::UTF8_BOM).unwrap_or(bytes);
    let body = body
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(&[][..], |i| &body[i..]);
    let line_end = body
        .iter()
        .position(|b| matches!(b, b'\r' | b'\n'))
        .unwrap_or(body.len());
    let line = &body[..line_end];
    let tabs = line.iter().filter(|b| **b == b'\t').count();
    let commas = line.iter().filter(|b| **b == b',').count();
    match hint {
        Some(Format::Tsv) if tabs == 0 && commas > 0 => Format::Csv,
        Some(Format::Tsv) => Format::Tsv,
        Some(Format::Csv) if commas == 0 && tabs > 0 => Format::Tsv,
        Some(Format::Csv) => Format::Csv,
        _ if tabs > commas => Format::Tsv,
        _ => Format::Csv,
    }
}

/// A delimited file being read a batch of records at a time, after its
/// header. Holds the bytes it parses: the file's own, or the text of a CP932
/// file decoded whole.
pub(crate) struct RowReader<'a> {
    data: Cow<'a, [u8]>,
    /// How `data` is encoded (UTF-8 when a CP932 file was decoded whole).
    enc: InputEncoding,
    /// The file's encoding, as detected.
    pub input_encoding: InputEncoding,
    pub headers: Vec<String>,
    pos: usize,
    line: usize,
    delim: u8,
    max_field_bytes: usize,
    rec: RawRecord,
}

/// Open a delimited file: detect its encoding and read its header.
pub(crate) fn open<'a>(
    bytes: Cow<'a, [u8]>,
    format: Format,
    opts: &ReadOptions,
) -> Result<RowReader<'a>, ImportError> {
    let detected =
        encoding::detect(&bytes).map_err(|_| ImportErrorKind::UnsupportedEncoding("UTF-16"))?;
    let input_encoding = detected.encoding;
    // A CP932 file that decodes without error is parsed as its UTF-8 text;
    // the parser and line numbers do not care, and no byte offset is ever
    // reported for it (there are no undecodable bytes).
    let (data, enc, skip) = match detected.decoded {
        Some(text) => (Cow::Owned(text.into_bytes()), InputEncoding::Utf8, 0),
        None => (bytes, detected.encoding, detected.skip),
    };
    if data[skip..].iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportErrorKind::Empty.into());
    }
    let mut parser = Parser {
        bytes: &data,
        pos: skip,
        line: 1,
        delim: format.delimiter(),
        max_field_bytes: opts.max_field_bytes,
        expected_columns: None,
    };
    let mut rec = RawRecord::default();

    // The header: the first record.
    if !parser.next_record(&mut rec) {
        return Err(ImportErrorKind::Empty.into());
    }
    if let Some(problem) = &rec.problem {
        return Err(ImportErrorKind::BadHeader {
            line: rec.line,
            reason: problem.reason(),
        }
        .into());
    }
    let mut names = Vec::with_capacity(rec.field_count());
    for column in 0..rec.field_count() {
        match encoding::decode_field(rec.field(column), enc) {
            Ok(s) => names.push(s),
            Err(bad) => {
                return Err(ImportErrorKind::BadHeader {
                    line: rec.line,
                    reason: bad_bytes_reason(&rec, column, bad.offset, &data),
                }
                .into())
            }
        }
    }
    let (pos, line) = (parser.pos, parser.line);
    let headers = unique_headers(names)?;
    Ok(RowReader {
        data,
        enc,
        input_encoding,
        headers,
        pos,
        line,
        delim: format.delimiter(),
        max_field_bytes: opts.max_field_bytes,
        rec,
    })
}

impl RowReader<'_> {
    /// Up to `max` more records, each a row or a reject; none at the end.
    pub(crate) fn next_batch(
        &mut self,
        max: usize,
        rows: &mut Vec<Row>,
        rejects: &mut Vec<Reject>,
    ) {
        let n_columns = self.headers.len();
        let mut parser = Parser {
            bytes: &self.data,
            pos: self.pos,
            line: self.line,
            delim: self.delim,
            max_field_bytes: self.max_field_bytes,
            expected_columns: Some(n_columns),
        };
        let rec = &mut self.rec;
        for _ in 0..max {
            if !parser.next_record(rec) {
                break;
            }
            match to_row(rec, n_columns, self.enc, &self.data) {
                Ok(fields) => rows.push(Row {
                    line: rec.line,
                    fields,
                }),
                Err((column, reason)) => rejects.push(Reject {
                    line: rec.line,
                    column,
                    reason,
                    raw: encoding::lossless_text(&self.data[rec.start..rec.end], self.enc),
                }),
            }
        }
        (self.pos, self.line) = (parser.pos, parser.line);
    }

    /// The share of the file read so far, from 0 to 1.
    pub(crate) fn fraction_read(&self) -> f64 {
        if self.data.is_empty() {
            1.0
        } else {
            self.pos as f64 / self.data.len() as f64
        }
    }
}

fn to_row(
    rec: &RawRecord,
    n_columns: usize,
    enc: InputEncoding,
    bytes: &[u8],
) -> Result<Vec<String>, (Option<usize>, String)> {
    if let Some(problem) = &rec.problem {
        return Err((Some(problem.column()), problem.reason()));
    }
    if rec.field_count() != n_columns {
        return Err((
            None,
            format!("expected {n_columns} columns, found {}", rec.field_count()),
        ));
    }
    let mut fields = Vec::with_capacity(n_columns);
    // Fast path for UTF-8: validate the record's bytes once and slice them.
    // The boundary check matters: with the delimiters removed, a field
    // ending in a lead byte and the next starting with its continuation
    // would look valid together (`\xE3,\x81\x82`).
    if matches!(enc, InputEncoding::Utf8 | InputEncoding::Utf8Bom) && !rec.buf.contains(&0) {
        if let Some(text) = std::str::from_utf8(&rec.buf)
            .ok()
            .filter(|text| rec.ends.iter().all(|&end| text.is_char_boundary(end)))
        {
            let mut start = 0;
            for &end in &rec.ends {
                fields.push(text[start..end].to_owned());
                start = end;
            }
            return Ok(fields);
        }
    }
    for column in 0..n_columns {
        let raw = rec.field(column);
        if raw.contains(&0) {
            return Err((
                Some(column + 1),
                format!("NUL byte in column {}", column + 1),
            ));
        }
        match encoding::decode_field(raw, enc) {
            Ok(s) => fields.push(s),
            Err(bad) => {
                return Err((
                    Some(column + 1),
                    bad_bytes_reason(rec, column, bad.offset, bytes),
                ))
            }
        }
    }
    Ok(fields)
}

fn bad_bytes_reason(
    rec: &RawRecord,
    column: usize,
    offset_in_field: usize,
    bytes: &[u8],
) -> String {
    let at = file_offset(rec, column, offset_in_field);
    let byte = bytes.get(at).copied().unwrap_or(0);
    format!(
        "undecodable bytes in column {} at byte offset {at} (0x{byte:02X})",
        column + 1
    )
}

/// The offset in the file of a byte of a field's unescaped content: each `"`
/// before it in a quoted field was written twice.
fn file_offset(rec: &RawRecord, column: usize, offset_in_field: usize) -> usize {
    let start = rec.field_starts[column];
    if rec.quoted[column] {
        let quotes = rec.field(column)[..offset_in_field]
            .iter()
            .filter(|b| **b == b'"')
            .count();
        start + 1 + offset_in_field + quotes
    } else {
        start + offset_in_field
    }
}

/// Why a record could not be split into fields.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    UnbalancedQuote {
        line: usize,
        column: usize,
        /// Why the heuristic decided, when the quote was closed later.
        note: Option<String>,
    },
    FieldTooLong {
        column: usize,
        bytes: usize,
        limit: usize,
    },
}

impl Problem {
    fn column(&self) -> usize {
        match self {
            Problem::UnbalancedQuote { column, .. } | Problem::FieldTooLong { column, .. } => {
                *column
            }
        }
    }

    fn reason(&self) -> String {
        match self {
            Problem::UnbalancedQuote { line, column, note } => {
                let mut s = format!("unbalanced quote opened at line {line}, column {column}");
                if let Some(note) = note {
                    s.push_str(" (");
                    s.push_str(note);
                    s.push(')');
                }
                s
            }
            Problem::FieldTooLong {
                column,
                bytes,
                limit,
            } => format!("field is {bytes} bytes, over the {limit}-byte limit (column {column})"),
        }
    }
}

/// One record as bytes; reused from record to record so that splitting
/// allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
struct RawRecord {
    /// 1-based physical line where the record starts.
    line: usize,
    /// Byte range of the record in the file, without its line break.
    start: usize,
    end: usize,
    /// Unescaped contents of all fields, back to back.
    buf: Vec<u8>,
    /// End of each field in `buf`.
    ends: Vec<usize>,
    /// Offset in the file of each field's first byte (its quote, if quoted).
    field_starts: Vec<usize>,
    quoted: Vec<bool>,
    problem: Option<Problem>,
}

impl RawRecord {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.field_starts.clear();
        self.quoted.clear();
        self.problem = None;
    }

    fn field_count(&self) -> usize {
        self.ends.len()
    }

    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

/// A quoted field that spanned lines: where it opened, and whether its
/// closing quote was followed by stray text.
#[derive(Debug, Clone, Copy)]
struct MultilineQuote {
    open_offset: usize,
    open_line: usize,
    column: usize,
    closed_line: usize,
    text_after_close: bool,
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    delim: u8,
    max_field_bytes: usize,
    expected_columns: Option<usize>,
}

impl Parser<'_> {
    /// Read the next record into `rec`; false at the end of the input.
    /// Empty lines are skipped.
    fn next_record(&mut self, rec: &mut RawRecord) -> bool {
        let bytes = self.bytes;
        // Skip empty lines, and lines of nothing but spaces (a stray space
        // is not a record; a line of delimiters is, of empty fields).
        loop {
            match bytes.get(self.pos) {
                None => return false,
                Some(b' ') => {
                    let rest = &bytes[self.pos..];
                    let spaces = rest.iter().take_while(|b| **b == b' ').count();
                    if matches!(rest.get(spaces), None | Some(b'\r' | b'\n')) {
                        self.pos += spaces;
                        if self.pos == bytes.len() {
                            return false;
                        }
                    } else {
                        break;
                    }
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                }
                Some(_) => break,
            }
        }
        rec.clear();
        rec.line = self.line;
        rec.start = self.pos;
        let mut multiline: Option<MultilineQuote> = None;

        loop {
            let column = rec.ends.len() + 1;
            let field_start = self.pos;
            let buf_start = rec.buf.len();
            rec.field_starts.push(field_start);
            let mut too_long_bytes = 0;
            if bytes.get(self.pos) == Some(&b'"') {
                rec.quoted.push(true);
                let open_line = self.line;
                self.pos += 1;
                loop {
                    let rest = &bytes[self.pos..];
                    let Some(q) = memchr::memchr(b'"', rest) else {
                        // Never closed: reject and resume after the line
                        // where it opened.
                        self.reject_unbalanced(rec, field_start, open_line, column, None);
                        return true;
                    };
                    let chunk = &rest[..q];
                    self.line += count_line_breaks(chunk);
                    let len = rec.buf.len() - buf_start + too_long_bytes;
                    if len + chunk.len() > self.max_field_bytes {
                        too_long_bytes += chunk.len();
                    } else {
                        rec.buf.extend_from_slice(chunk);
                    }
                    self.pos += q + 1;
                    if bytes.get(self.pos) == Some(&b'"') {
                        rec.buf.push(b'"');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                // Lenient: text between the closing quote and the delimiter.
                let stray_start = self.pos;
                self.skip_unquoted();
                rec.buf.extend_from_slice(&bytes[stray_start..self.pos]);
                if self.line > open_line && multiline.is_none() {
                    multiline = Some(MultilineQuote {
                        open_offset: field_start,
                        open_line,
                        column,
                        closed_line: self.line,
                        text_after_close: self.pos > stray_start,
                    });
                }
            } else {
                rec.quoted.push(false);
                let start = self.pos;
                self.skip_unquoted();
                rec.buf.extend_from_slice(&bytes[start..self.pos]);
            }
            let field_len = rec.buf.len() - buf_start + too_long_bytes;
            if field_len > self.max_field_bytes {
                // Keep the count, drop the bytes: the record is rejected.
                rec.buf.truncate(buf_start);
                if rec.problem.is_none() {
                    rec.problem = Some(Problem::FieldTooLong {
                        column,
                        bytes: field_len,
                        limit: self.max_field_bytes,
                    });
                }
            }
            rec.ends.push(rec.buf.len());

            match bytes.get(self.pos) {
                Some(b) if *b == self.delim => self.pos += 1,
                _ => break,
            }
        }
        rec.end = self.pos;
        self.skip_line_break();

        if let Some(m) = multiline {
            let wrong_width = self
                .expected_columns
                .is_some_and(|n| n != rec.field_count());
            if m.text_after_close || wrong_width {
                let note = if m.text_after_close {
                    format!(
                        "closed only at line {}, followed by more text",
                        m.closed_line
                    )
                } else {
                    format!(
                        "closed only at line {}, leaving {} columns where {} are expected",
                        m.closed_line,
                        rec.field_count(),
                        self.expected_columns.unwrap_or(0)
                    )
                };
                self.reject_unbalanced(rec, m.open_offset, m.open_line, m.column, Some(note));
            }
        }
        true
    }

    /// Advance over an unquoted field's bytes (up to a delimiter, CR, LF or
    /// the end). Quotes in the middle are ordinary bytes.
    #[inline]
    fn skip_unquoted(&mut self) {
        let rest = &self.bytes[self.pos..];
        self.pos += memchr::memchr3(self.delim, b'\n', b'\r', rest).unwrap_or(rest.len());
    }

    fn skip_line_break(&mut self) {
        match self.bytes.get(self.pos) {
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
            }
            Some(b'\r') => {
                self.pos += 1;
                if self.bytes.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
                self.line += 1;
            }
            _ => {}
        }
    }

    /// Mark `rec` as an unbalanced-quote reject that ends at the end of the
    /// line where the quote opened, and resume on the next line.
    fn reject_unbalanced(
        &mut self,
        rec: &mut RawRecord,
        quote_offset: usize,
        open_line: usize,
        column: usize,
        note: Option<String>,
    ) {
        let rest = &self.bytes[quote_offset..];
        let line_end = quote_offset
            + rest
                .iter()
                .position(|b| matches!(b, b'\r' | b'\n'))
                .unwrap_or(rest.len());
        rec.end = line_end;
        rec.problem = Some(Problem::UnbalancedQuote {
            line: open_line,
            column,
            note,
        });
        self.pos = line_end;
        self.line = open_line;
        self.skip_line_break();
    }
}

/// Line breaks in a chunk: LF, CR LF and a lone CR each count once. A CR at
/// the very end of the chunk followed by LF just after it is counted here,
/// and that LF is then (wrongly) counted again; inside a quoted field the
/// byte after the chunk is a quote, so this cannot happen.
fn count_line_breaks(chunk: &[u8]) -> usize {
    let mut n = 0;
    let mut prev_cr = false;
    for &b in chunk {
        match b {
            b'\n' if prev_cr => prev_cr = false,
            b'\n' => n += 1,
            b'\r' => {
                n += 1;
                prev_cr = true;
            }
            _ => prev_cr = false,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{read_bytes, Table};
    use encoding_rs::SHIFT_JIS;

    fn csv(text: &str) -> Table {
        read_bytes(text.as_bytes(), Format::Csv, &ReadOptions::default()).unwrap()
    }

    fn rows(t: &Table) -> Vec<(usize, Vec<&str>)> {
        t.rows
            .iter()
            .map(|r| (r.line, r.fields.iter().map(|s| s.as_str()).collect()))
            .collect()
    }

    /// Data records in a well-understood test input: every one must be
    /// accounted for.
    fn assert_all_accounted(t: &Table, data_records: usize) {
        assert_eq!(
            t.rows.len() + t.rejects.len(),
            data_records,
            "rows {:?}\nrejects {:?}",
            t.rows,
            t.rejects
        );
    }

    #[test]
    fn simple_csv_with_quotes_and_escapes() {
        let t =
            csv("会社名,住所,備考\n\"株式会社A, 本社\",東京都,\"He said \"\"hi\"\"\"\nB,大阪府,\n");
        assert_eq!(t.headers, ["会社名", "住所", "備考"]);
        assert_eq!(t.encoding, Some(InputEncoding::Utf8));
        assert_eq!(
            rows(&t),
            [
                (2, vec!["株式会社A, 本社", "東京都", "He said \"hi\""]),
                (3, vec!["B", "大阪府", ""]),
            ]
        );
        assert!(t.rejects.is_empty());
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let t = csv("a,b\r\n1,2\r\n3,4\r\n");
        assert_eq!(rows(&t), [(2, vec!["1", "2"]), (3, vec!["3", "4"])]);
        let t = csv("a,b\r1,2\r3,4");
        assert_eq!(rows(&t), [(2, vec!["1", "2"]), (3, vec!["3", "4"])]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers() {
        let t = csv("id,memo\n1,\"line one\r\nline two\nline three\"\n2,x\n\n3,\"a\rb\"\n4,y\n");
        assert_eq!(
            rows(&t),
            [
                (2, vec!["1", "line one\r\nline two\nline three"]),
                (5, vec!["2", "x"]),
                (7, vec!["3", "a\rb"]),
                (9, vec!["4", "y"]), // the lone CR in "a\rb" is a line break too
            ]
        );
    }

    #[test]
    fn empty_lines_are_skipped_not_rows() {
        let t = csv("\n\na,b\n\n1,2\n\r\n\n3,4\n\n");
        assert_eq!(rows(&t), [(5, vec!["1", "2"]), (8, vec!["3", "4"])]);
        assert!(t.rejects.is_empty());
    }

    #[test]
    fn lines_of_spaces_are_empty_lines() {
        let t = csv("  \na,b\n   \r\n1,2\n ,\n  ");
        assert_eq!(t.headers, ["a", "b"]);
        assert_eq!(rows(&t), [(4, vec!["1", "2"]), (5, vec![" ", ""])]);
    }

    #[test]
    fn stray_quotes_are_kept() {
        let t = csv("a,b\n12\"3,x\n\"ab\"cd,y\n");
        assert_eq!(rows(&t), [(2, vec!["12\"3", "x"]), (3, vec!["abcd", "y"])]);
    }

    #[test]
    fn wrong_column_counts_are_rejected() {
        let t = csv("a,b,c\n1,2,3\n1,2\n1,2,3,4\n5,6,7\n");
        assert_eq!(
            rows(&t),
            [(2, vec!["1", "2", "3"]), (5, vec!["5", "6", "7"])]
        );
        assert_eq!(t.rejects.len(), 2);
        assert_eq!(t.rejects[0].line, 3);
        assert_eq!(t.rejects[0].reason, "expected 3 columns, found 2");
        assert_eq!(t.rejects[0].raw, "1,2");
        assert_eq!(t.rejects[1].line, 4);
        assert_eq!(t.rejects[1].reason, "expected 3 columns, found 4");
        assert_eq!(t.rejects[1].raw, "1,2,3,4");
        assert_all_accounted(&t, 4);
    }

    #[test]
    fn unbalanced_quote_in_the_middle() {
        // The quote on line 3 is never closed: only that record is lost.
        let t = csv("a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n10,11,12\n");
        assert_eq!(
            rows(&t),
            [
                (2, vec!["1", "2", "3"]),
                (4, vec!["7", "8", "9"]),
                (5, vec!["10", "11", "12"]),
            ]
        );
        assert_eq!(t.rejects.len(), 1);
        let r = &t.rejects[0];
        assert_eq!(r.line, 3);
        assert_eq!(r.column, Some(2));
        assert_eq!(r.reason, "unbalanced quote opened at line 3, column 2");
        assert_eq!(r.raw, "4,\"5,6");
        assert_all_accounted(&t, 4);
    }

    #[test]
    fn unbalanced_quote_on_the_last_line() {
        let t = csv("a,b\n1,2\n3,\"4");
        assert_eq!(rows(&t), [(2, vec!["1", "2"])]);
        assert_eq!(t.rejects.len(), 1);
        assert_eq!(t.rejects[0].line, 3);
        assert_eq!(t.rejects[0].raw, "3,\"4");
        assert_all_accounted(&t, 2);

        let t = csv("a,b\n1,2\n3,\"4\n");
        assert_eq!(t.rejects.len(), 1);
        assert_eq!(t.rejects[0].raw, "3,\"4");
    }

    #[test]
    fn quote_closed_much_later_with_text_after_it() {
        // The quote opened on line 3 closes at `7,"` on line 5; what follows
        // the closing quote shows that the quoting is broken.
        let t = csv("a,b,c\n1,2,3\n4,\"oops,6\n5,5,5\n7,\"x\",9\n8,8,8\n");
        assert_eq!(t.rejects.len(), 1, "{:?}", t.rejects);
        assert_eq!(t.rejects[0].line, 3);
        assert_eq!(t.rejects[0].raw, "4,\"oops,6");
        assert!(
            t.rejects[0]
                .reason
                .starts_with("unbalanced quote opened at line 3, column 2"),
            "{}",
            t.rejects[0].reason
        );
        // Line 5 itself is well-formed once read from its own start.
        assert_eq!(
            rows(&t),
            [
                (2, vec!["1", "2", "3"]),
                (4, vec!["5", "5", "5"]),
                (5, vec!["7", "x", "9"]),
                (6, vec!["8", "8", "8"]),
            ]
        );
        assert_all_accounted(&t, 5);
    }

    #[test]
    fn quote_closed_later_with_wrong_width() {
        let t = csv("a,b,c\n1,\"x\n2,2,2\n3,3\",3,3\n4,4,4\n");
        // Read as one record it has 4 columns: the quote is the problem.
        assert_eq!(t.rejects[0].line, 2);
        assert!(t.rejects[0]
            .reason
            .contains("unbalanced quote opened at line 2, column 2"));
        assert!(t.rejects[0]
            .reason
            .contains("4 columns where 3 are expected"));
        assert_eq!(rows(&t)[0], (3, vec!["2", "2", "2"]));
        assert_eq!(rows(&t).last().unwrap(), &(5, vec!["4", "4", "4"]));
        assert_all_accounted(&t, 4);
    }

    #[test]
    fn undecodable_bytes_in_a_utf8_file() {
        let mut bytes = "氏名,電話\n山田,03\n".as_bytes().to_vec();
        let bad_at = bytes.len() + 3;
        bytes.extend_from_slice(b"abc,d\xFFe\n");
        bytes.extend_from_slice("佐藤,04\n".as_bytes());
        let t = read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Utf8));
        assert_eq!(rows(&t), [(2, vec!["山田", "03"]), (4, vec!["佐藤", "04"])]);
        let r = &t.rejects[0];
        assert_eq!((r.line, r.column), (3, Some(2)));
        assert_eq!(
            r.reason,
            format!(
                "undecodable bytes in column 2 at byte offset {} (0xFF)",
                bad_at + 2
            )
        );
        assert_eq!(r.raw, "abc,d\\xFFe");
    }

    #[test]
    fn character_split_by_a_delimiter_is_undecodable() {
        // Without the comma, E3 81 82 would be a valid `あ`.
        let mut bytes = "氏名,住所\n山田,東京都港区\n佐藤,大阪府大阪市\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"\xE3,\x81\x82\n");
        let t = read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Utf8));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rejects[0].line, 4);
        assert_eq!(t.rejects[0].column, Some(1));
        assert_eq!(t.rejects[0].raw, "\\xE3,\\x81\\x82");
    }

    #[test]
    fn cp932_file_is_read() {
        let text = "会社名,住所,電話\n株式会社ＡＢＣ,\"東京都千代田区霞が関1-2-1\",03-1234-5678\n㈱ソニー,大阪府大阪市北区,06\n";
        let (bytes, _, errors) = SHIFT_JIS.encode(text);
        assert!(!errors);
        let t = read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Cp932));
        assert_eq!(t.headers, ["会社名", "住所", "電話"]);
        assert_eq!(
            rows(&t),
            [
                (
                    2,
                    vec![
                        "株式会社ＡＢＣ",
                        "東京都千代田区霞が関1-2-1",
                        "03-1234-5678"
                    ]
                ),
                (3, vec!["㈱ソニー", "大阪府大阪市北区", "06"]),
            ]
        );
    }

    #[test]
    fn cp932_file_with_a_bad_field() {
        let mut bytes = SHIFT_JIS.encode("氏名,カナ\n山田,ヤマダ\n").0.into_owned();
        bytes.extend_from_slice(b"x\x81,y\n"); // lead byte followed by a comma
        bytes.extend_from_slice(&SHIFT_JIS.encode("佐藤,サトウ\n").0);
        let t = read_bytes(&bytes, Format::Csv, &ReadOptions::default()).unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Cp932));
        assert_eq!(
            rows(&t),
            [(2, vec!["山田", "ヤマダ"]), (4, vec!["佐藤", "サトウ"])]
        );
        assert_eq!(t.rejects[0].line, 3);
        assert_eq!(t.rejects[0].column, Some(1));
        assert_eq!(t.rejects[0].raw, "x\\x81,y");
    }

    #[test]
    fn utf8_bom_file() {
        let t = read_bytes(
            "\u{FEFF}氏名,電話\n山田,03\n".as_bytes(),
            Format::Csv,
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.encoding, Some(InputEncoding::Utf8Bom));
        assert_eq!(t.headers, ["氏名", "電話"]);
        assert_eq!(rows(&t), [(2, vec!["山田", "03"])]);
    }

    #[test]
    fn empty_files_are_errors() {
        for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n  \n", b"\xEF\xBB\xBF\n"] {
            let e = read_bytes(bytes, Format::Csv, &ReadOptions::default()).unwrap_err();
            assert!(matches!(e.kind, ImportErrorKind::Empty), "{bytes:?}: {e}");
        }
    }

    #[test]
    fn header_only_file_has_no_rows() {
        let t = csv("会社名,住所\n");
        assert_eq!(t.headers, ["会社名", "住所"]);
        assert!(t.rows.is_empty() && t.rejects.is_empty());
        let t = csv("会社名,住所");
        assert_eq!(t.headers.len(), 2);
    }

    #[test]
    fn bad_header_is_an_error() {
        let e = read_bytes(b"a,\"b\n", Format::Csv, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(e.to_string().contains("unbalanced quote"), "{e}");
    }

    #[test]
    fn ten_megabyte_field_is_rejected() {
        let big = "x".repeat(10 * 1024 * 1024);
        let text = format!("a,b\n1,{big}\n2,\"{big}\"\n3,ok\n");
        let t = csv(&text);
        assert_eq!(rows(&t), [(4, vec!["3", "ok"])]);
        assert_eq!(t.rejects.len(), 2);
        for (r, line) in t.rejects.iter().zip([2, 3]) {
            assert_eq!(r.line, line);
            assert_eq!(r.column, Some(2));
            assert_eq!(
                r.reason,
                "field is 10485760 bytes, over the 1048576-byte limit (column 2)"
            );
        }
    }

    #[test]
    fn nul_byte_rejects_its_row() {
        let t = csv("a,b\n1,x\0y\n2,z\n");
        assert_eq!(rows(&t), [(3, vec!["2", "z"])]);
        assert_eq!(t.rejects[0].column, Some(2));
        assert!(t.rejects[0].reason.starts_with("NUL byte in column 2"));
    }

    #[test]
    fn utf16_is_an_error() {
        let e = read_bytes(b"\xFF\xFEa\0,\0b\0", Format::Csv, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("UTF-16"), "{e}");
    }

    #[test]
    fn tsv_file() {
        let t = read_bytes(
            "氏名\t住所\n山田 太郎\t\"東京都\t港区\"\n佐藤,花子\t大阪\n".as_bytes(),
            Format::Tsv,
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.format, Format::Tsv);
        assert_eq!(
            rows(&t),
            [
                (2, vec!["山田 太郎", "東京都\t港区"]),
                (3, vec!["佐藤,花子", "大阪"])
            ]
        );
    }

    #[test]
    fn duplicate_and_empty_headers() {
        let t = csv("tel,,fax\n1,2,3\n");
        assert_eq!(t.headers, ["tel", "column_2", "fax"]);
        let e = read_bytes(b"tel,,tel\n1,2,3\n", Format::Csv, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "columns 1 and 3 are both named `tel`: give each column a name of its own"
        );
    }

    /// Every data record of a messy file is a row or a reject.
    #[test]
    fn every_record_is_accounted_for() {
        let lines = [
            "1,a,b",
            "2,\"a\nb\",c", // 2 physical lines, 1 record
            "3,a",
            "4,\"a,b",
            "5,a,b,c",
            "6,a\u{0}b,c",
            "7,\"x\"\"y\",z",
            "",
            "8,a,b",
        ];
        let text = format!("id,x,y\n{}\n", lines.join("\n"));
        let t = csv(&text);
        assert_all_accounted(&t, 8);
        let ids: Vec<&str> = t.rows.iter().map(|r| r.fields[0].as_str()).collect();
        assert_eq!(ids, ["1", "2", "7", "8"]);
        let lines: Vec<usize> = t.rejects.iter().map(|r| r.line).collect();
        assert_eq!(lines, [5, 6, 7, 8]);
    }

    /// A synthetic customer file: `rows` × 8 columns.
    pub(crate) fn synthetic_csv(rows: usize) -> String {
        let mut s =
            String::from("顧客ID,会社名,氏名,フリガナ,郵便番号,住所,電話番号,メールアドレス\n");
        for i in 0..rows {
            let quoted = i % 4 == 0;
            let company = if quoted {
                format!("\"株式会社サンプル商事{i}, 東京支店\"")
            } else {
                format!("株式会社サンプル商事{i}")
            };
            s.push_str(&format!(
                "C{i:07},{company},山田 太郎{i},ヤマダ タロウ,100-{:04},東京都千代田区霞が関一丁目{}-{} サンプルビル{}階,03-{:04}-{:04},taro.yamada{i}@example.co.jp\n",
                i % 10000,
                i % 9 + 1,
                i % 20 + 1,
                i % 30 + 1,
                i % 10000,
                (i * 7) % 10000
            ));
        }
        s
    }

    /// Throughput of the delimited reader; run by hand:
    /// `cargo test --release --lib import::delimited::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let text = synthetic_csv(100_000);
        let bytes = text.as_bytes();
        let (sjis, _, _) = SHIFT_JIS.encode(&text);
        for (name, bytes) in [("utf-8", bytes), ("cp932", &sjis[..])] {
            let mut best = f64::MAX;
            for _ in 0..5 {
                let t0 = std::time::Instant::now();
                let t = read_bytes(bytes, Format::Csv, &ReadOptions::default()).unwrap();
                let secs = t0.elapsed().as_secs_f64();
                assert_eq!(t.rows.len(), 100_000);
                best = best.min(secs);
            }
            println!(
                "{name}: {:.1} MB in {:.1} ms = {:.0} MB/s",
                bytes.len() as f64 / 1e6,
                best * 1e3,
                bytes.len() as f64 / 1e6 / best
            );
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::import::{read_bytes, read_path, OutputEncoding, TableWriter};
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                "a", "Z", " ", ",", "\t", "\"", "\r", "\n", "\r\n", "日本", "ｱ", "𠮷",
            ]),
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever the fields hold, what the writer writes the reader reads
        /// back unchanged, on the right lines — one-column tables included,
        /// where a blank value must not become a skipped blank line.
        #[test]
        fn written_tables_read_back(
            rows in (1usize..=3).prop_flat_map(|width| {
                proptest::collection::vec(proptest::collection::vec(field(), width), 0..12)
            }),
            tsv in any::<bool>(),
        ) {
            let width = rows.first().map_or(3, Vec::len);
            let header: Vec<String> = (1..=width).map(|i| format!("h{i}")).collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let format = if tsv { Format::Tsv } else { Format::Csv };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(if tsv { "t.tsv" } else { "t.csv" });
            let mut w = TableWriter::create(&path, format, OutputEncoding::Utf8).unwrap();
            w.write_row(&header).unwrap();
            for r in &rows {
                let r: Vec<&str> = r.iter().map(|s| s.as_str()).collect();
                w.write_row(&r).unwrap();
            }
            w.finish().unwrap();
            let t = read_path(&path, &ReadOptions::default()).unwrap();
            prop_assert_eq!(t.format, format);
            prop_assert!(t.rejects.is_empty(), "{:?}", t.rejects);
            prop_assert_eq!(t.rows.len(), rows.len());
            let mut line = 2;
            for (got, want) in t.rows.iter().zip(&rows) {
                prop_assert_eq!(&got.fields, want);
                prop_assert_eq!(got.line, line);
                line += 1 + want.iter().map(|f| count_line_breaks(f.as_bytes())).sum::<usize>();
            }
        }

        /// Arbitrary bytes never panic; rows have the header's width, and
        /// rows and rejects come in file order, one record per start line.
        #[test]
        fn arbitrary_bytes_are_rows_or_rejects(
            bytes in proptest::collection::vec(
                prop::sample::select(vec![b'a', b',', b'"', b'\n', b'\r', b'\t', 0xE3, 0x81, 0x82, 0xFF, 0]),
                0..200,
            )
        ) {
            if let Ok(t) = read_bytes(&bytes, Format::Csv, &ReadOptions::default()) {
                let mut lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
                lines.extend(t.rejects.iter().map(|r| r.line));
                lines.sort_unstable();
                prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "{:?}", lines);
                for r in &t.rows {
                    prop_assert_eq!(r.fields.len(), t.headers.len());
                }
            }
        }
    }
}
