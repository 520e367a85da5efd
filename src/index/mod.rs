//! The candidate index: the only module that touches tantivy.
//!
//! Each record becomes one document: its match keys go into bigram fields
//! (see [`bigram`]) and its exact keys (phone E.164, e-mail, postal code,
//! corporate number, birth date, …) into untokenized fields. The candidates of
//! a record are the top-k documents by BM25 over its bigrams (one SHOULD term
//! query per bigram) together with every document sharing one of its exact
//! keys. An exact key shared by more than `max_block` documents (a company's
//! switchboard number, a placeholder e-mail) is not used for blocking; it is
//! reported as an oversized block instead of being allowed to blow up time.
//!
//! The index is derived data: it is rebuilt from the records whenever needed.
//! Batch and live matching call the same [`CandidateIndex::candidates`], so the
//! same record set gives the same candidates either way. Records tied at the
//! k-th place go by record number ([`rank_ties`]), so the candidates do not
//! depend on how the documents lie in segments; fewer segments only make the
//! search cheaper (the live index is merged into one after a batch import).

pub mod bigram;
pub mod live;
pub mod postings;

use std::collections::HashSet;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STRING,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

const BIGRAM: &str = "nayose_bigram";
/// Memory for the single indexing thread; large enough that a million
/// customer records stay in one segment.
const WRITER_MEMORY: usize = 1 << 31;

#[derive(Debug, thiserror::Error)]
#[error("index: {0}")]
pub struct IndexError(#[from] tantivy::TantivyError);

/// Which fields the index has, and how candidates are chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingSchema {
    /// Fields searched by BM25 over character bigrams (match keys).
    pub text_fields: Vec<String>,
    /// Exact terms that join the BM25 query (a birth date, a postal code):
    /// they lift a candidate that shares them, without pulling in everyone
    /// who does.
    pub scored_fields: Vec<String>,
    /// Exact terms whose every holder is a candidate (phone, e-mail,
    /// corporate number), up to `max_block` holders.
    pub exact_fields: Vec<String>,
    /// How many BM25 candidates per record.
    pub top_k: usize,
    /// An exact key shared by more records than this is not used for blocking.
    pub max_block: usize,
    /// A bigram found in more than this share of the records (`東京` in
    /// addresses) is left out of the BM25 query: it says next to nothing and
    /// costs the most to score.
    pub max_term_share: f64,
}

/// One record's keys, by position in `text_fields` / `exact_fields`; `None`
/// (or an empty string) when the record has no value there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockingKeys {
    pub text: Vec<Option<String>>,
    pub scored: Vec<Option<String>>,
    pub exact: Vec<Option<String>>,
}

/// The candidates of one record, as record numbers (ascending), and the exact
/// keys that were too common to block on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub records: Vec<u32>,
    pub oversized: Vec<OversizedBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OversizedBlock {
    pub field: String,
    pub value: String,
    pub records: u64,
}

pub struct CandidateIndex {
    schema: BlockingSchema,
    text: Vec<Field>,
    scored: Vec<Field>,
    exact: Vec<Field>,
    _index: Index,
    _reader: IndexReader,
    searcher: Searcher,
    /// Record number of each document, per segment.
    record_of: Vec<Vec<u32>>,
}

/// Adds records one by one (record numbers count up from 0). tantivy's
/// indexing thread works while the caller prepares the next records, so
/// normalizing and indexing overlap.
pub struct IndexBuilder {
    schema: BlockingSchema,
    record: Field,
    text: Vec<Field>,
    scored: Vec<Field>,
    exact: Vec<Field>,
    index: Index,
    writer: IndexWriter,
    next: u64,
}

impl IndexBuilder {
    pub fn new(schema: &BlockingSchema) -> Result<IndexBuilder, IndexError> {
        let mut builder = Schema::builder();
        let record = builder.add_u64_field("record", NumericOptions::default().set_fast());
        let (text, scored, exact) = key_fields(&mut builder, schema);
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(
            BIGRAM,
            tantivy::tokenizer::TextAnalyzer::from(bigram::BigramTokenizer),
        );
        // One indexing thread and no merges: one segment, documents in the
        // order they were added.
        let writer: IndexWriter = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(IndexBuilder {
            schema: schema.clone(),
            record,
            text,
            scored,
            exact,
            index,
            writer,
            next: 0,
        })
    }

