"""``nayose.spark`` on a real multi-process Spark: a standalone master and
two workers, each a JVM of its own with its own Python workers
(``local-cluster[2,1,1024]``), on loopback. The Spark jobs must give what
the embedded jobs give, whatever the number of partitions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict

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


BIN = os.environ.get("NAYOSE_BIN", str(ROOT / "target" / "release" / "nayose"))


def read_text(path: Path) -> pa.Table:
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
    return pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header})
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Generated files with known duplicates: consumers (2,000, as a CRM
    holds them) and businesses (1,500)."""
    import subprocess

    d = tmp_path_factory.mktemp("gen")
    files = {}
    for name, args in {
        "btoc_crm": ["--kind", "btoc", "--profile", "crm", "--records", "2000", "--seed", "7"],
        "btob": ["--kind", "btob", "--records", "1500", "--seed", "3"],
    }.items():
        out = d / f"{name}.csv"
        subprocess.run(
            [BIN, "gen", *args, "-o", str(out), "--truth", str(d / f"{name}.truth.csv"), "-q"],
            check=True,
            capture_output=True,
        )
        files[name] = out
    return files


def embedded_clusters(table: pa.Table) -> list:
    result = nayose.dedupe(table, full=True)
    rows = [tuple("" if v is None else v for v in r.values()) for r in result.clusters.to_pylist()]
    return sorted(rows), result.summary


def spark_clusters(result) -> list:
    return sorted(tuple("" if v is None else v for v in r) for r in result.clusters.collect())


@pytest.mark.parametrize("which,partitions", [("sample", 1), ("sample", 7), ("btoc_crm", 3), ("btob", 5)])
def test_spark_dedupe_equals_embedded_dedupe(spark, generated, which, partitions):
    table = sample_table() if which == "sample" else read_text(generated[which])
    want, summary = embedded_clusters(table)
    df = spark.createDataFrame(table.to_pandas()).repartition(partitions)
    result = nayose.spark.dedupe(df, max_df=None)
    # The same candidate pairs, the same model, the same clusters.
    assert result.summary["candidate_pairs"] == summary["candidate_pairs"]
    assert result.summary["records"] == table.num_rows
    assert spark_clusters(result) == want
    assert result.summary["clusters"] == summary["clusters"]
    assert result.rejects.count() == 0
    pairs = result.pairs.collect()
    assert len(pairs) == summary["candidate_pairs"]
    assert {p["band"] for p in pairs} <= {"match", "review", "no_match"}


def labels_for(data: Path, tmp: Path) -> Path:
    """A labels file as stewards' decisions make it: the review-band and
    auto-merge pairs of the command line's run (at most 300 of each), each
    labelled by the truth; the namesakes (different people of one kanji
    name) they rejected; a few true pairs the run did not propose; and a row
    naming an id the file does not have."""
    import csv
    import subprocess

    pairs = tmp / "pairs.csv"
    subprocess.run(
        [BIN, "dedupe", str(data), "-o", str(tmp / "clusters.csv"), "--pairs", str(pairs), "-q"],
        check=True,
        capture_output=True,
    )
    with open(data.with_suffix(".truth.csv"), encoding="utf-8") as f:
        entity = {r["id"]: r["entity_id"] for r in csv.DictReader(f)}
    with open(pairs, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    proposed = {frozenset((r["left_id"], r["right_id"])) for r in rows}
    review = [(r["left_id"], r["right_id"]) for r in rows if r["band"] == "review"][:300]
    merged = [(r["left_id"], r["right_id"]) for r in rows if r["band"] == "match"][:300]
    members: Dict[str, list] = {}
    for i, e in sorted(entity.items()):
        members.setdefault(e, []).append(i)
    with open(data, encoding="utf-8") as f:
        named: Dict[str, list] = {}
        for r in csv.DictReader(f):
            if r["氏名"]:
                named.setdefault(r["氏名"], []).append(r["id"])
    namesakes = [
        (a, b)
        for ids in named.values()
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
        if entity[a] != entity[b] and frozenset((a, b)) not in proposed
    ]
    unproposed = [
        (a, b)
        for m in members.values()
        for i, a in enumerate(m)
        for b in m[i + 1 :]
        if frozenset((a, b)) not in proposed
    ][:40]
    out = tmp / "labels.csv"
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id_a", "id_b", "label"])
        for a, b in review + merged + namesakes + unproposed:
            w.writerow([a, b, "match" if entity[a] == entity[b] else "non_match"])
        w.writerow(["no-such-id", review[0][0], "match"])
    return out


def test_spark_dedupe_with_labels_equals_embedded_dedupe(spark, generated, tmp_path):
    # Calibrated bands too: the default rules with both targets set.
    text = (ROOT / "rules" / "default.toml").read_text(encoding="utf-8")
    text = text.replace("# auto_merge_precision = 0.995", "auto_merge_precision = 0.98")
    text = text.replace("# review_recall = 0.99", "review_recall = 0.99")
    assert "\nauto_merge_precision = 0.98" in text and "\nreview_recall = 0.99" in text
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")
    labels = labels_for(generated["btoc_crm"], tmp_path)
    table = read_text(generated["btoc_crm"])
    unlabelled = nayose.dedupe(table, rules=rules, full=True)
    want = nayose.dedupe(table, rules=rules, labels=labels, full=True)
    df = spark.createDataFrame(table.to_pandas()).repartition(3)
    result = nayose.spark.dedupe(df, rules=rules, labels=labels, max_df=None)
    got = result.summary["labels"]
    assert got == want.summary["labels"]
    # The labels teach m and how much a name's rarity tells, alike.
    assert result.summary["model"] == want.summary["model"]
    assert "tf_scale" in want.summary["model"] and "tf_scale" not in unlabelled.summary["model"]
    assert got["unknown"] == 1 and got["matches"] > 5 and got["non_matches"] > 0
    assert got["calibrated"], got
    # The labelled matches blocking missed are pairs of their own.
    assert result.summary["candidate_pairs"] == want.summary["candidate_pairs"]
    assert want.summary["candidate_pairs"] > unlabelled.summary["candidate_pairs"]
    rows = lambda t: sorted(tuple("" if v is None else v for v in r.values()) for r in t.to_pylist())
    assert spark_clusters(result) == rows(want.clusters)
    assert rows(want.clusters) != rows(unlabelled.clusters)
    pairs = result.pairs.collect()
    assert len(pairs) == want.summary["candidate_pairs"]


def test_spark_connect_session_runs_the_same_jobs(tmp_path):
    """A Spark Connect client (no SparkContext; its checkpoint directory in
    ``spark.checkpoint.dir``) gets what the embedded jobs give, the server
    on a two-worker cluster of its own (``connect_job.py``, in a process of
    its own)."""
    import json
    import subprocess

    out, checkpoints = tmp_path / "connect.json", tmp_path / "checkpoints"
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("connect_job.py")), str(SAMPLE), str(checkpoints), str(out)],
        check=True,
        timeout=900,
    )
    with open(out, encoding="utf-8") as f:
        got = json.load(f)
    assert got["session"].startswith("pyspark.sql.connect")
    table = sample_table()
    rows = lambda t: sorted(tuple("" if v is None else v for v in r.values()) for r in t.to_pylist())
    assert by_id(got["cleaned"]) == rows(nayose.clean(table).table)
    assert got["clean_rejects"] == 0
    assert by_id(got["clusters"]) == rows(nayose.dedupe(table, full=True).clusters)
    assert got["summary"]["clusters"] > 0
    # The checkpoints were reliable ones, written where the setting says.
    assert any(files for _, _, files in os.walk(checkpoints))


