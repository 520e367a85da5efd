//! Tables as Arrow record batches: how a Parquet file, and a table handed
//! over by the Python package, become a [`Table`], and how rows go back out.
//!
//! Reading: every column of a scalar type (text, numbers, booleans, dates,
//! times, decimals, dictionaries of those) is read as its text (Arrow's own
//! formatting: `2023-04-01`, `12.5`, `true`); a null is an empty value. A
//! nested column (list, struct, map) is an error naming the column. A value
//! that is not UTF-8 (a binary column) or longer than
//! [`ReadOptions::max_field_bytes`] rejects its row, with the column. Rows
//! are numbered as in a sheet: the header is row 1, the first record row 2.
//!
//! Writing: every column is text; an empty value is written as null.

use super::{
    unique_headers, Format, ImportError, ImportErrorKind, ReadOptions, Reject, Row, Table,
};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Whether nayose can read a column of this type as text.
fn readable(t: &DataType) -> bool {
    match t {
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..)
        | DataType::RunEndEncoded(..) => false,
        DataType::Dictionary(_, v) => readable(v),
        _ => true,
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

/// Check a schema before reading: unique names, readable types.
fn check_schema(schema: &Schema) -> Result<Vec<String>, ImportError> {
    for f in schema.fields() {
        if !readable(f.data_type()) {
            return Err(ImportErrorKind::UnsupportedColumn {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
            }
            .into());
        }
    }
    Ok(unique_headers(
        schema.fields().iter().map(|f| f.name().clone()).collect(),
    )?)
}

/// Read record batches into a table of text rows (its format: Parquet, the
/// columnar kind); the first record is row 2, the header being row 1.
pub fn read_batches(
    schema: &Schema,
    batches: impl IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    opts: &ReadOptions,
) -> Result<Table, ImportError> {
    let headers = check_schema(schema)?;
    let mut out = Table {
        format: Format::Parquet,
        encoding: None,
        headers,
        rows: Vec::new(),
        rejects: Vec::new(),
    };
    let mut next_row = 2usize;
    for batch in batches {
        let batch = batch.map_err(arrow_error)?;
        let columns: Vec<Column> = batch
            .columns()
            .iter()
            .map(Column::new)
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            let line = next_row + i;
            let mut fields = Vec::with_capacity(columns.len());
            let mut problem: Option<(usize, String)> = None;
            for (c, col) in columns.iter().enumerate() {
                match col.value(i) {
                    Ok(v) if v.len() > opts.max_field_bytes => {
                        problem.get_or_insert((
                            c + 1,
                            format!(
                                "the value is {} bytes long, over the limit of {}",
                                v.len(),
                                opts.max_field_bytes
                            ),
                        ));
                        fields.push(String::new());
                    }
                    Ok(v) => fields.push(v),
                    Err(lossy) => {
                        problem.get_or_insert((c + 1, "the value is not UTF-8 text".into()));
                        fields.push(lossy);
                    }
                }
            }
            match problem {
                None => out.rows.push(Row { line, fields }),
                Some((column, reason)) => out.rejects.push(Reject {
                    line,
                    column: Some(column),
                    reason,
                    raw: raw_text(&columns, i, opts.max_field_bytes),
                }),
            }
        }
        next_row += batch.num_rows();
    }
    Ok(out)
}