    pub fn add(&mut self, k: &BlockingKeys) -> Result<(), IndexError> {
        let mut doc = TantivyDocument::default();
        doc.add_u64(self.record, self.next);
        self.next += 1;
        for (f, v) in self.text.iter().zip(&k.text) {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                doc.add_text(*f, v);
            }
        }
        for (f, v) in self
            .scored
            .iter()
            .zip(&k.scored)
            .chain(self.exact.iter().zip(&k.exact))
        {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                doc.add_text(*f, v);
            }
        }
        self.writer.add_document(doc)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<CandidateIndex, IndexError> {
        self.writer.commit()?;
        CandidateIndex::open(self)
    }
}

impl CandidateIndex {
    /// Index `keys[i]` as record number `i`.
    pub fn build(
        schema: &BlockingSchema,
        keys: &[BlockingKeys],
    ) -> Result<CandidateIndex, IndexError> {
        let mut b = IndexBuilder::new(schema)?;
        for k in keys {
            b.add(k)?;
        }
        b.finish()
    }

    fn open(b: IndexBuilder) -> Result<CandidateIndex, IndexError> {
        let IndexBuilder {
            schema,
            text,
            scored,
            exact,
            index,
            ..
        } = b;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let mut record_of = Vec::new();
        for seg in searcher.segment_readers() {
            let col = seg
                .fast_fields()
                .u64("record")?
                .first_or_default_col(u64::MAX);
            record_of.push((0..seg.max_doc()).map(|d| col.get_val(d) as u32).collect());
        }
        Ok(CandidateIndex {
            schema,
            text,
            scored,
            exact,
            _index: index,
            _reader: reader,
            searcher,
            record_of,
        })
    }

    pub fn schema(&self) -> &BlockingSchema {
        &self.schema
    }

    pub fn len(&self) -> u64 {
        self.searcher.num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record_at(&self, a: DocAddress) -> u32 {
        self.record_of[a.segment_ord as usize][a.doc_id as usize]
    }

    /// The candidates for a record with these keys; `itself` (its own record
    /// number, when it is in the index) is left out.
    pub fn candidates(
        &self,
        keys: &BlockingKeys,
        itself: Option<u32>,
    ) -> Result<Candidates, IndexError> {
        let fields = Fields {
            text: &self.text,
            scored: &self.scored,
            exact: &self.exact,
        };
        let (found, oversized) = search(
            &self.searcher,
            &self.schema,
            &fields,
            keys,
            |a| self.record_at(a) as u64,
            itself.map(u64::from),
        )?;
        Ok(Candidates {
            records: found.into_iter().map(|r| r as u32).collect(),
            oversized,
        })
    }
}

/// The index fields of a [`BlockingSchema`], in its order.
pub(crate) struct Fields<'a> {
    pub text: &'a [Field],
    pub scored: &'a [Field],
    pub exact: &'a [Field],
}

/// How many BM25 hits beyond k are fetched at first, so that ties at the
/// k-th place are broken by record number rather than by where tantivy
/// keeps a document (more are fetched while the tie goes on).
const TIE_SLACK: usize = 16;
/// The most BM25 hits fetched to see a tie at the k-th place whole (a
/// guard: a tie this wide means the query shares only a common term).
const MAX_TIED: usize = 1 << 16;

/// Whether two BM25 scores are equal but for rounding (the same sum of
/// terms, added in another order).
fn tied(a: f32, b: f32) -> bool {
    (a - b).abs() <= TIE_EPSILON * a.abs().max(b.abs()).max(f32::MIN_POSITIVE)
}

/// Relative difference below which two scores count as one.
const TIE_EPSILON: f32 = 1e-5;

/// The document frequency above which a bigram is left out of the BM25
/// query, among `records` records: `max_term_share` of them, at least 1000.
pub fn common_df(records: u64, max_term_share: f64) -> u64 {
    ((records as f64 * max_term_share) as u64).max(1000)
}

