//! The real server killed with SIGKILL during an import, during creates and
//! during decisions, then restarted: every acknowledged write is there,
//! nothing is half-applied, and the index agrees with the store.

use nayose::gen::{self, GenOptions, Kind};
use nayose::index::live::Opened;
use nayose::rules::Rules;
use nayose::service::Service;
use nayose::store::sqlite::SqliteStore;
use nayose::store::{ProposalFilter, ProposalStatus, Store, StoreExt};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "fault-test-admin";

struct Server {
    child: Child,
    base: String,
    http: reqwest::blocking::Client,
}

impl Server {
    fn start(data: &Path) -> Server {
        let (child, base) = crate::common::spawn_serve(data, TOKEN, &[]);
        Server {
            child,
            base,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    fn kill(mut self) {
        // Child::kill is SIGKILL on Unix: no shutdown code runs.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send()?;
        let status = resp.status().as_u16();
        let v = resp.json().unwrap_or(Value::Null);
        Ok((status, v))
    }

    fn get(&self, path: &str) -> Value {
        let (st, v) = self.send(reqwest::Method::GET, path, None).unwrap();
        assert_eq!(st, 200, "GET {path}: {v}");
        v
    }

    fn import(&self, csv: Vec<u8>) -> String {
        let resp = self
            .http
            .post(format!("{}/v1/imports?source=fault", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202);
        let v: Value = resp.json().unwrap();
        v["id"].as_str().unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gen_csv(kind: Kind, n: usize, seed: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let g = gen::generate(&GenOptions::new(kind, n, seed));
    let (data, truth) = (dir.path().join("d.csv"), dir.path().join("t.csv"));
    gen::write(&g, &data, &truth).unwrap();
    std::fs::read(data).unwrap()
}

/// Open the data directory in-process (the server is dead) and check the
/// index against the store: the same records, no more, no fewer.
fn index_agrees_with_store(data: &Path) -> u64 {
    let store = Arc::new(SqliteStore::open(data).unwrap());
    store.integrity_check().unwrap();
    let dyn_store: Arc<dyn Store> = store.clone();
    let service = Service::open(dyn_store, data, Rules::default_rules(), None).unwrap();
    let records = store.read(|tx| tx.count_records()).unwrap();
    assert_eq!(
        service.index().len(),
        records,
        "index documents vs stored records"
    );
    let mut after = 0;
    loop {
        let batch = store.read(|tx| tx.records_after(after, 4096)).unwrap();
        let Some(last) = batch.last() else { break };
        after = last.num;
        for r in &batch {
            assert_eq!(
                service.index().holds(r.num).unwrap(),
                1,
                "record {} not indexed once",
                r.id
            );
        }
    }
    records
}

/// Wait for a job to end; its last state.
fn wait_for_job(server: &Server, job: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let j = server.get(&format!("/v1/jobs/{job}"));
        if j["status"] != "running" {
            return j;
        }
        assert!(Instant::now() < deadline, "the job never ended: {j}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the store ended with, as a reference for another run: each
/// record's cluster (the record ids of its entity, sorted) and the pairs of
/// record ids with a pending proposal.
fn outcome(data: &Path) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let store = SqliteStore::open(data).unwrap();
    let mut by_entity: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut after = 0;
    loop {
        let batch = store.read(|tx| tx.records_after(after, 4096)).unwrap();
        let Some(last) = batch.last() else { break };
        after = last.num;
        for r in batch {
            by_entity.entry(r.entity_id).or_default().push(r.id);
        }
    }
    let mut clusters: Vec<Vec<String>> = by_entity
        .into_values()
        .map(|mut ids| {
            ids.sort();
            ids
        })
        .collect();
    clusters.sort();
    let mut pairs: Vec<(String, String)> = store
        .read(|tx| {
            tx.proposals(&ProposalFilter {
                status: Some(ProposalStatus::Open),
                limit: 1_000_000,
                ..Default::default()
            })
        })
        .unwrap()
        .into_iter()
        .map(|p| (p.record_ids[0].clone(), p.record_ids[1].clone()))
        .collect();
    pairs.sort();
    (clusters, pairs)
}

/// Where an import is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as the upload is answered.
    Accepted,
    /// With some batches stored.
    Storing,
    /// While the stored rows are matched.
    Matching,
}

#[test]
fn an_import_killed_at_any_point_is_finished_at_the_next_start() {
    let csv = gen_csv(Kind::BtoC, 12_000, 5);
    // The reference: the same file imported in one go.
    let reference = tempfile::tempdir().unwrap();
    let server = Server::start(reference.path());
    let job = server.import(csv.clone());
    let done = wait_for_job(&server, &job);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["resumed"], false, "{done}");
    drop(server);
    let want = outcome(reference.path());
    let merged = want.0.iter().filter(|c| c.len() > 1).count();
    assert!(
        merged > 1000 && !want.1.is_empty(),
        "{merged} clusters, {} proposals",
        want.1.len()
    );

    for at in [KillAt::Accepted, KillAt::Storing, KillAt::Matching] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path());
        let job = server.import(csv.clone());
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let j = server.get(&format!("/v1/jobs/{job}"));
            assert_eq!(
                j["status"], "running",
                "{at:?}: the import ended before the kill: {j}"
            );
            let ready = match at {
                KillAt::Accepted => true,
                KillAt::Storing => j["done"].as_u64().unwrap() >= 4000,
                KillAt::Matching => j["stage"] == "matching",
            };
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "{at:?}: no progress: {j}");
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill();

        // As the kill left it: whole batches, the job's progress exactly
        // what the store holds.
        let records = index_agrees_with_store(dir.path());
        let store = SqliteStore::open(dir.path()).unwrap();
        let cut = store.read(|tx| tx.job(&job)).unwrap().unwrap();
        drop(store);
        assert_eq!(cut.done, records, "{at:?}: {cut:?}");
        assert!(
            records.is_multiple_of(2000) || records == 12_000,
            "{at:?}: {records}"
        );
        eprintln!("{at:?}: stored before the kill: {records} of 12000 rows");

        // Started again: the job is finished with no manual step.
        let server = Server::start(dir.path());
        let j = wait_for_job(&server, &job);
        assert_eq!(j["status"], "done", "{at:?}: {j}");
        assert_eq!(j["resumed"], true, "{at:?}: {j}");
        assert_eq!(j["result"]["stored"], 12_000, "{at:?}: {j}");
        assert_eq!(j["result"]["rows"], 12_000, "{at:?}: {j}");
        // A model, and checks that answer.
        server.get("/v1/model");
        let (st, c) = server
            .send(
                reqwest::Method::POST,
                "/v1/records/check",
                Some(&json!({"fields": {"person_name": "山田 太郎", "phone": "03-1234-5678"}})),
            )
            .unwrap();
        assert_eq!(st, 200, "{at:?}: {c}");
        drop(server);
        // Every stored row matched: the same clusters and proposals as the
        // import that was never cut off.
        assert!(
            outcome(dir.path()) == want,
            "{at:?}: another outcome than the uninterrupted import"
        );
    }
}

#[test]
fn killed_during_creates_and_decisions_keeps_every_acknowledged_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let job = server.import(include_bytes!("../fixtures/sample/demo.csv").to_vec());
    loop {
        let j = server.get(&format!("/v1/jobs/{job}"));
        if j["status"] != "running" {
            assert_eq!(j["status"], "done", "{j}");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let open = server.get("/v1/proposals?status=open&limit=500");
    let proposals: Vec<(String, u64)> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(proposals.len() >= 4, "{open}");

    // Two clients: one deciding, one creating; the server dies under them.
    let acked_decisions = std::sync::Mutex::new(Vec::new());
    let acked_creates = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            for (i, (id, version)) in proposals.iter().enumerate() {
                let verb = if i % 2 == 0 { "approve" } else { "reject" };
                match server.send(
                    reqwest::Method::POST,
                    &format!("/v1/proposals/{id}/{verb}"),
                    Some(&json!({"version": version})),
                ) {
                    Ok((200, _)) => acked_decisions.lock().unwrap().push((id.clone(), verb)),
                    Ok((409, _)) => {} // merged away by an earlier approval
                    Ok((st, v)) => panic!("{verb} {id}: {st} {v}"),
                    Err(_) => break, // the server is gone
                }
            }
        });
        s.spawn(|| {
            for i in 0.. {
                let rec = json!({"id": format!("KILL-{i:05}"), "fields": {
                    "company_name": format!("株式会社試験{i}号商会"), "phone": format!("03-6{:03}-{:04}", i % 1000, i)}});
                match server.send(reqwest::Method::POST, "/v1/records", Some(&rec)) {
                    Ok((201, _)) => acked_creates.lock().unwrap().push(format!("KILL-{i:05}")),
                    Ok((st, v)) => panic!("create {i}: {st} {v}"),
                    Err(_) => break,
                }
            }
        });
        // Let both get going, then pull the plug.
        let deadline = Instant::now() + Duration::from_secs(60);
        while (acked_decisions.lock().unwrap().len() < 2
            || acked_creates.lock().unwrap().len() < 20)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let Server { child, .. } = &server;
        // SIGKILL through the pid: the scoped threads still hold `server`.
        let pid = child.id();
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
    });
    drop(server);
    let decisions = acked_decisions.into_inner().unwrap();
    let creates = acked_creates.into_inner().unwrap();
    assert!(
        decisions.len() >= 2 && creates.len() >= 20,
        "{decisions:?} {}",
        creates.len()
    );
    eprintln!(
        "acknowledged before the kill: {} decisions, {} creates",
        decisions.len(),
        creates.len()
    );

    index_agrees_with_store(dir.path());
    let server = Server::start(dir.path());
    for (id, verb) in &decisions {
        let p = server.get(&format!("/v1/proposals/{id}"));
        let want = if *verb == "approve" {
            "approved"
        } else {
            "rejected"
        };
        assert_eq!(p["status"], want, "acknowledged {verb} of {id} lost: {p}");
    }
    for id in &creates {
        let r = server.get(&format!("/v1/records/{id}"));
        // Found by a check: the index has it too.
        let (st, c) = server
            .send(
                reqwest::Method::POST,
                "/v1/records/check",
                Some(&json!({"fields": r["fields"]})),
            )
            .unwrap();
        assert_eq!(st, 200);
        assert_eq!(c["candidates"][0]["id"], id.as_str(), "{c}");
    }
    // Nothing half-applied: every approved proposal's records share an entity.
    let store = SqliteStore::open(dir.path()).unwrap();
    let all = store
        .read(|tx| {
            tx.proposals(&ProposalFilter {
                limit: 100_000,
                ..Default::default()
            })
        })
        .unwrap();
    for p in all.iter().filter(|p| p.status == ProposalStatus::Approved) {
        let (a, b) = store
            .read(|tx| {
                Ok((
                    tx.record_by_num(p.a)?.unwrap(),
                    tx.record_by_num(p.b)?.unwrap(),
                ))
            })
            .unwrap();
        assert_eq!(
            a.entity_id, b.entity_id,
            "approved proposal {} not merged",
            p.id
        );
    }
}

