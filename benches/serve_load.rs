//! Load benchmark of `nayose serve`: the real release binary as a child
//! process on a fresh data directory, driven over loopback.
//!
//! ```text
//! cargo build --release
//! cargo bench --bench serve_load -- --records 100000
//! cargo bench --bench serve_load -- --records 1000000 --duration 30
//! ```
//!
//! Options (all optional): `--records N` stored records (100000),
//! `--duration S` seconds per load phase (20), `--concurrency C` clients
//! (8), `--max-requests R` per phase (50000), `--phases checks,creates,mixed`,
//! `--mixed-create-pct P` share of creates in the mixed phase (20),
//! `--warmup N` unmeasured checks before the first phase (200),
//! `--import-timeout S` (3600), `--sample S` seconds between the import's
//! progress lines (10), `--bin PATH` (target/release/nayose), `--keep`
//! keeps the temporary directory (data, CSV, server log), `--perf DIR`
//! records the server with `perf record --call-graph dwarf` during the
//! import and each phase (`DIR/import.perf.data`, …, system-wide; read
//! them with `perf report -i FILE --pid SERVER_PID --no-children`).
//!
//! What it does, with fixed seeds throughout:
//! 1. generates `N + 20000` BtoC records (seed 20240601) with the gen
//!    library and writes the first `N` as a CSV file; the other 20000 are
//!    held out: they are other notations, typos and moves of stored
//!    customers (or customers not stored at all), as a CRM would send them;
//! 2. generates 20000 more BtoC records with another seed: new customers;
//! 3. starts `nayose serve --data TMP/data --listen 127.0.0.1:0`, imports
//!    the CSV with `POST /v1/imports` and follows the job: the time to the
//!    last stored row (store phase) and to the end (model training, batch
//!    matching, merges and proposals), printing every `--sample` seconds
//!    the server's CPU by thread (the import's own thread, rayon's workers,
//!    tokio's) and the database's size, which tells the import's stages
//!    apart (parallel prepare/search vs. single-threaded writes);
//! 4. runs the load phases, each with a fixed number of clients for a fixed
//!    time or request count, whichever ends first, measuring each request's
//!    latency on the client (request sent to body read):
//!    * `checks`: `POST /v1/records/check`, probes alternating between the
//!      held-out records and the other seed's;
//!    * `creates`: `POST /v1/records` (create with check, auto-merge and
//!      proposals in the same call) with ids `LOAD-000001`, …, from other
//!      held-out and other-seed records than the checks';
//!    * `mixed`: both at once, `--mixed-create-pct` of them creates;
//! 5. after each stage: the server's peak RSS (VmHWM), its CPU time, the
//!    server-side mean latency from `/metrics`, and the data directory's
//!    size; then a table.
//!
//! The server is killed at the end, on a panic (a guard), on SIGINT,
//! SIGTERM or SIGHUP (which also remove the temporary directory) and when
//! this process dies any other way (PR_SET_PDEATHSIG). Without `--bench`
//! (that is, under `cargo test --all-targets`) it only says how to run it.

use nayose::gen::{self, GenOptions, GenRecord, Kind};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: u64 = 20240601;
const OTHER_SEED: u64 = 20240602;
/// Records generated with the stored ones but not imported.
const HELD_OUT: usize = 20_000;
/// Records of another seed (new customers).
const OTHER: usize = 20_000;
const TOKEN: &str = "serve-load-bench-admin-token";

#[derive(Debug, Clone)]
struct Opts {
    records: usize,
    duration: Duration,
    concurrency: usize,
    max_requests: usize,
    phases: Vec<Phase>,
    mixed_create_pct: usize,
    warmup: usize,
    import_timeout: Duration,
    bin: PathBuf,
    keep: bool,
    /// Seconds between the import's progress lines.
    sample: Duration,
    perf: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Checks,
    Creates,
    Mixed,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Checks => "checks",
            Phase::Creates => "creates",
            Phase::Mixed => "mixed",
        }
    }
}

const USAGE: &str = "cargo bench --bench serve_load -- [--records N] [--duration S] \
[--concurrency C] [--max-requests R] [--phases checks,creates,mixed] [--mixed-create-pct P] \
[--warmup N] [--import-timeout S] [--sample S] [--bin PATH] [--keep] [--perf DIR]";

