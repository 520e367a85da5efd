//! The live candidate index of `nayose serve`: on disk, updated record by
//! record, searched with the same [`super::search`] as the batch index.
//!
//! The store is the source of truth; this index is derived from it. Every
//! change carries the store's change number (`seq`), and each tantivy commit
//! records the highest one it holds, so at start-up the service knows which
//! changes to replay. A fingerprint of the schema and rules is kept with it:
//! when it differs, the index is rebuilt from the store.
//!
//! Commits are batched for throughput (tantivy commits are costly). Between
//! two commits, changed records are kept in a small in-memory overlay that
//! every search also looks at, so a record written is found by the very next
//! check (read-your-writes). Records the overlay holds (changed or deleted
//! since the last commit) are never taken from the committed index.

use super::{bigram, search, BlockingKeys, BlockingSchema, Fields, IndexError, OversizedBlock};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, RwLock};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, STRING};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

const BIGRAM: &str = "nayose_bigram";
const WRITER_MEMORY: usize = 256 << 20;

/// One record as the live index holds it.
#[derive(Debug, Clone, Default)]
pub struct LiveDoc {
    pub keys: BlockingKeys,
    /// Term-frequency keys: `(comparison, level, key)`.
    pub tf: Vec<(usize, u8, String)>,
}

/// A record changed since the last commit, as the overlay searches it.
struct OverlayDoc {
    /// Its change number.
    seq: u64,
    /// Its distinct search terms (kept to take them out of the overlay's
    /// map when the record changes again).
    terms: Vec<OverlayTerm>,
}

/// One search term of an overlay record: a bigram of a text key, a scored
/// exact term or an exact key, with its field's position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum OverlayTerm {
    Gram(usize, String),
    Scored(usize, String),
    Exact(usize, String),
}

/// A record's distinct search terms (empty values have none).
fn terms_of(k: &BlockingKeys) -> Vec<OverlayTerm> {
    let present = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_string);
    let grams: HashSet<(usize, String)> = k
        .text
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_deref().map(|v| (i, v)))
        .flat_map(|(i, v)| bigram::bigrams(v).into_iter().map(move |g| (i, g)))
        .collect();
    let mut terms: Vec<OverlayTerm> = grams
        .into_iter()
        .map(|(i, g)| OverlayTerm::Gram(i, g))
        .collect();
    for (i, v) in k.scored.iter().enumerate() {
        terms.extend(present(v).map(|v| OverlayTerm::Scored(i, v)));
    }
    for (i, v) in k.exact.iter().enumerate() {
        terms.extend(present(v).map(|v| OverlayTerm::Exact(i, v)));
    }
    terms
}

#[derive(Default)]
struct Overlay {
    /// Records changed since the last commit: their terms, or `None` when
    /// deleted.
    docs: HashMap<u64, Option<OverlayDoc>>,
    /// Which overlay records hold each term (a search looks up its own
    /// terms instead of comparing with every record changed since the
    /// commit).
    holders: HashMap<OverlayTerm, Vec<u64>>,
    /// The highest change number handed to the writer.
    seq: u64,
}

impl Overlay {
    /// Record `num`'s change: its new terms, or `None` when deleted.
    fn put(&mut self, num: u64, doc: Option<OverlayDoc>) {
        if let Some(Some(old)) = self.docs.remove(&num) {
            for t in &old.terms {
                if let Some(h) = self.holders.get_mut(t) {
                    h.retain(|&n| n != num);
                    if h.is_empty() {
                        self.holders.remove(t);
                    }
                }
            }
        }
        if let Some(d) = &doc {
            for t in &d.terms {
                self.holders.entry(t.clone()).or_default().push(num);
            }
        }
        self.docs.insert(num, doc);
    }

    fn clear(&mut self) {
        self.docs.clear();
        self.holders.clear();
    }
}

