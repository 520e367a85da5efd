//! The candidate search as postings to join, for an engine that cannot hold
//! one index of every record (the Spark job): each record's key terms, and
//! the BM25 weight tantivy gives a term in a record, from global counts.
//!
//! A record `d`'s BM25 score for the query of record `q` is the sum, over the
//! terms both hold, of `d`'s weight for the term ([`Bm25Stats::weight`]):
//! tantivy sums the matching clauses of a boolean query, and a query is the
//! record's own terms. So a join of the postings on the term, summed per
//! `(q, d)`, gives every score the index would, and the top k per `q` (score
//! first, then record number) are the index's BM25 candidates. The weights
//! here are tantivy's own [`Bm25Weight`] over the counts; a pair's sum is
//! exact when added as `f64` (each weight is an `f32`, a handful per pair),
//! then rounded to `f32` as tantivy's score is.

use super::{bigram, BlockingKeys};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::Bm25Weight;

/// How a key term takes part in blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TermKind {
    /// A bigram of a text field's key: BM25.
    Text = 0,
    /// A scored exact term (a birth date, a postal code): BM25.
    Scored = 1,
    /// An exact key: every holder is a candidate, up to `max_block`.
    Exact = 2,
}

impl TermKind {
    pub fn from_u8(k: u8) -> Option<TermKind> {
        match k {
            0 => Some(TermKind::Text),
            1 => Some(TermKind::Scored),
            2 => Some(TermKind::Exact),
            _ => None,
        }
    }
}

/// One term of one record: `field` is its position among the schema's
/// fields of that kind; `tf` how often the record holds it, `len` how many
/// tokens the record's field has (its field norm).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyTerm {
    pub kind: TermKind,
    pub field: u16,
    pub term: String,
    pub tf: u32,
    pub len: u32,
}

/// A record's key terms, each distinct term once, as the index holds them:
/// a text field's bigrams (an empty key has none), the scored and exact
/// values that are not empty.
pub fn key_terms(keys: &BlockingKeys) -> Vec<KeyTerm> {
    let mut out = Vec::new();
    for (f, v) in keys.text.iter().enumerate() {
        let Some(v) = v.as_deref() else { continue };
        let mut grams = bigram::bigrams(v);
        let len = grams.len() as u32;
        grams.sort_unstable();
        for run in grams.chunk_by(|a, b| a == b) {
            out.push(KeyTerm {
                kind: TermKind::Text,
                field: f as u16,
                term: run[0].clone(),
                tf: run.len() as u32,
                len,
            });
        }
    }
    for (kind, values) in [
        (TermKind::Scored, &keys.scored),
        (TermKind::Exact, &keys.exact),
    ] {
        for (f, v) in values.iter().enumerate() {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                out.push(KeyTerm {
                    kind,
                    field: f as u16,
                    term: v.to_string(),
                    tf: 1,
                    len: 1,
                });
            }
        }
    }
    out
}

/// The counts BM25 needs over all records: how many there are, the tokens
/// of each text field (summed over records) and the holders of each scored
/// field.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Bm25Stats {
    pub records: u64,
    pub text_tokens: Vec<u64>,
    pub scored_holders: Vec<u64>,
}

impl Bm25Stats {
    /// The BM25 weight of a term held by `df` records, in a record holding
    /// it `tf` times in a field of `len` tokens — what tantivy adds to the
    /// record's score for it. `None` for an exact term (it does not score).
    pub fn weight(&self, kind: TermKind, field: u16, df: u64, tf: u32, len: u32) -> Option<f32> {
        let tokens = match kind {
            TermKind::Text => *self.text_tokens.get(field as usize)?,
            TermKind::Scored => *self.scored_holders.get(field as usize)?,
            TermKind::Exact => return None,
        };
        // As tantivy's `Bm25Weight::for_terms`: u64 → f32, then divide.
        let average = tokens as f32 / self.records as f32;
        let w = Bm25Weight::for_one_term_without_explain(df, self.records, average);
        Some(w.score(FieldNormReader::fieldnorm_to_id(len), tf))
    }
}

