//! The HTML report of a dedupe run: one self-contained page for a data
//! steward.
//!
//! [`render_html`] turns a [`DedupeReport`] (figures the dedupe job has already
//! computed) into one UTF-8 HTML file with inline CSS and inline SVG charts
//! drawn by plotters (`charts.rs`): no JavaScript, no fonts, no URLs, so the
//! file can be mailed or archived and opens the same anywhere. This module
//! does no matching and no IO; writing the page to disk is the caller's job.
//!
//! What it guarantees:
//! - every value from the data or the rules is HTML-escaped (a company called
//!   `<script>` shows as text);
//! - same report ⇒ same bytes (no timestamps, no hash-map order);
//! - the page stays small whatever the data size: pair weights are binned
//!   (at most [`MAX_ABS_WEIGHT`]·2 bins), cluster sizes grouped, and only the
//!   pairs the caller chose are listed;
//! - empty inputs (no pairs, no clusters) render without panicking.
//!
//! Scores follow Fellegi–Sunter: a pair's match weight is the log2 Bayes
//! factor including the prior, and its probability is
//! `p = 1 / (1 + 2^(−weight))` ([`weight_to_probability`]).

mod charts;

use std::fmt::{self, Write};

use charts::{Bar, BarChart, Marker};

/// Everything the report shows about one dedupe run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DedupeReport {
    /// What was deduplicated, e.g. the input file name.
    pub title: String,
    pub records: usize,
    pub candidate_pairs: u64,
    /// Clusters with two records or more.
    pub clusters: usize,
    /// log2 prior odds; part of every pair's weight.
    pub prior_weight: f64,
    /// Probability at or above which a pair is merged automatically.
    pub merge_threshold: f64,
    /// Probability at or above which (and below `merge_threshold`) a pair
    /// goes to review.
    pub review_threshold: f64,
    /// The match weight (log2 Bayes factor including the prior) of every
    /// scored candidate pair. May be millions long: the report bins it.
    pub pair_weights: Vec<f64>,
    /// The size of every cluster, singletons included.
    pub cluster_sizes: Vec<usize>,
    pub comparisons: Vec<ComparisonSummary>,
    /// The most uncertain pairs (probability near 0.5), already chosen by the
    /// caller; shown in the given order. A few dozen at most.
    pub uncertain_pairs: Vec<PairView>,
    /// Stage name and seconds, in run order.
    pub stages: Vec<(String, f64)>,
    /// Field, value, and how many records share it: exact keys too common to
    /// block on.
    pub oversized_blocks: Vec<(String, String, u64)>,
    /// What the labelled pairs of `dedupe --labels` say of the bands.
    pub labels: Option<ReportLabels>,
}

/// The labelled pairs of a run, each scored by its model and counted by the
/// band it falls in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportLabels {
    /// Whether the bands were calibrated from the labels
    /// (`[matching] auto_merge_precision`, `review_recall`).
    pub calibrated: bool,
    pub estimates: crate::matching::band::LabelEstimates,
}

/// One comparison (e.g. 会社名, 電話番号) and its levels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComparisonSummary {
    pub name: String,
    pub levels: Vec<LevelSummary>,
}

/// One level of a comparison with its estimated m and u probabilities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelSummary {
    pub label: String,
    pub m: f64,
    pub u: f64,
    /// log2(m/u)
    pub weight: f64,
    /// Candidate pairs at this level.
    pub pairs: u64,
    /// On a term-frequency level, the share of its rarity adjustment that
    /// counts (below 1 when labels taught so).
    pub tf_scale: Option<f64>,
}

/// One pair shown side by side with the terms of its score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairView {
    pub left_id: String,
    pub right_id: String,
    pub weight: f64,
    pub probability: f64,
    /// Column header, left display value, right display value.
    pub fields: Vec<(String, String, String)>,
    /// Each comparison's level and weight; with the prior they sum to
    /// `weight`.
    pub terms: Vec<crate::matching::ExplainTerm>,
}

/// Weights beyond ±this many bits fall into the histogram's edge bins: a
/// steward learns nothing from the exact position of a 2^-100 pair, and the
/// bin count stays bounded.
pub const MAX_ABS_WEIGHT: f64 = 64.0;
/// Cluster sizes from this up share one bar.
const SIZE_CAP: usize = 10;