pub struct LiveIndex {
    schema: BlockingSchema,
    num: Field,
    text: Vec<Field>,
    scored: Vec<Field>,
    exact: Vec<Field>,
    /// tf field per (comparison, level), created on demand from a fixed list.
    tf: HashMap<(usize, u8), Field>,
    index: Index,
    reader: IndexReader,
    /// `None` only if [`LiveIndex::compact`] failed to open a new writer.
    writer: Mutex<Option<IndexWriter>>,
    overlay: RwLock<Overlay>,
    committed: Mutex<u64>,
    fingerprint: String,
    /// Commits so far (a commit empties the overlay).
    commits: std::sync::atomic::AtomicU64,
}

/// The index's one writer: one indexing thread, tantivy's default merge
/// policy.
fn open_writer(index: &Index) -> Result<IndexWriter, IndexError> {
    Ok(index.writer_with_num_threads(1, WRITER_MEMORY)?)
}

/// The writer in its slot, or an error if a failed compaction left none.
fn writer_in(slot: &mut Option<IndexWriter>) -> Result<&mut IndexWriter, IndexError> {
    slot.as_mut().ok_or_else(|| {
        IndexError(tantivy::TantivyError::SystemError(
            "the index writer could not be opened again after a merge; restart the service".into(),
        ))
    })
}

/// How the index was found at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// Up to date with changes up to this number; replay the later ones.
    Existing { seq: u64 },
    /// New, or rebuilt because it was missing, unreadable or built for other
    /// rules: every record must be added.
    Fresh,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    seq: u64,
    fingerprint: String,
}

impl LiveIndex {
    /// Open the index in `dir`, or create it. `tf_levels` lists the
    /// (comparison, level) pairs whose term frequencies are looked up;
    /// `fingerprint` identifies the rules and schema it was built for.
    pub fn open(
        dir: &Path,
        schema: &BlockingSchema,
        tf_levels: &[(usize, u8)],
        fingerprint: &str,
    ) -> Result<(LiveIndex, Opened), IndexError> {
        let mut builder = Schema::builder();
        let num = builder.add_u64_field("num", NumericOptions::default().set_fast().set_indexed());
        let (text, scored, exact) = super::key_fields(&mut builder, schema);
        let tf: HashMap<(usize, u8), Field> = tf_levels
            .iter()
            .map(|&(c, l)| {
                (
                    (c, l),
                    builder.add_text_field(&format!("t_{c}_{l}"), STRING),
                )
            })
            .collect();
        let tantivy_schema = builder.build();

        std::fs::create_dir_all(dir).map_err(|e| IndexError(e.into()))?;
        let existing = Index::open_in_dir(dir).ok().and_then(|index| {
            let payload: Payload =
                serde_json::from_str(index.load_metas().ok()?.payload.as_deref()?).ok()?;
            (payload.fingerprint == fingerprint && index.schema() == tantivy_schema)
                .then_some((index, payload.seq))
        });
        let (index, opened) = match existing {
            Some((index, seq)) => (index, Opened::Existing { seq }),
            None => {
                // Missing, unreadable or for other rules: start again.
                for entry in std::fs::read_dir(dir).map_err(|e| IndexError(e.into()))? {
                    let p = entry.map_err(|e| IndexError(e.into()))?.path();
                    let r = if p.is_dir() {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                    r.map_err(|e| IndexError(e.into()))?;
                }
                (Index::create_in_dir(dir, tantivy_schema)?, Opened::Fresh)
            }
        };
        index.tokenizers().register(
            BIGRAM,
            tantivy::tokenizer::TextAnalyzer::from(bigram::BigramTokenizer),
        );
        let writer = open_writer(&index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let seq = match opened {
            Opened::Existing { seq } => seq,
            Opened::Fresh => 0,
        };
        let live = LiveIndex {
            schema: schema.clone(),
            num,
            text,
            scored,
            exact,
            tf,
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            overlay: RwLock::new(Overlay {
                seq,
                ..Overlay::default()
            }),
            committed: Mutex::new(seq),
            fingerprint: fingerprint.to_string(),
            commits: std::sync::atomic::AtomicU64::new(0),
        };
        if opened == Opened::Fresh {
            // Record the fingerprint at once, so an empty store's index is
            // not rebuilt at every start.
            live.commit()?;
        }
        Ok((live, opened))
    }

    pub fn schema(&self) -> &BlockingSchema {
        &self.schema
    }

    /// Add or replace record `num` (change number `seq`).
    pub fn upsert(&self, seq: u64, num: u64, doc: LiveDoc) -> Result<(), IndexError> {
        let mut slot = self.writer.lock().expect("index writer");
        let writer = writer_in(&mut slot)?;
        writer.delete_term(Term::from_field_u64(self.num, num));
        let mut d = TantivyDocument::default();
        d.add_u64(self.num, num);
        for (f, v) in self.text.iter().zip(&doc.keys.text) {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                d.add_text(*f, v);
            }
        }
        for (f, v) in self
            .scored
            .iter()
            .zip(&doc.keys.scored)
            .chain(self.exact.iter().zip(&doc.keys.exact))
        {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                d.add_text(*f, v);
            }
        }
        for (c, l, k) in &doc.tf {
            if let Some(f) = self.tf.get(&(*c, *l)) {
                d.add_text(*f, k);
            }
        }
        writer.add_document(d)?;
        let entry = OverlayDoc {
            seq,
            terms: terms_of(&doc.keys),
        };
        let mut o = self.overlay.write().expect("overlay");
        o.put(num, Some(entry));
        o.seq = o.seq.max(seq);
        Ok(())
    }

