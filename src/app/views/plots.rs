//! The live loss and accuracy plots. Both share (link) the x axis in epochs, so zooming one zooms the other.
//! Long runs stay cheap to draw: the smoothed series are cached until new points arrive, and each line is decimated
//! to the min and max per pixel column of the visible range before egui_plot sees it.

use crate::app::history::{decimate_min_max, moving_average, History};
use crate::app::state::Settings;
use egui::{Color32, Id, Rect, Slider, Ui};
use egui_plot::{Corner, Legend, Line, MarkerShape, Plot, PlotPoints, Points};

pub const LOSS_COLOR: Color32 = Color32::from_rgb(220, 50, 47);
pub const ACC_COLOR: Color32 = Color32::from_rgb(40, 170, 60);
pub const TEST_COLOR: Color32 = Color32::from_rgb(40, 110, 220);

/// Same width on both plots so their x axes line up.
const Y_AXIS_WIDTH: f32 = 60.0;

#[derive(Default)]
struct SmoothCache {
    key: Option<(u64, usize, usize)>,
    loss: Vec<[f64; 2]>,
    accuracy: Vec<[f64; 2]>,
}

#[derive(Default)]
pub struct PlotsView {
    cache: SmoothCache,
    /// Screen rectangle covered by both plots in the last frame (for the on-screen PNG export).
    pub plots_rect: Option<Rect>,
    /// Points handed to egui_plot in the last frame (after decimation), for the debug overlay.
    pub drawn_points: usize,
}

impl PlotsView {
    pub fn ui(&mut self, ui: &mut Ui, history: &History, settings: &mut Settings) {
        ui.horizontal(|ui| {
            ui.label("Smoothing");
            ui.add(Slider::new(&mut settings.smoothing, 1..=500).logarithmic(true).suffix(" batches"))
                .on_hover_text("Moving average over this many batches (1 = raw)");
            ui.checkbox(&mut settings.show_raw, "show raw");
            let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            ui.weak(format!(
                "{}, {} done",
                count(history.len(), "batch", "batches"),
                count(history.test_accuracy.len(), "epoch", "epochs")
            ));
        });

        let window = settings.smoothing.max(1);
        let key = (history.generation(), history.len(), window);
        if self.cache.key != Some(key) {
            self.cache.loss = moving_average(&history.loss, window);
            self.cache.accuracy = moving_average(&history.accuracy, window);
            self.cache.key = Some(key);
        }
        let show_raw = settings.show_raw && window > 1;
        let full = history.x_range();
        let height = ((ui.available_height() - ui.spacing().item_spacing.y) / 2.0).max(120.0);
        let empty = history.is_empty();
        let charts = [
            Chart {
                id: "loss_plot",
                y_label: "loss",
                // An empty plot still shows a sensible loss scale (chance level is ln 10 ≈ 2.3).
                y_max: if empty { 2.5 } else { 0.0 },
                legend: Corner::RightTop,
                name: "loss",
                color: LOSS_COLOR,
                raw: &history.loss,
                smooth: &self.cache.loss,
                test: None,
            },
            Chart {
                id: "accuracy_plot",
                y_label: "accuracy (%)",
                y_max: 100.0,
                legend: Corner::RightBottom,
                name: "train accuracy",
                color: ACC_COLOR,
                raw: &history.accuracy,
                smooth: &self.cache.accuracy,
                test: Some(&history.test_accuracy),
            },
        ];
        let link = Id::unique("training_x");
        let mut drawn = 0;
        let both = ui.vertical(|ui| {
            for chart in charts {
                drawn += chart.show(ui, link, height, full, show_raw, empty);
            }
        });
        // The whole area, axes and labels included (the plots' own rects are only their frames).
        self.plots_rect = Some(both.response.rect);
        self.drawn_points = drawn;
    }
}

/// One of the two stacked plots: a per-batch series (raw faintly behind, smoothed on top), optionally with the
/// per-epoch test accuracy as points. The two differ only in these fields.
struct Chart<'a> {
    id: &'static str,
    y_label: &'static str,
    /// Always shown up to this value (0: follow the data).
    y_max: f64,
    legend: Corner,
    name: &'static str,
    color: Color32,
    raw: &'a [[f64; 2]],
    smooth: &'a [[f64; 2]],
    test: Option<&'a [[f64; 2]]>,
}

impl Chart<'_> {
    /// Draws the plot with its x axis linked to `link`; returns the number of points handed to egui_plot.
    fn show(self, ui: &mut Ui, link: Id, height: f32, full: Option<(f64, f64)>, show_raw: bool, empty: bool) -> usize {
        let mut drawn = 0;
        Plot::new(self.id)
            .height(height)
            .legend(Legend::default().position(self.legend))
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .x_axis_label("epoch")
            .y_axis_label(self.y_label)
            .include_x(0.0)
            .include_x(if empty { 1.0 } else { 0.0 })
            .include_y(0.0)
            .include_y(self.y_max)
            .y_axis_min_width(Y_AXIS_WIDTH)
            .allow_scroll(false)
            .show(ui, |p| {
                let (x0, x1, buckets) = visible(p, full);
                if show_raw {
                    let pts = decimate_min_max(self.raw, x0, x1, buckets);
                    drawn += pts.len();
                    let name = format!("{} (raw)", self.name);
                    p.line(Line::new(name, PlotPoints::from(pts)).color(self.color.gamma_multiply(0.3)));
                }
                let pts = decimate_min_max(self.smooth, x0, x1, buckets);
                drawn += pts.len();
                p.line(Line::new(self.name, PlotPoints::from(pts)).color(self.color).width(2.0));
                if let Some(test) = self.test.filter(|t| !t.is_empty()) {
                    p.points(
                        Points::new("test accuracy (per epoch)", PlotPoints::from(test.to_vec()))
                            .shape(MarkerShape::Circle)
                            .filled(true)
                            .radius(5.0)
                            .color(TEST_COLOR),
                    );
                }
            });
        drawn
    }
}

/// The x range to draw and how many columns it spans. While the plot follows the data (auto bounds) that is all
/// of it, so newly arrived points are never cut off; once the user zooms or pans, only what is visible.
fn visible(p: &egui_plot::PlotUi<'_>, full: Option<(f64, f64)>) -> (f64, f64, usize) {
    let columns = p.response().rect.width().max(1.0) as usize;
    let bounds = p.plot_bounds();
    match full {
        Some((lo, hi)) if p.auto_bounds().x || !bounds.is_valid_x() => (lo, hi, columns),
        _ => (bounds.min()[0], bounds.max()[0], columns),
    }
}