/// Hits best first, records whose scores are [`tied`] in record-number
/// order.
fn rank_ties(mut hits: Vec<(f32, u64)>) -> Vec<(f32, u64)> {
    hits.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut group = 0u32;
    let mut ranked: Vec<(u32, f32, u64)> = Vec::with_capacity(hits.len());
    for (i, &(score, num)) in hits.iter().enumerate() {
        if i > 0 && !tied(hits[i - 1].0, score) {
            group += 1;
        }
        ranked.push((group, score, num));
    }
    ranked.sort_by_key(|&(g, _, num)| (g, num));
    ranked.into_iter().map(|(_, s, n)| (s, n)).collect()
}

/// Adds the key fields to a tantivy schema: bigram fields (with positions),
/// scored exact terms and exact terms, each in `schema`'s order. (Scored
/// terms indexed with frequencies, which lets tantivy use block-max WAND for
/// the top-k, changed nothing measurable: blocking 1M records took 60.1 s
/// with them and 60.4 s without, checks at 100k were within noise.)
pub(crate) fn key_fields(
    builder: &mut tantivy::schema::SchemaBuilder,
    schema: &BlockingSchema,
) -> (Vec<Field>, Vec<Field>, Vec<Field>) {
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(BIGRAM)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let text = schema
        .text_fields
        .iter()
        .map(|f| builder.add_text_field(&format!("g_{f}"), grams.clone()))
        .collect();
    let scored = schema
        .scored_fields
        .iter()
        .map(|f| builder.add_text_field(&format!("s_{f}"), STRING))
        .collect();
    let exact = schema
        .exact_fields
        .iter()
        .map(|f| builder.add_text_field(&format!("x_{f}"), STRING))
        .collect();
    (text, scored, exact)
}

