//! The live loss and accuracy plots. Both share (link) the x axis in epochs, so zooming one zooms the other.
//! Long runs stay cheap to draw: the smoothed series are cached until new points arrive, and each line is decimated
//! to the min and max per pixel column of the visible range before egui_plot sees it.

use crate::app::history::{decimate_min_max, moving_average, History};
use crate::app::state::Settings;
use egui::{Color32, Id, Rect, Slider, Ui};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoints, Points};

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
        let link = Id::unique("training_x");
        let height = ((ui.available_height() - ui.spacing().item_spacing.y) / 2.0).max(120.0);
        let mut drawn = 0;

        let both = ui.vertical(|ui| {
            let raw_loss = &history.loss;
            let smooth_loss = &self.cache.loss;
            let empty = history.is_empty();
            let loss = Plot::new("loss_plot")
                .height(height)
                .legend(Legend::default())
                .link_axis(link, [true, false])
                .link_cursor(link, [true, false])
                .x_axis_label("epoch")
                .y_axis_label("loss")
                .include_x(0.0)
                .include_x(if empty { 1.0 } else { 0.0 })
                .include_y(0.0)
                .include_y(if empty { 2.5 } else { 0.0 })
                .y_axis_min_width(Y_AXIS_WIDTH)
                .allow_scroll(false)
                .show(ui, |p| {
                    let (x0, x1, buckets) = visible(p, full);
                    if show_raw {
                        let pts = decimate_min_max(raw_loss, x0, x1, buckets);
                        drawn += pts.len();
                        p.line(Line::new("loss (raw)", PlotPoints::from(pts)).color(LOSS_COLOR.gamma_multiply(0.3)));
                    }
                    let pts = decimate_min_max(smooth_loss, x0, x1, buckets);
                    drawn += pts.len();
                    p.line(Line::new("loss", PlotPoints::from(pts)).color(LOSS_COLOR).width(2.0));
                    for h in &history.hints {
                        let name = format!("hint: {}", crate::app::views::gradients::rule_title(h));
                        let color = crate::app::views::gradients::HINT_COLOR;
                        p.vline(
                            egui_plot::VLine::new(name, h.x).color(color).style(egui_plot::LineStyle::dashed_loose()),
                        );
                    }
                });

            let raw_acc = &history.accuracy;
            let smooth_acc = &self.cache.accuracy;
            let test = &history.test_accuracy;
            let acc = Plot::new("accuracy_plot")
                .height(height)
                .legend(Legend::default().position(egui_plot::Corner::RightBottom))
                .link_axis(link, [true, false])
                .link_cursor(link, [true, false])
                .x_axis_label("epoch")
                .y_axis_label("accuracy (%)")
                .include_x(0.0)
                .include_x(if empty { 1.0 } else { 0.0 })
                .include_y(0.0)
                .include_y(100.0)
                .y_axis_min_width(Y_AXIS_WIDTH)
                .allow_scroll(false)
                .show(ui, |p| {
                    let (x0, x1, buckets) = visible(p, full);
                    if show_raw {
                        let pts = decimate_min_max(raw_acc, x0, x1, buckets);
                        drawn += pts.len();
                        p.line(
                            Line::new("train accuracy (raw)", PlotPoints::from(pts))
                                .color(ACC_COLOR.gamma_multiply(0.3)),
                        );
                    }
                    let pts = decimate_min_max(smooth_acc, x0, x1, buckets);
                    drawn += pts.len();
                    p.line(Line::new("train accuracy", PlotPoints::from(pts)).color(ACC_COLOR).width(2.0));
                    if !test.is_empty() {
                        p.points(
                            Points::new("test accuracy (per epoch)", PlotPoints::from(test.clone()))
                                .shape(MarkerShape::Circle)
                                .filled(true)
                                .radius(5.0)
                                .color(TEST_COLOR),
                        );
                    }
                });
            let _ = (loss, acc);
        });
        // The whole area, axes and labels included (the plots' own rects are only their frames).
        self.plots_rect = Some(both.response.rect);
        self.drawn_points = drawn;
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