fn parse_args(args: &[String]) -> Opts {
    let mut o = Opts {
        records: 100_000,
        duration: Duration::from_secs(20),
        concurrency: 8,
        max_requests: 50_000,
        phases: vec![Phase::Checks, Phase::Creates, Phase::Mixed],
        mixed_create_pct: 20,
        warmup: 200,
        import_timeout: Duration::from_secs(3600),
        bin: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/nayose"),
        keep: false,
        sample: Duration::from_secs(10),
        perf: None,
    };
    let mut it = args.iter();
    let num = |flag: &str, v: Option<&String>| -> usize {
        v.and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{flag} takes a number\nusage: {USAGE}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => {}
            "--records" => o.records = num(a, it.next()),
            "--duration" => o.duration = Duration::from_secs(num(a, it.next()) as u64),
            "--concurrency" => o.concurrency = num(a, it.next()).max(1),
            "--max-requests" => o.max_requests = num(a, it.next()).max(1),
            "--mixed-create-pct" => o.mixed_create_pct = num(a, it.next()).min(100),
            "--warmup" => o.warmup = num(a, it.next()),
            "--import-timeout" => o.import_timeout = Duration::from_secs(num(a, it.next()) as u64),
            "--bin" => o.bin = PathBuf::from(it.next().expect("--bin takes a path")),
            "--keep" => o.keep = true,
            "--sample" => o.sample = Duration::from_secs(num(a, it.next()).max(1) as u64),
            "--perf" => o.perf = Some(PathBuf::from(it.next().expect("--perf takes a directory"))),
            "--phases" => {
                o.phases = it
                    .next()
                    .expect("--phases takes a list")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| match s {
                        "checks" => Phase::Checks,
                        "creates" => Phase::Creates,
                        "mixed" => Phase::Mixed,
                        _ => panic!("--phases: checks, creates, mixed"),
                    })
                    .collect()
            }
            "-h" | "--help" => {
                println!("usage: {USAGE}");
                std::process::exit(0);
            }
            _ => panic!("unknown argument `{a}`\nusage: {USAGE}"),
        }
    }
    o
}

// ---- the server process -------------------------------------------------------

/// Kills the server when dropped (end of run, panic).
struct ServerGuard {
    child: Child,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &Path, data: &Path, log: &Path) -> (ServerGuard, String) {
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data")
        .arg(data)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env("NAYOSE_ADMIN_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("server log"));
    // SAFETY: prctl and pthread_sigmask are async-signal-safe; the closure
    // allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            // Die with this process even when it is killed without unwinding.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            unblock_stop_signals();
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    register_child(child.id());
    let stdout = child.stdout.take().expect("stdout");
    let guard = ServerGuard { child };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on http://") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "the server did not say `listening on` within 60 s; its log:\n{}",
                tail(log, 40)
            )
        });
    (guard, format!("http://{addr}"))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

/// Lines of `/proc/PID/status` (kB figures), in MiB, in the order asked.
fn status_mib<const N: usize>(pid: u32, keys: [&str; N]) -> [f64; N] {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    keys.map(|key| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .unwrap_or(f64::NAN)
    })
}

/// VmHWM and VmRSS of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let [hwm, rss] = status_mib(pid, ["VmHWM:", "VmRSS:"]);
    (hwm, rss)
}

/// User + system CPU seconds of a process.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it are plain.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after `)`.
    (ticks(11) + ticks(12)) / hz
}

/// CPU seconds of each live thread of a process: tid → (name, seconds).
/// The import job's own thread is `import-J…`, and so are rayon's workers
/// when the import starts the pool; tokio's workers and blocking threads
/// are `tokio-runtime-w`; tantivy's have their own names.
fn thread_cpu(pid: u32) -> BTreeMap<String, (String, f64)> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let tid = t.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let name = match comm.trim() {
            c if c.starts_with("import-") => "import".to_string(),
            c => c.to_string(),
        };
        let secs = cpu_secs(&format!("{pid}/task/{tid}"));
        out.insert(tid, (name, secs));
    }
    out
}

/// CPU by thread name between two [`thread_cpu`] samples, as
/// `name 150% (2 busy)`: 100% is one core; busy threads used ≥ 20% of one.
fn cpu_by_name(
    before: &BTreeMap<String, (String, f64)>,
    after: &BTreeMap<String, (String, f64)>,
    secs: f64,
) -> String {
    let mut by: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (tid, (name, c)) in after {
        let d = c - before.get(tid).map_or(0.0, |b| b.1);
        let e = by.entry(name).or_insert((0.0, 0));
        e.0 += d;
        if d / secs >= 0.2 {
            e.1 += 1;
        }
    }
    let parts: Vec<String> = by
        .into_iter()
        .filter(|(_, (d, _))| d / secs >= 0.01)
        .map(|(n, (d, busy))| format!("{n} {:.0}% ({busy} busy)", 100.0 * d / secs))
        .collect();
    if parts.is_empty() {
        "idle".into()
    } else {
        parts.join(", ")
    }
}

/// A `perf record` of the server for one stage (`--perf DIR`).
struct Perf(Option<Child>);

