//! The Runs tab's scatter: each stored run's parameter count (log axis) against its best test accuracy, in the
//! run's colour, hover for its name. It answers the architecture lab's question — does a bigger network read
//! better? — across every run kept. The parameter count comes from the run's recorded architecture.

use crate::app::experiments::Experiments;
use crate::app::views::stage_table::thousands;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages;
use egui::Ui;
use egui_plot::{GridMark, HoverPosition, MarkerShape, Plot, PlotPoints, Points};
use std::ops::RangeInclusive;

/// Trainable values of a network; None for a description that does not fit (a foreign or damaged record).
pub(crate) fn parameter_count(model: ModelConfig) -> Option<usize> {
    stages::try_stages(model).ok().map(|s| s.iter().map(|s| s.kind.num_params()).sum())
}

/// 1k at 3, 1M at 6, nothing between powers of ten.
fn count_label(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    let v = mark.value;
    if (v - v.round()).abs() > 1e-6 || v < 0.0 {
        return String::new();
    }
    let n = 10f64.powi(v.round() as i32);
    match n {
        n if n >= 1e6 => format!("{:.0}M", n / 1e6),
        n if n >= 1e3 => format!("{:.0}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// Draws the scatter of the runs with a best test accuracy (nothing when none has one yet).
pub(crate) fn runs_scatter_ui(ui: &mut Ui, ex: &Experiments) {
    let points: Vec<(String, egui::Color32, usize, f32)> = ex
        .runs
        .iter()
        .filter_map(|e| {
            let rec = &e.run.record;
            let best = rec.summary.best_test_accuracy?;
            Some((e.name().to_string(), e.color, parameter_count(rec.config.model)?, best))
        })
        .collect();
    if points.is_empty() {
        return;
    }
    // Whole decades on the x axis, so that at least two powers of ten are labelled.
    let logs = points.iter().map(|p| (p.2.max(1) as f64).log10());
    let (lo, hi) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_lo, x_hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    ui.strong("Parameters against best test accuracy")
        .on_hover_text("One point per run with a test accuracy, in its colour; hover a point for its name");
    Plot::new("runs_params_scatter")
        .height(150.0)
        .x_axis_label("parameters (log)")
        .y_axis_label("best test (%)")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
        .x_axis_formatter(count_label)
        .include_x(x_lo)
        .include_x(x_hi)
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .label_formatter(|pos| match pos {
            HoverPosition::NearDataPoint { plot_name, position, .. } => Some(format!(
                "{plot_name}\n{} parameters\nbest test {:.2} %",
                thousands(10f64.powf(position.x).round() as usize),
                position.y
            )),
            _ => None,
        })
        .show(ui, |p| {
            for (name, color, params, best) in &points {
                let at = [(*params.max(&1) as f64).log10(), *best as f64 * 100.0];
                p.points(
                    Points::new(name.clone(), PlotPoints::from(vec![at]))
                        .color(*color)
                        .shape(MarkerShape::Circle)
                        .filled(true)
                        .radius(5.0),
                );
            }
        });
    ui.separator();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_from_the_recorded_architecture() {
        assert_eq!(parameter_count(ModelConfig::default()), Some(61_706));
        let mlp = ModelConfig { arch: "mlp".parse().unwrap(), ..ModelConfig::default() };
        assert_eq!(parameter_count(mlp), Some(784 * 300 + 300 + 300 * 100 + 100 + 1010));
        let impossible = ModelConfig { arch: "c6k9-pool,c6k9-pool,c6k9-pool".parse().unwrap(), ..mlp };
        assert_eq!(parameter_count(impossible), None);
        let mark = |value| GridMark { value, step_size: 1.0 };
        assert_eq!(count_label(mark(3.0), &(0.0..=1.0)), "1k");
        assert_eq!(count_label(mark(6.0), &(0.0..=1.0)), "1M");
        assert_eq!(count_label(mark(4.5), &(0.0..=1.0)), "");
    }
}
