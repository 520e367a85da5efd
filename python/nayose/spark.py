"""nayose on Apache Spark: the jobs as Spark plans, the Rust core called on
the executors through ``mapInArrow`` (Arrow batches in and out, no Python
object per value).

Needs ``pyspark`` (``pip install ./python[spark]``) and the ``nayose``
package installed where the executors' Python runs.

>>> from pyspark.sql import SparkSession
>>> import nayose.spark
>>> spark = SparkSession.builder.getOrCreate()
>>> df = spark.read.parquet("customers.parquet")
>>> cleaned, rejects = nayose.spark.clean(df)           # doctest: +SKIP
>>> result = nayose.spark.dedupe(df, id_column="id")    # doctest: +SKIP
>>> result.clusters.write.parquet("clusters.parquet")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

import pyarrow as pa

from . import PathLike, _fields, _nayose, _rules

# Extra columns of the executors' output that carry a rejected row; split
# off on the driver's side of the plan.
_ERROR = "_nayose_error"
_COLUMN = "_nayose_column"
_RAW = "_nayose_raw"

# The first rows of a table tell its column types, as the command line
# detects them from the first 65,536 rows.
DETECT_ROWS = 65_536


class SparkCleanResult(NamedTuple):
    """The cleaned DataFrame (the input's columns cleaned in place, a company
    name followed by its ``<column>_branch``; every column a string) and the
    rows that could not be read (``error``, ``column``, ``raw``)."""

    cleaned: Any
    rejects: Any


def _schema_of(names: List[str]):
    from pyspark.sql import types as T

    return T.StructType([T.StructField(n, T.StringType(), True) for n in names])


def _fixed_types(report: Mapping[str, Any], fields: Optional[Mapping[str, str]]) -> List[Tuple[str, str]]:
    """Column types every executor must use: those the values decided (a
    batch of other rows could decide otherwise) and the user's; a type the
    header names is found again from the header, the same everywhere."""
    fixed = {
        c["column"]: c["field_type"]
        for c in report["columns"]
        if c["detected_by"] in ("values", "default")
    }
    fixed.update(fields or {})
    return sorted(fixed.items())


def clean(
    df: Any,
    rules: Optional[PathLike] = None,
    fields: Optional[Mapping[str, str]] = None,
    *,
    keep_raw: bool = False,
    address_parts: bool = False,
    issues_column: bool = False,
    max_field_bytes: int = 1 << 20,
) -> SparkCleanResult:
    """``nayose clean`` as a Spark plan: the column types are decided once on
    the driver from the first rows (as the command line decides them from
    the first 65,536), then every partition is cleaned on the executors.
    The driver holds those first rows only. Rows in = cleaned rows +
    rejected rows."""
    rules_text = _rules(rules)
    sample = df.limit(DETECT_ROWS).toArrow()
    probe = _nayose.clean(
        sample, rules_text, _fields(fields), keep_raw, address_parts, issues_column, max_field_bytes
    )
    out_names = probe[0].column_names
    fixed = _fixed_types(json.loads(probe[2]), fields)
    names = out_names + [_ERROR, _COLUMN, _RAW]
    in_names = df.columns

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from nayose import _nayose as core

        for batch in batches:
            table = pa.Table.from_batches([batch])
            cleaned, rejects, _ = core.clean(
                table, rules_text, fixed, keep_raw, address_parts, issues_column, max_field_bytes
            )
            n = cleaned.num_rows
            columns = [cleaned.column(c) for c in out_names]
            nulls = pa.nulls(n, pa.string())
            yield from pa.table(columns + [nulls, nulls, nulls], names=names).to_batches()
            if rejects.num_rows:
                m = rejects.num_rows
                col = [
                    in_names[int(c) - 1] if c else None for c in rejects.column("column").to_pylist()
                ]
                bad = [pa.nulls(m, pa.string())] * len(out_names) + [
                    rejects.column("error"),
                    pa.array(col, pa.string()),
                    rejects.column("raw"),
                ]
                yield from pa.table(bad, names=names).to_batches()

    both = df.mapInArrow(run, _schema_of(names))
    from pyspark.sql import functions as F

    cleaned = both.filter(F.col(_ERROR).isNull()).drop(_ERROR, _COLUMN, _RAW)
    rejects = both.filter(F.col(_ERROR).isNotNull()).select(
        F.col(_ERROR).alias("error"), F.col(_COLUMN).alias("column"), F.col(_RAW).alias("raw")
    )
    return SparkCleanResult(cleaned, rejects)


class SparkDedupeResult(NamedTuple):
    """What :func:`dedupe` gives: ``clusters`` (one row per record read:
    ``id``, ``cluster_id``, ``cluster_size``, ``best_score``,
    ``best_match_id``, all strings, as :func:`nayose.dedupe` gives them),
    ``rejects`` (``error``, ``column``, ``raw``), ``pairs`` (every candidate
    pair: ``id_a``, ``id_b``, ``weight``, ``band``), ``oversized`` (exact keys
    held by more than ``max_block`` records: ``field``, ``value``,
    ``records``) and a ``summary`` of counts, the model and each step's time."""

    clusters: Any
    rejects: Any
    pairs: Any
    oversized: Any
    summary: Dict[str, Any]


