use super::*;

const HOSTILE: &str = "<script>alert('x')</script> & \"株式会社\"";

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

/// A small but complete report: two comparisons, one uncertain pair.
fn sample() -> DedupeReport {
    let prior_weight = -10.0;
    let terms = vec![
        term("会社名".to_string(), "類似 ≥ 0.9".to_string(), 7.5),
        term("電話番号".to_string(), "不一致".to_string(), 2.55),
    ];
    let weight = prior_weight + terms.iter().map(|t| t.weight).sum::<f64>();
    DedupeReport {
        title: "customers.csv".to_string(),
        records: 1200,
        candidate_pairs: 5400,
        clusters: 3,
        prior_weight,
        merge_threshold: 0.95,
        review_threshold: 0.5,
        pair_weights: (0..5400).map(|i| (i % 37) as f64 * 0.7 - 15.0).collect(),
        cluster_sizes: [vec![1; 1190], vec![2, 3, 12]].concat(),
        comparisons: vec![
            ComparisonSummary {
                name: "会社名".to_string(),
                levels: vec![
                    level("完全一致", 0.8, 0.001, 40),
                    level("類似 ≥ 0.9", 0.15, 0.01, 300),
                    level("その他", 0.05, 0.989, 5060),
                ],
            },
            ComparisonSummary {
                name: "電話番号".to_string(),
                levels: vec![
                    level("一致", 0.7, 0.0001, 20),
                    level("不一致", 0.3, 0.9999, 5380),
                ],
            },
        ],
        uncertain_pairs: vec![PairView {
            left_id: "C-0001".to_string(),
            right_id: "C-0917".to_string(),
            weight,
            probability: weight_to_probability(weight),
            fields: vec![
                (
                    "会社名".to_string(),
                    "株式会社山田商店".to_string(),
                    "㈱山田商店".to_string(),
                ),
                (
                    "電話番号".to_string(),
                    "03-1234-5678".to_string(),
                    "03-1234-5678".to_string(),
                ),
                (
                    "メール".to_string(),
                    String::new(),
                    "info@example.jp".to_string(),
                ),
            ],
            terms,
        }],
        stages: vec![("読み込み".to_string(), 0.42), ("照合".to_string(), 3.1)],
        oversized_blocks: vec![("電話番号".to_string(), "0120-000-000".to_string(), 812)],
        labels: None,
    }
}

fn hostile() -> DedupeReport {
    let mut r = sample();
    r.title = HOSTILE.to_string();
    r.comparisons[0].name = HOSTILE.to_string();
    r.comparisons[0].levels[0].label = HOSTILE.to_string();
    let pair = &mut r.uncertain_pairs[0];
    pair.left_id = HOSTILE.to_string();
    pair.fields[0] = (HOSTILE.to_string(), HOSTILE.to_string(), "<b>".to_string());
    pair.terms[0].comparison = HOSTILE.to_string();
    pair.terms[0].level = HOSTILE.to_string();
    r.stages[0].0 = HOSTILE.to_string();
    r.oversized_blocks[0] = (HOSTILE.to_string(), HOSTILE.to_string(), 5);
    r
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn hostile_values_appear_as_text() {
    let page = render_html(&hostile());
    assert!(!page.contains("<script"), "unescaped <script> in the page");
    assert!(!page.contains("<b>"));
    // Escaped by us in HTML and by plotters in the level chart's <text>.
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;株式会社&quot;")
    );
    assert!(page.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"));
}

#[test]
fn escaping_covers_the_five_characters() {
    assert_eq!(
        Esc("a<b>c&d\"e'f").to_string(),
        "a&lt;b&gt;c&amp;d&quot;e&#39;f"
    );
    assert_eq!(Esc("名寄せ").to_string(), "名寄せ");
    assert_eq!(Esc("").to_string(), "");
}

#[test]
fn one_svg_per_chart_and_no_external_references() {
    let r = sample();
    let page = render_html(&r);
    // Histogram, cluster sizes, one per comparison.
    assert_eq!(count(&page, "<svg"), 2 + r.comparisons.len());
    let without_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_namespace.contains("http://"));
    assert!(!without_namespace.contains("https://"));
    assert!(!page.contains("<script"));
    assert!(!page.contains("<link"));
    assert!(!page.contains("@import"));
    assert!(!page.contains("url("));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
}

