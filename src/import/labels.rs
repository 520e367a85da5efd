//! Labels files: pairs of records a person has decided. Columns `id_a`,
//! `id_b` and `label` (in any order, among others), `label` being `match`
//! or `non_match`; any format a table comes in (CSV, TSV, XLSX). A labels
//! file is small and decisive, so any row that cannot be read is an error
//! with its line and column, not a reject.

use super::{
    find_column, read_bytes, read_path, Format, ImportError, ImportErrorKind, ReadOptions, Table,
};
use std::collections::HashMap;
use std::path::Path;

/// One decided pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRow {
    /// 1-based line (XLSX: sheet row) it was read from.
    pub line: usize,
    pub id_a: String,
    pub id_b: String,
    /// `match` (true) or `non_match` (false).
    pub matched: bool,
}

/// Read a labels file. Refused: a missing column, a row that cannot be
/// read, an empty id, a pair of one record, a label other than `match` or
/// `non_match`, and one pair labelled both ways.
pub fn read_labels(path: &Path, opts: &ReadOptions) -> Result<Vec<LabelRow>, ImportError> {
    let table = read_path(path, opts)?;
    labels_in(&table).map_err(|k| ImportError::new(k).at(path))
}

/// A labels file's rows, from its bytes (the service's label import): the
/// pairs it could use, and each row it could not, with its line, column and
/// reason — the service keeps the good rows and answers with the bad ones
/// (a pair labelled both ways is neither).
/// Only a file without the three columns is an error.
pub fn read_labels_bytes(
    bytes: &[u8],
    format: Format,
    opts: &ReadOptions,
) -> Result<(Vec<LabelRow>, Vec<BadLabel>), ImportError> {
    let table = read_bytes(bytes, format, opts)?;
    rows_of(&table).map_err(ImportError::new)
}

/// A labels row that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BadLabel {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub reason: String,
}

fn labels_in(table: &Table) -> Result<Vec<LabelRow>, ImportErrorKind> {
    let (rows, bad) = rows_of(table)?;
    match bad.into_iter().next() {
        Some(b) => Err(ImportErrorKind::BadLabels {
            line: b.line,
            column: b.column,
            reason: b.reason,
        }),
        None => Ok(rows),
    }
}

fn rows_of(table: &Table) -> Result<(Vec<LabelRow>, Vec<BadLabel>), ImportErrorKind> {
    let column = |name: &str| {
        find_column(&table.headers, name).ok_or_else(|| ImportErrorKind::BadLabels {
            line: 1,
            column: None,
            reason: format!(
                "no `{name}` column (a labels file has id_a, id_b and label; this one has {})",
                table.headers.join(", ")
            ),
        })
    };
    let (ca, cb, cl) = (column("id_a")?, column("id_b")?, column("label")?);
    let mut bad: Vec<BadLabel> = table
        .rejects
        .iter()
        .map(|r| BadLabel {
            line: r.line,
            column: r.column,
            reason: r.reason.clone(),
        })
        .collect();
    let mut out: Vec<Option<LabelRow>> = Vec::with_capacity(table.rows.len());
    // Per pair: its first line, its label, its place in `out`.
    let mut seen: HashMap<(String, String), (usize, bool, usize)> = HashMap::new();
    'rows: for row in &table.rows {
        let mut refuse = |column: usize, reason: String| {
            bad.push(BadLabel {
                line: row.line,
                column: Some(column + 1),
                reason,
            })
        };
        let (a, b) = (row.fields[ca].trim(), row.fields[cb].trim());
        for (c, v) in [(ca, a), (cb, b)] {
            if v.is_empty() {
                refuse(c, "the id is empty".into());
                continue 'rows;
            }
        }
        if a == b {
            refuse(cb, format!("`{a}` is labelled against itself"));
            continue;
        }
        let matched = match row.fields[cl].trim() {
            "match" => true,
            "non_match" => false,
            other => {
                refuse(cl, format!("label `{other}`: it is `match` or `non_match`"));
                continue;
            }
        };
        let key = if a < b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        };
        if let Some(&(first, was, at)) = seen.get(&key) {
            // Labelled both ways: neither label is used.
            if was != matched || out[at].is_none() {
                out[at] = None;
                refuse(
                    cl,
                    format!("{a} and {b} are labelled both ways (line {first} and here)"),
                );
            }
            continue;
        }
        seen.insert(key, (row.line, matched, out.len()));
        out.push(Some(LabelRow {
            line: row.line,
            id_a: a.to_string(),
            id_b: b.to_string(),
            matched,
        }));
    }
    bad.sort_by_key(|b| b.line);
    Ok((out.into_iter().flatten().collect(), bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<LabelRow>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.csv");
        std::fs::write(&path, text).unwrap();
        read_labels(&path, &ReadOptions::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_labels_and_refuses_what_it_cannot_use() {
        let ok = read("label,id_a,id_b\nmatch,R1,R2\nnon_match,R3,R1\nmatch,R2,R1\n").unwrap();
        assert_eq!(ok.len(), 2, "a repeated pair counts once");
        assert_eq!((ok[1].line, ok[1].matched), (3, false));
        let e = read("a,b,label\nR1,R2,match\n").unwrap_err();
        assert!(e.contains("no `id_a` column"), "{e}");
        let e = read("id_a,id_b,label\nR1,R2,yes\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("column 3") && e.contains("yes"),
            "{e}"
        );
        let e = read("id_a,id_b,label\nR1,R2,match\nR2,R1,non_match\n").unwrap_err();
        assert!(e.contains("both ways") && e.contains("line 2"), "{e}");
        let e = read("id_a,id_b,label\nR1,R1,match\n").unwrap_err();
        assert!(e.contains("against itself"), "{e}");
        let e = read("id_a,id_b,label\nR1,,match\n").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = read("id_a,id_b,label\nR1,\"R2,match\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn the_service_keeps_the_good_rows_and_neither_label_of_a_pair_said_both_ways() {
        let text = "id_a,id_b,label\nR1,R2,match\nR3,R4,match\nR2,R1,non_match\nR1,R2,match\nR5,R6,maybe\n";
        let (rows, bad) =
            read_labels_bytes(text.as_bytes(), Format::Csv, &ReadOptions::default()).unwrap();
        let kept: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.id_a.as_str(), r.id_b.as_str()))
            .collect();
        assert_eq!(kept, [("R3", "R4")]);
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [4, 5, 6], "{bad:?}");
    }
}
