//! Bands: what a pair's match probability means for it. The one place the
//! rules' thresholds become weights, for the batch job and the service alike.

use crate::rules::MatchingOptions;
use serde::Serialize;

use super::model::Model;

crate::stable_names! {
    /// Where a pair's match probability puts it.
    pub enum Band {
        /// At or above `match_threshold`: merged without a steward (auto-merge).
        Match = "match",
        /// At or above `review_threshold`: proposed to a steward.
        Review = "review",
        /// Below both: left alone.
        NoMatch = "no_match",
    }
}

impl Band {
    /// Whether a pair in this band is acted on (merged or proposed).
    pub fn is_candidate_match(self) -> bool {
        self != Band::NoMatch
    }
}

/// The weights (log2 odds) at which the bands start, from the rules'
/// probability thresholds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bands {
    pub match_weight: f64,
    pub review_weight: f64,
}

impl Bands {
    pub fn new(opts: &MatchingOptions) -> Bands {
        Bands {
            match_weight: Model::weight_for(opts.match_threshold),
            review_weight: Model::weight_for(opts.review_threshold),
        }
    }

    /// The band of a match weight.
    pub fn of(&self, weight: f64) -> Band {
        if weight >= self.match_weight {
            Band::Match
        } else if weight >= self.review_weight {
            Band::Review
        } else {
            Band::NoMatch
        }
    }
}

/// A share counted on labels, with its 95% Wilson score interval.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The labels it is counted on.
    pub n: u64,
}

impl Estimate {
    /// `hits` of `n`, or `None` when `n` is 0.
    pub fn of(hits: u64, n: u64) -> Option<Estimate> {
        if n == 0 {
            return None;
        }
        let (nf, p) = (n as f64, hits as f64 / n as f64);
        let z = 1.959_963_984_540_054_f64;
        let z2 = z * z;
        let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
        let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
        Some(Estimate {
            value: p,
            // At 0 or n hits the bound is exact, whatever the rounding.
            low: if hits == 0 {
                0.0
            } else {
                (centre - half).max(0.0)
            },
            high: if hits == n {
                1.0
            } else {
                (centre + half).min(1.0)
            },
            n,
        })
    }
}

/// What labelled pairs say about a model's bands, each pair scored by it.
/// Stewards label the pairs they were shown — mostly the review band — so
/// these describe the labelled pairs, not every pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LabelEstimates {
    pub matches: u64,
    pub non_matches: u64,
    /// Of the labelled pairs the model puts in the auto-merge band, the
    /// share that are one customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_merge_precision: Option<Estimate>,
    /// Of the labelled pairs in the auto-merge or review band, the share
    /// that are one customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_precision: Option<Estimate>,
    /// Of the labelled matches, the share the model merges by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_merge_recall: Option<Estimate>,
    /// Of the labelled matches, the share the model merges or proposes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_recall: Option<Estimate>,
    /// Of the pairs of records the service holds as one customer, the
    /// share that are one customer (the pairwise precision of its
    /// entities): labelled pairs as labelled, the others estimated from
    /// the audit of merges ([`MergedPairs`]). Absent in batch, and until
    /// the audit has an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_precision: Option<Estimate>,
}

/// The pairs of records held as one customer, and what labels say of
/// them. Two strata: pairs a steward decided for another reason (a
/// proposal, an import), counted as labelled; and the rest, of which the
/// audit of merges draws a uniform random sample. The estimate adds the
/// first stratum's matches to the second's size times the audit's share
/// of matches; its interval is the audit share's Wilson interval carried
/// the same way (the finite population is not corrected for: the interval
/// errs wide).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergedPairs {
    /// Pairs of records in one entity.
    pub pairs: u64,
    /// Of them, labelled other than by the audit, and how many a match.
    pub known: u64,
    pub known_matches: u64,
    /// Of the others, answered in the audit, and how many a match.
    pub audited: u64,
    pub audited_matches: u64,
}

