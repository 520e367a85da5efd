//! Writes a sample dedupe report to open by hand:
//! `cargo run --example report_sample [OUT.html]` (default
//! `target/report-sample.html`). The figures are made up but shaped like a
//! real run: many clear non-matches, a tail of matches, mostly singletons.

use nayose::report::{
    render_html, weight_to_probability, ComparisonSummary, DedupeReport, LevelSummary, PairView,
};

fn level(label: &str, m: f64, u: f64, pairs: u64) -> LevelSummary {
    LevelSummary {
        label: label.to_string(),
        m,
        u,
        weight: (m / u).log2(),
        pairs,
        tf_scale: None,
    }
}

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/report-sample.html".to_string());

    // A fixed linear congruential generator: the sample is the same every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let prior_weight = -13.2;
    let mut pair_weights = Vec::with_capacity(250_000);
    for _ in 0..240_000 {
        pair_weights.push(prior_weight + uniform() * 10.0 - 6.0 + uniform() * 4.0);
    }
    for _ in 0..9_000 {
        pair_weights.push(6.0 + uniform() * 14.0 + uniform() * 6.0);
    }
    for _ in 0..1_000 {
        pair_weights.push(-4.0 + uniform() * 10.0);
    }

    let mut cluster_sizes = vec![1usize; 31_200];
    for (size, n) in [
        (2, 3_100),
        (3, 620),
        (4, 140),
        (5, 40),
        (6, 12),
        (8, 3),
        (14, 1),
        (37, 1),
    ] {
        cluster_sizes.extend(std::iter::repeat_n(size, n));
    }

    let terms = vec![
        term(
            "会社名".to_string(),
            "類似（Jaro-Winkler ≥ 0.92）".to_string(),
            8.1,
        ),
        term("住所".to_string(), "市区町村まで一致".to_string(), 4.3),
        term("電話番号".to_string(), "不一致".to_string(), -2.9),
        term("メール".to_string(), "欠損".to_string(), 0.0),
        term("代表者名".to_string(), "カナ一致".to_string(), 3.9),
    ];
    let weight = prior_weight + terms.iter().map(|t| t.weight).sum::<f64>();
    let pair = PairView {
        left_id: "C-000184".to_string(),
        right_id: "C-027733".to_string(),
        weight,
        probability: weight_to_probability(weight),
        fields: vec![
            (
                "会社名".to_string(),
                "株式会社髙橋工務店".to_string(),
                "（株）高橋工務店".to_string(),
            ),
            (
                "住所".to_string(),
                "東京都世田谷区三軒茶屋1-2-3 サンビル4F".to_string(),
                "東京都世田谷区太子堂4-5-6".to_string(),
            ),
            (
                "電話番号".to_string(),
                "03-1234-5678".to_string(),
                "03-9876-5432".to_string(),
            ),
            (
                "メール".to_string(),
                String::new(),
                "info@takahashi.example".to_string(),
            ),
            (
                "代表者名".to_string(),
                "タカハシ イチロウ".to_string(),
                "タカハシ イチロウ".to_string(),
            ),
        ],
        terms,
    };

    let report = DedupeReport {
        title: "顧客マスタ_2024.csv".to_string(),
        records: 40_000,
        candidate_pairs: 250_000,
        clusters: 3_918,
        prior_weight,
        merge_threshold: 0.95,
        review_threshold: 0.5,
        pair_weights,
        cluster_sizes,
        comparisons: vec![
            ComparisonSummary {
                name: "会社名".to_string(),
                levels: vec![
                    level("完全一致", 0.72, 0.0004, 9_800),
                    level("類似（Jaro-Winkler ≥ 0.92）", 0.2, 0.0007, 2_400),
                    level("類似（Jaro-Winkler ≥ 0.80）", 0.05, 0.02, 11_000),
                    level("その他", 0.03, 0.9789, 226_800),
                ],
            },
            ComparisonSummary {
                name: "電話番号".to_string(),
                levels: vec![
                    level("一致", 0.64, 0.00002, 6_100),
                    level("不一致", 0.21, 0.9, 180_000),
                    level("欠損", 0.15, 0.09998, 63_900),
                ],
            },
        ],
        uncertain_pairs: vec![pair],
        stages: vec![
            ("読み込み・正規化".to_string(), 1.84),
            ("索引作成".to_string(), 2.31),
            ("候補ペア生成".to_string(), 4.02),
            ("EM 推定".to_string(), 6.7),
            ("採点・クラスタリング".to_string(), 1.12),
        ],
        oversized_blocks: vec![
            ("電話番号".to_string(), "+81120000000".to_string(), 1_204),
            ("メール".to_string(), "<none>@example.jp".to_string(), 311),
        ],
        // 40 labelled pairs: 24 matches (20 of them above the auto-merge
        // threshold), 16 non-matches (one above it).
        labels: Some(nayose::report::ReportLabels {
            calibrated: false,
            estimates: {
                let bands = nayose::matching::Bands {
                    match_weight: nayose::report::probability_to_weight(0.95),
                    review_weight: 0.0,
                };
                let mut labelled = vec![(8.0, true); 20];
                labelled.extend([(1.0, true); 4]);
                labelled.extend([(8.0, false); 1]);
                labelled.extend([(-1.0, false); 15]);
                nayose::matching::band::LabelEstimates::count(&bands, &labelled)
            },
        }),
    };
    std::fs::write(&out, render_html(&report))?;
    println!("{out}");
    Ok(())
}

/// One explained term of the sample pair.
fn term(comparison: String, level: String, weight: f64) -> nayose::matching::ExplainTerm {
    nayose::matching::ExplainTerm {
        field: comparison.clone(),
        comparison,
        level,
        weight,
    }
}