def test_spark_dedupe_does_not_depend_on_partitions(spark, generated):
    table = read_text(generated["btoc_crm"])
    pdf = table.to_pandas()
    first = nayose.spark.dedupe(spark.createDataFrame(pdf).repartition(2), max_df=20)
    second = nayose.spark.dedupe(
        spark.createDataFrame(pdf.sample(frac=1.0, random_state=1)).repartition(6), max_df=20
    )
    assert spark_clusters(first) == spark_clusters(second)
    assert first.summary["model"] == second.summary["model"]
    assert sorted(map(tuple, first.pairs.collect())) == sorted(map(tuple, second.pairs.collect()))


def test_a_lower_term_cap_costs_candidates_it_reports(spark, generated):
    table = read_text(generated["btoc_crm"])
    df = spark.createDataFrame(table.to_pandas()).repartition(3)
    full = nayose.spark.dedupe(df, max_df=None)
    capped = nayose.spark.dedupe(df, max_df=5)
    assert capped.summary["max_df"] == 5 and full.summary["max_df"] == 1000
    assert capped.summary["join_rows"] < full.summary["join_rows"]
    assert capped.summary["candidate_pairs"] != full.summary["candidate_pairs"]
    assert capped.clusters.count() == full.clusters.count() == table.num_rows


def test_spark_dedupe_keeps_every_row_and_refuses_twice_an_id(spark):
    rows = [
        (str(i), "山田太郎" if i % 2 else "佐藤花子", "03-1234-56%02d" % (i % 3), b"ok" if i != 4 else b"\xff")
        for i in range(12)
    ]
    df = spark.createDataFrame(rows, "id string, `氏名` string, `電話番号` string, memo binary").repartition(3)
    result = nayose.spark.dedupe(df)
    assert result.clusters.count() == 11
    rejects = result.rejects.collect()
    assert len(rejects) == 1 and rejects[0]["column"] == "memo"
    twice = spark.createDataFrame(rows[:3] + [rows[1]], df.schema)
    with pytest.raises(ValueError, match="ids must be unique: `1`"):
        nayose.spark.dedupe(twice)
    with pytest.raises(ValueError, match="id_column 'code'"):
        nayose.spark.dedupe(df, id_column="code")


def kill_an_executor() -> int:
    """SIGKILL one executor JVM of the test cluster; its pid."""
    import signal
    import subprocess

    pids = subprocess.run(
        ["pgrep", "-f", "CoarseGrainedExecutorBackend"], capture_output=True, text=True
    ).stdout.split()
    assert pids, "no executor process found"
    pid = int(sorted(pids, key=int)[0])
    os.kill(pid, signal.SIGKILL)
    return pid


# Last in the module: the checkpoint directory, once set, stays set.
def test_a_lost_executor_is_read_back_from_reliable_checkpoints(spark, generated, tmp_path, monkeypatch):
    table = read_text(generated["btob"])
    want, _ = embedded_clusters(table)
    checkpoints = tmp_path / "checkpoints"
    spark.sparkContext.setCheckpointDir(str(checkpoints))
    fix, killed = nayose.spark._fix, []

    def fix_then_kill(frame):
        # After the records are ranked (the third checkpoint), an executor
        # dies with the parts it computed.
        out = fix(frame)
        killed.append(kill_an_executor() if len(killed) == 2 else None)
        return out

    monkeypatch.setattr(nayose.spark, "_fix", fix_then_kill)
    df = spark.createDataFrame(table.to_pandas()).repartition(4)
    result = nayose.spark.dedupe(df, max_df=None)
    assert spark_clusters(result) == want
    assert killed[2] is not None
    assert any(checkpoints.rglob("part-*"))
