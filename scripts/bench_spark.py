#!/usr/bin/env python3
"""Benchmark of `nayose.spark.dedupe` on a local two-worker Spark cluster
(`local-cluster[2,1,MiB]`: a master and two worker JVMs, one executor
process each), against the embedded `nayose dedupe` on the same file.

    cargo build --release && pip install ./python   # into the Python that runs this
    python3 scripts/bench_spark.py --records 1000000 [--max-df 100|none] [--embedded]

Prints, per run: wall time, peak memory of the driver (its Python and JVM)
and of each executor (its JVM and its Python workers), candidate pairs,
the BM25 join's size, precision/recall/F1 against the generated truth, and
the time of each step. Peak memory is sampled every 0.2 s from /proc (RSS;
forked Python workers' shared pages count once per worker, so it errs
high). Generated files are kept in --work (default ~/.cache/nayose/bench).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "nayose")


def children():
    """pid → list of child pids, and pid → command line, from /proc."""
    kids, cmd = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd[int(p)] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        kids.setdefault(ppid, []).append(int(p))
    return kids, cmd


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class Peaks(threading.Thread):
    """Peak RSS of the driver (this process and its JVM) and of each
    executor process tree, sampled until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.driver = 0.0
        self.executors = {}
        self.done = threading.Event()

    def tree(self, kids, pid):
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out

    def run(self):
        me = os.getpid()
        while not self.done.is_set():
            kids, cmd = children()
            executors = [p for p, c in cmd.items() if "CoarseGrainedExecutorBackend" in c]
            in_executors = set()
            for e in executors:
                t = self.tree(kids, e)
                in_executors.update(t)
                total = sum(rss_mib(p) for p in t)
                self.executors[e] = max(self.executors.get(e, 0.0), total)
            driver = [p for p in self.tree(kids, me) if p not in in_executors]
            self.driver = max(self.driver, sum(rss_mib(p) for p in driver))
            time.sleep(0.2)


def generated(work, n, seed, kind, profile):
    data = os.path.join(work, f"{kind}{n}s{seed}{profile}.csv")
    truth = data[:-4] + ".truth.csv"
    if not os.path.exists(truth):
        subprocess.run([BIN, "gen", "--kind", kind, "--profile", profile, "--records", str(n),
                        "--seed", str(seed), "-o", data, "--truth", truth, "-q"], check=True)
    return data, truth


def evaluate(truth, clusters):
    out = clusters + ".eval.json"
    subprocess.run([BIN, "eval", "--truth", truth, "--clusters", clusters, "--json", out],
                   check=True)
    with open(out) as f:
        return json.load(f)


def du_mib(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total / 2**20


def progress(spark, peaks, start, every, work):
    """One line per interval: elapsed time, the active stages with their
    finished/total tasks, the peaks so far and the size of Spark's local
    directory (the shuffle files)."""
    status = spark.sparkContext.statusTracker()
    while not peaks.done.wait(every):
        stages = []
        for sid in sorted(status.getActiveStageIds()):
            info = status.getStageInfo(sid)
            if info is not None:
                stages.append(f"{sid}:{info.numCompletedTasks}/{info.numTasks}")
        print(f"[{time.perf_counter() - start:7.0f} s] stages {' '.join(stages) or '-'}"
              f" driver {peaks.driver:.0f} MiB executors {sorted(round(v) for v in peaks.executors.values())}"
              f" MiB local {du_mib(os.path.join(work, 'spark-local')):.0f} MiB", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--kind", default="btoc")
    ap.add_argument("--profile", default="forms")
    ap.add_argument("--max-df", default="default",
                    help="the BM25 join's bigram cap: a number, `none` (the embedded cap) or `default`")
    ap.add_argument("--executor-mib", type=int, default=3072)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--embedded", action="store_true", help="also run `nayose dedupe` on the file")
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/nayose/bench"))
    ap.add_argument("--checkpoint-dir", default=None,
                    help="reliable checkpoints in this directory (default: local checkpoints)")
    ap.add_argument("--progress", type=float, default=0,
                    help="every N seconds, print the active Spark stages and the peaks so far to stderr")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data, truth = generated(a.work, a.records, a.seed, a.kind, a.profile)

    if a.embedded:
        out = os.path.join(a.work, "embedded.clusters.csv")
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-c",
                            "import resource, subprocess, sys\n"
                            "r = subprocess.run(sys.argv[1:])\n"
                            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                            "sys.exit(r.returncode)",
                            BIN, "dedupe", data, "-o", out, "-q"],
                           check=True, capture_output=True, text=True)
        secs = time.perf_counter() - t
        f = evaluate(truth, out)
        print(json.dumps({"run": "embedded", "records": a.records, "wall_s": round(secs, 1),
                          "peak_mib": round(int(p.stdout.split()[-1]) / 1024), "precision": f["precision"],
                          "recall": f["recall"], "f1": f["f1"]}), flush=True)

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    peaks = Peaks()
    peaks.start()
    from pyspark.sql import SparkSession

    import nayose.spark

    spark = (
        SparkSession.builder.master(f"local-cluster[2,1,{a.executor_mib}]")
        .appName("nayose-bench")
        .config("spark.driver.memory", "2g")
        .config("spark.executor.memory", f"{a.executor_mib - 1024}m")
        .config("spark.executor.pyspark.memory", "768m")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(a.partitions))
        .config("spark.local.dir", os.path.join(a.work, "spark-local"))
        # The shuffle files of a step no DataFrame refers to any more are
        # removed after a driver GC; by default one comes every 30 minutes,
        # and a 10M run fills its disk before that.
        .config("spark.cleaner.periodicGC.interval", "5min")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    if a.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(a.checkpoint_dir)
    t = time.perf_counter()
    if a.progress > 0:
        threading.Thread(target=progress, args=(spark, peaks, t, a.progress, a.work), daemon=True).start()
    df = spark.read.option("header", True).csv(data)
    cap = {"default": nayose.spark.DEFAULT_MAX_DF, "none": None}.get(a.max_df) if not a.max_df.isdigit() \
        else int(a.max_df)
    result = nayose.spark.dedupe(df, max_df=cap)
    out_dir = os.path.join(a.work, "spark.clusters")
    result.clusters.coalesce(1).write.mode("overwrite").option("header", True).csv(out_dir)
    secs = time.perf_counter() - t
    peaks.done.set()
    peaks.join()
    part = [f for f in os.listdir(out_dir) if f.startswith("part-") and f.endswith(".csv")][0]
    f = evaluate(truth, os.path.join(out_dir, part))
    summary = dict(result.summary)
    summary.pop("model")
    print(json.dumps({"run": "spark", "records": a.records, "wall_s": round(secs, 1),
                      "driver_peak_mib": round(peaks.driver),
                      "executor_peak_mib": sorted(round(v) for v in peaks.executors.values()),
                      "precision": f["precision"], "recall": f["recall"], "f1": f["f1"],
                      "checkpoints": "reliable" if a.checkpoint_dir else "local", **summary}),
          flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
