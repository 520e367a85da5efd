//! The XLSX reader: one sheet of a workbook, through calamine, as string rows.
//!
//! Owns: choosing the sheet, turning cells into strings, finding the header
//! row, and the limits that keep a hostile workbook from taking the memory
//! of the machine. Does not own the ZIP signature check (done in `mod.rs`
//! before we get here) or anything about CSV.
//!
//! Cells become strings as a person reading the sheet would write them:
//! text as it is (leading zeros kept), whole numbers without `.0`
//! (`7000012050002`, not `7.000012050002e12`), other numbers in Rust's
//! shortest round-trip form, dates as `YYYY-MM-DD` (with ` HH:MM:SS` when the
//! cell has a time of day), booleans as `TRUE`/`FALSE`. An error cell
//! (`#N/A`, `#REF!`, …) has no value, so it rejects its row, and so does a
//! cell over [`ReadOptions::max_field_bytes`]; a reject's `raw` is the row's
//! cells joined with tabs (an over-long cell cut at the limit).
//!
//! Rows are numbered as the sheet numbers them (row 1 is the first row of
//! the sheet, even when the used range starts lower). The header is the
//! first non-empty row; empty rows are skipped; columns on the right with
//! neither a header nor any value are dropped.
//!
//! Limits. An XLSX is a ZIP of XML, and a small file can hold a great deal
//! (one cell of 100 MB in 98 KB; a million rows in 338 KB). Before calamine
//! opens anything, the archive's directory is checked: the entries may not
//! expand to more than [`ReadOptions::max_xlsx_bytes`] together, nor any
//! entry over 1 MiB more than [`MAX_INFLATE_RATIO`] times its compressed
//! size (the rule Apache POI applies; spreadsheets compress 5–20 times),
//! and the shared-string count may not promise more strings than the table
//! could hold (calamine reserves room for that many up front). The zip
//! crate stops reading any entry at its declared size, so what is checked
//! is what is read. The sheet is then read cell by cell (never as one dense
//! rectangle, which a far-away cell would make huge), up to Excel's own
//! limits of [`MAX_ROWS`] rows and [`MAX_COLUMNS`] columns.

use super::{
    unique_headers, Format, ImportError, ImportErrorKind, ReadOptions, Reject, Row, Table,
};
use calamine::{Data, Reader, Xlsx};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// The most rows a sheet has in Excel.
pub const MAX_ROWS: u32 = 1_048_576;
/// The most columns a sheet has in Excel (`XFD`).
pub const MAX_COLUMNS: u32 = 16_384;
/// How many times its compressed size an entry over [`RATIO_FROM`] bytes
/// may expand to.
pub const MAX_INFLATE_RATIO: u64 = 100;
/// Entries smaller than this are not held to [`MAX_INFLATE_RATIO`] (a
/// small XML file of repeated tags compresses very well, and costs nothing).
const RATIO_FROM: u64 = 1 << 20;
/// The fewest bytes one shared string takes in the XML (`<si/>`).
const MIN_SHARED_STRING_BYTES: u64 = 5;

fn too_large(what: String) -> ImportError {
    ImportErrorKind::XlsxTooLarge(what).into()
}