    /// Remove record `num` (change number `seq`).
    pub fn delete(&self, seq: u64, num: u64) -> Result<(), IndexError> {
        let mut slot = self.writer.lock().expect("index writer");
        writer_in(&mut slot)?.delete_term(Term::from_field_u64(self.num, num));
        let mut o = self.overlay.write().expect("overlay");
        o.put(num, None);
        o.seq = o.seq.max(seq);
        Ok(())
    }

    /// Erasure: after [`LiveIndex::delete`], rewrite the segment that held
    /// `num` so its terms (the bigrams of a name) leave the files, instead of
    /// waiting for tantivy to merge it some day.
    pub fn purge(&self, num: u64) -> Result<(), IndexError> {
        let holder = {
            let searcher = self.reader.searcher();
            let docs = searcher.search(
                &TermQuery::new(
                    Term::from_field_u64(self.num, num),
                    IndexRecordOption::Basic,
                ),
                &tantivy::collector::DocSetCollector,
            )?;
            docs.into_iter()
                .map(|a| searcher.segment_reader(a.segment_ord).segment_id())
                .collect::<Vec<_>>()
        };
        let before: HashSet<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        self.commit()?;
        // A document added since the last commit lands in a new segment,
        // already deleted: that segment holds its terms too.
        let mut holder = holder;
        holder.extend(
            self.reader
                .searcher()
                .segment_readers()
                .iter()
                .filter(|s| !before.contains(&s.segment_id()) && s.num_deleted_docs() > 0)
                .map(|s| s.segment_id()),
        );
        let mut slot = self.writer.lock().expect("index writer");
        let writer = writer_in(&mut slot)?;
        for segment in holder {
            // A segment merged away meanwhile has already dropped the document.
            let _ = writer.merge(&[segment]).wait();
        }
        writer.garbage_collect_files().wait()?;
        drop(slot);
        self.reader.reload()?;
        Ok(())
    }

    /// Note that the index holds every change up to `seq` (after a rebuild
    /// from the records themselves), for the next commit to record.
    pub fn advance_seq(&self, seq: u64) {
        let mut o = self.overlay.write().expect("overlay");
        o.seq = o.seq.max(seq);
    }

    /// Where the index stands: (commits so far, last change handed to it).
    /// A caller that searched at one position and holds the writer lock at a
    /// later one can look at just what changed in between
    /// ([`LiveIndex::changed_after`]) instead of searching again.
    pub fn position(&self) -> (u64, u64) {
        let o = self.overlay.read().expect("overlay");
        (
            self.commits.load(std::sync::atomic::Ordering::SeqCst),
            o.seq,
        )
    }