/// `p = 1 / (1 + 2^(−weight))`; ±∞ give 1 and 0.
pub fn weight_to_probability(weight: f64) -> f64 {
    crate::matching::model::Model::probability(weight)
}

/// The inverse of [`weight_to_probability`]: `log2(p / (1 − p))`; ±∞ at 1
/// and 0, NaN outside [0, 1].
pub fn probability_to_weight(p: f64) -> f64 {
    crate::matching::model::Model::weight_for(p)
}

/// The whole page. Pure and deterministic.
pub fn render_html(r: &DedupeReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    write_page(&mut out, r).expect("writing to a String cannot fail");
    out
}

fn write_page(out: &mut String, r: &DedupeReport) -> fmt::Result {
    let scores = ScoreSummary::new(r);
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>名寄せレポート — {}</title>", Esc(&r.title))?;
    writeln!(out, "<style>{CSS}</style>\n</head>\n<body>")?;
    writeln!(out, "<header><h1>名寄せレポート</h1>")?;
    writeln!(out, "<p class=\"subtitle\">{}</p></header>", Esc(&r.title))?;
    writeln!(
        out,
        "<nav><a href=\"#summary\">概要</a> · <a href=\"#scores\">スコア分布</a> · \
         <a href=\"#clusters\">クラスタ</a> · <a href=\"#comparisons\">比較項目</a> · \
         <a href=\"#uncertain\">判定が微妙なペア</a>{}{}</nav>",
        if r.oversized_blocks.is_empty() {
            ""
        } else {
            " · <a href=\"#oversized\">大きすぎるブロック</a>"
        },
        if r.labels.is_none() {
            ""
        } else {
            " · <a href=\"#labels\">ラベルによる推定</a>"
        }
    )?;
    write_summary(out, r, &scores)?;
    write_scores(out, r, &scores)?;
    write_clusters(out, r)?;
    write_comparisons(out, r)?;
    write_uncertain(out, r)?;
    write_oversized(out, r)?;
    write_labels(out, r)?;
    writeln!(out, "</body>\n</html>")
}

/// The pair weights counted once: histogram bins and pairs per band.
struct ScoreSummary {
    bins: WeightBins,
    merge: u64,
    review: u64,
    below: u64,
    /// NaN weights: neither binned nor in a band.
    invalid: u64,
    merge_weight: f64,
    review_weight: f64,
}

impl ScoreSummary {
    fn new(r: &DedupeReport) -> Self {
        let merge_weight = probability_to_weight(r.merge_threshold);
        let review_weight = probability_to_weight(r.review_threshold);
        let bins = WeightBins::new(&r.pair_weights, &[merge_weight, review_weight]);
        let (mut merge, mut review, mut below, mut invalid) = (0, 0, 0, 0);
        for &w in &r.pair_weights {
            if w.is_nan() {
                invalid += 1;
                continue;
            }
            // Bands are decided on the probability, as the dedupe job does.
            let p = weight_to_probability(w);
            if p >= r.merge_threshold {
                merge += 1;
            } else if p >= r.review_threshold {
                review += 1;
            } else {
                below += 1;
            }
        }
        ScoreSummary {
            bins,
            merge,
            review,
            below,
            invalid,
            merge_weight,
            review_weight,
        }
    }
}

/// A histogram of match weights with equal bins over `[start, start + width ·
/// counts.len())`. Bins are half a bit when the range is narrow, one bit
/// otherwise; values outside the range (±[`MAX_ABS_WEIGHT`], ±∞) count in the
/// edge bins.
#[derive(Debug, PartialEq)]
struct WeightBins {
    start: f64,
    width: f64,
    counts: Vec<u64>,
    /// Whether some value was put into an edge bin it lies outside of.
    clipped: bool,
}

