//! The report's charts: plotters drawing into an SVG `String`.
//!
//! Every function here takes data that is already small (bins, categories,
//! levels) and returns one `<svg>` element. Binning and counting happen in
//! `report/mod.rs`; this file only lays out axes and shapes. plotters is built
//! without its `ttf` feature, so text is written as SVG `<text>` (escaped by
//! plotters) and sized by a crude estimate: no font is loaded, nothing is
//! downloaded, and the browser picks the font from the page's CSS.
//!
//! A chart that plotters fails to draw becomes a small SVG saying so rather
//! than a panic: the rest of the report is still worth reading.

use std::error::Error;
use std::ops::Range;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Esc;

/// Width of every chart in SVG pixels; CSS scales it down on narrow screens.
const WIDTH: u32 = 860;
/// The font family written into each `<text>`; the page's CSS overrides it
/// with a Japanese-capable stack.
const FONT: &str = "sans-serif";
/// Counts whose largest/smallest non-zero ratio reaches this get a log y axis.
const LOG_SCALE_SPAN: u64 = 100;

pub(super) const GREEN: RGBColor = RGBColor(46, 139, 87);
pub(super) const RED: RGBColor = RGBColor(200, 64, 64);
pub(super) const AMBER: RGBColor = RGBColor(230, 150, 30);
pub(super) const GREY: RGBColor = RGBColor(140, 150, 165);
pub(super) const BLUE: RGBColor = RGBColor(70, 110, 180);
const INK: RGBColor = RGBColor(40, 40, 40);

/// One vertical bar on a numeric x axis.
pub(super) struct Bar {
    pub x: Range<f64>,
    pub count: u64,
    pub color: RGBColor,
}

/// A labelled vertical line across a chart (a threshold).
pub(super) struct Marker {
    pub x: f64,
    pub label: String,
    pub color: RGBColor,
    /// Write the label left of the line (for the lower of two thresholds, so
    /// that the two labels point away from each other).
    pub label_left: bool,
}

/// A vertical bar chart of counts: the match-weight histogram and the
/// cluster-size distribution. `x_labels` is how many x labels to ask plotters
/// for; `x_format` writes them.
pub(super) struct BarChart<'a> {
    pub x_range: Range<f64>,
    pub x_labels: usize,
    pub x_format: &'a dyn Fn(&f64) -> String,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub bars: &'a [Bar],
    pub markers: &'a [Marker],
}

/// Whether counts span enough orders of magnitude to need a log y axis.
pub(super) fn needs_log_scale(counts: impl Iterator<Item = u64>) -> bool {
    let (mut min, mut max) = (u64::MAX, 0);
    for c in counts.filter(|&c| c > 0) {
        min = min.min(c);
        max = max.max(c);
    }
    max > 0 && max / min >= LOG_SCALE_SPAN
}

pub(super) fn bar_chart(chart: &BarChart) -> String {
    let max = chart.bars.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let log = needs_log_scale(chart.bars.iter().map(|b| b.count));
    render(320, |root| {
        if log {
            // Bars start at 0.5 so that a count of 1 is still a visible bar;
            // the top leaves room for the threshold labels.
            let y = (0.5..max * 12.0).log_scale();
            draw_bar_chart(root, chart, y, 0.5, max * 12.0, "（対数目盛）")
        } else {
            draw_bar_chart(root, chart, 0.0..max * 1.2, 0.0, max * 1.2, "")
        }
    })
}

fn draw_bar_chart<Y>(
    root: &DrawingArea<SVGBackend, Shift>,
    chart: &BarChart,
    y_spec: Y,
    y_base: f64,
    y_top: f64,
    y_note: &str,
) -> Result<(), Box<dyn Error>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut ctx = ChartBuilder::on(root)
        .margin(12)
        .margin_top(28)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(chart.x_range.clone(), y_spec)?;
    let y_desc = format!("{}{}", chart.y_desc, y_note);
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_labels(chart.x_labels)
        .x_label_formatter(chart.x_format)
        .y_label_formatter(&count_label)
        .x_desc(chart.x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    ctx.draw_series(chart.bars.iter().filter(|b| b.count > 0).map(|b| {
        let mut rect = Rectangle::new(
            [(b.x.start, y_base), (b.x.end, b.count as f64)],
            b.color.filled(),
        );
        rect.set_margin(0, 0, 1, 1);
        rect
    }))?;
    for m in chart.markers {
        ctx.draw_series(std::iter::once(PathElement::new(
            vec![(m.x, y_base), (m.x, y_top)],
            m.color.stroke_width(2),
        )))?;
        // The label sits just inside the plot's top edge beside its line,
        // above the tallest bar (the y range leaves headroom for it).
        let (px, py) = ctx.backend_coord(&(m.x, y_top));
        let (dx, anchor) = if m.label_left {
            (-4, HPos::Right)
        } else {
            (4, HPos::Left)
        };
        let style = TextStyle::from((FONT, 13).into_font())
            .color(&m.color)
            .pos(Pos::new(anchor, VPos::Top));
        root.draw(&Text::new(m.label.clone(), (px + dx, py + 3), style))?;
    }
    Ok(())
}

