//! The live loss and accuracy plots. Both share (link) the x axis in epochs, so zooming one zooms the other.
//! Long runs stay cheap to draw: the smoothed series are cached until new points arrive, and each line is decimated
//! to the min and max per pixel column of the visible range before egui_plot sees it.

use crate::app::history::{decimate_min_max, log_lr, moving_average, History};
use crate::app::runs::experiments::{LrMarker, OverlaySeries};
use crate::app::state::Settings;
use crate::app::training::epoch_axis::{epoch_axis, epoch_ticks};
use crate::app::widgets::legend_row::{Entry, LegendRow, Swatch};
use crate::engine::training::config::lr_text;
use egui::{Color32, Id, Rect, Slider, Ui};
use egui_plot::{Line, MarkerShape, Plot, PlotPoints, Points};
use std::sync::Arc;

pub(crate) const LOSS_COLOR: Color32 = Color32::from_rgb(220, 50, 47);
pub(crate) const ACC_COLOR: Color32 = Color32::from_rgb(40, 170, 60);
pub(crate) const TEST_COLOR: Color32 = Color32::from_rgb(40, 110, 220);

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

mod marks;
mod overlay_cache;
use marks::{
    axis_lr_text, draw_hints, draw_markers, hint_name, label_markers, overlay_buckets, overlay_line, visible,
    MARKER_COLOR,
};
use overlay_cache::OverlayCache;

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
    /// The legend above the plots, and what the user hid in it.
    legend: LegendRow,
}

impl PlotsView {
    pub fn ui(&mut self, ui: &mut Ui, history: &History, settings: &mut Settings) {
        self.ui_with(ui, history, settings, &PlotExtras::default());
    }

