//! What the plots draw besides the curves: the learning-rate change markers and their labels, the coach's hint
//! markers, stored runs' faded lines, the lr axis's labels, and which x range is worth decimating.

use crate::app::history::HintEntry;
use crate::app::runs::experiments::LrMarker;
use crate::app::training::gradients::{rule_title, HINT_COLOR};
use crate::engine::training::config::lr_text;
use egui::{Align2, Color32, Ui};
use egui_plot::{Line, PlotPoints, VLine};

pub(super) const MARKER_COLOR: Color32 = Color32::from_rgb(150, 150, 150);

/// Overlaid runs are smoothed, thin and faded: a third of the current run's resolution draws them alike, and keeps
/// a frame with five 30k-batch runs cheap.
pub(super) fn overlay_buckets(buckets: usize) -> usize {
    (buckets / 3).max(100)
}

/// A stored run's curve: thinner and faded, under the current run.
pub(super) fn overlay_line(name: &str, color: Color32, pts: &[[f64; 2]]) -> Line<'static> {
    Line::new(name.to_string(), PlotPoints::from(pts.to_vec())).color(color.gamma_multiply(0.65)).width(1.0)
}

/// A dashed vertical line at each learning-rate change. Unnamed: not in the legend.
pub(super) fn draw_markers(p: &mut egui_plot::PlotUi<'_>, markers: &[LrMarker]) {
    for m in markers {
        p.vline(VLine::new("", m.x).color(MARKER_COLOR).width(1.0).style(egui_plot::LineStyle::dashed_loose()));
    }
}

/// The small label (`lr 0.003 -> 0.03`) at the top of each marker, painted in screen space after the plot so it
/// never widens the plot's bounds.
pub(super) fn label_markers(ui: &Ui, transform: &egui_plot::PlotTransform, markers: &[LrMarker]) {
    let frame = *transform.frame();
    let painter = ui.painter().with_clip_rect(frame);
    for m in markers {
        let x = transform.position_from_point_x(m.x);
        if (frame.left()..=frame.right()).contains(&x) {
            let pos = egui::pos2(x + 3.0, frame.top() + 2.0);
            painter.text(pos, Align2::LEFT_TOP, &m.label, egui::FontId::proportional(11.0), MARKER_COLOR);
        }
    }
}

/// The coach's hints, as dotted markers where they fired (dots: no series and no lr marker is dotted).
pub(super) fn draw_hints(p: &mut egui_plot::PlotUi<'_>, hints: &[HintEntry]) {
    for h in hints {
        let color = HINT_COLOR;
        p.vline(VLine::new(hint_name(h), h.x).color(color).width(2.0).style(egui_plot::LineStyle::dotted_dense()));
    }
}

pub(super) fn hint_name(h: &HintEntry) -> String {
    format!("hint: {}", rule_title(h))
}

/// An lr axis label from its log10: plain down to 0.001, then as a power of ten, so the axis keeps the width of
/// the plots above and the x axes line up.
pub(super) fn axis_lr_text(log10_lr: f64) -> String {
    if log10_lr >= -3.0 {
        lr_text(10f64.powf(log10_lr))
    } else {
        format!("1e{}", log10_lr.round() as i32)
    }
}

/// The x range to draw and how many columns it spans. While the plot follows the data (auto bounds) that is all
/// of it, so newly arrived points are never cut off; once the user zooms or pans, only what is visible.
pub(super) fn visible(p: &egui_plot::PlotUi<'_>, full: Option<(f64, f64)>) -> (f64, f64, usize) {
    let columns = p.response().rect.width().max(1.0) as usize;
    let bounds = p.plot_bounds();
    match full {
        Some((lo, hi)) if p.auto_bounds().x || !bounds.is_valid_x() => (lo, hi, columns),
        _ => (bounds.min()[0], bounds.max()[0], columns),
    }
}
