"""Type stubs of the Rust module (``nayose._nayose``); use the functions of
``nayose`` instead, which accept pandas and lists too."""

from typing import List, Optional, Sequence, Tuple

import pyarrow as pa

__version__: str

def normalize(values: pa.Array, field_type: str, rules: Optional[Tuple[str, str]] = None) -> pa.Array: ...
def clean(
    table: pa.Table,
    rules: Optional[Tuple[str, str]] = None,
    fields: Optional[Sequence[Tuple[str, str]]] = None,
    keep_raw: bool = False,
    address_parts: bool = False,
    issues_column: bool = False,
    max_field_bytes: int = ...,
) -> Tuple[pa.Table, pa.Table, str]: ...
def dedupe(
    table: pa.Table,
    rules: Optional[Tuple[str, str]] = None,
    fields: Optional[Sequence[Tuple[str, str]]] = None,
    id_column: Optional[str] = None,
    labels: Optional[str] = None,
    max_field_bytes: int = ...,
) -> Tuple[pa.Table, pa.Table, str]: ...
def field_types() -> List[str]: ...