impl MergedPairs {
    /// The share of the pairs that are one customer, or `None` when there
    /// are no pairs, or pairs no label speaks for and no audit answer.
    pub fn precision(&self) -> Option<Estimate> {
        if self.pairs == 0 {
            return None;
        }
        let total = self.pairs as f64;
        let rest = self.pairs.saturating_sub(self.known);
        let known = self.known_matches as f64;
        if rest == 0 {
            let value = known / total;
            return Some(Estimate {
                value,
                low: value,
                high: value,
                n: self.known,
            });
        }
        let audit = Estimate::of(self.audited_matches, self.audited)?;
        let carry = |share: f64| (known + rest as f64 * share) / total;
        Some(Estimate {
            value: carry(audit.value),
            low: carry(audit.low),
            high: carry(audit.high),
            n: self.known + self.audited,
        })
    }
}

impl LabelEstimates {
    /// Count labelled pairs — (weight under the model, labelled a match) —
    /// by the band `bands` puts them in.
    pub fn count(bands: &Bands, labelled: &[(f64, bool)]) -> LabelEstimates {
        let mut n = [[0u64; 3]; 2]; // [non-match, match] × [no match, review, match]
        for &(w, matched) in labelled {
            let j = match bands.of(w) {
                Band::NoMatch => 0,
                Band::Review => 1,
                Band::Match => 2,
            };
            n[usize::from(matched)][j] += 1;
        }
        let (non, yes) = (n[0], n[1]);
        let matches: u64 = yes.iter().sum();
        LabelEstimates {
            matches,
            non_matches: non.iter().sum(),
            auto_merge_precision: Estimate::of(yes[2], yes[2] + non[2]),
            review_precision: Estimate::of(yes[1] + yes[2], yes[1] + yes[2] + non[1] + non[2]),
            auto_merge_recall: Estimate::of(yes[2], matches),
            review_recall: Estimate::of(yes[1] + yes[2], matches),
            merged_precision: None,
        }
    }
}

/// How many labelled pairs each comparison level has, to rank unlabelled
/// pairs by what a steward's label of theirs would teach the model ("most
/// informative first"): a label moves a level's m by about 1 / (labels at
/// that level + 1), and a pair the model is sure of teaches its bands
/// little.
#[derive(Debug, Clone, Default)]
pub struct LevelLabels {
    counts: std::collections::HashMap<(String, String), u64>,
}