impl WeightBins {
    /// `also_show` (the thresholds' weights) widens the range so that their
    /// lines fall on the chart.
    fn new(weights: &[f64], also_show: &[f64]) -> Self {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &w in weights.iter().chain(also_show) {
            if w.is_finite() {
                min = min.min(w);
                max = max.max(w);
            }
        }
        if min > max {
            (min, max) = (-1.0, 1.0);
        }
        let start = min.floor().clamp(-MAX_ABS_WEIGHT, MAX_ABS_WEIGHT - 1.0);
        // floor + 1 rather than ceil: the largest value must lie inside.
        let end = (max.floor() + 1.0).clamp(start + 1.0, MAX_ABS_WEIGHT);
        let width = if end - start <= 40.0 { 0.5 } else { 1.0 };
        let n = ((end - start) / width).round() as usize;
        let mut counts = vec![0u64; n];
        let mut clipped = false;
        for &w in weights {
            if w.is_nan() {
                continue;
            }
            clipped |= w < start || w >= end;
            let i = ((w - start) / width).floor();
            let i = if i < 0.0 { 0 } else { (i as usize).min(n - 1) };
            counts[i] += 1;
        }
        WeightBins {
            start,
            width,
            counts,
            clipped,
        }
    }

    fn end(&self) -> f64 {
        self.start + self.width * self.counts.len() as f64
    }
}

