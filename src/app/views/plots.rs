//! The live loss and accuracy plots. Both share (link) the x axis in epochs, so zooming one zooms the other.
//! Long runs stay cheap to draw: the smoothed series are cached until new points arrive, and each line is decimated
//! to the min and max per pixel column of the visible range before egui_plot sees it.

use crate::app::experiments::{LrMarker, OverlaySeries};
use crate::app::history::{decimate_min_max, moving_average, History};
use crate::app::state::Settings;
use crate::engine::runs::lr_text;
use egui::{Align2, Color32, Id, Rect, Slider, Ui};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoint, PlotPoints, Points, Text, VLine};
use std::collections::HashMap;
use std::sync::Arc;

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

/// What the plots draw besides the current run: ticked stored runs (thin, faded, in their colours, under the
/// current run) and the current run's learning-rate changes.
#[derive(Default, Clone)]
pub struct PlotExtras<'a> {
    /// (name, colour, curves) of each ticked run.
    pub overlays: Vec<(String, Color32, Arc<OverlaySeries>)>,
    pub markers: &'a [LrMarker],
}

/// Height of the learning-rate plot under the other two.
const LR_PLOT_HEIGHT: f32 = 90.0;
const MARKER_COLOR: Color32 = Color32::from_rgb(150, 150, 150);

/// The x range and buckets a decimation was made for, and its points.
type Decimated = ((u64, u64, usize), Arc<Vec<[f64; 2]>>);

/// Smoothed and decimated overlay curves, so a frame with five 30k-point runs only copies what it draws.
#[derive(Default)]
struct OverlayCache {
    /// (curves pointer, window) → smoothed curves.
    smoothed: HashMap<(usize, usize), Arc<OverlaySeries>>,
    /// (curves pointer, window, which curve) → (x0, x1, buckets) and the decimated points.
    decimated: HashMap<(usize, usize, u8), Decimated>,
    /// curves pointer → [x, log10 lr].
    log_lr: HashMap<usize, Arc<Vec<[f64; 2]>>>,
    /// The curves the keys point to, held so their addresses cannot be reused while cached.
    held: HashMap<usize, Arc<OverlaySeries>>,
}

impl OverlayCache {
    fn smoothed(&mut self, series: &Arc<OverlaySeries>, window: usize) -> Arc<OverlaySeries> {
        let key = (Arc::as_ptr(series) as usize, window);
        self.held.entry(key.0).or_insert_with(|| series.clone());
        self.smoothed.entry(key).or_insert_with(|| Arc::new(series.smoothed(window))).clone()
    }

    fn log_lr(&mut self, series: &Arc<OverlaySeries>) -> Arc<Vec<[f64; 2]>> {
        let key = Arc::as_ptr(series) as usize;
        self.log_lr.entry(key).or_insert_with(|| Arc::new(log_lr(series.lr.iter().copied()))).clone()
    }

    fn decimated(
        &mut self,
        key: (usize, usize, u8),
        pts: &[[f64; 2]],
        x0: f64,
        x1: f64,
        buckets: usize,
    ) -> Arc<Vec<[f64; 2]>> {
        let range = (x0.to_bits(), x1.to_bits(), buckets);
        match self.decimated.get(&key) {
            Some((r, v)) if *r == range => v.clone(),
            _ => {
                let v = Arc::new(decimate_min_max(pts, x0, x1, buckets));
                self.decimated.insert(key, (range, v.clone()));
                v
            }
        }
    }

    /// Forgets curves no longer drawn.
    fn retain(&mut self, live: &[usize], window: usize) {
        self.smoothed.retain(|k, _| live.contains(&k.0) && k.1 == window);
        self.decimated.retain(|k, _| live.contains(&k.0) && (k.1 == window || k.2 == 2));
        self.log_lr.retain(|k, _| live.contains(k));
        self.held.retain(|k, _| live.contains(k));
    }
}