/// A reject's original text: its values joined by commas, each cut at the
/// field limit, bytes that are not UTF-8 as `\xNN`.
fn raw_text(columns: &[Column], i: usize, limit: usize) -> String {
    columns
        .iter()
        .map(|c| {
            let v = c.value(i).unwrap_or_else(|lossy| lossy);
            match v.char_indices().nth(limit) {
                Some((cut, _)) => v[..cut].to_string(),
                None => v,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// One column, as text.
enum Column {
    Text(StringArray),
    Binary(ArrayRef),
}

impl Column {
    fn new(array: &ArrayRef) -> Result<Column, ImportError> {
        if is_binary(array.data_type()) {
            return Ok(Column::Binary(array.clone()));
        }
        let text = arrow_cast::cast(array, &DataType::Utf8).map_err(arrow_error)?;
        let text = text
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("a cast to Utf8 gives a StringArray")
            .clone();
        Ok(Column::Text(text))
    }

    /// The value of row `i` (empty for a null); `Err` with the value written
    /// with `\xNN` escapes when it is not UTF-8.
    fn value(&self, i: usize) -> Result<String, String> {
        match self {
            Column::Text(a) => Ok(if a.is_null(i) {
                String::new()
            } else {
                a.value(i).to_string()
            }),
            Column::Binary(a) => {
                if a.is_null(i) {
                    return Ok(String::new());
                }
                let bytes = binary_value(a.as_ref(), i);
                std::str::from_utf8(bytes)
                    .map(str::to_string)
                    .map_err(|_| escape_bytes(bytes))
            }
        }
    }
}

fn binary_value(a: &dyn Array, i: usize) -> &[u8] {
    use arrow_array::cast::AsArray;
    match a.data_type() {
        DataType::Binary => a.as_binary::<i32>().value(i),
        DataType::LargeBinary => a.as_binary::<i64>().value(i),
        DataType::BinaryView => a.as_binary_view().value(i),
        DataType::FixedSizeBinary(_) => a.as_fixed_size_binary().value(i),
        _ => unreachable!("is_binary"),
    }
}

fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn arrow_error(e: ArrowError) -> ImportError {
    ImportErrorKind::Arrow(e.to_string()).into()
}

/// The schema of a table of text columns with these names.
pub fn text_schema(headers: &[&str]) -> SchemaRef {
    Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Rows in one record batch out (and one Parquet row group).
pub const BATCH_ROWS: usize = 65_536;

/// Columns of text collected a row at a time, taken as record batches of
/// [`BATCH_ROWS`].
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<arrow_array::builder::StringBuilder>,
    rows: usize,
}

impl BatchBuilder {
    pub fn new(schema: SchemaRef) -> BatchBuilder {
        let columns = schema
            .fields()
            .iter()
            .map(|_| arrow_array::builder::StringBuilder::new())
            .collect();
        BatchBuilder {
            schema,
            columns,
            rows: 0,
        }
    }

    /// Add a row (as many values as columns; an empty one is a null); the
    /// batch it completes, when it completes one.
    pub fn push(&mut self, fields: &[&str]) -> Option<RecordBatch> {
        for (b, v) in self.columns.iter_mut().zip(fields) {
            if v.is_empty() {
                b.append_null();
            } else {
                b.append_value(v);
            }
        }
        self.rows += 1;
        (self.rows >= BATCH_ROWS).then(|| self.take())
    }

    /// The rows pushed since the last batch, if any.
    pub fn finish(&mut self) -> Option<RecordBatch> {
        (self.rows > 0).then(|| self.take())
    }

    fn take(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .expect("a text column per field, each as long as the others")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{BinaryArray, Date32Array, Int64Array, ListArray};

    fn batch(columns: Vec<(&str, ArrayRef)>) -> (Schema, RecordBatch) {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        let b = RecordBatch::try_new(
            Arc::new(schema.clone()),
            columns.into_iter().map(|c| c.1).collect(),
        )
        .unwrap();
        (schema, b)
    }

    #[test]
    fn scalar_columns_are_read_as_text_and_bad_values_reject_their_row() {
        let (schema, b) = batch(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(1), Some(2), None, Some(4)])),
            ),
            (
                "born",
                Arc::new(Date32Array::from(vec![Some(19448), None, Some(0), Some(1)])),
            ),
            (
                "name",
                Arc::new(BinaryArray::from(vec![
                    Some(&b"ABC"[..]),
                    Some(&b"\xff\xfe"[..]),
                    None,
                    Some("長い名前".as_bytes()),
                ])),
            ),
        ]);
        let opts = ReadOptions {
            max_field_bytes: 11,
            ..ReadOptions::default()
        };
        let r = read_batches(&schema, [Ok(b)], &opts).unwrap();
        assert_eq!(r.headers, ["id", "born", "name"]);
        let rows: Vec<(usize, Vec<&str>)> = r
            .rows
            .iter()
            .map(|r| (r.line, r.fields.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            rows,
            [
                (2, vec!["1", "2023-04-01", "ABC"]),
                (4, vec!["", "1970-01-01", ""])
            ]
        );
        let rejects: Vec<(usize, Option<usize>, &str)> = r
            .rejects
            .iter()
            .map(|j| (j.line, j.column, j.raw.as_str()))
            .collect();
        assert_eq!(
            rejects,
            [
                (3, Some(3), "2,,\\xFF\\xFE"),
                (5, Some(3), "4,1970-01-02,長い名前")
            ]
        );
        assert!(
            r.rejects[1].reason.contains("over the limit of 11"),
            "{}",
            r.rejects[1].reason
        );
    }

    #[test]
    fn a_nested_column_is_an_error_naming_it() {
        let list =
            ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![Some(
                vec![Some(1)],
            )]);
        let (schema, b) = batch(vec![("tags", Arc::new(list))]);
        let e = read_batches(&schema, [Ok(b)], &ReadOptions::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("`tags`"), "{e}");
    }

    #[test]
    fn rows_go_out_as_text_with_nulls_for_empty_values() {
        let mut b = BatchBuilder::new(text_schema(&["id", "name"]));
        assert!(b.push(&["1", "ABC"]).is_none());
        assert!(b.push(&["2", ""]).is_none());
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let names = batch
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(names.value(0), "ABC");
        assert!(names.is_null(1));
        assert!(b.finish().is_none());
    }
}