    /// Records changed after change `seq` (all still in the overlay when no
    /// commit happened since): every one of them, and those that are
    /// candidates for `keys`.
    pub fn changed_after(&self, keys: &BlockingKeys, seq: u64) -> (Vec<u64>, Vec<u64>) {
        let o = self.overlay.read().expect("overlay");
        let changed: Vec<u64> = o
            .docs
            .iter()
            .filter(|(_, d)| d.as_ref().is_none_or(|d| d.seq > seq))
            .map(|(n, _)| *n)
            .collect();
        (changed, self.overlay_candidates(&o, keys, None, seq))
    }

    /// Records changed since the last commit.
    pub fn uncommitted(&self) -> usize {
        self.overlay.read().expect("overlay").docs.len()
    }

    /// The change number the last commit holds.
    pub fn committed_seq(&self) -> u64 {
        *self.committed.lock().expect("committed")
    }

    /// Make every change so far durable and searchable in the index proper.
    pub fn commit(&self) -> Result<(), IndexError> {
        let mut slot = self.writer.lock().expect("index writer");
        self.commit_with(writer_in(&mut slot)?)
    }

    /// [`LiveIndex::commit`] with the writer's lock held.
    fn commit_with(&self, writer: &mut IndexWriter) -> Result<(), IndexError> {
        let seq = self.overlay.read().expect("overlay").seq;
        let payload = serde_json::to_string(&Payload {
            seq,
            fingerprint: self.fingerprint.clone(),
        })
        .expect("payload");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        // Readers see the new segments before the overlay forgets them.
        let mut o = self.overlay.write().expect("overlay");
        self.reader.reload()?;
        o.clear();
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.committed.lock().expect("committed") = seq;
        Ok(())
    }

    /// Commit, then merge every segment into one and wait for it (after a
    /// batch import: a search opens each of its terms once per segment, so
    /// a handful of segments costs a check as much as its scoring).
    pub fn compact(&self) -> Result<(), IndexError> {
        let mut slot = self.writer.lock().expect("index writer");
        self.commit_with(writer_in(&mut slot)?)?;
        if self.index.searchable_segment_ids()?.len() <= 1 {
            return Ok(());
        }
        // tantivy merges in the background too, and of two merges that share
        // a segment the one ending second fails. Closing the writer lets the
        // running merges end; a new writer then merges everything, with no
        // merges of its own until it is done.
        let old = slot.take().expect("checked above");
        let waited = old.wait_merging_threads();
        let writer = slot.insert(open_writer(&self.index)?);
        waited?;
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let ids = self.index.searchable_segment_ids()?;
        let merged = writer.merge(&ids).wait();
        writer.set_merge_policy(Box::<tantivy::indexer::LogMergePolicy>::default());
        merged?;
        drop(slot);
        self.reader.reload()?;
        Ok(())
    }

    /// Segments in the committed index (each one is searched on its own).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Number of live documents in the committed index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The candidates of a record with these keys (`itself`: its own record
    /// number, left out), as record numbers ascending.
    pub fn candidates(
        &self,
        keys: &BlockingKeys,
        itself: Option<u64>,
    ) -> Result<(Vec<u64>, Vec<OversizedBlock>), IndexError> {
        let overlay = self.overlay.read().expect("overlay");
        let searcher = self.reader.searcher();
        let fields = Fields {
            text: &self.text,
            scored: &self.scored,
            exact: &self.exact,
        };
        let columns: Vec<_> = searcher
            .segment_readers()
            .iter()
            .map(|s| {
                s.fast_fields()
                    .u64("num")
                    .map(|c| c.first_or_default_col(u64::MAX))
            })
            .collect::<Result<_, _>>()?;
        let record_at = |a: DocAddress| columns[a.segment_ord as usize].get_val(a.doc_id);
        let (found, oversized) = search(&searcher, &self.schema, &fields, keys, record_at, itself)?;
        let mut out: HashSet<u64> = found
            .into_iter()
            .filter(|r| !overlay.docs.contains_key(r))
            .collect();
        out.extend(self.overlay_candidates(&overlay, keys, itself, 0));
        let mut out: Vec<u64> = out.into_iter().collect();
        out.sort_unstable();
        Ok((out, oversized))
    }

