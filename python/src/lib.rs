//! `nayose._nayose`: the Rust core as a Python module. Tables come in and go
//! out as Arrow (`pyarrow.Table`, through the Arrow C stream interface): no
//! Python object is made per value. The work runs with the GIL released.
//!
//! The Python package (`nayose/__init__.py`) wraps these functions: it
//! accepts pandas DataFrames and lists, and gives back what it was given.

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_pyarrow::{PyArrowType, Table as PyTable};
use arrow_schema::ArrowError;
use nayose::clean::{clean_table, CleanOptions};
use nayose::dedupe::{dedupe_table, DedupeJob, NoProgress, CLUSTER_COLUMNS};
use nayose::import::arrow::{read_batches, text_schema, BatchBuilder};
use nayose::import::{ReadOptions, Reject, Table};
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use nayose::rules::Rules;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

mod spark;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The rules: `(TOML text, the name errors give it)`, or the built-in
/// default. Text, not a path, so a Spark job ships it to its executors.
fn load_rules(rules: Option<(String, String)>) -> PyResult<Rules> {
    match rules {
        Some((text, name)) => Rules::parse(&text, &name).map_err(value_error),
        None => Ok(Rules::default_rules()),
    }
}

fn overrides(fields: Option<Vec<(String, String)>>) -> PyResult<Vec<(String, FieldType)>> {
    fields
        .unwrap_or_default()
        .into_iter()
        .map(|(column, t)| {
            let t = t
                .parse::<FieldType>()
                .map_err(|e| value_error(format!("fields[{column:?}]: {e}")))?;
            Ok((column, t))
        })
        .collect()
}

/// A pyarrow table as nayose's table of text rows (every scalar column as
/// its text; rows that cannot be read are rejects, with their row number).
fn to_table(table: PyTable, max_field_bytes: usize) -> PyResult<Table> {
    let (batches, schema) = table.into_inner();
    let opts = ReadOptions {
        max_field_bytes,
        ..ReadOptions::default()
    };
    read_batches(&schema, batches.into_iter().map(Ok::<_, ArrowError>), &opts).map_err(value_error)
}

/// Rows of text as a pyarrow table (an empty value as null).
fn from_rows<'r>(headers: &[&str], rows: impl Iterator<Item = Vec<&'r str>>) -> PyResult<PyTable> {
    let schema = text_schema(headers);
    let mut builder = BatchBuilder::new(schema.clone());
    let mut batches = Vec::new();
    for row in rows {
        batches.extend(builder.push(&row));
    }
    batches.extend(builder.finish());
    PyTable::try_new(batches, schema).map_err(value_error)
}

/// The rejects as a table `row,column,error,raw` (as the rejects file).
fn rejects_table(rejects: &[Reject]) -> PyResult<PyTable> {
    let cells: Vec<[String; 4]> = rejects
        .iter()
        .map(|r| {
            [
                r.line.to_string(),
                r.column.map(|c| c.to_string()).unwrap_or_default(),
                r.reason.clone(),
                r.raw.clone(),
            ]
        })
        .collect();
    from_rows(
        &["row", "column", "error", "raw"],
        cells.iter().map(|c| c.iter().map(String::as_str).collect()),
    )
}

/// Normalize values as `clean` normalizes a column of `field_type`: the
/// canonical form, or the value as it came when it has none; null stays
/// null.
#[pyfunction]
#[pyo3(signature = (values, field_type, rules=None))]
fn normalize(
    py: Python<'_>,
    values: PyArrowType<arrow_data::ArrayData>,
    field_type: &str,
    rules: Option<(String, String)>,
) -> PyResult<PyArrowType<arrow_data::ArrayData>> {
    let t = field_type.parse::<FieldType>().map_err(value_error)?;
    let array: ArrayRef = arrow_array::make_array(values.0);
    let text = arrow_cast_to_text(&array)?;
    let rules = load_rules(rules)?;
    let out = py.detach(|| {
        let normalizer = Normalizer::new(&rules);
        let normalized: StringArray = text
            .iter()
            .map(|v| {
                v.map(|raw| {
                    normalizer
                        .normalize(t, raw)
                        .value
                        .unwrap_or_else(|| raw.to_string())
                })
            })
            .collect();
        normalized
    });
    Ok(PyArrowType(out.into_data()))
}

