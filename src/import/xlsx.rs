//! The XLSX reader: one sheet of a workbook, through calamine, as string rows.
//!
//! Owns: choosing the sheet, turning cells into strings, and finding the
//! header row. Does not own the ZIP signature check (done in `mod.rs` before
//! we get here) or anything about CSV.
//!
//! Cells become strings as a person reading the sheet would write them:
//! text as it is (leading zeros kept), whole numbers without `.0`
//! (`7000012050002`, not `7.000012050002e12`), other numbers in Rust's
//! shortest round-trip form, dates as `YYYY-MM-DD` (with ` HH:MM:SS` when the
//! cell has a time of day), booleans as `TRUE`/`FALSE`. An error cell
//! (`#N/A`, `#REF!`, …) has no value, so it rejects its row; a reject's
//! `raw` is the row's cells joined with tabs.
//!
//! Rows are numbered as the sheet numbers them (row 1 is the first row of
//! the sheet, even when the used range starts lower). The header is the
//! first non-empty row; empty rows are skipped; columns on the right with
//! neither a header nor any value are dropped.

use super::{
    unique_headers, Format, ImportError, ImportErrorKind, ReadOptions, Reject, Row, Table,
};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

pub(crate) fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Table, ImportError> {
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
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| ImportErrorKind::Xlsx(format!("sheet `{sheet}`: {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);

    let mut rows_iter = range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row + i + 1, cells))
        .filter(|(_, cells)| cells.iter().any(|c| !is_blank(c)));

    let Some((_, header_cells)) = rows_iter.next() else {
        return Err(ImportErrorKind::EmptySheet(sheet).into());
    };
    let width = range.width();
    let mut data: Vec<(usize, &[Data])> = rows_iter.collect();

    // Drop columns on the right with no header and no value.
    let used = |col: usize| {
        header_cells.get(col).is_some_and(|c| !is_blank(c))
            || data
                .iter()
                .any(|(_, cells)| cells.get(col).is_some_and(|c| !is_blank(c)))
    };
    let mut n_columns = width;
    while n_columns > 0 && !used(n_columns - 1) {
        n_columns -= 1;
    }

    let headers = unique_headers(
        (0..n_columns)
            .map(|c| header_cells.get(c).map(cell_text).unwrap_or_default())
            .collect(),
    );
    let mut rows = Vec::with_capacity(data.len());
    let mut rejects = Vec::new();
    for (line, cells) in data.drain(..) {
        let mut fields = Vec::with_capacity(n_columns);
        let mut error = None;
        for col in 0..n_columns {
            let cell = cells.get(col).unwrap_or(&Data::Empty);
            if let Data::Error(e) = cell {
                if error.is_none() {
                    error = Some((col + 1, e.to_string()));
                }
            }
            fields.push(cell_text(cell));
        }
        match error {
            None => rows.push(Row { line, fields }),
            Some((column, e)) => rejects.push(Reject {
                line,
                column: Some(column),
                reason: format!("cell error {e} in column {column}"),
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
        s2.write_string(2, 2, "name").unwrap();
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
        assert_eq!(t.headers, ["name", "name_2"]);
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

    #[test]
    fn numbers_as_text() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-12.0), "-12");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(1e20), "100000000000000000000");
    }
}
