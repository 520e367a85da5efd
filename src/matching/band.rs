//! Bands: what a pair's match probability means for it. The one place the
//! rules' thresholds become weights, for the batch job and the service alike.

use crate::rules::MatchingOptions;

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
#[derive(Debug, Clone, Copy, PartialEq)]
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
