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
"""

from __future__ import annotations

import json
from typing import Any, Iterator, List, Mapping, NamedTuple, Optional, Tuple

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
