//! The `nayose` binary, run as a user runs it: real files in a fresh
//! temporary directory per test, exit codes, stdout/stderr, output files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

use crate::common::nayose;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `clean INPUT -o DIR/OUT_NAME -q ARGS…`, expects success, and returns
/// the output file's bytes.
fn clean_ok(d: &Dir, input: &Path, out_name: &str, args: &[&str]) -> Vec<u8> {
    let out = d.path(out_name);
    let mut all = vec!["clean", s(input), "-o", s(&out), "-q"];
    all.extend_from_slice(args);
    let o = nayose(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(out).unwrap()
}

fn csv_rows(text: &str) -> usize {
    // The files in these tests have no quoted newlines.
    text.lines().count().saturating_sub(1)
}

fn report(dir: &Dir) -> serde_json::Value {
    serde_json::from_str(&dir.read("report.json")).unwrap()
}

/// Rows in = rows out + rows rejected, counted from the files themselves
/// (these inputs have no line breaks inside fields): data lines of the input,
/// data lines of the output, records of the rejects file — and the report
/// agrees with all three.
fn assert_rows_balance(input: &[u8], output: &str, rejects: &str, r: &serde_json::Value) {
    let input_records = String::from_utf8_lossy(input)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
        - 1;
    let output_rows = output.lines().count() - 1;
    let rejected = rejects
        .lines()
        .skip(1)
        .filter(|l| {
            l.split(',')
                .next()
                .is_some_and(|n| n.parse::<usize>().is_ok())
        })
        .count();
    assert_eq!(input_records, output_rows + rejected, "{r}");
    let n = |k: &str| r[k].as_u64().unwrap() as usize;
    assert_eq!(
        (n("rows_in"), n("rows_out"), n("rows_rejected")),
        (input_records, output_rows, rejected),
        "{r}"
    );
}

const HEADER: &str = "顧客ID,会社名,電話番号,郵便番号\n";

#[test]
fn cleans_the_bundled_sample_keeping_rows_and_columns() {
    let d = Dir::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/customers.csv");
    let out = d.path("out.csv");
    let rep = d.path("report.json");
    let o = nayose(&["clean", s(&sample), "-o", s(&out), "--report", s(&rep)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let input = std::fs::read_to_string(&sample).unwrap();
    let output = d.read("out.csv");
    let in_header = input.lines().next().unwrap();
    let out_header = output.lines().next().unwrap();
    // Same columns in the same order; derived columns come right after their source.
    let in_cols: Vec<&str> = in_header.split(',').collect();
    let out_cols: Vec<&str> = out_header.split(',').collect();
    let kept: Vec<&str> = out_cols
        .iter()
        .copied()
        .filter(|c| in_cols.contains(c))
        .collect();
    assert_eq!(kept, in_cols);
    let r = report(&d);
    assert_rows_balance(input.as_bytes(), &output, "", &r);
    assert_eq!(r["rows_in"].as_u64().unwrap() as usize, csv_rows(&input));
    // The summary has a line per column with the detected type.
    let cols = r["columns"].as_array().unwrap();
    let ty = |name: &str| {
        cols.iter()
            .find(|c| c["column"] == name)
            .map(|c| c["field_type"].as_str().unwrap().to_string())
    };
    assert_eq!(ty("会社名").as_deref(), Some("company_name"));
    assert_eq!(ty("電話番号").as_deref(), Some("phone"));
    assert_eq!(ty("生年月日").as_deref(), Some("date"));
    assert_eq!(ty("連絡可否").as_deref(), Some("text"));
    assert!(stderr(&o).contains("rows in"), "{}", stderr(&o));
}

#[test]
fn output_is_byte_identical_across_runs() {
    let d = Dir::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/customers.csv");
    let a = d.path("a.csv");
    let b = d.path("b.csv");
    assert!(nayose(&["clean", s(&sample), "-o", s(&a), "-q"])
        .status
        .success());
    assert!(nayose(&["clean", s(&sample), "-o", s(&b), "-q"])
        .status
        .success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn cp932_in_utf8_out_and_back() {
    let d = Dir::new();
    let text = format!("{HEADER}1,㈱ＡＢＣ商事,０３－１２３４－５６７８,１６０－００２３\n2,髙橋工業（有）,06(6123)4567,5300001\n");
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!bad);
    let input = d.write("in.csv", &bytes);
    let cleaned = String::from_utf8(clean_ok(&d, &input, "out.csv", &[])).unwrap();
    assert!(cleaned.contains("株式会社ABC商事"), "{cleaned}");
    assert!(cleaned.contains("髙橋工業有限会社"), "{cleaned}");
    assert!(cleaned.contains("03-1234-5678"), "{cleaned}");
    assert!(cleaned.contains("160-0023"), "{cleaned}");

    // And written back as CP932 for an old Excel.
    let raw = clean_ok(&d, &input, "out-sjis.csv", &["--encoding", "cp932"]);
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "expected CP932 bytes, got UTF-8"
    );
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&raw);
    assert!(!bad);
    assert_eq!(decoded, cleaned);
}

#[test]
fn utf8_bom_output_for_excel() {
    let d = Dir::new();
    let input = d.write(
        "in.csv",
        format!("{HEADER}1,ABC(株),0312345678,1600023\n").as_bytes(),
    );
    let out = d.path("out.csv");
    assert!(nayose(&[
        "clean",
        s(&input),
        "-o",
        s(&out),
        "--encoding",
        "utf-8-bom",
        "-q"
    ])
    .status
    .success());
    let raw = std::fs::read(&out).unwrap();
    assert!(raw.starts_with(&[0xEF, 0xBB, 0xBF]));
}

/// Runs `clean` on `content`, expecting success, and returns (output, rejects, report).
fn clean_expecting_rejects(content: &[u8]) -> (String, String, serde_json::Value, String) {
    let d = Dir::new();
    let input = d.write("in.csv", content);
    let out = d.path("out.csv");
    let rej = d.path("rejects.csv");
    let rep = d.path("report.json");
    let o = nayose(&[
        "clean",
        s(&input),
        "-o",
        s(&out),
        "--rejects",
        s(&rej),
        "--report",
        s(&rep),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&d);
    let rejects = std::fs::read_to_string(&rej).unwrap_or_default();
    let output = d.read("out.csv");
    assert_rows_balance(content, &output, &rejects, &r);
    (output, rejects, r, stderr(&o))
}

#[test]
fn unbalanced_quote_rejects_one_row_and_keeps_the_rest() {
    let content = format!(
        "{HEADER}1,\"ABC商事,0312345678,1600023\n2,DEF(株),0312345679,1600023\n3,GHI(有),0312345670,1600023\n"
    );
    let (out, rejects, r, err) = clean_expecting_rejects(content.as_bytes());
    assert_eq!(r["rows_rejected"], 1, "{r}");
    assert_eq!(r["rows_out"], 2, "{r}");
    assert!(
        out.contains("DEF株式会社") && out.contains("GHI有限会社"),
        "{out}"
    );
    assert!(rejects.contains("quote"), "{rejects}");
    assert!(
        rejects.lines().nth(1).unwrap().starts_with("2,"),
        "line 2: {rejects}"
    );
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn unbalanced_quote_on_the_last_line() {
    let content = format!("{HEADER}1,DEF(株),0312345679,1600023\n2,\"GHI,0312345670,1600023\n");
    let (_, rejects, r, _) = clean_expecting_rejects(content.as_bytes());
    assert_eq!(r["rows_rejected"], 1, "{r}");
    assert_eq!(r["rows_out"], 1, "{r}");
    assert!(rejects.contains("quote"), "{rejects}");
}

#[test]
fn wrong_column_counts_are_rejected_with_their_line() {
    let content = format!("{HEADER}1,A(株),0312345678\n2,B(株),0312345678,1600023,extra\n3,C(株),0312345678,1600023\n");
    let (out, rejects, r, _) = clean_expecting_rejects(content.as_bytes());
    assert_eq!(r["rows_rejected"], 2, "{r}");
    assert!(out.contains("C株式会社"));
    assert!(rejects.contains("expected 4"), "{rejects}");
    let lines: Vec<&str> = rejects.lines().skip(1).collect();
    assert!(
        lines[0].starts_with("2,") && lines[1].starts_with("3,"),
        "{rejects}"
    );
}

#[test]
fn undecodable_bytes_reject_only_their_row() {
    let mut content = HEADER.as_bytes().to_vec();
    content.extend_from_slice("1,A(株),0312345678,1600023\n".as_bytes());
    content.extend_from_slice(b"2,B\xff\xfe,0312345678,1600023\n");
    content.extend_from_slice("3,C(株),0312345678,1600023\n".as_bytes());
    // Enough valid UTF-8 multi-byte text that the file is recognisably UTF-8.
    for i in 4..40 {
        content.extend_from_slice(format!("{i},日本商事(株),0312345678,1600023\n").as_bytes());
    }
    let (_, rejects, r, _) = clean_expecting_rejects(&content);
    assert_eq!(r["rows_rejected"], 1, "{r}");
    assert!(
        rejects.lines().nth(1).unwrap().starts_with("3,2,"),
        "line 3, column 2: {rejects}"
    );
    assert!(
        rejects.contains("\\xFF") || rejects.contains("\\xff"),
        "raw bytes kept: {rejects}"
    );
}

#[test]
fn a_10mb_field_is_rejected_not_swallowed() {
    let mut content = HEADER.to_string();
    content.push_str("1,A(株),0312345678,1600023\n");
    content.push_str(&format!(
        "2,{},0312345678,1600023\n",
        "あ".repeat(10 * 1024 * 1024 / 3)
    ));
    content.push_str("3,C(株),0312345678,1600023\n");
    let (out, rejects, r, _) = clean_expecting_rejects(content.as_bytes());
    assert_eq!(r["rows_rejected"], 1, "{r}");
    assert_eq!(r["rows_out"], 2, "{r}");
    assert!(out.contains("C株式会社"));
    assert!(
        rejects.contains("limit"),
        "{}",
        &rejects[..200.min(rejects.len())]
    );
}

#[test]
fn empty_file_is_a_clear_error() {
    let d = Dir::new();
    let input = d.write("empty.csv", b"");
    let o = nayose(&["clean", s(&input), "-o", s(&d.path("out.csv"))]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn header_only_file_gives_header_only_output() {
    let d = Dir::new();
    let input = d.write("h.csv", HEADER.as_bytes());
    let out = d.path("out.csv");
    let o = nayose(&["clean", s(&input), "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = d.read("out.csv");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(stderr(&o).contains("0 rows in"), "{}", stderr(&o));
}

#[test]
fn an_xlsx_that_is_not_one() {
    let d = Dir::new();
    let input = d.write("fake.xlsx", b"this is not a zip file at all");
    let o = nayose(&["clean", s(&input), "-o", s(&d.path("out.csv"))]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("fake.xlsx") && err.to_lowercase().contains("xlsx"),
        "{err}"
    );
}

#[test]
fn a_real_xlsx_is_cleaned_from_the_named_sheet() {
    let d = Dir::new();
    let path = d.path("book.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let first = wb.add_worksheet();
    first.set_name("メモ").unwrap();
    first.write_string(0, 0, "not the data").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("顧客").unwrap();
    for (c, h) in ["会社名", "電話番号", "郵便番号"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "㈱ＸＹＺ").unwrap();
    ws.write_string(1, 1, "0312345678").unwrap();
    ws.write_string(1, 2, "1600023").unwrap();
    wb.save(&path).unwrap();
    let out = d.path("out.csv");
    let text = String::from_utf8(clean_ok(&d, &path, "out.csv", &["--sheet", "顧客"])).unwrap();
    assert!(
        text.contains("株式会社XYZ,,03-1234-5678,160-0023"),
        "{text}"
    );
    let o = nayose(&["clean", s(&path), "--sheet", "nope", "-o", s(&out)]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("顧客"),
        "lists the sheets: {}",
        stderr(&o)
    );
}

#[test]
fn field_override_and_keep_raw() {
    let d = Dir::new();
    let input = d.write("in.csv", "取引先,TEL\n㈱ＡＢＣ,03-1234-5678\n".as_bytes());
    let out = d.path("out.csv");
    let text = clean_ok(
        &d,
        &input,
        "out.csv",
        &["--field", "取引先=company_name", "--keep-raw"],
    );
    let text = String::from_utf8(text).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "取引先,取引先_raw,取引先_branch,TEL,TEL_raw"
    );
    assert_eq!(
        lines.next().unwrap(),
        "株式会社ABC,㈱ＡＢＣ,,03-1234-5678,03-1234-5678"
    );
    let o = nayose(&[
        "clean",
        s(&input),
        "-o",
        s(&out),
        "--field",
        "会社=company_name",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("会社"), "{}", stderr(&o));
}

#[test]
fn broken_rule_file_fails_fast_with_its_line() {
    let d = Dir::new();
    let rules = d.write("r.toml", b"[options.phone]\nformat = \"nationl\"\n");
    let input = d.write("in.csv", HEADER.as_bytes());
    let o = nayose(&[
        "clean",
        s(&input),
        "-o",
        s(&d.path("o.csv")),
        "--rules",
        s(&rules),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("r.toml:2"), "{err}");
}

#[test]
fn normalize_command_prints_one_value_per_line() {
    let o = nayose(&[
        "normalize",
        "date",
        "R5.4.1",
        "平成31年5月1日",
        "2024年1月5日",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an invalid value makes the exit code 1"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "2023-04-01\n\n2024-01-05\n"
    );
    assert!(stderr(&o).contains("平成31年5月1日"), "{}", stderr(&o));
    let o = nayose(&["normalize", "company_name", "㈱ＡＢＣ商事"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "株式会社ABC商事\n");
}

#[test]
fn address_parts_issues_column_and_json() {
    let d = Dir::new();
    let input = d.write(
        "in.csv",
        "住所,電話番号\n千代田区霞が関1-2-1 霞が関ビル5F,03-1234\n".as_bytes(),
    );
    let text = clean_ok(
        &d,
        &input,
        "out.csv",
        &["--address-parts", "--issues-column"],
    );
    let text = String::from_utf8(text).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "住所,住所_prefecture,住所_city,住所_street,住所_town,住所_lot,住所_building,住所_note,電話番号,issues"
    );
    assert_eq!(
        lines.next().unwrap(),
        "東京都千代田区霞が関一丁目2-1 霞が関ビル5F,東京都,千代田区,,霞が関一丁目,2-1,霞が関ビル5F,,03-1234,電話番号:invalid_phone"
    );

    let o = nayose(&[
        "normalize",
        "--json",
        "company_name",
        "ABC商事（株） 札幌支店",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["input"], "ABC商事（株） 札幌支店");
    assert_eq!(v["value"], "ABC商事株式会社");
    assert_eq!(v["key"], "ABC商事".to_lowercase());
    let parts = v["parts"].as_array().unwrap();
    assert!(
        parts
            .iter()
            .any(|p| p["name"] == "branch" && p["value"] == "札幌支店"),
        "{v}"
    );
}

/// The parallel path (several batches, many chunks) writes the same bytes
/// whatever the number of threads.
#[test]
fn output_is_identical_across_thread_counts() {
    let d = Dir::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/customers.csv");
    let text = std::fs::read_to_string(sample).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut big = format!("{header}\n");
    // 240 rows × 80 = 19,200 rows: more than one 16,384-row batch.
    for _ in 0..80 {
        big.push_str(body);
    }
    let input = d.write("big.csv", big.as_bytes());
    let run = |threads: &str, name: &str| {
        let out = d.path(name);
        let o = Command::new(env!("CARGO_BIN_EXE_nayose"))
            .args(["clean", s(&input), "-o", s(&out), "-q"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let one = run("1", "one.csv");
    let four = run("4", "four.csv");
    assert_eq!(one.len(), four.len());
    assert!(one == four, "outputs differ between 1 and 4 threads");
    assert_eq!(String::from_utf8_lossy(&one).lines().count(), 19_201);
}

#[test]
fn records_past_the_first_batches_keep_their_order_lines_and_rejects() {
    // 25,000 records: the reader hands them over in 16,384-record batches,
    // read while the previous batch is cleaned. Broken records on both sides
    // of the batch boundary are rejected with their own line.
    let mut content = String::from(HEADER);
    let mut expected_ids = Vec::new();
    let mut expected_reject_lines = Vec::new();
    for i in 1..=25_000usize {
        let line = i + 1;
        if i % 997 == 0 {
            content.push_str(&format!("{i},A(株),0312345678\n"));
            expected_reject_lines.push(line);
        } else if i == 16_390 {
            content.push_str(&format!("{i},\"B(株),0312345678,1600023\n"));
            expected_reject_lines.push(line);
        } else {
            content.push_str(&format!("{i},C(株),0312345678,1600023\n"));
            expected_ids.push(i.to_string());
        }
    }
    let (out, rejects, r, _) = clean_expecting_rejects(content.as_bytes());
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, expected_ids);
    let reject_lines: Vec<usize> = rejects
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(reject_lines, expected_reject_lines, "{r}");
    assert!(out.lines().nth(1).unwrap().contains("C株式会社"), "{out}");
}

#[test]
fn an_xlsx_bomb_is_refused_with_its_memory_bounded() {
    let d = Dir::new();
    let input = d.write("bomb.xlsx", &crate::common::xlsx_bomb());
    let out = d.path("out.csv");
    let (o, peak_kib) = crate::common::nayose_measured(&["clean", s(&input), "-o", s(&out)]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("bomb.xlsx") && err.contains("too large to read safely"),
        "{err}"
    );
    // Refused before anything is expanded: well under the 100 MB the cell
    // holds (the process itself, its tables included, is about 60 MB).
    assert!(peak_kib < 100 * 1024, "peak {peak_kib} KiB");
    assert!(!out.exists());
}

/// A CSV file's header and rows, as nayose's CSV reader reads them.
fn csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let t = nayose::import::read_path(path, &Default::default()).unwrap();
    assert!(t.rejects.is_empty());
    (t.headers, t.rows.into_iter().map(|r| r.fields).collect())
}

/// Write a Parquet file with the parquet crate's own writer (not nayose's):
/// text columns (an empty value as null), plus any extra typed columns.
fn write_parquet(
    path: &Path,
    headers: &[String],
    rows: &[Vec<String>],
    extra: Vec<(&str, arrow_array::ArrayRef)>,
) {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;
    let mut fields: Vec<Field> = headers
        .iter()
        .map(|h| Field::new(h, arrow_schema::DataType::Utf8, true))
        .collect();
    let mut columns: Vec<ArrayRef> = (0..headers.len())
        .map(|c| {
            let values: Vec<Option<&str>> = rows
                .iter()
                .map(|r| Some(r[c].as_str()).filter(|v| !v.is_empty()))
                .collect();
            Arc::new(StringArray::from(values)) as ArrayRef
        })
        .collect();
    for (name, array) in extra {
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Every row of a Parquet file, each value as text (a null as empty).
fn read_parquet(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    use arrow_array::{Array, StringArray};
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let headers = arrow_array::RecordBatchReader::schema(&reader)
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        let c = c
                            .as_any()
                            .downcast_ref::<StringArray>()
                            .expect("text columns");
                        if c.is_null(i) {
                            String::new()
                        } else {
                            c.value(i).to_string()
                        }
                    })
                    .collect(),
            );
        }
    }
    (headers, rows)
}

/// A Parquet file gives what the same data as CSV gives, byte for byte, in
/// `clean` and in `dedupe`; a `.parquet` output holds the CSV output's rows.
#[test]
fn parquet_in_and_out_agree_with_csv() {
    let d = Dir::new();
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/demo.csv");
    let pq = d.path("in.parquet");
    let (headers, rows) = csv_table(&csv);
    write_parquet(&pq, &headers, &rows, vec![]);
    assert_eq!(
        clean_ok(&d, &pq, "a.csv", &[]),
        clean_ok(&d, &csv, "b.csv", &[])
    );
    for (input, out) in [(&pq, "c.csv"), (&csv, "d.csv")] {
        let o = nayose(&["dedupe", s(input), "-o", s(&d.path(out)), "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(d.read("c.csv"), d.read("d.csv"));
    // Out as Parquet: the CSV output's rows, an empty value as a null.
    clean_ok(&d, &csv, "e.parquet", &[]);
    let got = read_parquet(&d.path("e.parquet"));
    assert_eq!(got.1.len(), 3000);
    assert_eq!(got, csv_table(&d.path("b.csv")));
    let o = nayose(&["dedupe", s(&pq), "-o", s(&d.path("f.parquet")), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        read_parquet(&d.path("f.parquet")),
        csv_table(&d.path("d.csv"))
    );
}

/// Typed Parquet columns are read as their text; a value that is not UTF-8
/// rejects its row (kept in the rejects file); a nested column and a file
/// that is not Parquet are errors that say so.
#[test]
fn parquet_types_rejects_and_errors() {
    use arrow_array::{ArrayRef, BinaryArray, Date32Array, Int64Array, ListArray};
    use std::sync::Arc;
    let d = Dir::new();
    let pq = d.path("typed.parquet");
    let extra: Vec<(&str, ArrayRef)> = vec![
        ("no", Arc::new(Int64Array::from(vec![Some(7), None]))),
        (
            "生年月日",
            Arc::new(Date32Array::from(vec![Some(19448), Some(0)])),
        ),
        (
            "memo",
            Arc::new(BinaryArray::from(vec![
                Some(&b"ok"[..]),
                Some(&b"\xff"[..]),
            ])),
        ),
    ];
    let owned = |rows: &[&[&str]]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect()
    };
    let headers = owned(&[&["会社名", "電話番号"]]).remove(0);
    let rows = owned(&[&["㈱ＸＹＺ", "0312345678"], &["㈱ABC", "0312345679"]]);
    write_parquet(&pq, &headers, &rows, extra);
    let text = String::from_utf8(clean_ok(
        &d,
        &pq,
        "out.csv",
        &["--rejects", s(&d.path("rejects.csv"))],
    ))
    .unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "会社名,会社名_branch,電話番号,no,生年月日,memo",
            "株式会社XYZ,,03-1234-5678,7,2023-04-01,ok"
        ]
    );
    let rejects = d.read("rejects.csv");
    assert!(
        rejects.contains("3,5,the value is not UTF-8 text"),
        "{rejects}"
    );
    // Nested.
    let list =
        ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![Some(vec![
            Some(1),
        ])]);
    write_parquet(
        &d.path("nested.parquet"),
        &headers[..1],
        &owned(&[&["X"]]),
        vec![("tags", Arc::new(list))],
    );
    let o = nayose(&[
        "clean",
        s(&d.path("nested.parquet")),
        "-o",
        s(&d.path("n.csv")),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("column `tags`"), "{}", stderr(&o));
    // Not Parquet: the magic, then garbage.
    let bad = d.write("bad.parquet", b"PAR1 this is not a parquet file");
    let o = nayose(&["clean", s(&bad), "-o", s(&d.path("b.csv"))]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("bad.parquet") && err.contains("Parquet"),
        "{err}"
    );
}

/// An output named like an input, or two outputs named alike, stop the run
/// before anything is written: the input is still there, byte for byte.
#[test]
fn no_output_is_written_over_an_input_or_another_output() {
    let d = Dir::new();
    let body = "会社名,電話番号\n株式会社テスト,03-1234-5678\n";
    let input = d.write("in.csv", body.as_bytes());
    let refused = |args: &[&str], says: &str| {
        let o = nayose(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert_eq!(d.read("in.csv"), body, "{args:?}");
    };
    // The same file, written another way (./in.csv from the directory).
    let same = d.tmp.path().join(".").join("in.csv");
    refused(
        &["clean", s(&input), "-o", s(&same), "-q"],
        "is the input file",
    );
    let out = d.path("out.csv");
    refused(
        &[
            "clean",
            s(&input),
            "-o",
            s(&out),
            "--rejects",
            s(&input),
            "-q",
        ],
        "is the input file",
    );
    refused(
        &["dedupe", s(&input), "-o", s(&out), "--pairs", s(&out), "-q"],
        "--output and --pairs name one file",
    );
    refused(
        &[
            "dedupe",
            s(&input),
            "-o",
            s(&out),
            "--report",
            s(&input),
            "-q",
        ],
        "--report",
    );
    refused(
        &[
            "gen",
            "--kind",
            "btoc",
            "--records",
            "10",
            "-o",
            s(&out),
            "--truth",
            s(&out),
        ],
        "--output and --truth name one file",
    );
    assert!(!out.exists(), "nothing written");
}