/// The one candidate search, shared by the batch and the live index:
/// BM25 top-k over the bigrams (common bigrams left out) and the scored exact
/// terms, ties broken by record number, plus every holder of an exact key
/// up to `max_block`. Returns record numbers, ascending, and the oversized
/// blocks.
pub(crate) fn search(
    searcher: &Searcher,
    schema: &BlockingSchema,
    fields: &Fields,
    keys: &BlockingKeys,
    record_at: impl Fn(DocAddress) -> u64,
    itself: Option<u64>,
) -> Result<(Vec<u64>, Vec<OversizedBlock>), IndexError> {
    let mut found: HashSet<u64> = HashSet::new();
    let mut oversized = Vec::new();

    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen = HashSet::new();
    let common = common_df(searcher.num_docs(), schema.max_term_share);
    for (f, v) in fields.text.iter().zip(&keys.text) {
        let Some(v) = v.as_deref() else { continue };
        for g in bigram::bigrams(v) {
            let term = Term::from_field_text(*f, &g);
            if seen.insert(term.clone()) && searcher.doc_freq(&term)? <= common {
                clauses.push((
                    Occur::Should,
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                ));
            }
        }
    }
    for (f, v) in fields.scored.iter().zip(&keys.scored) {
        let Some(v) = v.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        clauses.push((
            Occur::Should,
            Box::new(TermQuery::new(
                Term::from_field_text(*f, v),
                IndexRecordOption::WithFreqs,
            )),
        ));
    }
    if !clauses.is_empty() && schema.top_k > 0 {
        let query = BooleanQuery::new(clauses);
        // Which of the records tied at the k-th place tantivy returns
        // depends on how its segments happen to lie (and so does the last
        // bit of a score: it sums a record's terms in no fixed order);
        // fetch until the tie is whole, so the record numbers decide.
        let mut limit = schema.top_k + 1 + TIE_SLACK;
        let hits: Vec<(f32, u64)> = loop {
            let top = searcher.search(&query, &TopDocs::with_limit(limit))?;
            // Tantivy's hits come best first; the tie at the k-th place
            // runs on while neighbours are tied.
            let whole = top.len() < limit
                || top[schema.top_k..]
                    .windows(2)
                    .any(|w| !tied(w[0].0, w[1].0))
                || limit >= MAX_TIED;
            if whole {
                break top
                    .into_iter()
                    .map(|(score, addr)| (score, record_at(addr)))
                    .filter(|(_, r)| Some(*r) != itself)
                    .collect();
            }
            limit *= 4;
        };
        let hits = rank_ties(hits);
        found.extend(hits.into_iter().take(schema.top_k).map(|(_, r)| r));
    }

    for ((f, name), v) in fields
        .exact
        .iter()
        .zip(&schema.exact_fields)
        .zip(&keys.exact)
    {
        let Some(v) = v.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        let term = Term::from_field_text(*f, v);
        let df = searcher.doc_freq(&term)?;
        if df == 0 || (df == 1 && itself.is_some()) {
            continue;
        }
        if df > schema.max_block as u64 {
            oversized.push(OversizedBlock {
                field: name.clone(),
                value: v.to_string(),
                records: df,
            });
            continue;
        }
        let docs = searcher.search(
            &TermQuery::new(term, IndexRecordOption::Basic),
            &DocSetCollector,
        )?;
        for addr in docs {
            let r = record_at(addr);
            if Some(r) != itself {
                found.insert(r);
            }
        }
    }
    let mut records: Vec<u64> = found.into_iter().collect();
    records.sort_unstable();
    Ok((records, oversized))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str, phone: &str) -> BlockingKeys {
        BlockingKeys {
            text: vec![Some(name.to_string())],
            scored: vec![],
            exact: vec![Some(phone.to_string())],
        }
    }

    fn schema(top_k: usize, max_block: usize) -> BlockingSchema {
        BlockingSchema {
            text_fields: vec!["name".into()],
            scored_fields: vec![],
            exact_fields: vec!["phone".into()],
            top_k,
            max_block,
            max_term_share: 0.5,
        }
    }

    #[test]
    fn bigram_neighbours_and_exact_hits() {
        let recs = vec![
            keys("佐藤太郎", "+81311111111"),
            keys("佐藤太朗", "+81322222222"),
            keys("鈴木花子", "+81311111111"),
            keys("山田一郎", "+81333333333"),
        ];
        let idx = CandidateIndex::build(&schema(1, 10), &recs).unwrap();
        let c = idx.candidates(&recs[0], Some(0)).unwrap();
        // 1 by BM25 (shares 佐藤 and 藤太), 2 by the shared phone; never itself.
        assert_eq!(c.records, vec![1, 2]);
        assert!(idx
            .candidates(&recs[3], Some(3))
            .unwrap()
            .records
            .is_empty());
    }

    #[test]
    fn scores_equal_but_for_rounding_go_by_record_number() {
        let a = 7.123_456_f32;
        // The same terms summed in another order: one bit off.
        let b = f32::from_bits(a.to_bits() + 1);
        let ranked = rank_ties(vec![(a, 9), (b, 4), (3.0, 1), (a, 2), (7.5, 8)]);
        let nums: Vec<u64> = ranked.iter().map(|h| h.1).collect();
        assert_eq!(nums, vec![8, 2, 4, 9, 1]);
    }

    #[test]
    fn oversized_exact_blocks_are_reported_not_used() {
        let recs: Vec<BlockingKeys> = (0..5)
            .map(|i| keys(&format!("会社{i}"), "+81300000000"))
            .collect();
        let idx = CandidateIndex::build(&schema(0, 3), &recs).unwrap();
        let c = idx.candidates(&recs[0], Some(0)).unwrap();
        assert!(c.records.is_empty());
        assert_eq!(c.oversized.len(), 1);
        assert_eq!(c.oversized[0].records, 5);
    }

    #[test]
    fn batch_and_one_by_one_agree() {
        let names = [
            "東京商事",
            "東京商会",
            "大阪商事",
            "東京物産",
            "京都商事",
            "東京商事",
        ];
        let recs: Vec<BlockingKeys> = names.iter().map(|n| keys(n, "")).collect();
        let idx = CandidateIndex::build(&schema(2, 10), &recs).unwrap();
        let batch: Vec<Vec<u32>> = (0..recs.len())
            .map(|i| idx.candidates(&recs[i], Some(i as u32)).unwrap().records)
            .collect();
        // A fresh index per question, as a live check would have.
        for (i, r) in recs.iter().enumerate() {
            let again = CandidateIndex::build(&schema(2, 10), &recs).unwrap();
            assert_eq!(
                again.candidates(r, Some(i as u32)).unwrap().records,
                batch[i]
            );
        }
        assert!(batch[0].contains(&5), "{batch:?}");
    }
}