/// Check what the archive would expand to before anything is expanded.
fn check_archive(bytes: &[u8], opts: &ReadOptions) -> Result<(), ImportError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ImportErrorKind::NotXlsx(format!("the ZIP archive is not a workbook ({e})"))
    })?;
    let mut total: u64 = 0;
    let mut shared_strings = None;
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|e| {
            ImportErrorKind::NotXlsx(format!("the ZIP archive is not a workbook ({e})"))
        })?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        total = total.saturating_add(size);
        if total > opts.max_xlsx_bytes {
            return Err(too_large(format!(
                "its parts expand to more than {} bytes (--max-xlsx-bytes)",
                opts.max_xlsx_bytes
            )));
        }
        if size > RATIO_FROM && size / packed.max(1) > MAX_INFLATE_RATIO {
            return Err(too_large(format!(
                "`{name}` expands {} times, from {packed} to {size} bytes: more than a spreadsheet does ({MAX_INFLATE_RATIO} times at most)",
                size / packed.max(1)
            )));
        }
        if name
            .replace('\\', "/")
            .eq_ignore_ascii_case("xl/sharedStrings.xml")
        {
            shared_strings = Some((i, size));
        }
    }
    if let Some((i, size)) = shared_strings {
        let mut head = Vec::with_capacity(4096);
        zip.by_index(i)
            .map_err(|e| ImportErrorKind::Xlsx(format!("shared strings: {e}")))?
            .take(4096)
            .read_to_end(&mut head)
            .map_err(|e| ImportErrorKind::Xlsx(format!("shared strings: {e}")))?;
        let head = String::from_utf8_lossy(&head);
        for attr in ["uniqueCount=\"", "count=\""] {
            let promised = head
                .find(attr)
                .map(|at| &head[at + attr.len()..])
                .and_then(|rest| rest.split('"').next())
                .and_then(|n| n.trim().parse::<u64>().ok());
            if let Some(n) = promised {
                if attr.starts_with("unique") && n > size / MIN_SHARED_STRING_BYTES + 1 {
                    return Err(too_large(format!(
                        "its shared-string table promises {n} strings in {size} bytes"
                    )));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Table, ImportError> {
    check_archive(bytes, opts)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        ImportErrorKind::NotXlsx(format!("the ZIP archive is not a workbook ({e})"))
    })?;
    let names = workbook.sheet_names();
    let sheet = match &opts.sheet {
        Some(wanted) => names
            .iter()
            .find(|n| *n == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .cloned()
            .ok_or_else(|| ImportErrorKind::NoSuchSheet {
                sheet: wanted.clone(),
                available: names.clone(),
            })?,
        None => names.first().cloned().ok_or(ImportErrorKind::NoSheets)?,
    };
    let cells = read_cells(&mut workbook, &sheet, opts)?;
    table_of(&sheet, cells, opts)
}

/// The non-empty cells of a sheet, row by row (the sheet's row number,
/// 1-based) as (0-based column, cell), read one cell at a time.
fn read_cells(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    opts: &ReadOptions,
) -> Result<BTreeMap<u32, Vec<(u32, Cell)>>, ImportError> {
    let sheet_error =
        |e: calamine::XlsxError| ImportErrorKind::Xlsx(format!("sheet `{sheet}`: {e}"));

    let mut cells: BTreeMap<u32, Vec<(u32, Cell)>> = BTreeMap::new();
    let mut reader = workbook
        .worksheet_cells_reader(sheet)
        .map_err(sheet_error)?;
    while let Some(cell) = reader.next_cell().map_err(sheet_error)? {
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(too_large(format!(
                "sheet `{sheet}` has a cell at row {}, column {}: past Excel's {MAX_ROWS} rows and {MAX_COLUMNS} columns",
                row as u64 + 1,
                col as u64 + 1
            )));
        }
        let data = Data::from(cell.get_value().clone());
        if is_blank(&data) {
            continue;
        }
        let cell = match data {
            Data::Error(e) => Cell::Error(e.to_string()),
            other => {
                let text = cell_text(&other);
                if text.len() > opts.max_field_bytes {
                    Cell::TooLong(clip(text, opts.max_field_bytes))
                } else {
                    Cell::Text(text)
                }
            }
        };
        cells.entry(row + 1).or_default().push((col, cell));
    }

    Ok(cells)
}

/// The header (the first row) and the data rows of a sheet's cells, each
/// row a [`Row`] or, with an error cell or a cell over the limit, a
/// [`Reject`].
fn table_of(
    sheet: &str,
    cells: BTreeMap<u32, Vec<(u32, Cell)>>,
    opts: &ReadOptions,
) -> Result<Table, ImportError> {
    let mut rows_iter = cells.into_iter();
    let Some((header_line, header_cells)) = rows_iter.next() else {
        return Err(ImportErrorKind::EmptySheet(sheet.to_string()).into());
    };
    let data: Vec<(u32, Vec<(u32, Cell)>)> = rows_iter.collect();
    // The columns from the left-most to the right-most one with a header
    // or a value (the sheet's used range).
    let used = || {
        header_cells
            .iter()
            .chain(data.iter().flat_map(|(_, c)| c))
            .map(|(col, _)| *col)
    };
    let first = used().min().unwrap_or(0);
    let n_columns = used().map(|c| (c - first) as usize + 1).max().unwrap_or(0);
    let mut header_texts = vec![String::new(); n_columns];
    for (col, cell) in header_cells {
        let col = col - first;
        header_texts[col as usize] = match cell {
            Cell::Text(t) | Cell::Error(t) => t,
            Cell::TooLong(_) => {
                return Err(ImportErrorKind::BadHeader {
                    line: header_line as usize,
                    reason: format!(
                        "column {} is over {} bytes (--max-field-bytes)",
                        col + 1,
                        opts.max_field_bytes
                    ),
                }
                .into())
            }
        };
    }
    let headers = unique_headers(header_texts)?;
    let mut rows = Vec::with_capacity(data.len());
    let mut rejects = Vec::new();
    for (line, cells) in data {
        let mut fields = vec![String::new(); n_columns];
        // The first bad cell of the row: its column and what is wrong.
        let mut problem: Option<(usize, String)> = None;
        for (col, cell) in cells {
            let col = col - first;
            let column = col as usize + 1;
            fields[col as usize] = match cell {
                Cell::Text(t) => t,
                Cell::Error(e) => {
                    problem.get_or_insert((column, format!("cell error {e} in column {column}")));
                    e
                }
                Cell::TooLong(t) => {
                    problem.get_or_insert((
                        column,
                        format!(
                            "column {column} is over {} bytes (--max-field-bytes)",
                            opts.max_field_bytes
                        ),
                    ));
                    t
                }
            };
        }
        match problem {
            None => rows.push(Row {
                line: line as usize,
                fields,
            }),
            Some((column, reason)) => rejects.push(Reject {
                line: line as usize,
                column: Some(column),
                reason,
                raw: fields.join("\t"),
            }),
        }
    }
    Ok(Table {
        format: Format::Xlsx,
        encoding: None,
        headers,
        rows,
        rejects,
    })
}

/// A non-empty cell, read.
enum Cell {
    Text(String),
    /// An error cell's code (`#N/A`): the row is rejected.
    Error(String),
    /// A cell over the field limit, cut at it: the row is rejected.
    TooLong(String),
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn clip(mut text: String, max: usize) -> String {
    let mut at = max.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.truncate(at);
    text
}

fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, _ms) = dt.to_ymd_hms_milli();
            if (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else if dt.as_f64() < 1.0 {
                // A time of day with no date.
                format!("{hh:02}:{mm:02}:{ss:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{read_bytes, read_path};
    use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Formula, Workbook};

    fn workbook_bytes() -> Vec<u8> {
        let mut wb = Workbook::new();
        let date = XFormat::new().set_num_format("yyyy/mm/dd");
        let s = wb.add_worksheet().set_name("顧客").unwrap();
        s.write_string(0, 0, "顧客ID").unwrap();
        s.write_string(0, 1, "会社名").unwrap();
        s.write_string(0, 2, "郵便番号").unwrap();
        s.write_string(0, 3, "設立日").unwrap();
        s.write_string(0, 4, "法人番号").unwrap();
        s.write_string(0, 5, "金額").unwrap();
        s.write_string(1, 0, "00123").unwrap();
        s.write_string(1, 1, "株式会社ＡＢＣ").unwrap();
        s.write_string(1, 2, "0600001").unwrap();
        s.write_datetime_with_format(1, 3, ExcelDateTime::from_ymd(2024, 1, 5).unwrap(), &date)
            .unwrap();
        s.write_number(1, 4, 7000012050002.0).unwrap();
        s.write_number(1, 5, 1234.5).unwrap();
        // Row 3 is empty; row 4 has values in some columns only.
        s.write_number(3, 0, 42.0).unwrap();
        s.write_boolean(3, 1, true).unwrap();

        let s2 = wb.add_worksheet().set_name("Sheet2").unwrap();
        s2.write_string(2, 1, "name").unwrap();
        s2.write_string(2, 2, "given").unwrap();
        s2.write_string(3, 1, "山田").unwrap();
        s2.write_string(3, 2, "太郎").unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn first_sheet_by_default() {
        let t = read_bytes(&workbook_bytes(), Format::Xlsx, &ReadOptions::default()).unwrap();
        assert_eq!(t.format, Format::Xlsx);
        assert_eq!(t.encoding, None);
        assert_eq!(
            t.headers,
            ["顧客ID", "会社名", "郵便番号", "設立日", "法人番号", "金額"]
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(
            t.rows[0].fields,
            [
                "00123",
                "株式会社ＡＢＣ",
                "0600001",
                "2024-01-05",
                "7000012050002",
                "1234.5"
            ]
        );
        assert_eq!(t.rows[1].line, 4);
        assert_eq!(t.rows[1].fields, ["42", "TRUE", "", "", "", ""]);
    }

    #[test]
    fn sheet_option_and_sheet_row_numbers() {
        let opts = ReadOptions {
            sheet: Some("Sheet2".into()),
            ..ReadOptions::default()
        };
        let t = read_bytes(&workbook_bytes(), Format::Xlsx, &opts).unwrap();
        assert_eq!(t.headers, ["name", "given"]);
        assert_eq!(
            t.rows,
            [Row {
                line: 4,
                fields: vec!["山田".into(), "太郎".into()]
            }]
        );
    }

    #[test]
    fn missing_sheet_lists_the_sheets() {
        let opts = ReadOptions {
            sheet: Some("Customers".into()),
            ..ReadOptions::default()
        };
        let e = read_bytes(&workbook_bytes(), Format::Xlsx, &opts).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("Customers") && msg.contains("顧客, Sheet2"),
            "{msg}"
        );
    }

    #[test]
    fn xlsx_detected_by_signature_whatever_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("export.csv");
        std::fs::write(&p, workbook_bytes()).unwrap();
        let t = read_path(&p, &ReadOptions::default()).unwrap();
        assert_eq!(t.format, Format::Xlsx);
        assert_eq!(t.rows.len(), 2);
    }

    #[test]
    fn zip_that_is_not_a_workbook() {
        // A ZIP signature followed by garbage.
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&[0u8; 64]);
        let e = read_bytes(&bytes, Format::Xlsx, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::NotXlsx(_)), "{e}");
    }

    #[test]
    fn empty_sheet_is_an_error() {
        let mut wb = Workbook::new();
        wb.add_worksheet();
        let bytes = wb.save_to_buffer().unwrap();
        let e = read_bytes(&bytes, Format::Xlsx, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::EmptySheet(_)), "{e}");
    }

    #[test]
    fn error_cell_rejects_its_row() {
        let mut wb = Workbook::new();
        let s = wb.add_worksheet();
        s.write_string(0, 0, "氏名").unwrap();
        s.write_string(0, 1, "電話").unwrap();
        s.write_string(1, 0, "山田").unwrap();
        s.write_formula(1, 1, Formula::new("=NA()").set_result("#N/A"))
            .unwrap();
        s.write_string(2, 0, "佐藤").unwrap();
        s.write_string(2, 1, "03-1234-5678").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let t = read_bytes(&bytes, Format::Xlsx, &ReadOptions::default()).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(
            t.rejects,
            [Reject {
                line: 2,
                column: Some(2),
                reason: "cell error #N/A in column 2".into(),
                raw: "山田\t#N/A".into(),
            }]
        );
    }

    /// A workbook of one sheet, written by hand: `sheet` is the sheet's
    /// `<sheetData>` content, `strings` the shared-string table's XML (if
    /// any); `stored` leaves the parts uncompressed.
    pub(crate) fn handmade(sheet: &str, strings: Option<&str>, stored: bool) -> Vec<u8> {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        });
        let mut part = |name: &str, body: &str| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        };
        part(
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        );
        part(
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        part(
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        );
        let mut rels = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
        );
        if strings.is_some() {
            rels.push_str(r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
        }
        rels.push_str("</Relationships>");
        part("xl/_rels/workbook.xml.rels", &rels);
        if let Some(strings) = strings {
            part("xl/sharedStrings.xml", strings);
        }
        part(
            "xl/worksheets/sheet1.xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet}</sheetData></worksheet>"#
            ),
        );
        zip.finish().unwrap().into_inner()
    }

    fn inline(r: &str, text: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    #[test]
    fn a_handmade_workbook_reads() {
        let sheet = format!(
            r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
            inline("A1", "氏名"),
            inline("B1", "電話"),
            inline("A2", "山田"),
            inline("B2", "03-1234-5678")
        );
        let t = read_bytes(
            &handmade(&sheet, None, false),
            Format::Xlsx,
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.headers, ["氏名", "電話"]);
        assert_eq!(t.rows[0].fields, ["山田", "03-1234-5678"]);
    }

    #[test]
    fn a_cell_that_expands_a_thousand_times_is_refused_before_it_is_read() {
        // 100 MB of one cell in about 100 KB.
        let big = "a".repeat(100 << 20);
        let sheet = format!(
            r#"<row r="1">{}</row><row r="2">{}</row>"#,
            inline("A1", "name"),
            inline("A2", &big)
        );
        let bytes = handmade(&sheet, None, false);
        drop((big, sheet));
        assert!(bytes.len() < 1 << 20, "{}", bytes.len());
        let e = read_bytes(&bytes, Format::Xlsx, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::XlsxTooLarge(_)), "{e}");
        assert!(e.to_string().contains("sheet1.xml"), "{e}");
    }

    #[test]
    fn a_workbook_over_the_size_limit_is_refused() {
        let sheet = format!(r#"<row r="1">{}</row>"#, inline("A1", &"x".repeat(5000)));
        let opts = ReadOptions {
            max_xlsx_bytes: 4096,
            ..ReadOptions::default()
        };
        let e = read_bytes(&handmade(&sheet, None, true), Format::Xlsx, &opts).unwrap_err();
        assert!(e.to_string().contains("--max-xlsx-bytes"), "{e}");
    }

    #[test]
    fn a_cell_past_excel_s_last_row_is_refused() {
        let sheet = format!(
            r#"<row r="1">{}</row><row r="2000000">{}</row>"#,
            inline("A1", "name"),
            inline("A2000000", "x")
        );
        let e = read_bytes(
            &handmade(&sheet, None, false),
            Format::Xlsx,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e.kind, ImportErrorKind::XlsxTooLarge(_)), "{e}");
        assert!(e.to_string().contains("row 2000000"), "{e}");
    }

    #[test]
    fn a_shared_string_table_that_promises_too_much_is_refused() {
        let strings = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>name</t></si></sst>"#;
        let sheet = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
        let e = read_bytes(
            &handmade(sheet, Some(strings), false),
            Format::Xlsx,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("promises"), "{e}");
    }

    #[test]
    fn a_cell_over_the_field_limit_rejects_its_row_or_the_header() {
        let opts = ReadOptions {
            max_field_bytes: 10,
            ..ReadOptions::default()
        };
        let sheet = format!(
            r#"<row r="1">{}{}</row><row r="2">{}{}</row><row r="3">{}{}</row>"#,
            inline("A1", "name"),
            inline("B1", "note"),
            inline("A2", "ok"),
            inline("B2", "short"),
            inline("A3", "ok"),
            inline("B3", &"長".repeat(20))
        );
        let t = read_bytes(&handmade(&sheet, None, false), Format::Xlsx, &opts).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rejects.len(), 1);
        assert_eq!((t.rejects[0].line, t.rejects[0].column), (3, Some(2)));
        assert!(t.rejects[0].reason.contains("--max-field-bytes"));
        assert_eq!(t.rejects[0].raw, "ok\t長長長");
        let sheet = format!(r#"<row r="1">{}</row>"#, inline("A1", &"x".repeat(11)));
        let e = read_bytes(&handmade(&sheet, None, false), Format::Xlsx, &opts).unwrap_err();
        assert!(
            matches!(e.kind, ImportErrorKind::BadHeader { line: 1, .. }),
            "{e}"
        );
    }

    #[test]
    fn numbers_as_text() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-12.0), "-12");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(1e20), "100000000000000000000");
    }
}
