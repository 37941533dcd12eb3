//! The "Gradient flow" tab: why a run learns or stalls, while it happens. Three plots over the trainer's diagnostics
//! (engine::insight::diagnostics), x in epochs and linked to the loss plot: each layer's gradient norm (log axis), the
//! relative size of each step (‖Δw‖/‖w‖, log axis), and how much of each activation stage is saturated (0–100 %).
//! Hovering a plot says in one sentence what it shows now; the coach's hints are marked as vertical lines.

use crate::app::history::{HintEntry, History};
use crate::app::training::epoch_axis::epoch_axis;
use crate::app::widgets::legend_row::{Entry, LegendRow, Swatch};
use crate::engine::insight::diagnostics::Diagnostics;
use crate::engine::model::config::{Activation, ModelConfig};
use crate::engine::model::stages;
use egui::{Color32, Id, RichText, Ui};
use egui_plot::{GridMark, HoverPosition, Line, LineStyle, Plot, PlotPoints, VLine};
use std::ops::RangeInclusive;

/// Layer colours, in the order of `stages::weighted_layers()` (c1, c3, f5, f6, out); an activation stage takes its
/// layer's colour (c1.act like c1).
const LAYER_COLORS: [Color32; 7] = [
    Color32::from_rgb(230, 97, 1),
    Color32::from_rgb(200, 160, 0),
    Color32::from_rgb(40, 160, 80),
    Color32::from_rgb(40, 110, 220),
    Color32::from_rgb(150, 70, 190),
    Color32::from_rgb(0, 160, 170),
    Color32::from_rgb(140, 100, 60),
];
/// The coach's colour: no curve, stage or stored run uses it (pink, drawn dotted).
pub(crate) const HINT_COLOR: Color32 = Color32::from_rgb(255, 90, 200);

/// The layer a series belongs to: "c1" for "c1" and "c1.act".
fn layer_of(key: &str) -> &str {
    key.split('.').next().unwrap_or(key)
}

fn color_of(layers: &[&str], key: &str) -> Color32 {
    let layer = layer_of(key);
    let index = layers.iter().position(|l| *l == layer);
    index.and_then(|i| LAYER_COLORS.get(i).copied()).unwrap_or(Color32::GRAY)
}

/// One named series per layer or stage: [x, value] with value log10 for the log plots.
type Series = Vec<(String, Vec<[f64; 2]>)>;

#[derive(Default)]
struct Cache {
    key: Option<(u64, usize)>,
    grad: Series,
    update: Series,
    saturation: Series,
}

fn series(
    diagnostics: &[(f64, Diagnostics)],
    pick: impl Fn(&Diagnostics) -> &std::collections::BTreeMap<String, f32>,
    f: impl Fn(f32) -> Option<f64>,
) -> Series {
    let mut keys: Vec<String> = Vec::new();
    for (_, d) in diagnostics.iter().rev().take(1) {
        keys.extend(pick(d).keys().cloned());
    }
    keys.into_iter()
        .map(|k| {
            let pts = diagnostics.iter().filter_map(|(x, d)| Some([*x, f(*pick(d).get(&k)?)?])).collect();
            (k, pts)
        })
        .collect()
}

fn log10(v: f32) -> Option<f64> {
    (v.is_finite() && v > 0.0).then(|| (v as f64).log10())
}

#[derive(Default)]
pub(crate) struct GradientsView {
    cache: Cache,
    /// The legend above the three plots (one for all: they share the layers' colours), and what is hidden in it.
    legend: LegendRow,
}