fn arrow_cast_to_text(array: &ArrayRef) -> PyResult<StringArray> {
    let schema = arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "value",
        array.data_type().clone(),
        true,
    )]);
    let batch =
        RecordBatch::try_new(Arc::new(schema.clone()), vec![array.clone()]).map_err(value_error)?;
    let rows = read_batches(
        &schema,
        [Ok(batch)],
        &ReadOptions {
            max_field_bytes: usize::MAX,
            ..ReadOptions::default()
        },
    )
    .map_err(value_error)?;
    if let Some(r) = rows.rejects.first() {
        return Err(value_error(format!("value {}: {}", r.line - 1, r.reason)));
    }
    // A null and an empty value both read as empty: keep nulls null.
    Ok(rows
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (!array.is_null(i)).then(|| r.fields[0].as_str()))
        .collect())
}

/// `clean` on a table: (cleaned table, rejects table, report as JSON).
#[pyfunction]
#[pyo3(signature = (table, rules=None, fields=None, keep_raw=false, address_parts=false, issues_column=false, max_field_bytes=1<<20))]
#[allow(clippy::too_many_arguments)]
fn clean(
    py: Python<'_>,
    table: PyArrowType<PyTable>,
    rules: Option<(String, String)>,
    fields: Option<Vec<(String, String)>>,
    keep_raw: bool,
    address_parts: bool,
    issues_column: bool,
    max_field_bytes: usize,
) -> PyResult<(PyArrowType<PyTable>, PyArrowType<PyTable>, String)> {
    let rules = load_rules(rules)?;
    let overrides = overrides(fields)?;
    let table = to_table(table.0, max_field_bytes)?;
    let opts = CleanOptions {
        keep_raw,
        address_parts,
        issues_column,
    };
    let (cleaned, report) = py
        .detach(|| {
            let normalizer = Normalizer::new(&rules);
            let cleaned = clean_table(&table, &overrides, &rules, &normalizer, &opts)?;
            let report = serde_json::json!({
                "rows_in": table.rows.len() + table.rejects.len(),
                "rows_out": cleaned.rows.len(),
                "rows_rejected": table.rejects.len(),
                "columns": cleaned.columns,
            });
            Ok::<_, nayose::clean::CleanError>((cleaned, report))
        })
        .map_err(value_error)?;
    let headers: Vec<&str> = cleaned.headers.iter().map(String::as_str).collect();
    let out = from_rows(
        &headers,
        cleaned
            .rows
            .iter()
            .map(|r| r.fields.iter().map(String::as_str).collect()),
    )?;
    Ok((
        PyArrowType(out),
        PyArrowType(rejects_table(&table.rejects)?),
        report.to_string(),
    ))
}

/// `dedupe` on a table: (clusters table, rejects table, summary as JSON).
#[pyfunction]
#[pyo3(signature = (table, rules=None, fields=None, id_column=None, labels=None, max_field_bytes=1<<20))]
fn dedupe(
    py: Python<'_>,
    table: PyArrowType<PyTable>,
    rules: Option<(String, String)>,
    fields: Option<Vec<(String, String)>>,
    id_column: Option<String>,
    labels: Option<PathBuf>,
    max_field_bytes: usize,
) -> PyResult<(PyArrowType<PyTable>, PyArrowType<PyTable>, String)> {
    let rules = load_rules(rules)?;
    let table = to_table(table.0, max_field_bytes)?;
    let job = DedupeJob {
        labels,
        ..DedupeJob::for_table(overrides(fields)?, id_column)
    };
    let done = py
        .detach(|| {
            let normalizer = Normalizer::new(&rules);
            dedupe_table(table, &job, &rules, &normalizer, &NoProgress)
        })
        .map_err(value_error)?;
    let (result, rows, rejects) = (&done.result, &done.clusters, &done.rejects);
    let summary = serde_json::json!({
        "records": result.records,
        "rejected": result.rejected,
        "candidate_pairs": result.candidate_pairs,
        "clusters": result.clusters,
        "largest_cluster": result.largest_cluster(),
        "stages": result.stages,
        "model": result.model.to_toml(),
        "labels": result.labels.as_ref().map(|l| l.summary(&rules.matching)),
    });
    let out = from_rows(
        &CLUSTER_COLUMNS,
        rows.iter().map(|r| r.iter().map(String::as_str).collect()),
    )?;
    Ok((
        PyArrowType(out),
        PyArrowType(rejects_table(rejects)?),
        summary.to_string(),
    ))
}

/// The field types nayose knows (`company_name`, `address`, …).
#[pyfunction]
fn field_types() -> Vec<String> {
    FieldType::ALL.iter().map(|t| t.to_string()).collect()
}

#[pymodule]
fn _nayose(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(clean, m)?)?;
    m.add_function(wrap_pyfunction!(dedupe, m)?)?;
    m.add_function(wrap_pyfunction!(field_types, m)?)?;
    m.add_class::<spark::DedupeStages>()?;
    m.add_class::<spark::TopHits>()?;
    m.add_class::<spark::LabelFile>()?;
    m.add_class::<spark::RankedLabels>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
