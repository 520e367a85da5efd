"""The Python package against the command line: the same files through
``nayose.clean`` / ``nayose.dedupe`` and through the ``nayose`` binary give
the same rows. The binary is ``$NAYOSE_BIN`` (the Rust test that runs this
suite sets it), the sample is the repository's ``fixtures/sample/demo.csv``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import nayose

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample" / "demo.csv"
BIN = os.environ.get("NAYOSE_BIN", str(ROOT / "target" / "release" / "nayose"))


def run(*args: str) -> None:
    subprocess.run([BIN, *args, "-q"], check=True, capture_output=True)


def read_csv_text(path: Path) -> pa.Table:
    """Every column as text, an empty field as an empty string."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=False
        ),
    )


def rows(table: pa.Table) -> list:
    """The rows with nulls as empty strings (the CSV writes both as empty)."""
    return [tuple("" if v is None else v for v in r.values()) for r in table.to_pylist()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gen")
    out = d / "btoc.csv"
    run("gen", "--kind", "btoc", "--records", "2000", "--seed", "7", "-o", str(out),
        "--truth", str(d / "truth.csv"))
    return out


def test_clean_equals_the_command_line(tmp_path):
    out = tmp_path / "clean.csv"
    run("clean", str(SAMPLE), "-o", str(out))
    got = nayose.clean(read_csv_text(SAMPLE))
    expected = read_csv_text(out)
    assert got.table.column_names == expected.column_names
    assert rows(got.table) == rows(expected)
    assert got.report["rows_in"] == got.report["rows_out"] == 3000
    assert got.rejects.num_rows == 0
    cols = {c["column"]: c for c in got.report["columns"]}
    assert cols["会社名"]["field_type"] == "company_name"


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_dedupe_equals_the_command_line(tmp_path, generated, which):
    src = SAMPLE if which == "sample" else generated
    out = tmp_path / "clusters.csv"
    run("dedupe", str(src), "-o", str(out))
    got = nayose.dedupe(read_csv_text(src))
    expected = read_csv_text(out)
    assert got.column_names == ["id", "cluster_id", "cluster_size", "best_score", "best_match_id"]
    assert rows(got) == rows(expected)
    # Not a trivial answer: some records are put together.
    sizes = [int(s) for s in got.column("cluster_size").to_pylist()]
    assert max(sizes) >= 2


def test_parquet_and_pandas_give_the_same_clusters(tmp_path):
    table = read_csv_text(SAMPLE)
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    run("dedupe", str(path), "-o", str(tmp_path / "c.parquet"))
    from_cli = pq.read_table(tmp_path / "c.parquet")
    from_table = nayose.dedupe(pq.read_table(path))
    from_pandas = nayose.dedupe(table.to_pandas())
    assert isinstance(from_pandas, pd.DataFrame)
    assert rows(from_table) == rows(from_cli)
    assert rows(pa.Table.from_pandas(from_pandas, preserve_index=False)) == rows(from_cli)


def test_normalize_is_what_clean_does_to_a_column():
    table = read_csv_text(SAMPLE)
    cleaned = nayose.clean(table).table
    for column, field_type in [("住所", "address"), ("電話番号", "phone"), ("会社名", "company_name")]:
        values = table.column(column).combine_chunks()
        # clean completes an address from the row's postal code; alone,
        # normalize cannot, so compare addresses the postal code did not touch.
        got = nayose.normalize(values, field_type).to_pylist()
        want = cleaned.column(column).to_pylist()
        if field_type == "address":
            same = sum(g == w for g, w in zip(got, want))
            assert same >= 0.95 * len(got)
        else:
            assert ["" if g is None else g for g in got] == ["" if w is None else w for w in want]
    assert nayose.normalize(["R5.4.1", None, "2023/4/1"], "date") == ["2023-04-01", None, "2023-04-01"]
    s = nayose.normalize(pd.Series(["㈱ＡＢＣ", None], name="x"), "company_name")
    assert s.name == "x" and s.iloc[0] == "株式会社ABC" and pd.isna(s.iloc[1])


def test_typed_columns_rejects_and_errors():
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "会社名": ["㈱ＸＹＺ", "㈱ABC", "東京商事"],
            "memo": pa.array([b"ok", b"\xff", None], pa.binary()),
        }
    )
    r = nayose.clean(table)
    assert r.report["rows_in"] == 3 and r.report["rows_out"] == 2 and r.report["rows_rejected"] == 1
    assert r.table.column("id").to_pylist() == ["1", "3"]
    assert r.rejects.to_pylist()[0]["row"] == "3" and "UTF-8" in r.rejects.to_pylist()[0]["error"]
    with pytest.raises(ValueError, match="no_such_type"):
        nayose.normalize(["x"], "no_such_type")
    with pytest.raises(ValueError, match="pass id_column=None"):
        nayose.dedupe(pa.table({"name": ["a"]}))
    with pytest.raises(ValueError, match="取引先"):
        nayose.clean(table, fields={"取引先": "company_name"})
    with pytest.raises(TypeError):
        nayose.clean([1, 2, 3])
    nested = pa.table({"tags": pa.array([[1]], pa.list_(pa.int64()))})
    with pytest.raises(ValueError, match="tags"):
        nayose.clean(nested)