impl GradientsView {
    /// `model`: of the run the diagnostics come from (its layers; what "saturated" means).
    pub fn ui(&mut self, ui: &mut Ui, history: &History, model: ModelConfig) {
        // try_stages: the side panel's network may not fit (then there is no run and nothing to plot).
        let layers: Vec<&str> = stages::try_stages(model)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.kind.num_params() > 0)
            .map(|s| s.key)
            .collect();
        let activation = model.activation;
        let diagnostics = &history.diagnostics;
        let key = (history.generation(), diagnostics.len());
        if self.cache.key != Some(key) {
            self.cache.grad = series(diagnostics, |d| &d.grad_norm, log10);
            self.cache.update = series(diagnostics, |d| &d.update_ratio, log10);
            self.cache.saturation = series(diagnostics, |d| &d.saturation, |v| Some(v as f64 * 100.0));
            self.cache.key = Some(key);
        }
        let Some((_, latest)) = diagnostics.last() else {
            ui.label(
                "No measurements yet. While a run trains, the trainer measures every few batches how large each \
                 layer's gradient is, how much each step changes its weights, and how many activations are \
                 saturated — the reasons a run learns or stalls.",
            );
            return;
        };
        ui.label(
            RichText::new(format!(
                "{} measurements, every few batches (the trainer keeps them under 5 % of training time).",
                diagnostics.len()
            ))
            .weak(),
        );
        let mut entries: Vec<Entry> =
            layers.iter().map(|layer| Entry::new(*layer, color_of(&layers, layer), Swatch::Line)).collect();
        for h in &history.hints {
            let name = hint_name(h);
            if !entries.iter().any(|e| e.name == name) {
                entries.push(Entry::new(name, HINT_COLOR, Swatch::Marker));
            }
        }
        self.legend.ui(ui, &entries);
        let link = Id::unique("training_x");
        let height = ((ui.available_height() - 4.0 * 24.0) / 3.0).max(110.0);
        let hints: Vec<HintEntry> =
            history.hints.iter().filter(|h| self.legend.shown(&hint_name(h))).cloned().collect();
        let hints = &hints;
        let legend = &self.legend;

        let grad_sentence = gradient_sentence(latest, &layers);
        ui.label(RichText::new("Gradient norm per layer (log scale)").strong()).on_hover_text(&grad_sentence);
        let r = log_plot("gradient_plot", "|grad w|", height, link)
            .show(ui, |p| draw(p, &layers, &self.cache.grad, hints, legend))
            .response;
        r.on_hover_text(grad_sentence);

        let update_sentence = update_sentence(latest);
        ui.label(RichText::new("Update size per step, |Δw| / |w| (log scale)").strong())
            .on_hover_text(&update_sentence);
        let r = log_plot("update_plot", "|Δw| / |w|", height, link)
            .show(ui, |p| draw(p, &layers, &self.cache.update, hints, legend))
            .response;
        r.on_hover_text(update_sentence);

        let sat_sentence = saturation_sentence(latest, activation);
        let what = match activation {
            Activation::Sigmoid => "outputs below 0.053 or above 0.947",
            Activation::Relu => "outputs exactly 0",
        };
        ui.label(RichText::new(format!("Saturation per activation stage ({what})")).strong())
            .on_hover_text(&sat_sentence);
        let r = Plot::new("saturation_plot")
            .height(height)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .custom_x_axes(vec![epoch_axis()])
            .y_axis_label("saturated (%)")
            .include_y(0.0)
            .include_y(100.0)
            .y_axis_min_width(60.0)
            .allow_scroll(false)
            .label_formatter(|pos| match pos {
                HoverPosition::NearDataPoint { plot_name, position, .. } => {
                    Some(format!("{plot_name}\nepoch {:.2}\n{:.1} % saturated", position.x, position.y))
                }
                _ => None,
            })
            .show(ui, |p| draw(p, &layers, &self.cache.saturation, hints, legend))
            .response;
        r.on_hover_text(sat_sentence);
    }
}