#[derive(Default)]
pub struct PlotsView {
    cache: SmoothCache,
    overlay_cache: OverlayCache,
    /// [x, log10 lr] of the current curves, keyed like `cache`.
    lr_cache: (Option<(u64, usize)>, Vec<[f64; 2]>),
    /// Screen rectangle covered by both plots in the last frame (for the on-screen PNG export).
    pub plots_rect: Option<Rect>,
    /// Points handed to egui_plot in the last frame (after decimation), for the debug overlay.
    pub drawn_points: usize,
}

impl PlotsView {
    pub fn ui(&mut self, ui: &mut Ui, history: &History, settings: &mut Settings) {
        self.ui_with(ui, history, settings, &PlotExtras::default());
    }

    /// The plots with overlaid runs and learning-rate markers, and the learning-rate plot under them.
    pub fn ui_with(&mut self, ui: &mut Ui, history: &History, settings: &mut Settings, extras: &PlotExtras<'_>) {
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
        let lr_key = (history.generation(), history.len());
        if self.lr_cache.0 != Some(lr_key) {
            // New batches of the same curves: append; otherwise start over.
            let from = match self.lr_cache.0 {
                Some((g, n)) if g == lr_key.0 && n <= lr_key.1 => n,
                _ => {
                    self.lr_cache.1.clear();
                    0
                }
            };
            let new = history.loss[from..].iter().zip(&history.batches[from..]).map(|(p, b)| [p[0], b.lr]);
            self.lr_cache.1.extend(log_lr(new));
            self.lr_cache.0 = Some(lr_key);
        }
        let live: Vec<usize> = extras.overlays.iter().map(|(_, _, s)| Arc::as_ptr(s) as usize).collect();
        self.overlay_cache.retain(&live, window);
        // Each ticked run: smoothed like the current curves; its lr on a log scale.
        let overlays: Vec<(String, Color32, Arc<OverlaySeries>, Arc<OverlaySeries>)> = extras
            .overlays
            .iter()
            .map(|(name, color, s)| (name.clone(), *color, s.clone(), self.overlay_cache.smoothed(s, window)))
            .collect();
        let mut full = history.x_range();
        for (_, _, s, _) in &overlays {
            if !s.loss.is_empty() {
                let (lo, hi) = full.unwrap_or((0.0, 0.0));
                full = Some((lo.min(0.0), hi.max(s.last_x())));
            }
        }
        let markers = extras.markers;
        let link = Id::unique("training_x");
        let height = ((ui.available_height() - LR_PLOT_HEIGHT - 2.0 * ui.spacing().item_spacing.y) / 2.0).max(120.0);
        let mut drawn = 0;
        let cache = &mut self.overlay_cache;

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
                    for (name, color, raw, smooth) in &overlays {
                        let key = (Arc::as_ptr(raw) as usize, window, 0);
                        let pts = cache.decimated(key, &smooth.loss, x0, x1, overlay_buckets(buckets));
                        drawn += pts.len();
                        p.line(overlay_line(name, *color, &pts));
                    }
                    if show_raw {
                        let pts = decimate_min_max(raw_loss, x0, x1, buckets);
                        drawn += pts.len();
                        p.line(Line::new("loss (raw)", PlotPoints::from(pts)).color(LOSS_COLOR.gamma_multiply(0.3)));
                    }
                    let pts = decimate_min_max(smooth_loss, x0, x1, buckets);
                    drawn += pts.len();
                    p.line(Line::new("loss", PlotPoints::from(pts)).color(LOSS_COLOR).width(2.0));
                    draw_markers(p, markers);
                    draw_hints(p, &history.hints);
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
                    for (name, color, raw, smooth) in &overlays {
                        let key = (Arc::as_ptr(raw) as usize, window, 1);
                        let pts = cache.decimated(key, &smooth.accuracy, x0, x1, overlay_buckets(buckets));
                        drawn += pts.len();
                        p.line(overlay_line(name, *color, &pts));
                        if !smooth.test_accuracy.is_empty() {
                            p.points(
                                Points::new(name.clone(), PlotPoints::from(smooth.test_accuracy.clone()))
                                    .shape(MarkerShape::Diamond)
                                    .filled(true)
                                    .radius(3.5)
                                    .color(color.gamma_multiply(0.7)),
                            );
                        }
                    }
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
                    draw_markers(p, markers);
                    draw_hints(p, &history.hints);
                });

            // The effective learning rate of every batch, log scale, x linked to the plots above.
            let current_lr = &self.lr_cache.1;
            let lr = Plot::new("lr_plot")
                .height(LR_PLOT_HEIGHT)
                .link_axis(link, [true, false])
                .link_cursor(link, [true, false])
                .y_axis_label("lr (log)")
                .y_axis_formatter(|mark, _| lr_text(10f64.powf(mark.value)))
                .label_formatter(|h| {
                    let (egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position }) = h;
                    Some(format!("epoch {:.2}\nlr {}", position.x, lr_text(10f64.powf(position.y))))
                })
                .include_x(0.0)
                .include_x(if empty { 1.0 } else { 0.0 })
                .y_axis_min_width(Y_AXIS_WIDTH)
                .allow_scroll(false)
                .show(ui, |p| {
                    let (x0, x1, buckets) = visible(p, full);
                    for (name, color, raw, _) in &overlays {
                        let key = (Arc::as_ptr(raw) as usize, 0, 2);
                        let log = cache.log_lr(raw);
                        let pts = cache.decimated(key, &log, x0, x1, overlay_buckets(buckets) / 2);
                        drawn += pts.len();
                        p.line(overlay_line(name, *color, &pts));
                    }
                    let pts = decimate_min_max(current_lr, x0, x1, buckets);
                    drawn += pts.len();
                    p.line(Line::new("lr", PlotPoints::from(pts)).color(LR_COLOR).width(1.5));
                    draw_markers(p, markers);
                });
            let _ = (loss, acc, lr);
        });
        // The whole area, axes and labels included (the plots' own rects are only their frames).
        self.plots_rect = Some(both.response.rect);
        self.drawn_points = drawn;
    }
}