# Bigrams held by more records than this are left out of the BM25 join.
# The embedded search leaves out those above max(records × 0.1%, 1000), so
# up to 1,000,999 records the two agree exactly; beyond, the embedded cap
# grows with the records and the join's cost (the sum of df·(df−1) over the
# kept bigrams) with their square, while this cap keeps it linear. Measured
# (benches/RESULTS.md): 1M generated consumers, cap 1000: 8.6e8 join rows,
# F1 equal to embedded; cap 300: 2.6e8 rows, F1 0.0032 lower.
DEFAULT_MAX_DF = 1000

# One set of stages per Python worker process and job: building the
# normalizer costs more than a batch.
_STAGES: Dict[Tuple[Any, str], Any] = {}


def _fix(frame: Any) -> Any:
    """Cut ``frame``'s lineage where the job reuses it: a reliable checkpoint
    when the session has a checkpoint directory
    (``spark.sparkContext.setCheckpointDir`` or ``spark.checkpoint.dir``, on
    storage the driver and every executor reach), so a lost executor's part
    is read back; else a local one, kept by the executors, so losing one
    fails the job."""
    if _checkpoint_dir(frame.sparkSession):
        return frame.checkpoint()
    return frame.localCheckpoint()


def _checkpoint_dir(session: Any) -> Optional[str]:
    """The session's checkpoint directory, if it has one. A Spark Connect
    session has no ``SparkContext`` on the client: its server's
    ``spark.checkpoint.dir`` says."""
    if type(session).__module__.startswith("pyspark.sql.connect"):
        return session.conf.get("spark.checkpoint.dir", None)
    return session.sparkContext.getCheckpointDir()


def _stages(rules_text: Optional[Tuple[str, str]], plan: str):
    from nayose import _nayose as core

    key = (rules_text, plan)
    if key not in _STAGES:
        _STAGES.clear()
        _STAGES[key] = core.DedupeStages(rules_text, plan)
    return _STAGES[key]