    /// Candidates among the uncommitted records changed after change
    /// `after`: every holder of a shared exact key, and the top k by shared
    /// bigrams and scored terms.
    fn overlay_candidates(
        &self,
        overlay: &Overlay,
        keys: &BlockingKeys,
        itself: Option<u64>,
        after: u64,
    ) -> Vec<u64> {
        let live = |num: u64| {
            Some(num) != itself && matches!(overlay.docs.get(&num), Some(Some(d)) if d.seq > after)
        };
        let mut exact: HashSet<u64> = HashSet::new();
        let mut shared: HashMap<u64, usize> = HashMap::new();
        for t in terms_of(keys) {
            let Some(holders) = overlay.holders.get(&t) else {
                continue;
            };
            for &num in holders.iter().filter(|&&n| live(n)) {
                match t {
                    OverlayTerm::Exact(..) => {
                        exact.insert(num);
                    }
                    _ => *shared.entry(num).or_default() += 1,
                }
            }
        }
        let mut scored: Vec<(usize, u64)> = shared
            .into_iter()
            .filter(|(num, _)| !exact.contains(num))
            .map(|(num, n)| (n, num))
            .collect();
        scored.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        let mut out: Vec<u64> = exact.into_iter().collect();
        out.sort_unstable();
        out.extend(scored.into_iter().take(self.schema.top_k).map(|(_, n)| n));
        out
    }

    /// The share of the committed records other than the scored one whose
    /// key at (comparison, level) is `key` ([`crate::matching::share_of_others`];
    /// `left_counted`: the scored record is stored, so among those counted).
    /// For term-frequency adjustment; uncommitted records are not counted,
    /// deleted ones until tantivy merges them away.
    pub fn freq(&self, comparison: usize, level: u8, key: &str, left_counted: bool) -> f64 {
        let Some(f) = self.tf.get(&(comparison, level)) else {
            return 0.0;
        };
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(*f, key);
        let df = searcher.doc_freq(&term).unwrap_or(0);
        crate::matching::share_of_others(df, searcher.num_docs(), left_counted)
    }