/// Overlaid runs are smoothed, thin and faded: a third of the current run's resolution draws them alike, and keeps
/// a frame with five 30k-batch runs cheap.
fn overlay_buckets(buckets: usize) -> usize {
    (buckets / 3).max(100)
}

pub const LR_COLOR: Color32 = Color32::from_rgb(200, 140, 0);

/// [x, lr] → [x, log10 lr] (non-positive rates dropped).
fn log_lr(points: impl Iterator<Item = [f64; 2]>) -> Vec<[f64; 2]> {
    points.filter(|p| p[1] > 0.0).map(|p| [p[0], p[1].log10()]).collect()
}

/// A stored run's curve: thinner and faded, under the current run.
fn overlay_line(name: &str, color: Color32, pts: &[[f64; 2]]) -> Line<'static> {
    Line::new(name.to_string(), PlotPoints::from(pts.to_vec())).color(color.gamma_multiply(0.65)).width(1.0)
}

/// A vertical line and a small label (`lr 0.003 → 0.03`) at each learning-rate change. Unnamed: not in the legend.
fn draw_markers(p: &mut egui_plot::PlotUi<'_>, markers: &[LrMarker]) {
    if markers.is_empty() {
        return;
    }
    let top = p.plot_bounds().max()[1];
    for m in markers {
        p.vline(VLine::new("", m.x).color(MARKER_COLOR).width(1.0).style(egui_plot::LineStyle::dashed_loose()));
        p.text(Text::new("", PlotPoint::new(m.x, top), m.label.clone()).anchor(Align2::LEFT_TOP).color(MARKER_COLOR));
    }
}

/// The coach's hints, as dashed markers where they fired, with legend entries naming the rule.
fn draw_hints(p: &mut egui_plot::PlotUi<'_>, hints: &[crate::app::history::HintEntry]) {
    for h in hints {
        let name = format!("hint: {}", crate::app::views::gradients::rule_title(h));
        let color = crate::app::views::gradients::HINT_COLOR;
        p.vline(VLine::new(name, h.x).color(color).style(egui_plot::LineStyle::dashed_loose()));
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
