"""nayose (名寄せ): clean and deduplicate customer data from Python.

The same Rust core as the ``nayose`` command line, called through Arrow:
a table goes in as Arrow columns and comes back as Arrow columns, with no
Python object made per value. Give a ``pyarrow.Table`` or a pandas
``DataFrame`` (you get back the same kind), or a list of values to
:func:`normalize`.

>>> import pandas as pd, nayose
>>> df = pd.DataFrame({"id": ["1", "2"], "会社名": ["㈱ＡＢＣ商事", "ABC商事（株）"],
...                    "電話番号": ["03-1234-5678", "0312345678"]})
>>> nayose.clean(df).table["会社名"].tolist()
['株式会社ABC商事', 'ABC商事株式会社']
>>> nayose.dedupe(df)["cluster_id"].tolist()        # doctest: +SKIP
['1', '1']
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

import pyarrow as pa

from . import _nayose

__all__ = ["normalize", "clean", "dedupe", "CleanResult", "DedupeResult", "field_types", "__version__"]
__version__ = _nayose.__version__

PathLike = Union[str, "os.PathLike[str]"]


class CleanResult(NamedTuple):
    """What :func:`clean` gives: the cleaned table (the input's columns in
    order, each cleaned in place, a company name followed by its
    ``<column>_branch``), the rows that could not be read (``row``,
    ``column``, ``error``, ``raw``), and the report (rows in/out/rejected
    and, per column, its type, how it was detected, values changed, invalid,
    issues)."""

    table: Any
    rejects: Any
    report: Dict[str, Any]


class DedupeResult(NamedTuple):
    """What :func:`dedupe` gives when asked for everything: the clusters, the
    rejected rows, and a summary (records, candidate pairs, clusters, the
    time of each stage)."""

    clusters: Any
    rejects: Any
    summary: Dict[str, Any]


def field_types() -> List[str]:
    """The field types nayose knows (``company_name``, ``address``, …)."""
    return list(_nayose.field_types())


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "pandas"


def _to_arrow_table(table: Any) -> pa.Table:
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if _is_pandas(table):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(f"expected a pyarrow.Table or a pandas.DataFrame, got {type(table).__name__}")


def _back(table: pa.Table, like: Any) -> Any:
    return table.to_pandas() if _is_pandas(like) else table


def _rules(rules: Optional[PathLike]) -> Optional[Tuple[str, str]]:
    """A rules file as (its text, its name): the core parses the text, so a
    Spark job can ship it to executors that cannot see the file."""
    if rules is None:
        return None
    path = os.fspath(rules)
    with open(path, encoding="utf-8") as f:
        return f.read(), path


def _fields(fields: Optional[Mapping[str, str]]) -> Optional[List[tuple]]:
    return None if fields is None else [(str(k), str(v)) for k, v in fields.items()]


def normalize(values: Any, field_type: str, rules: Optional[PathLike] = None) -> Any:
    """Normalize values as ``nayose clean`` normalizes a column of
    ``field_type`` (see :func:`field_types`): the canonical form, or the value
    as it came when it has none (``clean`` says why in its report). ``None``
    stays ``None``.

    ``values``: a list, a pandas ``Series`` or a pyarrow array; the same kind
    comes back."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        return pa.array(_nayose.normalize(array, field_type, _rules(rules)))
    if _is_pandas(values):
        out = pa.array(_nayose.normalize(pa.array(values, from_pandas=True), field_type, _rules(rules)))
        series = out.to_pandas()
        series.index = values.index
        series.name = values.name
        return series
    array = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.array(_nayose.normalize(array, field_type, _rules(rules))).to_pylist()


def clean(
    table: Any,
    rules: Optional[PathLike] = None,
    fields: Optional[Mapping[str, str]] = None,
    *,
    keep_raw: bool = False,
    address_parts: bool = False,
    issues_column: bool = False,
    max_field_bytes: int = 1 << 20,
) -> CleanResult:
    """Clean every column of a table, as ``nayose clean`` does.

    ``rules``: a rules TOML file (default: the built-in rules).
    ``fields``: column → field type, where the header does not say
    (``{"取引先": "company_name"}``, like ``--field``). Every scalar column is
    read as its text (numbers, dates, booleans); a null is an empty value and
    comes back as null. Rows in = rows out + rows rejected."""
    t = _to_arrow_table(table)
    out, rejects, report = _nayose.clean(
        t, _rules(rules), _fields(fields), keep_raw, address_parts, issues_column, max_field_bytes
    )
    return CleanResult(_back(out, table), _back(rejects, table), json.loads(report))


def dedupe(
    table: Any,
    rules: Optional[PathLike] = None,
    fields: Optional[Mapping[str, str]] = None,
    id_column: Optional[str] = "id",
    *,
    labels: Optional[PathLike] = None,
    max_field_bytes: int = 1 << 20,
    full: bool = False,
) -> Any:
    """Find the records of one customer, as ``nayose dedupe`` does: one row
    per input row, in input order, with ``id``, ``cluster_id`` (the
    cluster's smallest id), ``cluster_size``, ``best_score`` and
    ``best_match_id``: the same rows as the command line's clusters file.

    ``id_column``: the column of unique record ids (``None``: the row
    number, the header being row 1). ``labels``: an ``id_a,id_b,label``
    file of decided pairs (``--labels``). ``full=True`` returns a
    :class:`DedupeResult` with the rejected rows and a summary (counts,
    each stage's time, the model as TOML, what the labels gave)."""
    t = _to_arrow_table(table)
    if id_column is not None and id_column not in t.column_names:
        raise ValueError(
            f"id_column {id_column!r} is not a column of the table "
            f"(columns: {', '.join(t.column_names)}); pass id_column=None to number the rows"
        )
    clusters, rejects, summary = _nayose.dedupe(
        t,
        _rules(rules),
        _fields(fields),
        id_column,
        None if labels is None else os.fspath(labels),
        max_field_bytes,
    )
    if full:
        return DedupeResult(_back(clusters, table), _back(rejects, table), json.loads(summary))
    return _back(clusters, table)