    /// How many committed documents hold record `num` (0 or 1), for checks.
    pub fn holds(&self, num: u64) -> Result<usize, IndexError> {
        let searcher = self.reader.searcher();
        Ok(searcher.search(
            &TermQuery::new(
                Term::from_field_u64(self.num, num),
                IndexRecordOption::Basic,
            ),
            &Count,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> BlockingSchema {
        BlockingSchema {
            text_fields: vec!["name".into()],
            scored_fields: vec![],
            exact_fields: vec![],
            top_k: 5,
            max_block: 100,
            max_term_share: 0.9,
        }
    }

    fn doc(name: &str) -> LiveDoc {
        LiveDoc {
            keys: BlockingKeys {
                text: vec![Some(name.into())],
                scored: vec![],
                exact: vec![],
            },
            tf: vec![],
        }
    }

    /// 178 records tie at the k-th place: whichever segments hold them,
    /// the candidates are the lowest record numbers.
    #[test]
    fn ties_beyond_the_first_fetch_go_by_record_number_whatever_the_segments() {
        let names = |n: u64| {
            if n.is_multiple_of(9) {
                "東京物産"
            } else {
                "東京商事"
            }
        };
        let one = tempfile::tempdir().unwrap();
        let (a, _) = LiveIndex::open(one.path(), &schema(), &[], "t").unwrap();
        for n in 1..=200 {
            a.upsert(n, n, doc(names(n))).unwrap();
        }
        a.commit().unwrap();
        // Another order, a commit every few records: many segments.
        let many = tempfile::tempdir().unwrap();
        let (b, _) = LiveIndex::open(many.path(), &schema(), &[], "t").unwrap();
        for (i, n) in (1..=200u64).rev().enumerate() {
            b.upsert(i as u64 + 1, n, doc(names(n))).unwrap();
            if i % 7 == 0 {
                b.commit().unwrap();
            }
        }
        b.commit().unwrap();
        assert!(b.segments() > 1);
        let keys = doc("東京商事").keys;
        let (ca, _) = a.candidates(&keys, Some(150)).unwrap();
        let (cb, _) = b.candidates(&keys, Some(150)).unwrap();
        assert_eq!(ca, vec![1, 2, 3, 4, 5]);
        assert_eq!(cb, ca);
        // Merged into one segment, the same candidates.
        b.compact().unwrap();
        assert_eq!(b.segments(), 1);
        assert_eq!(b.len(), 200);
        assert_eq!(b.candidates(&keys, Some(150)).unwrap().0, ca);
    }

    /// Between commits the overlay answers: a record changed twice is found
    /// by its new keys only, a deleted one not at all, an exact key finds
    /// its holder even with no bigram in common.
    #[test]
    fn the_overlay_follows_changes_before_the_commit() {
        let schema = BlockingSchema {
            exact_fields: vec!["phone".into()],
            ..schema()
        };
        let keys = |name: &str, phone: &str| BlockingKeys {
            text: vec![Some(name.into())],
            scored: vec![],
            exact: vec![Some(phone.into())],
        };
        let live = |k: BlockingKeys| LiveDoc {
            keys: k,
            tf: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        let (ix, _) = LiveIndex::open(dir.path(), &schema, &[], "t").unwrap();
        ix.upsert(1, 1, live(keys("山田商店", "+81311112222")))
            .unwrap();
        ix.upsert(2, 2, live(keys("鈴木工業", "+81633334444")))
            .unwrap();
        ix.upsert(3, 1, live(keys("佐藤物産", "+81311112222")))
            .unwrap();
        let found = |name: &str, phone: &str| ix.candidates(&keys(name, phone), None).unwrap().0;
        assert_eq!(found("山田商店", ""), Vec::<u64>::new());
        assert_eq!(found("佐藤物産", ""), vec![1]);
        assert_eq!(found("田中", "+81311112222"), vec![1]);
        assert_eq!(found("鈴木工業", ""), vec![2]);
        ix.delete(4, 2).unwrap();
        assert_eq!(found("鈴木工業", ""), Vec::<u64>::new());
        // Only what changed after change 2: record 1's second version.
        assert_eq!(ix.changed_after(&keys("佐藤物産", ""), 2).1, vec![1]);
        assert_eq!(
            ix.changed_after(&keys("鈴木工業", ""), 2).1,
            Vec::<u64>::new()
        );
        // Committed, the same answers come from tantivy.
        ix.commit().unwrap();
        assert_eq!(found("山田商店", ""), Vec::<u64>::new());
        assert_eq!(found("佐藤物産", ""), vec![1]);
        assert_eq!(found("田中", "+81311112222"), vec![1]);
        assert_eq!(found("鈴木工業", ""), Vec::<u64>::new());
    }

    /// Compacting right after commits that start merges in the background
    /// (a commit every two records) ends in one segment holding every
    /// record. (A merge of every segment that raced one of tantivy's own
    /// failed a 1M-record import before `compact` closed the writer first;
    /// at this size the race is rare.)
    #[test]
    fn compaction_survives_background_merges() {
        let dir = tempfile::tempdir().unwrap();
        let (ix, _) = LiveIndex::open(dir.path(), &schema(), &[], "t").unwrap();
        let mut n = 0;
        for _ in 0..10 {
            for _ in 0..40 {
                n += 1;
                ix.upsert(n, n, doc(&format!("商事{n}"))).unwrap();
                if n % 2 == 0 {
                    ix.commit().unwrap();
                }
            }
            ix.compact().unwrap();
            assert_eq!(ix.segments(), 1);
            assert_eq!(ix.len(), n);
        }
    }
}