fn write_summary(out: &mut String, r: &DedupeReport, s: &ScoreSummary) -> fmt::Result {
    let in_clusters: usize = r.cluster_sizes.iter().filter(|&&n| n >= 2).sum();
    let largest = r.cluster_sizes.iter().copied().max().unwrap_or(0);
    writeln!(out, "<section id=\"summary\">\n<h2>1. 概要</h2>")?;
    writeln!(out, "<div class=\"cards\">")?;
    let cards: [(&str, String); 6] = [
        ("レコード", thousands(r.records as u64)),
        ("候補ペア", thousands(r.candidate_pairs)),
        ("採点したペア", thousands(r.pair_weights.len() as u64)),
        ("クラスタ（2件以上）", thousands(r.clusters as u64)),
        ("クラスタ内のレコード", thousands(in_clusters as u64)),
        ("最大クラスタ", format!("{} 件", thousands(largest as u64))),
    ];
    for (label, value) in cards {
        writeln!(
            out,
            "<div class=\"card\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>"
        )?;
    }
    writeln!(out, "</div>")?;

    writeln!(out, "<h3>判定の帯</h3>\n<table class=\"bands\">")?;
    writeln!(
        out,
        "<thead><tr><th>帯</th><th>条件（一致確率 p）</th><th>重みでは</th><th class=\"num\">ペア数</th><th class=\"num\">割合</th></tr></thead><tbody>"
    )?;
    let total = r.pair_weights.len() as u64;
    let rows = [
        (
            "merge",
            "自動統合",
            format!("p ≥ {}", fmt_prob(r.merge_threshold)),
            format!("≥ {}", fmt_weight(s.merge_weight)),
            s.merge,
        ),
        (
            "review",
            "要確認",
            format!(
                "{} ≤ p < {}",
                fmt_prob(r.review_threshold),
                fmt_prob(r.merge_threshold)
            ),
            format!(
                "{} 〜 {}",
                fmt_weight(s.review_weight),
                fmt_weight(s.merge_weight)
            ),
            s.review,
        ),
        (
            "below",
            "非一致",
            format!("p < {}", fmt_prob(r.review_threshold)),
            format!("< {}", fmt_weight(s.review_weight)),
            s.below,
        ),
    ];
    for (class, name, cond, weights, n) in rows {
        writeln!(
            out,
            "<tr class=\"{class}\"><td><span class=\"swatch\"></span>{name}</td><td>{cond}</td><td>{weights}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            thousands(n),
            percent(n, total)
        )?;
    }
    if s.invalid > 0 {
        writeln!(
            out,
            "<tr class=\"invalid\"><td>不正な重み（NaN）</td><td colspan=\"2\">どの帯にも入れていません</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            thousands(s.invalid),
            percent(s.invalid, total)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    writeln!(
        out,
        "<p class=\"note\">事前重み（すべてのスコアに含まれる log2 事前オッズ）: {} ビット（事前確率 {}）。</p>",
        fmt_weight(r.prior_weight),
        fmt_prob(weight_to_probability(r.prior_weight))
    )?;

    writeln!(out, "<h3>処理時間</h3>")?;
    if r.stages.is_empty() {
        writeln!(out, "<p class=\"note\">記録がありません。</p>")?;
    } else {
        let total: f64 = r.stages.iter().map(|(_, s)| s).sum();
        writeln!(
            out,
            "<table class=\"stages\"><thead><tr><th>段階</th><th class=\"num\">秒</th><th class=\"num\">割合</th></tr></thead><tbody>"
        )?;
        for (name, secs) in &r.stages {
            let share = if total > 0.0 {
                format!("{:.1}%", secs / total * 100.0)
            } else {
                "—".to_string()
            };
            writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{secs:.2}</td><td class=\"num\">{share}</td></tr>",
                Esc(name)
            )?;
        }
        writeln!(
            out,
            "<tr class=\"total\"><td>合計</td><td class=\"num\">{total:.2}</td><td></td></tr></tbody></table>"
        )?;
    }
    writeln!(out, "</section>")
}

fn write_scores(out: &mut String, r: &DedupeReport, s: &ScoreSummary) -> fmt::Result {
    let bins = &s.bins;
    let bars: Vec<Bar> = bins
        .counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let x0 = bins.start + bins.width * i as f64;
            let center = weight_to_probability(x0 + bins.width / 2.0);
            let color = if center >= r.merge_threshold {
                charts::GREEN
            } else if center >= r.review_threshold {
                charts::AMBER
            } else {
                charts::GREY
            };
            Bar {
                x: x0..x0 + bins.width,
                count,
                color,
            }
        })
        .collect();
    let (lo, hi) = (bins.start, bins.end());
    let mut markers = Vec::new();
    for (name, t, w, color, label_left) in [
        (
            "自動統合",
            r.merge_threshold,
            s.merge_weight,
            charts::GREEN,
            false,
        ),
        (
            "要確認",
            r.review_threshold,
            s.review_weight,
            charts::AMBER,
            true,
        ),
    ] {
        if w.is_finite() && (lo..=hi).contains(&w) {
            markers.push(Marker {
                x: w,
                label: format!("{name} p≥{}（重み {}）", fmt_prob(t), fmt_weight(w)),
                color,
                label_left,
            });
        }
    }
    let span = hi - lo;
    let svg = charts::bar_chart(&BarChart {
        x_range: lo..hi,
        x_labels: (span as usize).clamp(2, 24),
        x_format: &|x: &f64| format!("{x}"),
        x_desc: "一致重み（ビット, log2 ベイズ因子・事前を含む）",
        y_desc: "ペア数",
        bars: &bars,
        markers: &markers,
    });
    writeln!(out, "<section id=\"scores\">\n<h2>2. 一致スコアの分布</h2>")?;
    writeln!(out, "<figure>{svg}<figcaption>")?;
    write!(
        out,
        "採点した全ペアの一致重みのヒストグラム（{} ビット刻み）。縦線はしきい値: 重み w の一致確率は p = 1 / (1 + 2<sup>−w</sup>)。",
        bins.width
    )?;
    if bins.clipped {
        write!(
            out,
            " 範囲外の重み（±{MAX_ABS_WEIGHT} ビット超・無限大）は両端の棒に含めています。"
        )?;
    }
    for (name, t, w) in [
        ("自動統合", r.merge_threshold, s.merge_weight),
        ("要確認", r.review_threshold, s.review_weight),
    ] {
        if !w.is_finite() {
            write!(
                out,
                " {name}のしきい値 p = {} は重みにすると {} なので線を引いていません。",
                fmt_prob(t),
                fmt_weight(w)
            )?;
        }
    }
    writeln!(out, "</figcaption></figure>\n</section>")
}