impl Perf {
    fn start(dir: Option<&Path>, pid: u32, stage: &str, hz: u32) -> Perf {
        let Some(dir) = dir else { return Perf(None) };
        let out = dir.join(format!("{stage}.perf.data"));
        let mut cmd = Command::new("perf");
        // SAFETY: pthread_sigmask is async-signal-safe (perf stops on SIGINT).
        unsafe {
            cmd.pre_exec(|| {
                unblock_stop_signals();
                Ok(())
            });
        }
        let child = cmd
            // System-wide: `-p` would miss the threads started later (the
            // import's, rayon's). `perf report --pid` picks the server out.
            .args(["record", "-q", "-a", "-F", &hz.to_string()])
            .args(["--call-graph", "dwarf", "-o"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(c) => {
                register_child(c.id());
                println!(
                    "  perf: recording {stage} into {} (perf report -i FILE --pid {pid} --no-children)",
                    out.display()
                );
                Perf(Some(c))
            }
            Err(e) => {
                println!("  perf: cannot start ({e}); no profile of {stage}");
                Perf(None)
            }
        }
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            // SIGINT makes perf write its file and exit.
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
            let _ = c.wait();
        }
    }
}

/// Bytes on disk (allocated blocks) under a path.
fn disk_bytes(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if m.is_dir() {
        std::fs::read_dir(p)
            .map(|d| d.flatten().map(|e| disk_bytes(&e.path())).sum())
            .unwrap_or(0)
    } else {
        m.blocks() * 512
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

// ---- stopping on a signal --------------------------------------------------------

/// What to undo when this process is told to stop (SIGINT, SIGTERM, SIGHUP),
/// where no destructor runs: the temporary directory (a 1M-record run leaves
/// over a GiB there) and the children.
static CLEANUP: std::sync::Mutex<(Option<PathBuf>, Vec<u32>)> =
    std::sync::Mutex::new((None, Vec::new()));

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset only write the set they are given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Block the stop signals in this thread and every thread started after
/// (so call it first), and wait for them on a thread of their own, which
/// kills the children, removes the temporary directory and exits.
fn handle_stop_signals(keep: bool) {
    let set = stop_signals();
    // SAFETY: `set` is a valid signal set; no old mask is asked for.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    std::thread::spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` is valid and `sig` is a valid out-pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        let (dir, pids) = {
            let c = CLEANUP.lock().unwrap_or_else(|e| e.into_inner());
            (c.0.clone(), c.1.clone())
        };
        for pid in pids {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        match dir {
            Some(d) if !keep => {
                let _ = std::fs::remove_dir_all(&d);
                eprintln!(
                    "serve_load: stopped by signal {sig}; removed {}",
                    d.display()
                );
            }
            Some(d) => eprintln!("serve_load: stopped by signal {sig}; kept {}", d.display()),
            None => eprintln!("serve_load: stopped by signal {sig}"),
        }
        std::process::exit(128 + sig);
    });
}

/// For `pre_exec`: children get the default signal mask back.
fn unblock_stop_signals() {
    let set = stop_signals();
    // SAFETY: pthread_sigmask is async-signal-safe; `set` is valid.
    unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
}

fn register_child(pid: u32) {
    CLEANUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .push(pid);
}

// ---- probes -------------------------------------------------------------------

/// A record as the API takes it, and whether a record of its customer is stored.
#[derive(Clone)]
struct Probe {
    fields: BTreeMap<String, String>,
    stored_sibling: bool,
}

fn probe(headers: &[&str], map: &BTreeMap<String, String>, r: &GenRecord, sib: bool) -> Probe {
    // headers[0] is `id`; the record's fields are the other columns.
    let fields = headers[1..]
        .iter()
        .zip(&r.fields)
        .filter_map(|(h, v)| {
            let f = map.get(*h)?;
            let v = v.trim();
            (!v.is_empty()).then(|| (f.clone(), v.to_string()))
        })
        .collect();
    Probe {
        fields,
        stored_sibling: sib,
    }
}

/// Alternate two lists: a, b, a, b, …
fn interleave(a: Vec<Probe>, b: Vec<Probe>) -> Vec<Probe> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out
}

// ---- load -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Check,
    Create,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Check => "check",
            Op::Create => "create",
        }
    }
}

struct Sample {
    kind: Op,
    micros: u64,
    /// Candidates in the answer (all bands); the best one's band.
    candidates: usize,
    top_match: bool,
    top_review: bool,
    stored_sibling: bool,
}

#[derive(Default)]
struct Failures {
    non_2xx: Vec<(Op, u16, String)>,
    transport: Vec<(Op, String)>,
}

struct Shared {
    base: String,
    client: reqwest::Client,
    checks: Vec<Probe>,
    creates: Vec<Probe>,
    next_check: AtomicUsize,
    next_create: AtomicUsize,
}

