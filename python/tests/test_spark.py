"""``nayose.spark`` on a real multi-process Spark: a standalone master and
two workers, each a JVM of its own with its own Python workers
(``local-cluster[2,1,1024]``), on loopback. The Spark jobs must give what
the embedded jobs give, whatever the number of partitions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import nayose

import nayose.spark

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample" / "demo.csv"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local-cluster[2,1,1024]")
        .appName("nayose-tests")
        .config("spark.driver.memory", "1g")
        .config("spark.executor.memory", "1g")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
        .getOrCreate()
    )
    yield session
    session.stop()


def sample_table() -> pa.Table:
    with open(SAMPLE, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
    return pacsv.read_csv(
        SAMPLE, convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header})
    )


def by_id(rows) -> list:
    return sorted(tuple(r) for r in rows)


def test_the_cluster_has_two_worker_processes(spark):
    sc = spark.sparkContext
    assert sc.master == "local-cluster[2,1,1024]"
    pids = (
        sc.parallelize(range(40), 8).map(lambda _: os.getppid()).distinct().collect()
    )
    # Python workers are forked by their executor's daemon: two executors,
    # two distinct parents.
    assert len(set(pids)) >= 2


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_spark_clean_equals_embedded_clean(spark, partitions):
    table = sample_table()
    embedded = nayose.clean(table)
    df = spark.createDataFrame(table.to_pandas()).repartition(partitions)
    result = nayose.spark.clean(df)
    assert result.cleaned.columns == embedded.table.column_names
    got = by_id(result.cleaned.collect())
    want = by_id(tuple(r.values()) for r in embedded.table.to_pylist())
    assert got == want
    assert result.rejects.count() == 0


def test_spark_clean_keeps_every_row(spark):
    rows = [(str(i), "㈱ＸＹＺ" if i % 2 else "東京商事", b"ok" if i != 5 else b"\xff") for i in range(20)]
    df = spark.createDataFrame(rows, "id string, `会社名` string, memo binary").repartition(3)
    result = nayose.spark.clean(df)
    assert result.cleaned.count() == 19
    rejects = result.rejects.collect()
    assert len(rejects) == 1
    assert rejects[0]["column"] == "memo" and "UTF-8" in rejects[0]["error"]
