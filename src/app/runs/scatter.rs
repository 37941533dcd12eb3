//! The Runs tab's scatter: each stored run's parameter count (log axis) against its best test accuracy, in the
//! run's colour, hover for its name. It answers the architecture lab's question — does a bigger network read
//! better? — across every run kept. The parameter count comes from the run's recorded architecture.

use crate::app::runs::experiments::Experiments;
use crate::app::widgets::format::thousands;
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

/// The accuracy axis (percent) that shows these values: whole steps of 5 around them, at least 5 wide, within
/// 0–100, so that MNIST runs between 97 and 99 % are not one line at the top of a 0–100 axis.
pub(crate) fn accuracy_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.into_iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 100.0);
    }
    let mut lo = (((lo - 1.0) / 5.0).floor() * 5.0).clamp(0.0, 95.0);
    let mut hi = (((hi + 1.0) / 5.0).ceil() * 5.0).clamp(5.0, 100.0);
    if hi - lo < 5.0 {
        if hi >= 100.0 {
            lo = hi - 5.0;
        } else {
            hi = lo + 5.0;
        }
    }
    (lo, hi)
}

/// The marker of each data set (named in words: the window's font has no geometric glyphs) when several are shown together (in order of first appearance, cycling).
const SHAPES: [MarkerShape; 5] =
    [MarkerShape::Circle, MarkerShape::Diamond, MarkerShape::Square, MarkerShape::Up, MarkerShape::Cross];

fn shape_symbol(shape: MarkerShape) -> &'static str {
    match shape {
        MarkerShape::Circle => "circles",
        MarkerShape::Diamond => "diamonds",
        MarkerShape::Square => "squares",
        MarkerShape::Up => "triangles",
        _ => "crosses",
    }
}

/// A run's data set as the scatter names it.
fn dataset_name(name: &str) -> String {
    if name.trim().is_empty() {
        "unknown data".into()
    } else {
        name.to_string()
    }
}

/// One point: run name, colour, parameters, best test accuracy, data set.
struct Point {
    name: String,
    color: egui::Color32,
    params: usize,
    best: f32,
    dataset: String,
}

/// Draws the scatter of the runs with a best test accuracy (nothing when none has one yet). Runs of several data
/// sets get a "Data set" choice (all of them, each with its own marker, or one) kept in egui's memory: a view
/// filter, not a setting.
pub(crate) fn runs_scatter_ui(ui: &mut Ui, ex: &Experiments) {
    let all: Vec<Point> = ex
        .runs
        .iter()
        .filter_map(|e| {
            let rec = &e.run.record;
            let best = rec.summary.best_test_accuracy?;
            let params = parameter_count(rec.config.model)?;
            Some(Point {
                name: e.name().to_string(),
                color: e.color,
                params,
                best,
                dataset: dataset_name(&rec.dataset),
            })
        })
        .collect();
    if all.is_empty() {
        return;
    }
    let mut datasets: Vec<String> = Vec::new();
    for p in &all {
        if !datasets.contains(&p.dataset) {
            datasets.push(p.dataset.clone());
        }
    }
    let filter_id = egui::Id::unique("runs_scatter_dataset");
    let mut filter: Option<String> = ui.data(|d| d.get_temp(filter_id)).flatten();
    if filter.as_ref().is_some_and(|f| !datasets.contains(f)) {
        filter = None;
    }
    ui.horizontal(|ui| {
        ui.strong("Parameters against best test accuracy")
            .on_hover_text("One point per run with a test accuracy, in its colour; hover a point for its name");
        if datasets.len() > 1 {
            let label = filter.clone().unwrap_or_else(|| "All data sets".into());
            egui::ComboBox::from_label("Data set shown").selected_text(label).show_ui(ui, |ui| {
                ui.selectable_value(&mut filter, None, "All data sets");
                for d in &datasets {
                    ui.selectable_value(&mut filter, Some(d.clone()), d);
                }
            });
        }
    });
    ui.data_mut(|d| d.insert_temp(filter_id, filter.clone()));
    let points: Vec<&Point> = all.iter().filter(|p| filter.as_ref().is_none_or(|f| &p.dataset == f)).collect();
    let shape_of = |dataset: &str| {
        let i = datasets.iter().position(|d| d == dataset).unwrap_or(0);
        if filter.is_some() {
            MarkerShape::Circle
        } else {
            SHAPES[i % SHAPES.len()]
        }
    };
    let mut caption = format!("{} of {} runs", points.len(), all.len());
    if filter.is_none() && datasets.len() > 1 {
        let keys: Vec<String> = datasets.iter().map(|d| format!("{} {d}", shape_symbol(shape_of(d)))).collect();
        caption = format!("{caption}: {}", keys.join(", "));
    }
    ui.weak(caption);
    // Whole decades on the x axis, so that at least two powers of ten are labelled.
    let logs = points.iter().map(|p| (p.params.max(1) as f64).log10());
    let (lo, hi) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_lo, x_hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    let (y_lo, y_hi) = accuracy_range(points.iter().map(|p| p.best as f64 * 100.0));
    Plot::new("runs_params_scatter")
        .height(150.0)
        .x_axis_label("parameters (log)")
        .y_axis_label("best test (%)")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
        .x_axis_formatter(count_label)
        .include_x(x_lo)
        .include_x(x_hi)
        .include_y(y_lo)
        .include_y(y_hi)
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
            for pt in &points {
                let at = [(pt.params.max(1) as f64).log10(), pt.best as f64 * 100.0];
                p.points(
                    Points::new(pt.name.clone(), PlotPoints::from(vec![at]))
                        .color(pt.color)
                        .shape(shape_of(&pt.dataset))
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

    #[test]
    fn the_accuracy_axis_fits_the_runs_shown() {
        assert_eq!(accuracy_range([97.8, 98.09, 98.4]), (95.0, 100.0));
        assert_eq!(accuracy_range([85.0, 89.9]), (80.0, 95.0));
        assert_eq!(accuracy_range([10.0]), (5.0, 15.0));
        assert_eq!(accuracy_range([0.0, 100.0]), (0.0, 100.0));
        assert_eq!(accuracy_range([99.9]), (95.0, 100.0));
        assert_eq!(accuracy_range([0.5]), (0.0, 5.0));
        assert_eq!(accuracy_range(std::iter::empty()), (0.0, 100.0));
        assert_eq!(accuracy_range([f64::NAN]), (0.0, 100.0));
    }
}