#[test]
fn a_missing_or_foreign_index_is_rebuilt_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let job = server.import(include_bytes!("../fixtures/sample/demo.csv").to_vec());
    while server.get(&format!("/v1/jobs/{job}"))["status"] == "running" {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill();
    // Gone altogether.
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    assert_eq!(index_agrees_with_store(dir.path()), 3000);
    // Built for other rules: the fingerprint differs, so it is rebuilt.
    let mut rules = Rules::default_rules();
    rules.matching.top_k += 1;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let s = Service::open(store, dir.path(), rules, None);
    let s = s.unwrap();
    assert_eq!(s.startup().opened, Opened::Fresh);
    assert_eq!(s.startup().replayed, 3000);
    assert_eq!(s.index().len(), 3000);
    drop(s);
    // Opened again with the same rules: caught up, nothing to replay.
    let mut rules = Rules::default_rules();
    rules.matching.top_k += 1;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let s = Service::open(store, dir.path(), rules, None).unwrap();
    assert!(
        matches!(s.startup().opened, Opened::Existing { .. }),
        "{:?}",
        s.startup()
    );
    assert_eq!(s.startup().replayed, 0);
}

#[test]
fn sigterm_finishes_and_leaves_the_index_committed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    for i in 0..50 {
        let rec = json!({"id": format!("T{i}"), "fields": {"company_name": format!("株式会社終了{i}"), "phone": format!("03-3{:03}-0000", i)}});
        let (st, v) = server
            .send(reqwest::Method::POST, "/v1/records", Some(&rec))
            .unwrap();
        // An empty store matches with the rules' starting weights.
        assert_eq!(st, 201, "{v}");
        assert!(v["not_matched"].is_null(), "{v}");
    }
    let Server { child, .. } = &server;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let s = Service::open(store, dir.path(), Rules::default_rules(), None).unwrap();
    assert!(matches!(s.startup().opened, Opened::Existing { .. }));
    assert_eq!(
        s.startup().replayed,
        0,
        "changes were left out of the index at shutdown"
    );
}