impl LevelLabels {
    /// Count one labelled pair: its (comparison, level label) terms;
    /// `missing` levels are no evidence and are not counted.
    pub fn add<'a>(&mut self, terms: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (c, l) in terms {
            if l != "missing" {
                *self
                    .counts
                    .entry((c.to_string(), l.to_string()))
                    .or_default() += 1;
            }
        }
    }

    /// Labels counted at a comparison's level.
    pub fn at(&self, comparison: &str, level: &str) -> u64 {
        self.counts
            .get(&(comparison.to_string(), level.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// What a label of a pair at `probability` with these terms would
    /// teach: its uncertainty, 4·p·(1 − p) (1 at 0.5), times the sum over
    /// its compared levels of 1 / (labels there + 1).
    pub fn information<'a>(
        &self,
        probability: f64,
        terms: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> f64 {
        let p = probability.clamp(0.0, 1.0);
        let novelty: f64 = terms
            .into_iter()
            .filter(|(_, l)| *l != "missing")
            .map(|(c, l)| 1.0 / (self.at(c, l) + 1) as f64)
            .sum();
        4.0 * p * (1.0 - p) * novelty
    }
}

/// A target calibrated from fewer labelled pairs than this keeps the
/// rules' threshold.
pub const MIN_CALIBRATION_LABELS: usize = 30;

impl Bands {
    /// The bands calibrated from labelled pairs (weight, labelled a match):
    /// the auto-merge band starts at the lowest labelled weight at and above
    /// which at least `precision` of the labelled pairs (and at least
    /// [`MIN_CALIBRATION_LABELS`] of them) are matches; the review band at the
    /// highest weight at and above which `recall` of the labelled matches
    /// lie (never above the auto-merge band). A target left out, or without
    /// enough labels, keeps its threshold.
    pub fn calibrated(
        self,
        labelled: &[(f64, bool)],
        precision: Option<f64>,
        recall: Option<f64>,
    ) -> Bands {
        let mut out = self;
        let mut by_weight: Vec<(f64, bool)> = labelled.to_vec();
        // Strongest first; ties keep matches last so a tie never overstates.
        by_weight.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if let Some(p) = precision {
            let (mut seen, mut hits, mut lowest) = (0usize, 0usize, None);
            for (i, &(w, m)) in by_weight.iter().enumerate() {
                seen += 1;
                hits += usize::from(m);
                // Only where the next pair has another weight: a threshold
                // takes all pairs of one weight or none.
                let boundary = by_weight.get(i + 1).is_none_or(|n| n.0 < w);
                if boundary && seen >= MIN_CALIBRATION_LABELS && hits as f64 >= p * seen as f64 {
                    lowest = Some(w);
                }
            }
            if let Some(w) = lowest {
                out.match_weight = w;
            }
        }
        if let Some(r) = recall {
            let matches: Vec<f64> = by_weight.iter().filter(|x| x.1).map(|x| x.0).collect();
            if matches.len() >= MIN_CALIBRATION_LABELS {
                // The weight of the match that brings the share to `r`.
                let k = ((r * matches.len() as f64).ceil() as usize).clamp(1, matches.len());
                out.review_weight = matches[k - 1];
            }
        }
        out.review_weight = out.review_weight.min(out.match_weight);
        out
    }
}

/// Pairs per band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BandCounts([u64; 3]);

impl BandCounts {
    pub fn add(&mut self, band: Band) {
        self.0[band as usize] += 1;
    }

    pub fn get(&self, band: Band) -> u64 {
        self.0[band as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_labelled_levels_teach_most() {
        let mut l = LevelLabels::default();
        for _ in 0..9 {
            l.add([("name", "exact"), ("address", "different")]);
        }
        l.add([
            ("name", "exact"),
            ("address", "same_prefecture"),
            ("phone", "missing"),
        ]);
        assert_eq!(
            (l.at("name", "exact"), l.at("address", "different")),
            (10, 9)
        );
        assert_eq!(l.at("phone", "missing"), 0, "missing is not counted");
        // Equally uncertain: the pair at a level no label has comes first.
        let seen = l.information(0.5, [("name", "exact"), ("address", "different")]);
        let new = l.information(0.5, [("name", "exact"), ("address", "same_town")]);
        assert!(new > seen, "{new} vs {seen}");
        assert!((new - (1.0 / 11.0 + 1.0)).abs() < 1e-12);
        // A sure pair teaches nothing, however new its levels.
        assert_eq!(l.information(1.0, [("address", "same_town")]), 0.0);
        assert!(
            l.information(0.9, [("address", "same_town")])
                < l.information(0.5, [("address", "same_town")])
        );
    }

    #[test]
    fn bands_start_at_the_thresholds() {
        let opts = MatchingOptions::default();
        let b = Bands::new(&opts);
        assert_eq!(b.of(Model::weight_for(opts.match_threshold)), Band::Match);
        assert_eq!(b.of(b.match_weight - 1e-9), Band::Review);
        assert_eq!(b.of(b.review_weight), Band::Review);
        assert_eq!(b.of(b.review_weight - 1e-9), Band::NoMatch);
        assert_eq!(b.of(f64::INFINITY), Band::Match);
        assert_eq!(b.of(f64::NEG_INFINITY), Band::NoMatch);
    }

    #[test]
    fn names_round_trip() {
        for &band in Band::ALL {
            assert_eq!(Band::parse(band.as_str()), Some(band));
            let json = serde_json::to_string(&band).unwrap();
            assert_eq!(json, format!("\"{}\"", band.as_str()));
        }
        assert_eq!(Band::parse("bogus"), None);
        let mut c = BandCounts::default();
        c.add(Band::Review);
        c.add(Band::Review);
        assert_eq!(
            (
                c.get(Band::Match),
                c.get(Band::Review),
                c.get(Band::NoMatch)
            ),
            (0, 2, 0)
        );
    }
}

#[cfg(test)]
mod calibration_tests {
    use super::*;

    #[test]
    fn merged_precision_adds_the_labelled_stratum_to_the_audited_one() {
        // No pairs, or no audit answer for unlabelled pairs: nothing to say.
        assert_eq!(MergedPairs::default().precision(), None);
        let unaudited = MergedPairs {
            pairs: 10,
            known: 4,
            known_matches: 4,
            ..Default::default()
        };
        assert_eq!(unaudited.precision(), None);
        // Every pair labelled: exact.
        let all = MergedPairs {
            pairs: 4,
            known: 4,
            known_matches: 3,
            ..Default::default()
        };
        assert_eq!(
            all.precision(),
            Some(Estimate {
                value: 0.75,
                low: 0.75,
                high: 0.75,
                n: 4
            })
        );
        // 100 pairs: 20 approved (all matches), 80 others of which the
        // audit found 9 of 10 one customer: (20 + 80 · 0.9) / 100.
        let m = MergedPairs {
            pairs: 100,
            known: 20,
            known_matches: 20,
            audited: 10,
            audited_matches: 9,
        };
        let e = m.precision().unwrap();
        let w = Estimate::of(9, 10).unwrap();
        assert!((e.value - 0.92).abs() < 1e-12, "{e:?}");
        assert!((e.low - (20.0 + 80.0 * w.low) / 100.0).abs() < 1e-12);
        assert!((e.high - (20.0 + 80.0 * w.high) / 100.0).abs() < 1e-12);
        assert!(e.low < e.value && e.value < e.high && e.high <= 1.0);
        assert_eq!(e.n, 30);
    }

    #[test]
    fn wilson_intervals() {
        assert_eq!(Estimate::of(0, 0), None);
        let e = Estimate::of(95, 100).unwrap();
        assert!((e.value - 0.95).abs() < 1e-12);
        // Wilson 95% for 95/100: 0.8882 – 0.9785.
        assert!(
            (e.low - 0.8882).abs() < 1e-3 && (e.high - 0.9785).abs() < 1e-3,
            "{e:?}"
        );
        let all = Estimate::of(10, 10).unwrap();
        assert_eq!(all.high, 1.0);
        assert!(all.low > 0.69 && all.low < 0.73, "{all:?}");
    }

    #[test]
    fn bands_calibrate_to_the_labels() {
        let rules = Bands {
            match_weight: 3.0,
            review_weight: 0.0,
        };
        // 100 labelled pairs at weights 0..100: matches from 40 up, and one
        // non-match at 60.
        let labelled: Vec<(f64, bool)> = (0..100).map(|w| (w as f64, w >= 40 && w != 60)).collect();
        let b = rules.calibrated(&labelled, Some(0.99), Some(0.9));
        // At and above 41: 59 pairs, 58 matches (0.983 < 0.99); at and
        // above 61: 39 matches of 39 — the lowest weight reaching 0.99.
        assert_eq!(b.match_weight, 61.0);
        // 59 matches (40..99 without 60); 90% of them are at or above the
        // 54th strongest: weight 45.
        assert_eq!(b.review_weight, 45.0);
        // Too few labels: the rules' thresholds stay.
        assert_eq!(
            rules.calibrated(&labelled[..20], Some(0.99), Some(0.9)),
            rules
        );
        // No target: nothing moves.
        assert_eq!(rules.calibrated(&labelled, None, None), rules);
        let e = LabelEstimates::count(&b, &labelled);
        assert_eq!((e.matches, e.non_matches), (59, 41));
        assert_eq!(e.auto_merge_precision.map(|x| x.value), Some(1.0));
    }
}
