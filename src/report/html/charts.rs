//! The page's small drawings and colours: a clause's trend as an SVG bar chart, a target's
//! gauge, the heat map's colour scale and the CSS classes of a compliance or a status. Each is
//! a pure function of the numbers [`super::HtmlData`] computed, so the markup stays testable.

use super::{esc, Cell, ClauseData};
use crate::report::period::percent;
use std::fmt::Write as _;

/// A CSS class for a compliance in per-mille.
pub(super) fn tone(p: Option<u64>) -> &'static str {
    match p {
        None => "",
        Some(p) if p >= 950 => "good",
        Some(p) if p >= 800 => "fair",
        _ => "bad",
    }
}

pub(super) fn status_class(status: &str) -> &'static str {
    match status {
        "met" => "good",
        "short" | "missed" => "bad",
        _ => "",
    }
}

/// A colour from red (0 %) through yellow (80 %) to green (100 %); light grey for a cell with
/// nothing decided but something pending or found, none for an empty one.
pub(super) fn heat_colour(p: Option<u64>, cell: &Cell) -> String {
    let Some(p) = p else {
        return if cell.is_empty() {
            "transparent"
        } else {
            "#eeeeee"
        }
        .to_string();
    };
    // Stops: 500‰ and below red, 800‰ yellow, 1000‰ green.
    let (a, b, t) = if p <= 500 {
        ((215, 48, 39), (215, 48, 39), 0.0)
    } else if p <= 800 {
        ((215, 48, 39), (254, 224, 139), (p - 500) as f64 / 300.0)
    } else {
        ((254, 224, 139), (26, 152, 80), (p - 800) as f64 / 200.0)
    };
    let mix = |x: i32, y: i32| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as i32;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The bar colour of a compliance.
pub(super) fn bar_colour(p: u64) -> &'static str {
    match p {
        950.. => "#1a9850",
        800..=949 => "#f0b429",
        _ => "#d73027",
    }
}

/// The trend of a clause: one bar per period, its height the compliance, its colour its tone;
/// a period with nothing decided is a grey tick.
pub(super) fn trend_svg(c: &ClauseData, periods: &[String]) -> String {
    let n = periods.len().max(1);
    let bar = (180 / n).clamp(6, 22);
    let width = n * (bar + 3) + 4;
    let height = 26;
    // Many periods (a year by day) are drawn at the same size, squeezed into the column.
    let shown = width.min(MAX_TREND_WIDTH);
    let mut s = format!(
        "<svg class=\"trend\" width=\"{shown}\" height=\"{}\" viewBox=\"0 0 {width} {}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"trend\">",
        height + 11,
        height + 11
    );
    let _ = write!(
        s,
        "<line x1=\"0\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#999\" stroke-width=\"1\"/>"
    );
    for (i, (cell, label)) in c.trend.iter().zip(periods).enumerate() {
        let x = 4 + i * (bar + 3);
        match cell.permille() {
            Some(p) => {
                let h = ((p as usize * (height - 2)) / 1000).max(2);
                let _ = write!(
                    s,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"{}\"><title>{}: {} of {} met ({})</title></rect>",
                    height - h,
                    bar_colour(p),
                    esc(label),
                    cell.met,
                    cell.decided,
                    percent(p)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"2\" fill=\"#cccccc\"><title>{}: nothing decided</title></rect>",
                    height - 2,
                    esc(label)
                );
            }
        }
        if n <= 12 {
            let short = label.rsplit('-').next().unwrap_or(label);
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"8\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                x + bar / 2,
                height + 9,
                esc(short)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The widest a trend is drawn, in CSS pixels.
const MAX_TREND_WIDTH: usize = 240;

/// A target's ratio as a bar with its threshold marked.
pub(super) fn gauge_svg(ratio: Option<u64>, bound: u32, met: bool) -> String {
    let w = 120;
    let filled = ratio.map_or(0, |r| (r.min(1000) as usize * w) / 1000);
    let mark = (bound.min(1000) as usize * w) / 1000;
    format!(
        "<svg class=\"gauge\" width=\"{w}\" height=\"12\" viewBox=\"0 0 {w} 12\">\
         <rect x=\"0\" y=\"2\" width=\"{w}\" height=\"8\" fill=\"#eeeeee\"/>\
         <rect x=\"0\" y=\"2\" width=\"{filled}\" height=\"8\" fill=\"{}\"/>\
         <line x1=\"{mark}\" y1=\"0\" x2=\"{mark}\" y2=\"12\" stroke=\"#222\" stroke-width=\"2\"/></svg>",
        if met { "#1a9850" } else { "#d73027" }
    )
}