fn write_clusters(out: &mut String, r: &DedupeReport) -> fmt::Result {
    // counts[k - 1]: clusters of size k; the last slot holds SIZE_CAP and up.
    let largest = r.cluster_sizes.iter().copied().max().unwrap_or(0);
    let n_bars = largest.clamp(2, SIZE_CAP);
    let mut counts = vec![0u64; n_bars];
    let mut records = vec![0u64; n_bars];
    for &size in r.cluster_sizes.iter().filter(|&&n| n > 0) {
        let k = size.min(n_bars);
        counts[k - 1] += 1;
        records[k - 1] += size as u64;
    }
    let capped = largest >= SIZE_CAP;
    let size_label = move |k: usize| {
        if capped && k == SIZE_CAP {
            format!("{SIZE_CAP}+")
        } else {
            k.to_string()
        }
    };
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let k = (i + 1) as f64;
            Bar {
                x: k - 0.4..k + 0.4,
                count,
                color: if i == 0 { charts::GREY } else { charts::BLUE },
            }
        })
        .collect();
    let x_format = |x: &f64| {
        let k = x.round();
        if (x - k).abs() > 1e-9 || k < 1.0 || k > n_bars as f64 {
            String::new()
        } else {
            size_label(k as usize)
        }
    };
    let svg = charts::bar_chart(&BarChart {
        x_range: 0.5..n_bars as f64 + 0.5,
        x_labels: n_bars,
        x_format: &x_format,
        x_desc: "クラスタのレコード数",
        y_desc: "クラスタ数",
        bars: &bars,
        markers: &[],
    });
    writeln!(
        out,
        "<section id=\"clusters\">\n<h2>3. クラスタサイズの分布</h2>"
    )?;
    writeln!(
        out,
        "<figure>{svg}<figcaption>サイズ 1 は統合相手のいないレコード（単独）。{SIZE_CAP} 件以上のクラスタは 1 本の棒にまとめています。</figcaption></figure>"
    )?;
    writeln!(
        out,
        "<table class=\"sizes\"><thead><tr><th class=\"num\">サイズ</th><th class=\"num\">クラスタ数</th><th class=\"num\">レコード数</th></tr></thead><tbody>"
    )?;
    for (i, (&c, &n)) in counts.iter().zip(&records).enumerate() {
        writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            size_label(i + 1),
            thousands(c),
            thousands(n)
        )?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn write_comparisons(out: &mut String, r: &DedupeReport) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"comparisons\">\n<h2>4. 比較項目ごとの重み</h2>"
    )?;
    writeln!(
        out,
        "<p class=\"note\">m = 同一人物・同一企業のペアがそのレベルになる確率、u = 別のペアがそのレベルになる確率。重み log2(m/u) が正（緑）なら一致の証拠、負（赤）なら不一致の証拠です。</p>"
    )?;
    if r.comparisons.is_empty() {
        writeln!(out, "<p class=\"note\">比較項目がありません。</p>")?;
    }
    for c in &r.comparisons {
        let levels: Vec<(String, f64)> = c
            .levels
            .iter()
            .map(|l| (l.label.clone(), l.weight))
            .collect();
        let svg = charts::level_weights(&levels);
        let total: u64 = c.levels.iter().map(|l| l.pairs).sum();
        writeln!(out, "<div class=\"comparison\">\n<h3>{}</h3>", Esc(&c.name))?;
        writeln!(out, "<figure>{svg}</figure>")?;
        writeln!(
            out,
            "<table><thead><tr><th>レベル</th><th class=\"num\">m</th><th class=\"num\">u</th><th class=\"num\">重み</th><th class=\"num\">ペア数</th><th class=\"num\">割合</th></tr></thead><tbody>"
        )?;
        for l in &c.levels {
            let sign = if l.weight >= 0.0 { "pos" } else { "neg" };
            let tf = match l.tf_scale {
                Some(s) if s < 1.0 => format!(" <small>頻度補正 ×{s:.2}</small>"),
                Some(_) => " <small>頻度補正</small>".to_string(),
                None => String::new(),
            };
            writeln!(
                out,
                "<tr><td>{}{tf}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num {sign}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                Esc(&l.label),
                fmt_prob_small(l.m),
                fmt_prob_small(l.u),
                fmt_weight(l.weight),
                thousands(l.pairs),
                percent(l.pairs, total)
            )?;
        }
        writeln!(out, "</tbody></table>\n</div>")?;
    }
    writeln!(out, "</section>")
}