#[test]
fn a_model_that_does_not_fit_the_rules_is_refused_at_load_or_retrained() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let job = server.import(include_bytes!("../fixtures/sample/demo.csv").to_vec());
    assert_eq!(wait_for_job(&server, &job)["status"], "done");
    let trained = server.get("/v1/model");
    server.kill();
    // Rules that compare one field fewer: the stored model no longer fits.
    let mut rules = Rules::default_rules();
    rules.matching.ignore.push("phone".into());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    // Given with --model, it is a clear error when the service opens…
    let model: nayose::matching::model::Model = serde_json::from_value(trained.clone()).unwrap();
    let e = Service::open(Arc::clone(&store), dir.path(), rules.clone(), Some(model))
        .err()
        .expect("a model that does not fit is refused");
    assert!(e.to_string().contains("does not fit"), "{e}");
    // …kept in the store, it is left unused and a new one is trained.
    let s = Arc::new(Service::open(store, dir.path(), rules, None).unwrap());
    let starting = |s: &Service| s.model().unwrap().training.starting;
    assert!(starting(&s), "the rules' starting weights until then");
    s.resume_jobs().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while starting(&s) {
        assert!(Instant::now() < deadline, "no model was trained");
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = s.model().unwrap();
    assert!(m.comparisons.iter().all(|c| c.name != "phone"));
    assert_eq!(
        m.comparisons.len() + 1,
        trained["comparisons"].as_array().unwrap().len()
    );
}