fn log_plot<'a>(id: &'a str, y_label: &'a str, height: f32, link: Id) -> Plot<'a> {
    Plot::new(id)
        .height(height)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .custom_x_axes(vec![epoch_axis()])
        .y_axis_label(y_label)
        .y_axis_min_width(60.0)
        .y_axis_formatter(power_of_ten_label)
        .allow_scroll(false)
        .label_formatter(|pos| match pos {
            HoverPosition::NearDataPoint { plot_name, position, .. } => {
                Some(format!("{plot_name}\nepoch {:.2}\n{:.2e}", position.x, 10f64.powf(position.y)))
            }
            _ => None,
        })
}

/// Axis labels of a log10 axis: 1e-3 at -3, nothing between powers of ten.
fn power_of_ten_label(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    let v = mark.value;
    if (v - v.round()).abs() > 1e-6 {
        return String::new();
    }
    match v.round() as i32 {
        0 => "1".into(),
        1 => "10".into(),
        e => format!("1e{e}"),
    }
}

fn draw(p: &mut egui_plot::PlotUi<'_>, layers: &[&str], series: &Series, hints: &[HintEntry], legend: &LegendRow) {
    for (name, pts) in series.iter().filter(|(name, _)| legend.shown(layer_of(name))) {
        p.line(Line::new(name.clone(), PlotPoints::from(pts.clone())).color(color_of(layers, name)).width(2.0));
    }
    for h in hints {
        p.vline(VLine::new(hint_name(h), h.x).color(HINT_COLOR).style(LineStyle::dotted_dense()).width(2.0));
    }
}

fn hint_name(h: &HintEntry) -> String {
    format!("hint: {}", rule_title(h))
}

/// A hint's rule in words, for markers and the banner.
pub(crate) fn rule_title(h: &HintEntry) -> &'static str {
    use crate::engine::training::events::HintRule::*;
    match h.hint.rule {
        StuckAtChance => "stuck at chance",
        Diverging => "diverging",
        LrTooLow => "learning rate too low",
        Overfitting => "overfitting",
        DeadRelu => "dead ReLUs",
    }
}

fn fmt_times(r: f32) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// What the gradient plot shows now, in one sentence.
pub(crate) fn gradient_sentence(d: &Diagnostics, layers: &[&str]) -> String {
    // The first and the last layer with weights (c1 and out).
    let (Some(&first), Some(&last)) = (layers.first(), layers.last()) else {
        return "Each layer's gradient norm: how strongly the loss pulls on its weights.".into();
    };
    let (Some(c1), Some(out)) = (d.grad_norm.get(first), d.grad_norm.get(last)) else {
        return "Each layer's gradient norm: how strongly the loss pulls on its weights.".into();
    };
    if !(c1.is_finite() && out.is_finite()) || *out <= 0.0 {
        return "The gradients are not finite: the run is diverging.".into();
    }
    let ratio = out / c1.max(1e-30);
    if ratio >= 30.0 {
        format!(
            "{first}'s gradient is {} smaller than {last}'s: the first layers barely learn — vanishing gradients.",
            fmt_times(ratio)
        )
    } else if ratio >= 1.0 {
        format!(
            "{first}'s gradient is {} smaller than {last}'s: the signal reaches the first layers, so every layer \
             learns.",
            fmt_times(ratio)
        )
    } else {
        format!(
            "{first}'s gradient is {} larger than {last}'s: the first layers get a strong signal (watch for \
             instability).",
            fmt_times(1.0 / ratio.max(1e-30))
        )
    }
}

/// What the update-ratio plot shows now, in one sentence.
pub(crate) fn update_sentence(d: &Diagnostics) -> String {
    let Some((lo_k, lo)) = d.update_ratio.iter().min_by(|a, b| a.1.total_cmp(b.1)) else {
        return "How much each step changes each layer's weights, relative to their size.".into();
    };
    let Some((hi_k, hi)) = d.update_ratio.iter().max_by(|a, b| a.1.total_cmp(b.1)) else { unreachable!() };
    let verdict = if *hi > 1e-1 {
        "steps that large can overshoot (a healthy size is about 1e-3)"
    } else if *hi < 1e-5 {
        "every layer barely moves: the learning rate is too low (a healthy size is about 1e-3)"
    } else if *lo < 1e-5 {
        "the slowest layer barely moves (a healthy size is about 1e-3)"
    } else {
        "around 1e-3 is a healthy size"
    };
    format!("Each step changes {hi_k}'s weights by {hi:.0e} of their size and {lo_k}'s by {lo:.0e}: {verdict}.")
}