fn write_uncertain(out: &mut String, r: &DedupeReport) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"uncertain\">\n<h2>5. 判定が微妙なペア</h2>"
    )?;
    if r.uncertain_pairs.is_empty() {
        writeln!(out, "<p class=\"note\">該当するペアはありません。</p>")?;
        return writeln!(out, "</section>");
    }
    writeln!(
        out,
        "<p class=\"note\">一致確率が 0.5 に近いペア {} 組。値が異なる項目は色付きで示します。重みの内訳を読むと、どの項目が判定を分けたかが分かります。</p>",
        r.uncertain_pairs.len()
    )?;
    for (i, p) in r.uncertain_pairs.iter().enumerate() {
        writeln!(out, "<div class=\"pair\">")?;
        writeln!(
            out,
            "<h3>{}. {} ↔ {} <span class=\"score\">p = {}（重み {}）</span></h3>",
            i + 1,
            Esc(&p.left_id),
            Esc(&p.right_id),
            fmt_prob(p.probability),
            fmt_weight(p.weight)
        )?;
        writeln!(out, "<div class=\"pair-tables\">")?;
        writeln!(
            out,
            "<table class=\"fields\"><thead><tr><th>項目</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            Esc(&p.left_id),
            Esc(&p.right_id)
        )?;
        for (header, left, right) in &p.fields {
            let class = if left == right {
                "same"
            } else if left.is_empty() || right.is_empty() {
                "missing"
            } else {
                "diff"
            };
            writeln!(
                out,
                "<tr class=\"{class}\"><th>{}</th><td>{}</td><td>{}</td></tr>",
                Esc(header),
                Esc(left),
                Esc(right)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        writeln!(
            out,
            "<table class=\"terms\"><thead><tr><th>比較</th><th>レベル</th><th class=\"num\">重み</th></tr></thead><tbody>"
        )?;
        writeln!(
            out,
            "<tr><td>事前重み</td><td></td><td class=\"num\">{}</td></tr>",
            fmt_weight(r.prior_weight)
        )?;
        for t in &p.terms {
            let sign = if t.weight >= 0.0 { "pos" } else { "neg" };
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num {sign}\">{}</td></tr>",
                Esc(&t.comparison),
                Esc(&t.level),
                fmt_weight(t.weight)
            )?;
        }
        writeln!(
            out,
            "<tr class=\"total\"><td>合計</td><td></td><td class=\"num\">{}</td></tr>",
            fmt_weight(p.weight)
        )?;
        writeln!(
            out,
            "<tr class=\"total\"><td>一致確率</td><td></td><td class=\"num\">{}</td></tr>",
            fmt_prob(p.probability)
        )?;
        writeln!(out, "</tbody></table>")?;
        // A mismatch means the caller's figures disagree; show it rather than
        // hide it, since the steward reads the total as the explanation.
        let sum = r.prior_weight + p.terms.iter().map(|t| t.weight).sum::<f64>();
        if (sum - p.weight).abs() > 0.005 {
            writeln!(
                out,
                "<p class=\"warn\">内訳の合計 {} が重み {} と一致しません。</p>",
                fmt_weight(sum),
                fmt_weight(p.weight)
            )?;
        }
        writeln!(out, "</div>\n</div>")?;
    }
    writeln!(out, "</section>")
}

