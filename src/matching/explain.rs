//! Why a pair scored what it did: the prior and each comparison's term, with
//! the level's label. One type for the pairs file, the HTML report, the API's
//! candidates and the proposals a steward reads.

use super::model::Model;
use super::{Comparison, Score};
use serde::{Deserialize, Serialize};

/// The prior and each comparison's term; they sum to the pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Explanation {
    /// log2 prior odds of a match.
    pub prior: f64,
    pub terms: Vec<ExplainTerm>,
}

/// One comparison's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExplainTerm {
    /// The comparison: a field, or `field:aspect` (`会社名:branch`).
    pub comparison: String,
    /// The field (column) it compares.
    pub field: String,
    /// The level's label (`exact`, `same_town`, `missing`, …).
    pub level: String,
    /// log2 odds this comparison adds (negative: evidence against), after
    /// the term-frequency adjustment and evidence groups.
    pub weight: f64,
}

impl Explanation {
    /// The explanation of `score`, a score under `model` over `plan`;
    /// `field(c)` names column `c`.
    pub fn of<'f>(
        model: &Model,
        plan: &[Comparison],
        score: &Score,
        field: impl Fn(usize) -> &'f str,
    ) -> Explanation {
        Explanation {
            prior: model.prior_weight(),
            terms: plan
                .iter()
                .zip(&score.terms)
                .map(|(c, t)| ExplainTerm {
                    comparison: c.name.clone(),
                    field: field(c.column).to_string(),
                    level: c.comparator.level_label(t.level).to_string(),
                    weight: t.weight,
                })
                .collect(),
        }
    }

    /// The pair's weight: the prior plus every term.
    pub fn weight(&self) -> f64 {
        self.prior + self.terms.iter().map(|t| t.weight).sum::<f64>()
    }
}