/// A horizontal bar chart of one comparison's level weights, first level on
/// top; positive weights green, negative red. Infinite weights are drawn to
/// the edge of the axis and labelled ±∞.
pub(super) fn level_weights(levels: &[(String, f64)]) -> String {
    let n = levels.len().max(1);
    let finite_max = levels
        .iter()
        .map(|(_, w)| w.abs())
        .filter(|w| w.is_finite())
        .fold(1.0_f64, f64::max);
    let x_max = (finite_max * 1.2).ceil();
    let label_px = levels
        .iter()
        .map(|(label, _)| text_width_px(label, 13.0))
        .max()
        .unwrap_or(0)
        .clamp(40, 320);
    let height = 70 + 34 * n as u32;
    render(height, |root| {
        let mut ctx = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_px + 16)
            .build_cartesian_2d(-x_max..x_max, 0.5..n as f64 + 0.5)?;
        // Level i sits at y = n - i, so the first level is the top bar.
        let level_at = |y: &f64| -> String {
            let i = n as f64 - y.round();
            if (y - y.round()).abs() > 1e-9 || i < 0.0 {
                return String::new();
            }
            levels
                .get(i as usize)
                .map(|(l, _)| l.clone())
                .unwrap_or_default()
        };
        ctx.configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&level_at)
            .x_label_formatter(&|x: &f64| format!("{x}"))
            .x_desc("重み log2(m/u)（ビット）")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        for (i, (_, weight)) in levels.iter().enumerate() {
            let y = (n - i) as f64;
            let color = if *weight >= 0.0 { GREEN } else { RED };
            let w = if weight.is_nan() {
                0.0
            } else {
                weight.clamp(-x_max, x_max)
            };
            let mut rect = Rectangle::new([(0.0, y - 0.32), (w, y + 0.32)], color.filled());
            rect.set_margin(0, 0, 0, 0);
            ctx.draw_series(std::iter::once(rect))?;
            // The value, just outside the bar's end.
            let (px, py) = ctx.backend_coord(&(w, y));
            let text = super::fmt_weight(*weight);
            let (dx, anchor) = if w >= 0.0 {
                (4, HPos::Left)
            } else {
                (-4, HPos::Right)
            };
            let style = TextStyle::from((FONT, 12).into_font())
                .color(&INK)
                .pos(Pos::new(anchor, VPos::Center));
            root.draw(&Text::new(text, (px + dx, py), style))?;
        }
        ctx.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.5), (0.0, n as f64 + 0.5)],
            INK.stroke_width(1),
        )))?;
        Ok(())
    })
}

/// A y-axis label for a count: integers with thousands separators, nothing
/// below 1 (the log axis starts at 0.5).
fn count_label(v: &f64) -> String {
    if *v < 1.0 || v.fract() != 0.0 {
        return String::new();
    }
    super::thousands(*v as u64)
}

/// Roughly how wide `text` is at `size` px: CJK and other wide characters one
/// em, the rest a little over half. Used only to size the label area.
fn text_width_px(text: &str, size: f64) -> u32 {
    let ems: f64 = text
        .chars()
        .map(|c| match unicode_width::UnicodeWidthChar::width(c) {
            Some(2) => 1.0,
            _ => 0.6,
        })
        .sum();
    (ems * size).ceil() as u32
}

/// Runs `draw` on a fresh SVG canvas `WIDTH` × `height` and returns the SVG.
fn render(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Box<dyn Error>>,
) -> String {
    let mut svg = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Box::<dyn Error>::from)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Box::<dyn Error>::from))
    };
    match result {
        Ok(()) => svg,
        Err(e) => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\">\
             <text x=\"8\" y=\"24\">図を描けませんでした: {}</text></svg>",
            Esc(&e.to_string())
        ),
    }
}