fn write_labels(out: &mut String, r: &DedupeReport) -> fmt::Result {
    let Some(l) = &r.labels else {
        return Ok(());
    };
    let e = &l.estimates;
    writeln!(out, "<section id=\"labels\">\n<h2>7. ラベルによる推定</h2>")?;
    writeln!(
        out,
        "<p class=\"note\">ラベル付きのペア（一致 {} 件・不一致 {} 件）をこのモデルで採点し、上の判定の帯で数えた推定です。区間は 95% の Wilson 区間。ラベルはふつう要確認のペアに付くので、すべてのペアではなくラベル付きのペアについての数字です。{}</p>",
        thousands(e.matches),
        thousands(e.non_matches),
        if l.calibrated {
            "帯の境界はラベルから較正しました（<code>[matching] auto_merge_precision</code>・<code>review_recall</code>）。"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "<table class=\"labels\">\n<thead><tr><th>指標</th><th class=\"num\">推定</th><th class=\"num\">95% 区間</th><th class=\"num\">ラベル数</th></tr></thead><tbody>"
    )?;
    let rows = [
        ("自動統合の適合率", &e.auto_merge_precision),
        ("要確認以上の適合率", &e.review_precision),
        ("自動統合の再現率", &e.auto_merge_recall),
        ("要確認以上の再現率", &e.review_recall),
    ];
    for (label, est) in rows {
        match est {
            Some(x) => writeln!(
                out,
                "<tr><td>{label}</td><td class=\"num\">{}</td><td class=\"num\">{} – {}</td><td class=\"num\">{}</td></tr>",
                fmt_prob(x.value),
                fmt_prob(x.low),
                fmt_prob(x.high),
                thousands(x.n)
            )?,
            None => writeln!(
                out,
                "<tr><td>{label}</td><td class=\"num\">—</td><td class=\"num\">この帯にラベルなし</td><td class=\"num\">0</td></tr>"
            )?,
        }
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn write_oversized(out: &mut String, r: &DedupeReport) -> fmt::Result {
    if r.oversized_blocks.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section id=\"oversized\">\n<h2>6. 大きすぎるブロック</h2>"
    )?;
    writeln!(
        out,
        "<p class=\"note\">共有するレコードが多すぎるため候補ペアの生成（ブロッキング）に使わなかった値です。代表電話番号やダミーのメールアドレスなどが典型です。これらの値だけが共通するペアは比較されていません。</p>"
    )?;
    writeln!(
        out,
        "<table><thead><tr><th>項目</th><th>値</th><th class=\"num\">共有レコード数</th></tr></thead><tbody>"
    )?;
    for (field, value, n) in &r.oversized_blocks {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            Esc(field),
            Esc(value),
            thousands(*n)
        )?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

/// Writes its string HTML-escaped (text and attribute values alike).
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['<', '>', '&', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'&' => "&amp;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(n: u64, total: u64) -> String {
    if total == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%", n as f64 / total as f64 * 100.0)
    }
}

/// A weight in bits with its sign: "+3.25", "−1.50", "+∞".
fn fmt_weight(w: f64) -> String {
    if w.is_nan() {
        "—".to_string()
    } else if w.is_infinite() {
        if w > 0.0 { "+∞" } else { "−∞" }.to_string()
    } else if w < 0.0 {
        // A true minus sign reads better than a hyphen in tables.
        format!("−{:.2}", -w)
    } else {
        format!("+{w:.2}")
    }
}

fn fmt_prob(p: f64) -> String {
    if p.is_nan() {
        "—".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// m and u: u is often tiny, so small values get scientific notation.
fn fmt_prob_small(p: f64) -> String {
    if p.is_nan() {
        "—".to_string()
    } else if p != 0.0 && p.abs() < 0.001 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// Japanese-capable system fonts only: nothing is fetched.
const CSS: &str = r#"
:root { --ink: #222; --muted: #667; --line: #d8dbe0; --merge: #2e8b57; --review: #e6961e; --below: #8c96a5; --diff: #fff1c2; --missing: #f1f1f4; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 960px; padding: 16px 20px 48px; color: var(--ink); line-height: 1.6;
  font-family: "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Yu Gothic", Meiryo, "Noto Sans CJK JP", "Noto Sans JP", sans-serif; }
svg text { font-family: "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Yu Gothic", Meiryo, "Noto Sans CJK JP", "Noto Sans JP", sans-serif; }
h1 { margin: 0; font-size: 1.6em; }
h2 { margin-top: 2em; padding-bottom: 4px; border-bottom: 2px solid var(--line); font-size: 1.3em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
.subtitle { margin: 0; color: var(--muted); word-break: break-all; }
nav { margin: 8px 0 0; font-size: 0.9em; }
a { color: #2957a4; }
.note { color: var(--muted); font-size: 0.9em; }
.warn { color: #b03030; font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { flex: 1 1 140px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .value { font-size: 1.4em; font-weight: bold; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 0.85em; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 0.92em; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f4f5f7; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pos { color: var(--merge); }
.neg { color: #c04040; }
tr.total td { font-weight: bold; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 6px; border-radius: 2px; }
tr.merge .swatch { background: var(--merge); }
tr.review .swatch { background: var(--review); }
tr.below .swatch { background: var(--below); }
figure { margin: 8px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.85em; }
.pair { border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px 8px; margin: 12px 0; break-inside: avoid; }
.pair .score { font-weight: normal; color: var(--muted); margin-left: 8px; }
.pair-tables { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
table.fields td { min-width: 12em; word-break: break-all; }
tr.diff td { background: var(--diff); }
tr.missing td { background: var(--missing); }
tr.diff th::after, tr.missing th::after { content: " ≠"; color: #b07000; }
@media print { nav { display: none; } h2 { break-after: avoid; } }
"#;

#[cfg(test)]
mod tests;