    /// The plots with overlaid runs and learning-rate markers, and the learning-rate plot under them.
    pub fn ui_with(&mut self, ui: &mut Ui, history: &History, settings: &mut Settings, extras: &PlotExtras<'_>) {
        ui.horizontal_wrapped(|ui| {
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

        let entries = legend_entries(history, extras);
        self.legend.ui(ui, &entries);

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
        // Each ticked run: (name, colour, as stored, smoothed like the current curves).
        let overlays: Vec<Overlay> = extras
            .overlays
            .iter()
            .filter(|(name, _, _)| self.legend.shown(name))
            .map(|(name, color, s)| Overlay {
                name: name.clone(),
                color: *color,
                smooth: self.overlay_cache.smoothed(s, window),
                raw: s.clone(),
            })
            .collect();
        let mut full = history.x_range();
        for o in &overlays {
            if !o.raw.loss.is_empty() {
                let (lo, hi) = full.unwrap_or((0.0, 0.0));
                full = Some((lo.min(0.0), hi.max(o.raw.last_x())));
            }
        }
        let markers = if self.legend.shown(LR_CHANGE) { extras.markers } else { &[] };
        let hints: Vec<_> = history.hints.iter().filter(|h| self.legend.shown(&hint_name(h))).cloned().collect();
        // The run's planned extent from its first batch, so the axis reads 0..epochs, not 0 alone.
        let extent = settings.train.epochs.max(1) as f64;
        let height = ((ui.available_height() - LR_PLOT_HEIGHT - 2.0 * ui.spacing().item_spacing.y) / 2.0).max(120.0);
        let empty = history.is_empty();
        let charts = [
            Chart {
                id: "loss_plot",
                y_label: "loss",
                // An empty plot still shows a sensible loss scale (chance level is ln 10 ≈ 2.3).
                y_max: if empty { 2.5 } else { 0.0 },
                name: "loss",
                color: LOSS_COLOR,
                raw: &history.loss,
                smooth: &self.cache.loss,
                test: None,
                curve: Curve::Loss,
                shown: true,
            },
            Chart {
                id: "accuracy_plot",
                y_label: "accuracy (%)",
                y_max: 100.0,
                name: "train accuracy",
                color: ACC_COLOR,
                raw: &history.accuracy,
                smooth: &self.cache.accuracy,
                test: if self.legend.shown(TEST_ACCURACY) { Some(&history.test_accuracy) } else { None },
                curve: Curve::Accuracy,
                shown: true,
            },
        ];
        let link = Id::unique("training_x");
        let mut drawn = 0;
        let cache = &mut self.overlay_cache;
        let current_lr = &self.lr_cache.1;
        let both = ui.vertical(|ui| {
            let layers = Layers { overlays: &overlays, markers, hints: &hints, window, extent };
            for chart in charts {
                let chart = Chart { shown: self.legend.shown(chart.name), ..chart };
                drawn += chart.show(ui, link, height, full, show_raw, &layers, cache);
            }
            drawn += lr_plot(ui, link, full, current_lr, &layers, cache);
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
    name: &'static str,
    color: Color32,
    raw: &'a [[f64; 2]],
    smooth: &'a [[f64; 2]],
    test: Option<&'a [[f64; 2]]>,
    /// Which curve of an overlaid run this chart shows.
    curve: Curve,
    /// The current run's curve is drawn (not hidden in the legend).
    shown: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Curve {
    Loss,
    Accuracy,
}

/// A ticked run as drawn: its curves as stored (for the lr) and smoothed (loss, accuracy).
struct Overlay {
    name: String,
    color: Color32,
    raw: Arc<OverlaySeries>,
    smooth: Arc<OverlaySeries>,
}

/// What every chart draws besides the current run.
struct Layers<'a> {
    overlays: &'a [Overlay],
    markers: &'a [LrMarker],
    /// The coach's hints on the current curves.
    hints: &'a [crate::app::history::HintEntry],
    window: usize,
    /// The x axis always spans at least 0..extent (the run's epochs).
    extent: f64,
}

impl Chart<'_> {
    /// Draws the plot with its x axis linked to `link`; returns the number of points handed to egui_plot.
    #[allow(clippy::too_many_arguments)]
    fn show(
        self,
        ui: &mut Ui,
        link: Id,
        height: f32,
        full: Option<(f64, f64)>,
        show_raw: bool,
        layers: &Layers<'_>,
        cache: &mut OverlayCache,
    ) -> usize {
        let mut drawn = 0;
        let shown = Plot::new(self.id)
            .height(height)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .custom_x_axes(vec![epoch_axis()])
            .y_axis_label(self.y_label)
            .include_x(0.0)
            .include_x(layers.extent)
            .include_y(0.0)
            .include_y(self.y_max)
            .y_axis_min_width(Y_AXIS_WIDTH)
            .allow_scroll(false)
            .show(ui, |p| {
                let (x0, x1, buckets) = visible(p, full);
                // Ticked runs first, under the current run.
                for o in layers.overlays {
                    let (pts, kind) = match self.curve {
                        Curve::Loss => (&o.smooth.loss, 0),
                        Curve::Accuracy => (&o.smooth.accuracy, 1),
                    };
                    let key = (Arc::as_ptr(&o.raw) as usize, layers.window, kind);
                    let pts = cache.decimated(key, pts, x0, x1, overlay_buckets(buckets));
                    drawn += pts.len();
                    p.line(overlay_line(&o.name, o.color, &pts));
                    if self.curve == Curve::Accuracy && !o.smooth.test_accuracy.is_empty() {
                        // Unnamed: the run's line carries its legend entry.
                        p.points(
                            Points::new("", PlotPoints::from(o.smooth.test_accuracy.clone()))
                                .shape(MarkerShape::Diamond)
                                .filled(true)
                                .radius(3.5)
                                .color(o.color.gamma_multiply(0.7)),
                        );
                    }
                }
                if show_raw && self.shown {
                    let pts = decimate_min_max(self.raw, x0, x1, buckets);
                    drawn += pts.len();
                    let name = format!("{} (raw)", self.name);
                    p.line(Line::new(name, PlotPoints::from(pts)).color(self.color.gamma_multiply(0.3)));
                }
                if self.shown {
                    let pts = decimate_min_max(self.smooth, x0, x1, buckets);
                    drawn += pts.len();
                    p.line(Line::new(self.name, PlotPoints::from(pts)).color(self.color).width(2.0));
                }
                if let Some(test) = self.test.filter(|t| !t.is_empty()) {
                    p.points(
                        Points::new(TEST_ACCURACY, PlotPoints::from(test.to_vec()))
                            .shape(MarkerShape::Circle)
                            .filled(true)
                            .radius(5.0)
                            .color(TEST_COLOR),
                    );
                }
                draw_markers(p, layers.markers);
                draw_hints(p, layers.hints);
            });
        label_markers(ui, &shown.transform, layers.markers);
        drawn
    }
}

/// The effective learning rate of every batch, log scale, x linked to the plots above.
fn lr_plot(
    ui: &mut Ui,
    link: Id,
    full: Option<(f64, f64)>,
    current: &[[f64; 2]],
    layers: &Layers<'_>,
    cache: &mut OverlayCache,
) -> usize {
    let mut drawn = 0;
    // Whole decades around every rate shown, so the log axis always has labelled powers of ten.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in current {
        lo = lo.min(p[1]);
        hi = hi.max(p[1]);
    }
    for o in layers.overlays {
        for p in o.raw.lr.iter().step_by((o.raw.lr.len() / 200).max(1)) {
            let v = p[1].max(1e-12).log10();
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let (y_lo, y_hi) = if lo.is_finite() { (lo.floor(), hi.ceil().max(lo.floor() + 1.0)) } else { (-3.0, 0.0) };
    let shown = Plot::new("lr_plot")
        .height(LR_PLOT_HEIGHT)
        .include_y(y_lo)
        .include_y(y_hi)
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .y_axis_label("lr (log)")
        .custom_x_axes(vec![epoch_ticks()])
        .y_axis_formatter(|mark, _| axis_lr_text(mark.value))
        .label_formatter(|h| {
            let (egui_plot::HoverPosition::NearDataPoint { position, .. }
            | egui_plot::HoverPosition::Elsewhere { position }) = h;
            Some(format!("epoch {:.2}\nlr {}", position.x, lr_text(10f64.powf(position.y))))
        })
        .include_x(0.0)
        .include_x(layers.extent)
        .y_axis_min_width(Y_AXIS_WIDTH)
        .allow_scroll(false)
        .show(ui, |p| {
            let (x0, x1, buckets) = visible(p, full);
            for o in layers.overlays {
                let key = (Arc::as_ptr(&o.raw) as usize, 0, 2);
                let log = cache.log_lr(&o.raw);
                let pts = cache.decimated(key, &log, x0, x1, overlay_buckets(buckets) / 2);
                drawn += pts.len();
                p.line(overlay_line(&o.name, o.color, &pts));
            }
            let pts = decimate_min_max(current, x0, x1, buckets);
            drawn += pts.len();
            p.line(Line::new("lr", PlotPoints::from(pts)).color(LR_COLOR).width(1.5));
            draw_markers(p, layers.markers);
        });
    label_markers(ui, &shown.transform, layers.markers);
    drawn
}

pub(crate) const LR_COLOR: Color32 = Color32::from_rgb(240, 200, 0);

const TEST_ACCURACY: &str = "test accuracy (per epoch)";
const LR_CHANGE: &str = "lr change";

/// What the legend above the plots names: the current run's curves first, then what is drawn with them.
fn legend_entries(history: &History, extras: &PlotExtras<'_>) -> Vec<Entry> {
    let mut entries =
        vec![Entry::new("loss", LOSS_COLOR, Swatch::Line), Entry::new("train accuracy", ACC_COLOR, Swatch::Line)];
    if !history.test_accuracy.is_empty() {
        entries.push(Entry::new(TEST_ACCURACY, TEST_COLOR, Swatch::Dot));
    }
    if !extras.markers.is_empty() {
        entries.push(Entry::new(LR_CHANGE, MARKER_COLOR, Swatch::Marker));
    }
    for h in &history.hints {
        let name = hint_name(h);
        if !entries.iter().any(|e| e.name == name) {
            entries.push(Entry::new(name, crate::app::training::gradients::HINT_COLOR, Swatch::Marker));
        }
    }
    for (name, color, _) in &extras.overlays {
        entries.push(Entry::new(name.clone(), *color, Swatch::Line));
    }
    entries
}