/// The order of a record's BM25 hits: best score first, then the lower
/// record number. (The index chains scores within rounding into one tie;
/// summed exactly, equal sums are equal, and the rare scores that differ by
/// less than the index's tie margin are the only place the two can part.)
pub fn hit_order(a: (f32, u32), b: (f32, u32)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{common_df, BlockingSchema, CandidateIndex};
    use std::collections::{BTreeSet, HashMap};

    fn keys(text: &[&str], scored: &[&str], exact: &[&str]) -> BlockingKeys {
        let o = |v: &&str| (!v.is_empty()).then(|| v.to_string());
        BlockingKeys {
            text: text.iter().map(o).collect(),
            scored: scored.iter().map(o).collect(),
            exact: exact.iter().map(o).collect(),
        }
    }

    #[test]
    fn a_record_holds_each_bigram_once_with_its_count() {
        let t = key_terms(&keys(&["ああああ 林"], &["1990-01-01"], &[""]));
        let text: Vec<(&str, u32, u32)> = t
            .iter()
            .filter(|t| t.kind == TermKind::Text)
            .map(|t| (t.term.as_str(), t.tf, t.len))
            .collect();
        // ああああ → ああ ×3; 林 is a one-character word: a unigram.
        assert_eq!(text, vec![("ああ", 3, 4), ("林", 1, 4)]);
        assert_eq!(t.iter().filter(|t| t.kind == TermKind::Scored).count(), 1);
        assert_eq!(t.iter().filter(|t| t.kind == TermKind::Exact).count(), 0);
    }

    /// The statistics of `keys`, counted in memory as an engine counts
    /// them over its partitions: token totals per text field (each
    /// record's field length once), holders per scored field.
    fn count_stats(keys: &[BlockingKeys], text_fields: usize, scored_fields: usize) -> Bm25Stats {
        let mut s = Bm25Stats {
            records: keys.len() as u64,
            text_tokens: vec![0; text_fields],
            scored_holders: vec![0; scored_fields],
        };
        for k in keys {
            let mut last_text = None;
            for t in key_terms(k) {
                match t.kind {
                    TermKind::Text if last_text != Some(t.field) => {
                        s.text_tokens[t.field as usize] += t.len as u64;
                        last_text = Some(t.field);
                    }
                    TermKind::Scored => s.scored_holders[t.field as usize] += 1,
                    _ => {}
                }
            }
        }
        s
    }

    /// The BM25 candidates of every record through the postings join, as an
    /// engine computes them: global counts, the join on the term, sums per
    /// pair, the top k in [`hit_order`].
    fn joined_candidates(schema: &BlockingSchema, all: &[BlockingKeys]) -> Vec<BTreeSet<u32>> {
        let stats = count_stats(all, schema.text_fields.len(), schema.scored_fields.len());
        let terms: Vec<Vec<KeyTerm>> = all.iter().map(key_terms).collect();
        type TermOf<'a> = (TermKind, u16, &'a str);
        let mut df: HashMap<TermOf, u64> = HashMap::new();
        for t in terms.iter().flatten() {
            *df.entry((t.kind, t.field, &t.term)).or_default() += 1;
        }
        let common = common_df(all.len() as u64, schema.max_term_share);
        let mut postings: HashMap<TermOf, Vec<(u32, f32)>> = HashMap::new();
        for (d, ts) in terms.iter().enumerate() {
            for t in ts {
                let n = df[&(t.kind, t.field, t.term.as_str())];
                if t.kind == TermKind::Text && n > common {
                    continue;
                }
                if let Some(w) = stats.weight(t.kind, t.field, n, t.tf, t.len) {
                    postings
                        .entry((t.kind, t.field, &t.term))
                        .or_default()
                        .push((d as u32, w));
                }
            }
        }
        let mut sums: Vec<HashMap<u32, f64>> = vec![HashMap::new(); all.len()];
        for list in postings.values() {
            for &(q, _) in list {
                for &(d, w) in list {
                    if d != q {
                        *sums[q as usize].entry(d).or_default() += w as f64;
                    }
                }
            }
        }
        sums.into_iter()
            .map(|s| {
                let mut hits: Vec<(f32, u32)> = s.into_iter().map(|(d, w)| (w as f32, d)).collect();
                hits.sort_by(|a, b| hit_order(*a, *b));
                hits.into_iter()
                    .take(schema.top_k)
                    .map(|(_, d)| d)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_postings_join_finds_the_index_candidates() {
        use crate::gen::{self, GenOptions};
        use crate::import::{Format, Row, Table};
        use crate::matching::batch;
        let g = gen::generate(&GenOptions::new(gen::Kind::BtoC, 1500, 11));
        let table = Table {
            format: Format::Csv,
            encoding: None,
            headers: g.headers.iter().map(|h| h.to_string()).collect(),
            rows: g
                .rows
                .iter()
                .zip(&g.ids)
                .enumerate()
                .map(|(i, (r, id))| Row {
                    line: i + 2,
                    fields: std::iter::once(id.clone())
                        .chain(r.fields.clone())
                        .collect(),
                })
                .collect(),
            rejects: vec![],
        };
        let rules = crate::rules::Rules::default_rules();
        let normalizer = crate::normalize::Normalizer::new(&rules);
        let job = crate::dedupe::DedupeJob::for_table(vec![], None);
        let preparer = crate::dedupe::plan_columns(&table, &rules, &normalizer, &job)
            .unwrap()
            .preparer;
        let rows: Vec<&Vec<String>> = table.rows.iter().map(|r| &r.fields).collect();
        let batch = batch::prepare(&preparer, &normalizer, &rows, &batch::NoProgress);
        let (schema, all) = (&preparer.blocking, batch.keys());
        assert!(!schema.text_fields.is_empty() && !schema.scored_fields.is_empty());
        let index = CandidateIndex::build(schema, all).unwrap();
        let joined = joined_candidates(schema, all);
        // The index adds every holder of a shared exact key, up to max_block.
        let mut holders: HashMap<(usize, &str), Vec<u32>> = HashMap::new();
        for (r, k) in all.iter().enumerate() {
            for (f, v) in k.exact.iter().enumerate() {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    holders.entry((f, v)).or_default().push(r as u32);
                }
            }
        }
        let mut differ = Vec::new();
        for (r, bm25) in joined.iter().enumerate() {
            let mut expected = bm25.clone();
            for (f, v) in all[r].exact.iter().enumerate() {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    let h = &holders[&(f, v)];
                    if h.len() <= schema.max_block {
                        expected.extend(h.iter().filter(|&&o| o != r as u32));
                    }
                }
            }
            let found = index.candidates(&all[r], Some(r as u32)).unwrap();
            if found.records.iter().copied().collect::<BTreeSet<u32>>() != expected {
                differ.push(r);
            }
        }
        assert!(
            differ.is_empty(),
            "{} records' candidates differ: {:?}",
            differ.len(),
            &differ[..differ.len().min(10)]
        );
    }
}