struct PhaseResult {
    phase: Phase,
    elapsed: f64,
    samples: Vec<Sample>,
    failures: Failures,
    server_cpu: f64,
    client_cpu: f64,
    hwm: f64,
    rss: f64,
    /// Server-side mean latency by kind, ms (from `/metrics`).
    server_mean: BTreeMap<Op, f64>,
    disk: u64,
}

async fn one_request(sh: &Shared, kind: Op) -> Result<Sample, (Op, Option<u16>, String)> {
    let (url, body, sib) = match kind {
        Op::Check => {
            let k = sh.next_check.fetch_add(1, Ordering::Relaxed);
            let p = &sh.checks[k % sh.checks.len()];
            (
                format!("{}/v1/records/check", sh.base),
                json!({ "fields": p.fields }),
                p.stored_sibling,
            )
        }
        Op::Create => {
            let k = sh.next_create.fetch_add(1, Ordering::Relaxed);
            let p = &sh.creates[k % sh.creates.len()];
            (
                format!("{}/v1/records", sh.base),
                json!({ "id": format!("LOAD-{:06}", k + 1), "source": "load", "fields": p.fields }),
                p.stored_sibling,
            )
        }
    };
    let body = serde_json::to_vec(&body).expect("json");
    let t = Instant::now();
    let r = sh
        .client
        .post(url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| (kind, None, e.to_string()))?;
    let status = r.status();
    let bytes = r.bytes().await.map_err(|e| (kind, None, e.to_string()))?;
    let micros = t.elapsed().as_micros() as u64;
    if !status.is_success() {
        return Err((
            kind,
            Some(status.as_u16()),
            String::from_utf8_lossy(&bytes).chars().take(300).collect(),
        ));
    }
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let cands = v["candidates"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    Ok(Sample {
        kind,
        micros,
        candidates: cands.len(),
        top_match: cands.first().is_some_and(|c| c["band"] == "match"),
        top_review: cands.first().is_some_and(|c| c["band"] == "review"),
        stored_sibling: sib,
    })
}

async fn run_phase(sh: Arc<Shared>, phase: Phase, o: &Opts) -> (f64, Vec<Sample>, Failures) {
    let issued = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + o.duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..o.concurrency {
        let sh = Arc::clone(&sh);
        let issued = Arc::clone(&issued);
        let (cap, pct) = (o.max_requests, o.mixed_create_pct);
        set.spawn(async move {
            let mut samples = Vec::new();
            let mut failures = Failures::default();
            loop {
                let k = issued.fetch_add(1, Ordering::Relaxed);
                if k >= cap || Instant::now() >= deadline {
                    break;
                }
                let kind = match phase {
                    Phase::Checks => Op::Check,
                    Phase::Creates => Op::Create,
                    // A fixed pattern: `pct` creates in every 100 requests.
                    Phase::Mixed if k % 100 < pct => Op::Create,
                    Phase::Mixed => Op::Check,
                };
                match one_request(&sh, kind).await {
                    Ok(s) => samples.push(s),
                    Err((k, Some(st), body)) => failures.non_2xx.push((k, st, body)),
                    Err((k, None, e)) => failures.transport.push((k, e)),
                }
            }
            (samples, failures)
        });
    }
    let mut samples = Vec::new();
    let mut failures = Failures::default();
    while let Some(r) = set.join_next().await {
        let (s, f) = r.expect("client task");
        samples.extend(s);
        failures.non_2xx.extend(f.non_2xx);
        failures.transport.extend(f.transport);
    }
    (start.elapsed().as_secs_f64(), samples, failures)
}

/// Sum and count of the server's request-duration histogram, by kind.
async fn server_latency(sh: &Shared) -> BTreeMap<Op, (f64, f64)> {
    let mut out = BTreeMap::new();
    let Ok(r) = sh
        .client
        .get(format!("{}/metrics", sh.base))
        .bearer_auth(TOKEN)
        .send()
        .await
    else {
        return out;
    };
    let text = r.text().await.unwrap_or_default();
    for line in text.lines() {
        let kind = if line.contains("route=\"/v1/records/check\"") {
            Op::Check
        } else if line.contains("route=\"/v1/records\"") && line.contains("method=\"POST\"") {
            Op::Create
        } else {
            continue;
        };
        let v: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let e = out.entry(kind).or_insert((0.0, 0.0));
        if line.starts_with("nayose_http_request_duration_seconds_sum") {
            e.0 += v;
        } else if line.starts_with("nayose_http_request_duration_seconds_count") {
            e.1 += v;
        }
    }
    out
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

// ---- import ---------------------------------------------------------------------

struct ImportResult {
    upload: f64,
    store: f64,
    total: f64,
    summary: Value,
}

fn import(
    rt: &tokio::runtime::Runtime,
    sh: &Shared,
    csv: Vec<u8>,
    o: &Opts,
    pid: u32,
    data: &Path,
) -> ImportResult {
    let (rows, timeout, sample) = (o.records, o.import_timeout, o.sample);
    rt.block_on(async {
        let t0 = Instant::now();
        let r = sh
            .client
            .post(format!("{}/v1/imports?source=bench", sh.base))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .timeout(Duration::from_secs(600))
            .body(csv)
            .send()
            .await
            .expect("POST /v1/imports");
        let status = r.status();
        let job: Value = r.json().await.expect("job JSON");
        assert_eq!(status.as_u16(), 202, "import not accepted: {job}");
        let upload = t0.elapsed().as_secs_f64();
        let id = job["id"].as_str().expect("job id").to_string();
        println!("  import job {id} accepted after {upload:.1} s");
        let mut store_end = None;
        let mut last_print = Instant::now();
        let mut last_cpu = thread_cpu(pid);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let j: Value = sh
                .client
                .get(format!("{}/v1/jobs/{id}", sh.base))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("GET job")
                .json()
                .await
                .expect("job JSON");
            let done = j["done"].as_u64().unwrap_or(0);
            let total = j["total"].as_u64().unwrap_or(0);
            if store_end.is_none() && total > 0 && done >= total {
                let t = t0.elapsed().as_secs_f64();
                store_end = Some(t);
                println!(
                    "  {t:7.1} s  all {total} rows stored; training, matching, merging …  (server RSS {:.0} MiB)",
                    memory_mib(pid).1
                );
            }
            match j["status"].as_str() {
                Some("running") => {}
                Some("done") => {
                    let total = t0.elapsed().as_secs_f64();
                    return ImportResult {
                        upload,
                        store: store_end.unwrap_or(total),
                        total,
                        summary: j["result"].clone(),
                    };
                }
                _ => panic!("import failed: {j}"),
            }
            if last_print.elapsed() >= sample {
                let dt = last_print.elapsed().as_secs_f64();
                last_print = Instant::now();
                let (hwm, rss) = memory_mib(pid);
                let now_cpu = thread_cpu(pid);
                let by_thread = cpu_by_name(&last_cpu, &now_cpu, dt);
                last_cpu = now_cpu;
                let db = disk_bytes(&data.join("nayose.db"));
                let wal = disk_bytes(&data.join("nayose.db-wal"));
                println!(
                    "  {:7.1} s  {done}/{rows} stored; CPU {}; db {:.0} MiB, wal {:.0} MiB; RSS {rss:.0} MiB (peak {hwm:.0})",
                    t0.elapsed().as_secs_f64(),
                    by_thread,
                    mib(db),
                    mib(wal)
                );
            }
            if t0.elapsed() > timeout {
                panic!(
                    "import still running after {} s ({done}/{total} rows stored); stopping",
                    timeout.as_secs()
                );
            }
        }
    })
}

// ---- main -----------------------------------------------------------------------

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "serve_load: a load benchmark of the release server; run it with\n  \
             cargo build --release && {USAGE}"
        );
        return;
    }
    let o = parse_args(&args);
    handle_stop_signals(o.keep);
    let shown: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    let command = if shown.is_empty() {
        "cargo bench --bench serve_load".to_string()
    } else {
        format!("cargo bench --bench serve_load -- {}", shown.join(" "))
    };
    assert!(
        o.bin.exists(),
        "{} is missing: build it first with `cargo build --release`",
        o.bin.display()
    );
    warn_if_stale(&o.bin);
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("serve_load: {command}");
    println!(
        "  {} stored BtoC records (seed {SEED}), {} clients, {} s or {} requests per phase, nproc {nproc}, load average {}",
        o.records,
        o.concurrency,
        o.duration.as_secs(),
        o.max_requests,
        loadavg.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );

    let dir = tempfile::Builder::new()
        .prefix("nayose-serve-load-")
        .tempdir()
        .expect("temp dir");
    let root = dir.path().to_path_buf();
    CLEANUP.lock().expect("cleanup").0 = Some(root.clone());
    let data = root.join("data");
    let csv_path = root.join("stored.csv");
    let log = root.join("server.log");
    let mut stages: Vec<(String, f64, String)> = Vec::new();

    // ---- data
    let t = Instant::now();
    let mut g = gen::generate(&GenOptions::new(Kind::BtoC, o.records + HELD_OUT, SEED));
    let held: Vec<GenRecord> = g.rows.split_off(o.records);
    g.ids.truncate(o.records);
    let stored_entities: HashSet<u32> = g.rows.iter().map(|r| r.entity).collect();
    let headers = g.headers;
    gen::write(&g, &csv_path, &root.join("truth.csv")).expect("write CSV");
    drop(g);
    let other = gen::generate(&GenOptions::new(Kind::BtoC, OTHER, OTHER_SEED)).rows;
    let csv = std::fs::read(&csv_path).expect("read CSV");
    let gen_secs = t.elapsed().as_secs_f64();
    println!(
        "  generated {} + {HELD_OUT} + {OTHER} records, CSV {:.1} MiB, in {gen_secs:.1} s",
        o.records,
        mib(csv.len() as u64)
    );
    stages.push((
        "generate + write CSV".into(),
        gen_secs,
        format!("{:.1} MiB CSV", mib(csv.len() as u64)),
    ));

    // ---- server
    let t = Instant::now();
    let (mut guard, base) = start_server(&o.bin, &data, &log);
    let pid = guard.child.id();
    println!(
        "  server pid {pid} at {base}, up in {:.2} s (log: {})",
        t.elapsed().as_secs_f64(),
        log.display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency * 2)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut shared = Shared {
        base: base.clone(),
        client,
        checks: Vec::new(),
        creates: Vec::new(),
        next_check: AtomicUsize::new(0),
        next_create: AtomicUsize::new(0),
    };

    // ---- import
    if let Some(d) = &o.perf {
        std::fs::create_dir_all(d).expect("--perf directory");
    }
    let perf = Perf::start(o.perf.as_deref(), pid, "import", 49);
    let imp = import(&rt, &shared, csv, &o, pid, &data);
    drop(perf);
    let s = &imp.summary;
    println!(
        "  import done in {:.1} s: stored {}, rejected {}, candidate pairs {}, merged {}, proposals {}, trained model {}",
        imp.total, s["stored"], s["rejected"], s["candidate_pairs"], s["merged_records"], s["proposals"], s["trained_model"]
    );
    assert_eq!(
        s["stored"].as_u64(),
        Some(o.records as u64),
        "not every row was stored: {s}"
    );
    let (hwm, rss) = memory_mib(pid);
    let import_disk = disk_bytes(&data);
    let import_cpu = cpu_secs(&pid.to_string());
    stages.push((
        "import: upload (202)".into(),
        imp.upload,
        format!("{:.0} rows/s", o.records as f64 / imp.upload),
    ));
    stages.push((
        "import: parse + store".into(),
        imp.store - imp.upload,
        format!("{:.0} rows/s", o.records as f64 / (imp.store - imp.upload)),
    ));
    stages.push((
        "import: train + match + merge + propose".into(),
        imp.total - imp.store,
        format!(
            "{} pairs, {} merged, {} proposals",
            s["candidate_pairs"], s["merged_records"], s["proposals"]
        ),
    ));
    stages.push((
        "import: total".into(),
        imp.total,
        format!(
            "{:.0} rows/s; server CPU {import_cpu:.0} s, peak RSS {hwm:.0} MiB, RSS {rss:.0} MiB, data {:.0} MiB",
            o.records as f64 / imp.total,
            mib(import_disk)
        ),
    ));

    // ---- probes, with the import's own header → field mapping
    let map: BTreeMap<String, String> = s["columns"]
        .as_object()
        .expect("columns in the import summary")
        .iter()
        .filter_map(|(h, f)| Some((h.clone(), f.as_str()?.to_string())))
        .collect();
    let half_h = held.len() / 2;
    let half_o = other.len() / 2;
    let held_p = |r: &GenRecord| probe(headers, &map, r, stored_entities.contains(&r.entity));
    let other_p = |r: &GenRecord| probe(headers, &map, r, false);
    shared.checks = interleave(
        held[..half_h].iter().map(held_p).collect(),
        other[..half_o].iter().map(other_p).collect(),
    );
    shared.creates = interleave(
        held[half_h..].iter().map(held_p).collect(),
        other[half_o..].iter().map(other_p).collect(),
    );
    drop((held, other));
    let sh = Arc::new(shared);

    // ---- warm-up (not measured): the first checks fault the index in.
    if o.warmup > 0 {
        let t = Instant::now();
        let warm = rt.block_on(async {
            let mut ms = Vec::new();
            for _ in 0..o.warmup {
                let t = Instant::now();
                let r = one_request(&sh, Op::Check).await;
                assert!(r.is_ok(), "warm-up check failed: {:?}", r.err());
                ms.push(t.elapsed().as_micros() as u64);
            }
            ms
        });
        println!(
            "  warm-up: {} checks in {:.1} s (first {:.1} ms)",
            o.warmup,
            t.elapsed().as_secs_f64(),
            warm[0] as f64 / 1000.0
        );
    }

    // ---- phases
    let mut results: Vec<PhaseResult> = Vec::new();
    let me = std::process::id().to_string();
    for &phase in &o.phases {
        let lat0 = rt.block_on(server_latency(&sh));
        let (scpu, ccpu) = (cpu_secs(&pid.to_string()), cpu_secs(&me));
        println!("  phase {} …", phase.name());
        let perf = Perf::start(o.perf.as_deref(), pid, phase.name(), 199);
        let (elapsed, samples, failures) = rt.block_on(run_phase(Arc::clone(&sh), phase, &o));
        drop(perf);
        let server_cpu = cpu_secs(&pid.to_string()) - scpu;
        let client_cpu = cpu_secs(&me) - ccpu;
        let lat1 = rt.block_on(server_latency(&sh));
        let server_mean = lat1
            .iter()
            .filter_map(|(k, (s1, c1))| {
                let (s0, c0) = lat0.get(k).copied().unwrap_or((0.0, 0.0));
                (c1 > &c0).then(|| (*k, (s1 - s0) / (c1 - c0) * 1000.0))
            })
            .collect();
        let (hwm, rss) = memory_mib(pid);
        let r = PhaseResult {
            phase,
            elapsed,
            samples,
            failures,
            server_cpu,
            client_cpu,
            hwm,
            rss,
            server_mean,
            disk: disk_bytes(&data),
        };
        println!(
            "    {} answers in {:.1} s, {} non-2xx, {} transport errors; server CPU {:.1} s ({:.0}% of {nproc} cores), bench CPU {:.1} s; peak RSS {:.0} MiB, data {:.0} MiB",
            r.samples.len(),
            r.elapsed,
            r.failures.non_2xx.len(),
            r.failures.transport.len(),
            r.server_cpu,
            100.0 * r.server_cpu / r.elapsed / nproc.max(1) as f64,
            r.client_cpu,
            r.hwm,
            mib(r.disk)
        );
        for (k, st, body) in r.failures.non_2xx.iter().take(5) {
            println!("    NON-2XX {} {st}: {body}", k.name());
        }
        for (k, e) in r.failures.transport.iter().take(5) {
            println!("    TRANSPORT ERROR {}: {e}", k.name());
        }
        results.push(r);
    }
    let creates_sent = sh.next_create.load(Ordering::Relaxed);
    let wrapped = creates_sent > sh.creates.len();

    // ---- stop the server, then the table
    let final_cpu = cpu_secs(&pid.to_string());
    // Its own memory, and pages of mapped files (the SQLite database and
    // the index segments).
    let [anon, file] = status_mib(pid, ["RssAnon:", "RssFile:"]);
    drop(rt);
    let _ = guard.child.kill();
    let _ = guard.child.wait();
    drop(guard);
    let disk_total = disk_bytes(&data);
    let mut parts: Vec<(String, u64)> = std::fs::read_dir(&data)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        disk_bytes(&e.path()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();

    println!();
    println!("==== serve_load results ====");
    println!("command:  {command}");
    println!(
        "machine:  nproc {nproc}, load average at start {}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "records:  {} stored (BtoC, seed {SEED}); probes: held-out variants of the same generation and seed {OTHER_SEED}, alternating",
        o.records
    );
    println!(
        "load:     {} clients, ≤ {} s and ≤ {} requests per phase, mixed = {}% creates",
        o.concurrency,
        o.duration.as_secs(),
        o.max_requests,
        o.mixed_create_pct
    );
    println!();
    println!("{:<42} {:>9}  note", "stage", "seconds");
    for (name, secs, note) in &stages {
        println!("{name:<42} {secs:>9.1}  {note}");
    }
    println!();
    println!(
        "{:<8} {:<6} {:>7} {:>7} {:>5} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>6} {:>7} {:>7} {:>8} {:>8} {:>9}",
        "phase",
        "kind",
        "ok",
        "non2xx",
        "err",
        "req/s",
        "p50ms",
        "p90ms",
        "p99ms",
        "max ms",
        "srv mean",
        "cands",
        "match%",
        "review%",
        "peakMiB",
        "srvCPU%",
        "CPUms/req"
    );
    for r in &results {
        for kind in [Op::Check, Op::Create] {
            let mut lat: Vec<u64> = r
                .samples
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.micros)
                .collect();
            let bad = r.failures.non_2xx.iter().filter(|f| f.0 == kind).count();
            let err = r.failures.transport.iter().filter(|f| f.0 == kind).count();
            if lat.is_empty() && bad == 0 && err == 0 {
                continue;
            }
            lat.sort_unstable();
            let of_kind: Vec<&Sample> = r.samples.iter().filter(|s| s.kind == kind).collect();
            let pct = |n: usize| 100.0 * n as f64 / of_kind.len().max(1) as f64;
            let cands = of_kind.iter().map(|s| s.candidates).sum::<usize>() as f64
                / of_kind.len().max(1) as f64;
            let matched = pct(of_kind.iter().filter(|s| s.top_match).count());
            let review = pct(of_kind.iter().filter(|s| s.top_review).count());
            println!(
                "{:<8} {:<6} {:>7} {:>7} {:>5} {:>8.1} {:>7.2} {:>7.2} {:>7.2} {:>8.1} {:>8.2} {:>6.1} {:>7.1} {:>7.1} {:>8.0} {:>7.0}% {:>9.2}",
                r.phase.name(),
                kind.name(),
                lat.len(),
                bad,
                err,
                lat.len() as f64 / r.elapsed,
                percentile(&lat, 0.50),
                percentile(&lat, 0.90),
                percentile(&lat, 0.99),
                percentile(&lat, 1.0),
                r.server_mean.get(&kind).copied().unwrap_or(f64::NAN),
                cands,
                matched,
                review,
                r.hwm,
                100.0 * r.server_cpu / r.elapsed / nproc.max(1) as f64,
                1000.0 * r.server_cpu / r.samples.len().max(1) as f64
            );
        }
    }
    println!(
        "(latency: client-side, request sent to body read; srv mean: the server's own mean from /metrics; \
         cands: candidates per answer, all bands (an answer lists at most 10); match% / review%: the best candidate's band; srvCPU%: the server's share of all cores during the phase; \
         CPUms/req: server CPU time per answer, both kinds together in the mixed phase)"
    );
    let checks: Vec<&Sample> = results
        .iter()
        .filter(|r| r.phase == Phase::Checks)
        .flat_map(|r| &r.samples)
        .collect();
    if !checks.is_empty() {
        let with = checks.iter().filter(|s| s.stored_sibling).count();
        let found = checks
            .iter()
            .filter(|s| s.stored_sibling && (s.top_match || s.top_review))
            .count();
        let false_hits = checks
            .iter()
            .filter(|s| !s.stored_sibling && s.top_match)
            .count();
        println!(
            "checks phase: {:.0}% of probes have a stored record of their customer; {:.1}% of those got a match- or \
             review-band best candidate; {false_hits} of the others got a match-band one (namesakes, household members)",
            100.0 * with as f64 / checks.len() as f64,
            100.0 * found as f64 / with.max(1) as f64
        );
    }
    if wrapped {
        println!(
            "note: {creates_sent} creates used the {} create probes more than once (fresh ids; repeats match their first copy)",
            sh.creates.len()
        );
    }
    println!();
    println!(
        "memory:   server peak RSS (VmHWM) after import {hwm:.0} MiB, after the last phase {:.0} MiB (RSS {:.0} MiB: {anon:.0} MiB the process's own, {file:.0} MiB mapped database and index files, which are the kernel's file cache); server CPU in all {final_cpu:.0} s",
        results.last().map_or(hwm, |r| r.hwm),
        results.last().map_or(rss, |r| r.rss)
    );
    let parts: Vec<String> = parts
        .iter()
        .map(|(n, b)| format!("{n} {:.0}", mib(*b)))
        .collect();
    println!(
        "disk:     data dir {:.0} MiB after import, {:.0} MiB at the end ({} MiB)",
        mib(import_disk),
        mib(disk_total),
        parts.join(", ")
    );
    let p99_check = results.iter().find(|r| r.phase == Phase::Checks).map(|r| {
        let mut v: Vec<u64> = r.samples.iter().map(|s| s.micros).collect();
        v.sort_unstable();
        percentile(&v, 0.99)
    });
    let creates_rate = results
        .iter()
        .find(|r| r.phase == Phase::Creates)
        .map(|r| r.samples.len() as f64 / r.elapsed);
    let failures: usize = results
        .iter()
        .map(|r| r.failures.non_2xx.len() + r.failures.transport.len())
        .sum();
    println!(
        "targets:  check p99 ≤ 20 ms: {}; ≥ 500 creates/s with checks: {}; non-2xx + errors = 0: {}",
        p99_check.map_or("not run".into(), |p| format!(
            "{p:.1} ms {}",
            if p <= 20.0 { "ok" } else { "MISSED" }
        )),
        creates_rate.map_or("not run".into(), |c| format!(
            "{c:.0}/s {}",
            if c >= 500.0 { "ok" } else { "MISSED" }
        )),
        if failures == 0 {
            "ok".to_string()
        } else {
            format!("{failures} FAILED")
        }
    );
    if o.keep {
        let kept = dir.keep();
        println!("kept:     {}", kept.display());
    }
}

/// Say so when a source file is newer than the binary.
fn warn_if_stale(bin: &Path) {
    fn newest(p: &Path) -> Option<std::time::SystemTime> {
        let m = std::fs::metadata(p).ok()?;
        if m.is_dir() {
            std::fs::read_dir(p)
                .ok()?
                .flatten()
                .filter_map(|e| newest(&e.path()))
                .max()
        } else {
            m.modified().ok()
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (Some(b), Some(s)) = (
        std::fs::metadata(bin).and_then(|m| m.modified()).ok(),
        newest(&root.join("src")),
    ) else {
        return;
    };
    if s > b {
        println!(
            "  WARNING: {} is older than src/: run `cargo build --release` first",
            bin.display()
        );
    }
}