#[test]
fn thresholds_are_drawn_and_labelled() {
    let page = render_html(&sample());
    // p = 0.95 ⇔ weight log2(19) ≈ 4.25; p = 0.5 ⇔ weight 0.
    assert!(
        page.contains("自動統合 p≥0.950（重み +4.25）"),
        "merge marker label"
    );
    assert!(
        page.contains("要確認 p≥0.500（重み +0.00）"),
        "review marker label"
    );
    assert!(page.contains("p ≥ 0.950"));
    assert!(page.contains("0.500 ≤ p &lt; 0.950") || page.contains("0.500 ≤ p < 0.950"));
}

#[test]
fn bands_count_every_pair_once() {
    let r = sample();
    let s = ScoreSummary::new(&r);
    assert_eq!(s.merge + s.review + s.below, r.pair_weights.len() as u64);
    let merge = r
        .pair_weights
        .iter()
        .filter(|&&w| weight_to_probability(w) >= 0.95)
        .count() as u64;
    assert_eq!(s.merge, merge);
    assert!(s.merge > 0 && s.review > 0 && s.below > 0);
}

#[test]
fn term_frequency_levels_say_how_much_rarity_counts() {
    let mut r = sample();
    assert_eq!(count(&render_html(&r), "頻度補正"), 0);
    r.comparisons[0].levels[0].tf_scale = Some(1.0);
    r.comparisons[1].levels[0].tf_scale = Some(0.548);
    let html = render_html(&r);
    assert_eq!(count(&html, "頻度補正"), 2);
    assert_eq!(count(&html, "頻度補正 ×0.55"), 1);
}

#[test]
fn rendering_is_deterministic() {
    let r = sample();
    let a = render_html(&r);
    let b = render_html(&r.clone());
    assert_eq!(a, b);
}

#[test]
fn empty_report_renders() {
    let page = render_html(&DedupeReport::default());
    assert_eq!(count(&page, "<svg"), 2);
    assert!(page.contains("</html>"));
    assert!(!page.contains("図を描けませんでした"));
}

#[test]
fn degenerate_values_render() {
    let mut r = sample();
    // Thresholds at the ends give infinite weights; weights of every kind.
    r.merge_threshold = 1.0;
    r.review_threshold = 0.0;
    r.pair_weights = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        -1e300,
        0.0,
    ];
    r.cluster_sizes = vec![0, 1];
    r.comparisons[0].levels[0].u = 0.0;
    r.comparisons[0].levels[0].weight = f64::INFINITY;
    r.comparisons[1].levels.clear();
    r.stages = vec![("x".to_string(), 0.0)];
    let page = render_html(&r);
    assert_eq!(count(&page, "<svg"), 2 + r.comparisons.len());
    assert!(!page.contains("図を描けませんでした"));
    assert!(page.contains("不正な重み"));
    assert!(page.contains("+∞"));
}

#[test]
fn millions_of_weights_are_binned() {
    let mut r = sample();
    // A deterministic spread over about −40…+30 bits.
    r.pair_weights = (0..2_000_000u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) % 70_000) as f64 / 1000.0 - 40.0)
        .collect();
    let page = render_html(&r);
    assert!(page.len() < 2_000_000, "page is {} bytes", page.len());
    assert!(count(&page, "<rect") < 2_000);
}

