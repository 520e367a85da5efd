"""Run ``nayose.spark.clean`` and ``nayose.spark.dedupe`` on a Spark Connect
session, as a client of a Spark Connect server, and write what they gave as
JSON. Run by ``test_spark.py`` in a process of its own: a Spark Connect
client has no ``SparkContext``, and the test module's classic session has
one in its process.

    python connect_job.py DATA.csv CHECKPOINT_DIR OUT.json

The server is started locally by PySpark (``remote("local-cluster[…]")``:
a standalone master and two worker JVMs, as the classic tests use), with
``spark.checkpoint.dir`` set to CHECKPOINT_DIR.
"""

import json
import os
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
from pyspark.sql import SparkSession

import nayose.spark


def main() -> None:
    data, checkpoints, out = sys.argv[1:4]
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    with open(data, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
    table = pacsv.read_csv(
        data, convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header})
    )
    spark = (
        SparkSession.builder.remote("local-cluster[2,1,1024]")
        .config("spark.checkpoint.dir", checkpoints)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    try:
        df = spark.createDataFrame(table.to_pandas()).repartition(3)
        cleaned = nayose.spark.clean(df)
        result = nayose.spark.dedupe(df)
        row = lambda r: ["" if v is None else v for v in r]
        got = {
            "session": type(spark).__module__,
            "cleaned": [row(r) for r in cleaned.cleaned.collect()],
            "clean_rejects": cleaned.rejects.count(),
            "clusters": [row(r) for r in result.clusters.collect()],
            "summary": result.summary,
        }
    finally:
        spark.stop()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(got, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