def dedupe(
    df: Any,
    rules: Optional[PathLike] = None,
    fields: Optional[Mapping[str, str]] = None,
    id_column: str = "id",
    *,
    labels: Optional[PathLike] = None,
    max_field_bytes: int = 1 << 20,
    max_df: Optional[int] = DEFAULT_MAX_DF,
) -> SparkDedupeResult:
    """``nayose dedupe`` as a Spark plan, with the command line's stages
    running on the executors and Spark joining and counting between them.

    - The column types and the match plan are decided once on the driver
      from the first 65,536 rows, as the command line decides them.
    - Records are prepared on the executors, then ranked by id (a sort).
    - Candidates: exact keys (phone, e-mail, …) by an equi-join, blocks of
      at most ``max_block`` records; the BM25 search as a join of the
      bigram postings on the term, with the document frequencies, token
      counts and record count of the whole table, summed per pair and cut to
      the top ``top_k`` per record (best score, then the lower rank) — the
      scores the embedded index gives. The embedded search leaves out the
      bigrams held by more than ``max(records × max_term_share, 1000)``
      records; the join leaves out those above ``max_df`` too (default
      1000, the embedded cap up to 1,000,999 records: the join's cost grows
      with the square of the kept bigrams' frequencies, and a fixed cap
      keeps it linear in the records, at the price of candidates that only
      such bigrams find). ``max_df=None`` keeps the embedded cap, and the
      embedded job's candidates exactly, at any size.
    - Comparison and scoring on the executors; u from the embedded job's
      random pairs (drawn by rank with its seed), m as the embedded job
      estimates it, from the level patterns counted by Spark.
    - Clusters: connected components of the auto-merge pairs by label
      propagation, then the embedded anti-chaining split per component,
      over every scored pair inside it.
    - ``labels``: an ``id_a,id_b,label`` file of decided pairs, read on the
      driver by the command line's reader, used as ``--labels`` uses it:
      the labelled matches' levels teach m, the labelled pairs' weights
      calibrate the bands (the summary's ``labels``), a labelled match
      links its pair (compared and scored when blocking did not find it)
      and a labelled non-match keeps its pair from linking.

    The driver holds the first 65,536 rows, per-partition counts, the
    distinct level patterns (at most the product of the comparisons' level
    counts) and the model; never the records or the pairs. ``id_column`` is
    required: ranks are ids in byte order."""
    from pyspark.sql import functions as F

    spark = df.sparkSession
    clock = time.monotonic()
    times: Dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        times[name] = round(now - clock, 3)
        clock = now

    if id_column not in df.columns:
        raise ValueError(
            f"id_column {id_column!r} is not a column of the DataFrame (columns: {', '.join(df.columns)})"
        )
    rules_text = _rules(rules)
    # A broken labels file stops the job before any Spark work.
    label_file = None if labels is None else _nayose.LabelFile.read(os.fspath(labels))
    sample = df.limit(DETECT_ROWS).toArrow()
    plan = _nayose.DedupeStages.plan(sample, rules_text, _fields(fields), id_column, max_field_bytes)
    stages = _nayose.DedupeStages(rules_text, plan)
    text_fields, scored_fields, exact_fields, slots = stages.fields()
    del sample
    lap("plan")

    # Prepare on the executors; rejected rows ride along in three columns.
    def prepare(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            arrays = st.prepare(b, max_field_bytes)
            yield pa.RecordBatch.from_arrays(arrays, names=["id", "prep", _ERROR, _COLUMN, _RAW])

    prepared = df.mapInArrow(
        prepare, "id string, prep binary, _nayose_error string, _nayose_column string, _nayose_raw string"
    ).transform(_fix)
    rejects = prepared.filter(F.col(_ERROR).isNotNull()).select(
        F.col(_ERROR).alias("error"), F.col(_COLUMN).alias("column"), F.col(_RAW).alias("raw")
    )
    records = prepared.filter(F.col(_ERROR).isNull()).select("id", "prep")
    twice = records.groupBy("id").count().filter("count > 1").orderBy("id").limit(1).collect()
    if twice:
        raise ValueError(f"ids must be unique: `{twice[0]['id']}` is on {twice[0]['count']} rows")

    # Ranks: ids in byte order. The sorted partitions are fixed by a
    # checkpoint; a record's rank is the rows of the partitions before its
    # own plus its place in it.
    ordered = (
        records.sort("id")
        .withColumn("_p", F.spark_partition_id())
        .withColumn("_m", F.monotonically_increasing_id())
        .transform(_fix)
    )
    sizes = {r["_p"]: r["count"] for r in ordered.groupBy("_p").count().collect()}
    offsets, total = [], 0
    for p in range(max(sizes, default=-1) + 1):
        offsets.append(total)
        total += sizes.get(p, 0)
    n = total
    ranked = ordered.select(
        (
            F.element_at(F.array(*[F.lit(o) for o in offsets] or [F.lit(0)]), F.col("_p") + 1)
            + (F.col("_m") - F.shiftleft(F.col("_p").cast("long"), 33))
        )
        .cast("int")
        .alias("rank"),
        "id",
        "prep",
    ).transform(_fix)
    names = ranked.select("rank", "id")

    # The labelled pairs by rank (a < b), `m` a match; the driver holds the
    # labels' ids and their ranks, never the table's.
    decided, ranked_labels = None, None
    if label_file is not None:
        wanted = spark.createDataFrame([(i,) for i in label_file.ids()], "id string")
        ranks = {r["id"]: r["rank"] for r in names.join(wanted, "id").collect()}
        ranked_labels, (a, b, m) = stages.rank_labels(label_file, ranks)
        decided = spark.createDataFrame(
            pa.table([a, b, m], names=["a", "b", "m"]).to_pandas(), "a int, b int, m boolean"
        ).transform(_fix)
    lap("prepare")

    # Key terms and the statistics of the whole table.
    def terms(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            arrays = st.terms(b.column("rank"), b.column("prep"))
            yield pa.RecordBatch.from_arrays(arrays, names=["rank", "kind", "field", "term", "tf", "len"])

    keyed = ranked.select("rank", "prep").mapInArrow(
        terms, "rank int, kind byte, field int, term string, tf int, len int"
    ).transform(_fix)
    text_tokens = {
        r["field"]: r["tokens"]
        for r in keyed.filter("kind = 0")
        .select("rank", "field", "len")
        .distinct()
        .groupBy("field")
        .agg(F.sum("len").alias("tokens"))
        .collect()
    }
    holders = {
        r["field"]: r["count"] for r in keyed.filter("kind = 1").groupBy("field").count().collect()
    }
    stats = json.dumps(
        {
            "records": n,
            "text_tokens": [int(text_tokens.get(f, 0)) for f in range(len(text_fields))],
            "scored_holders": [int(holders.get(f, 0)) for f in range(len(scored_fields))],
        }
    )
    top_k, max_block, common = stages.blocking(n)
    cap = common if max_df is None else min(int(max_df), common)
    df_of = keyed.groupBy("kind", "field", "term").agg(F.count(F.lit(1)).alias("df"))
    postings = keyed.join(df_of, ["kind", "field", "term"])

    # Exact keys: every holder of a key held by 2..max_block records.
    exact = postings.filter(f"kind = 2 AND df BETWEEN 2 AND {int(max_block)}").select(
        "field", "term", "rank"
    )
    exact_pairs = (
        exact.alias("x")
        .join(exact.alias("y"), ["field", "term"])
        .filter(F.col("x.rank") < F.col("y.rank"))
        .select(F.col("x.rank").alias("a"), F.col("y.rank").alias("b"))
    )
    exact_names = F.array(*[F.lit(f) for f in exact_fields] or [F.lit("")])
    oversized = (
        df_of.filter(f"kind = 2 AND df > {int(max_block)}")
        .select(
            F.element_at(exact_names, F.col("field") + 1).alias("field"),
            F.col("term").alias("value"),
            F.col("df").alias("records"),
        )
    )

    # BM25: the postings of the bigrams and scored terms held by at most
    # `cap` records, each with its BM25 weight; joined on the term, summed
    # per pair (exactly, as float64 of float32 weights), top k per record.
    def weigh(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            w = st.weights(stats, b.column("kind"), b.column("field"), b.column("df"), b.column("tf"), b.column("len"))
            yield pa.RecordBatch.from_arrays(
                [b.column("kind"), b.column("field"), b.column("term"), b.column("rank"), pa.array(w)],
                names=["kind", "field", "term", "rank", "w"],
            )

    scored_postings = postings.filter(f"kind < 2 AND df <= {cap}")
    join_rows = scored_postings.select(F.sum(F.col("df") - 1)).collect()[0][0] or 0
    weighted = scored_postings.mapInArrow(
        weigh, "kind byte, field int, term string, rank int, w float"
    )
    bm25_pairs = None
    if top_k > 0:
        # Each term's postings packed into one value (8 bytes a record),
        # joined to the records that hold the term, then gathered by
        # record: Spark moves one row per (record, term), and the executors
        # sum the weights per candidate and keep the top k.
        def pack(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for b in batches:
                packed = _nayose.DedupeStages.pack_postings(b.column("hits"))
                yield pa.RecordBatch.from_arrays(
                    [b.column("kind"), b.column("field"), b.column("term"), pa.array(packed)],
                    names=["kind", "field", "term", "hits"],
                )

        def top(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            acc = _stages(rules_text, plan).top_hits()
            for b in batches:
                a, bb = acc.feed(b.column("q"), b.column("hits"))
                yield pa.RecordBatch.from_arrays([pa.array(a), pa.array(bb)], names=["a", "b"])
            a, bb = acc.finish()
            yield pa.RecordBatch.from_arrays([pa.array(a), pa.array(bb)], names=["a", "b"])

        lists = (
            weighted.groupBy("kind", "field", "term")
            .agg(F.collect_list(F.struct("rank", "w")).alias("hits"))
            .mapInArrow(pack, "kind byte, field int, term string, hits binary")
        )
        bm25_pairs = (
            weighted.select("kind", "field", "term", F.col("rank").alias("q"))
            .join(lists, ["kind", "field", "term"])
            .select("q", "hits")
            .repartition("q")
            .sortWithinPartitions("q")
            .mapInArrow(top, "a int, b int")
        )
    candidates = exact_pairs if bm25_pairs is None else exact_pairs.unionByName(bm25_pairs)
    candidates = candidates.distinct().transform(_fix)
    candidate_pairs = candidates.count()
    lap("block")

    # Compare on the executors; the level patterns go to the driver.
    preps = ranked.select("rank", "prep")

    def with_records(pairs):
        return (
            pairs.join(preps.withColumnRenamed("rank", "a").withColumnRenamed("prep", "pa"), "a")
            .join(preps.withColumnRenamed("rank", "b").withColumnRenamed("prep", "pb"), "b")
        )

    def compare(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            levels = st.compare(b.column("pa"), b.column("pb"))
            yield pa.RecordBatch.from_arrays(
                [b.column("a"), b.column("b"), pa.array(levels)], names=["a", "b", "levels"]
            )

    levelled = with_records(candidates).mapInArrow(compare, "a int, b int, levels binary").transform(_fix)
    lap("compare")

    def pattern_counts(frame) -> List[Tuple[bytes, int]]:
        return [
            (bytes(r["levels"]), int(r["count"]))
            for r in frame.groupBy("levels").count().orderBy("levels").collect()
        ]

    chunks = stages.random_chunks(n)

    def draw(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            for chunk in b.column("id").to_pylist():
                a, bb = st.random_pairs(n, chunk)
                yield pa.RecordBatch.from_arrays([pa.array(a), pa.array(bb)], names=["a", "b"])

    random = spark.range(chunks, numPartitions=max(1, min(chunks, 64))).mapInArrow(draw, "a int, b int")
    random_levels = with_records(random).mapInArrow(compare, "a int, b int, levels binary")
    labelled, labelled_levels, bound = None, None, None
    if decided is not None:
        labelled = (
            with_records(decided.select("a", "b"))
            .mapInArrow(compare, "a int, b int, levels binary")
            .join(decided, ["a", "b"])
            .transform(_fix)
        )
        matches = labelled.filter("m").select("a", "b", "levels")
        labelled_levels = pattern_counts(matches)
        bound = matches.join(candidates, ["a", "b"], "left_anti")
    model = stages.train(pattern_counts(levelled), pattern_counts(random_levels), n, labelled_levels)
    if bound is not None:
        # A labelled match blocking did not find becomes a pair of its own,
        # compared and scored (not trained on), as the command line does.
        candidate_pairs += bound.count()
        levelled = levelled.unionByName(bound)
    lap("train")

    # Term frequencies: each record's count at each slot, over all records.
    def tf_keys(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            arrays = st.tf_keys(b.column("rank"), b.column("prep"))
            yield pa.RecordBatch.from_arrays(arrays, names=["rank", "slot", "key"])

    keys = preps.mapInArrow(tf_keys, "rank int, slot int, key string")
    counted = keys.join(keys.groupBy("slot", "key").count(), ["slot", "key"])
    by_slot = counted.groupBy("rank").agg(
        F.map_from_entries(F.collect_list(F.struct("slot", "count"))).alias("m")
    )
    counts = by_slot.select(
        F.col("rank").alias("a"),
        F.array(*[F.coalesce(F.col("m")[i], F.lit(0)).cast("long") for i in range(slots)]).alias("counts")
        if slots
        else F.array().cast("array<bigint>").alias("counts"),
    )
    no_counts = F.array(*[F.lit(0).cast("long")] * slots) if slots else F.array().cast("array<bigint>")
    if labelled is not None:
        # The labelled pairs, as the model scores them, teach how much a
        # value's rarity tells (the driver holds one row per label).
        rows = (
            labelled.join(counts, "a", "left")
            .withColumn("counts", F.coalesce("counts", no_counts))
            .orderBy("a", "b")
            .select("levels", "counts", "m")
            .collect()
        )
        model = stages.learn_tf(
            model,
            n,
            [bytes(r["levels"]) for r in rows],
            [list(r["counts"]) for r in rows],
            [bool(r["m"]) for r in rows],
        )

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        st = _stages(rules_text, plan)
        for b in batches:
            w, band = st.score(model, n, b.column("levels"), b.column("counts"))
            yield pa.RecordBatch.from_arrays(
                [b.column("a"), b.column("b"), pa.array(w), pa.array(band)],
                names=["a", "b", "weight", "band"],
            )

    scored = (
        levelled.join(counts, "a", "left")
        .withColumn("counts", F.coalesce("counts", no_counts))
        .mapInArrow(score, "a int, b int, weight double, band byte")
        .transform(_fix)
    )
    # `cw`: a pair's weight in the clustering, beyond the band edges when
    # labelled; the labelled pairs' own weights calibrate the bands.
    merge_weight, _ = stages.bands()
    if decided is None:
        scored = scored.withColumn("cw", F.col("weight"))
    else:
        labelled = scored.join(decided, ["a", "b"]).select("weight", "m").collect()
        merge_weight, review_weight = stages.calibrate(
            ranked_labels, [r["weight"] for r in labelled], [r["m"] for r in labelled]
        )
        far = _nayose.DedupeStages.labelled_weight()
        scored = (
            scored.join(decided, ["a", "b"], "left")
            .select(
                "a",
                "b",
                "weight",
                F.when(F.col("weight") >= F.lit(merge_weight), 2)
                .when(F.col("weight") >= F.lit(review_weight), 1)
                .otherwise(0)
                .cast("byte")
                .alias("band"),
                F.when(F.col("m"), F.lit(far))
                .when(~F.col("m"), F.lit(-far))
                .otherwise(F.col("weight"))
                .alias("cw"),
            )
            .transform(_fix)
        )
    bands = {int(r["band"]): int(r["count"]) for r in scored.groupBy("band").count().collect()}
    lap("score")

    # Connected components of the auto-merge pairs: each record takes the
    # smallest label among itself and its neighbours, then its label's
    # label, until nothing moves.
    edges = (
        scored.filter(F.col("cw") >= F.lit(merge_weight))
        .select("a", "b", F.col("cw").alias("weight"))
        .transform(_fix)
    )
    links = edges.select(F.col("a").alias("src"), F.col("b").alias("dst")).unionByName(
        edges.select(F.col("b").alias("src"), F.col("a").alias("dst"))
    )
    labels = (
        links.groupBy("src")
        .agg(F.min("dst").alias("l"))
        .select(F.col("src").alias("v"), F.least("src", "l").alias("l"))
        .transform(_fix)
    )
    rounds = 0
    while True:
        rounds += 1
        heard = (
            links.join(labels.withColumnRenamed("v", "src"), "src")
            .groupBy("dst")
            .agg(F.min("l").alias("h"))
            .withColumnRenamed("dst", "v")
        )
        moved = labels.join(heard, "v", "left").select("v", F.least("l", F.coalesce("h", "l")).alias("l"))
        jumped = (
            moved.join(moved.select(F.col("v").alias("l"), F.col("l").alias("ll")), "l", "left")
            .select("v", F.least("l", F.coalesce("ll", "l")).alias("l"))
            .transform(_fix)
        )
        changed = jumped.join(labels.withColumnRenamed("l", "old"), "v").filter("l != old").count()
        labels = jumped
        if changed == 0:
            break

    def split(table: pa.Table) -> pa.Table:
        st = _stages(rules_text, plan)
        record, rep = st.cluster(
            table.column("a").combine_chunks(),
            table.column("b").combine_chunks(),
            table.column("weight").combine_chunks(),
            merge_weight,
        )
        return pa.table([pa.array(record), pa.array(rep)], names=["rank", "rep"])

    # Every scored pair inside a component counts in the anti-chaining
    # guard, not only the auto-merge pairs that made it.
    inside = (
        scored.select("a", "b", F.col("cw").alias("weight"))
        .join(labels.select(F.col("v").alias("a"), F.col("l")), "a")
        .join(labels.select(F.col("v").alias("b"), F.col("l").alias("lb")), "b")
        .filter(F.col("l") == F.col("lb"))
        .select("a", "b", "weight", "l")
    )
    split_reps = inside.groupBy("l").applyInArrow(split, "rank int, rep int")
    reps = (
        ranked.select("rank", "id")
        .join(split_reps, "rank", "left")
        .withColumn("rep", F.coalesce("rep", "rank"))
        .transform(_fix)
    )
    counted_sizes = reps.groupBy("rep").agg(F.count(F.lit(1)).alias("size")).transform(_fix)
    sizes_of = counted_sizes.select("rep", F.col("size").cast("string").alias("cluster_size"))
    lap("cluster")

    # Each record's best candidate: the highest weight, then the lower rank.
    both = scored.select(F.col("a").alias("x"), F.col("b").alias("o"), F.col("cw").alias("weight")).unionByName(
        scored.select(F.col("b").alias("x"), F.col("a").alias("o"), F.col("cw").alias("weight"))
    )
    best = both.groupBy("x").agg(F.max(F.struct("weight", (-F.col("o")).alias("no"))).alias("m")).select(
        F.col("x").alias("rank"), F.col("m.weight").alias("bw"), (-F.col("m.no")).alias("bo")
    )

    def probability(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            text = _nayose.DedupeStages.probability_text(b.column("bw"))
            yield pa.RecordBatch.from_arrays(
                [b.column(c) for c in ("id", "cluster_id", "cluster_size")]
                + [pa.array(text), b.column("best_match_id")],
                names=["id", "cluster_id", "cluster_size", "best_score", "best_match_id"],
            )

    clusters = (
        reps.join(names.select(F.col("rank").alias("rep"), F.col("id").alias("cluster_id")), "rep")
        .join(sizes_of, "rep")
        .join(best, "rank", "left")
        .join(names.select(F.col("rank").alias("bo"), F.col("id").alias("best_match_id")), "bo", "left")
        .select("id", "cluster_id", "cluster_size", "bw", "best_match_id")
        .mapInArrow(
            probability,
            "id string, cluster_id string, cluster_size string, best_score string, best_match_id string",
        )
    )
    pairs = (
        scored.join(names.select(F.col("rank").alias("a"), F.col("id").alias("id_a")), "a")
        .join(names.select(F.col("rank").alias("b"), F.col("id").alias("id_b")), "b")
        .select(
            "id_a",
            "id_b",
            "weight",
            F.element_at(F.array(F.lit("no_match"), F.lit("review"), F.lit("match")), F.col("band") + 1).alias(
                "band"
            ),
        )
    )
    grouped = counted_sizes.filter("size >= 2").agg(F.count(F.lit(1)), F.max("size")).collect()[0]
    lap("summary")
    summary = {
        "records": n,
        "candidate_pairs": candidate_pairs,
        "common_df": common,
        "max_df": cap,
        "join_rows": int(join_rows),
        "bands": {"no_match": bands.get(0, 0), "review": bands.get(1, 0), "match": bands.get(2, 0)},
        "clusters": int(grouped[0]),
        "largest_cluster": int(grouped[1] or 1),
        "component_rounds": rounds,
        "model": model,
        "stages": times,
    }
    if ranked_labels is not None:
        summary["labels"] = json.loads(stages.labels_summary(ranked_labels))
    return SparkDedupeResult(clusters, rejects, pairs, oversized, summary)