/// What the saturation plot shows now, in one sentence.
pub(crate) fn saturation_sentence(d: &Diagnostics, activation: Activation) -> String {
    let Some((k, s)) = d.saturation.iter().max_by(|a, b| a.1.total_cmp(b.1)) else {
        return "How many of each stage's outputs sit where the activation is flat.".into();
    };
    let pct = s * 100.0;
    match activation {
        Activation::Sigmoid if *s > 0.5 => format!(
            "{pct:.0} % of {k}'s sigmoid outputs sit near 0 or 1, where the slope is flat: little gradient gets \
             through — saturation."
        ),
        Activation::Sigmoid => format!(
            "At most {pct:.0} % of a stage's sigmoid outputs ({k}) are saturated: the sigmoids work in their \
             sloped range, so gradients pass."
        ),
        Activation::Relu => {
            let dead = d.dead_units.iter().max_by(|a, b| a.1.total_cmp(b.1));
            let dead = dead.map_or(String::new(), |(dk, f)| {
                format!("; {:.0} % of {dk}'s units are 0 for every image (dead)", f * 100.0)
            });
            format!("{pct:.0} % of {k}'s ReLU outputs are 0 (normal is about half){dead}.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(c1: f32, out: f32) -> Diagnostics {
        let mut d = Diagnostics::default();
        d.grad_norm.insert("c1".into(), c1);
        d.grad_norm.insert("out".into(), out);
        d.update_ratio.insert("c1".into(), 1e-6);
        d.update_ratio.insert("out".into(), 2e-2);
        d.saturation.insert("f5.act".into(), 0.85);
        d.saturation.insert("c1.act".into(), 0.1);
        d
    }

    #[test]
    fn sentences_name_the_cause() {
        let s = gradient_sentence(&diag(0.002, 0.6), &stages::weighted_layers(ModelConfig::default()));
        assert_eq!(s, "c1's gradient is 300× smaller than out's: the first layers barely learn — vanishing gradients.");
        assert!(gradient_sentence(&diag(0.2, 0.6), &stages::weighted_layers(ModelConfig::default()))
            .contains("every layer learns"));
        assert!(update_sentence(&diag(0.1, 0.1)).starts_with("Each step changes out's weights by 2e-2 of their size"));
        assert!(saturation_sentence(&diag(0.1, 0.1), Activation::Sigmoid).starts_with("85 % of f5.act's sigmoid"));
    }

    #[test]
    fn log_axis_labels_powers_of_ten_only() {
        let mark = |value| GridMark { value, step_size: 1.0 };
        assert_eq!(power_of_ten_label(mark(-3.0), &(0.0..=1.0)), "1e-3");
        assert_eq!(power_of_ten_label(mark(0.0), &(0.0..=1.0)), "1");
        assert_eq!(power_of_ten_label(mark(-2.5), &(0.0..=1.0)), "");
    }

    #[test]
    fn series_follow_the_stages_with_x_and_log_values() {
        let d = vec![(0.5, diag(0.001, 0.1)), (1.0, diag(0.01, 1.0))];
        let s = series(&d, |d| &d.grad_norm, log10);
        assert_eq!(s[0].0, "c1");
        assert!(s[0]
            .1
            .iter()
            .zip([[0.5, -3.0], [1.0, -2.0]])
            .all(|(a, b)| (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-6));
        let layers = stages::weighted_layers(ModelConfig::default());
        assert_eq!(color_of(&layers, "c1.act"), color_of(&layers, "c1"));
    }
}