#[test]
fn bins_cover_every_value() {
    let weights = [-3.2, -3.0, 0.0, 0.49, 0.5, 7.9, f64::INFINITY, f64::NAN];
    let b = WeightBins::new(&weights, &[4.25]);
    assert_eq!(b.start, -4.0);
    assert_eq!(b.width, 0.5);
    assert_eq!(b.end(), 8.0);
    assert_eq!(b.counts.iter().sum::<u64>(), 7);
    assert_eq!(b.counts[(0.0 - b.start) as usize * 2], 2); // 0.0 and 0.49
    assert_eq!(*b.counts.last().unwrap(), 2); // 7.9 and +∞
    assert!(b.clipped);

    // Wide ranges get one-bit bins and stop at ±MAX_ABS_WEIGHT.
    let b = WeightBins::new(&[-500.0, 0.0, 500.0], &[]);
    assert_eq!(
        (b.start, b.width, b.end()),
        (-MAX_ABS_WEIGHT, 1.0, MAX_ABS_WEIGHT)
    );
    assert_eq!(b.counts.len(), 128);

    // Nothing to bin still gives a usable axis.
    let b = WeightBins::new(&[], &[f64::INFINITY]);
    assert!(!b.counts.is_empty() && b.end() > b.start);
    let b = WeightBins::new(&[1e9], &[]);
    assert!(b.end() > b.start && b.counts.iter().sum::<u64>() == 1);
}

#[test]
fn large_clusters_share_one_bar() {
    let mut r = sample();
    r.cluster_sizes = vec![1, 1, 2, 10, 11, 250];
    let page = render_html(&r);
    assert!(page
        .contains("<td class=\"num\">10+</td><td class=\"num\">3</td><td class=\"num\">271</td>"));
}

#[test]
fn weight_and_probability_are_inverse() {
    for w in [-20.0, -1.0, 0.0, 0.5, 4.25, 20.0] {
        assert!((probability_to_weight(weight_to_probability(w)) - w).abs() < 1e-9);
    }
    assert_eq!(weight_to_probability(f64::INFINITY), 1.0);
    assert_eq!(weight_to_probability(f64::NEG_INFINITY), 0.0);
    assert_eq!(probability_to_weight(0.5), 0.0);
}

#[test]
fn number_formats() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(fmt_weight(-1.5), "−1.50");
    assert_eq!(fmt_weight(f64::NEG_INFINITY), "−∞");
    assert_eq!(fmt_prob_small(0.00012), "1.20e-4");
    assert_eq!(percent(1, 0), "—");
}

/// One explained term of the sample pair.
fn term(comparison: String, level: String, weight: f64) -> crate::matching::ExplainTerm {
    crate::matching::ExplainTerm {
        field: comparison.clone(),
        comparison,
        level,
        weight,
    }
}

#[test]
fn label_estimates_have_their_section_only_with_labels() {
    use crate::matching::band::{Bands, LabelEstimates};
    let plain = render_html(&sample());
    assert!(!plain.contains("id=\"labels\""));
    let mut r = sample();
    // p ≥ 0.95 is a weight ≥ 4.25: 5 is in the auto-merge band, 4 in the
    // review band, -3 below it.
    let bands = Bands {
        match_weight: probability_to_weight(r.merge_threshold),
        review_weight: probability_to_weight(r.review_threshold),
    };
    let estimates = LabelEstimates::count(
        &bands,
        &[(5.0, true), (5.0, false), (4.0, true), (-3.0, true)],
    );
    r.labels = Some(ReportLabels {
        calibrated: true,
        estimates,
    });
    let html = render_html(&r);
    assert!(html.contains("<a href=\"#labels\">"), "nav link");
    assert!(html.contains("一致 3 件・不一致 1 件"), "counts");
    // Auto-merge precision 1 of 2; review recall 2 of 3.
    assert!(
        html.contains("<tr><td>自動統合の適合率</td><td class=\"num\">0.500</td>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>要確認以上の再現率</td><td class=\"num\">0.667</td>"));
    assert!(html.contains("ラベルから較正"));
    // A band without labelled pairs says so.
    r.labels = Some(ReportLabels {
        calibrated: false,
        estimates: LabelEstimates::count(&bands, &[(-3.0, false)]),
    });
    let html = render_html(&r);
    assert!(html.contains("この帯にラベルなし"));
    assert!(!html.contains("ラベルから較正"));
}
