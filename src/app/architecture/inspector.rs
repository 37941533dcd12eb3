//! The layer inspector: the network's stage table (shapes, size arithmetic, parameters, FLOPs; shared with the
//! Architecture tab), and for the selected stage its activations for the digit on the canvas (or a test image),
//! plus the first convolution's filters. Stage names come from the table, so any architecture works; a network
//! without convolutions says it has no feature maps or filters.
//!
//! The trace is recomputed only when the weights (`weights_version`), the input or the architecture change; textures
//! are cached and re-uploaded only when their data changes.

use crate::app::architecture::stage_table::{table_ui, StageTable, TableStyle};
use crate::app::architecture::view::arch_name;
use crate::app::widgets::texture::upload;
use crate::engine::data::set::IMAGE_PIXELS;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::predict::{Predictor, StageActivation};
use crate::engine::model::stages::{self, StageKind};
use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions, Vec2};

/// Where the traced input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Canvas,
    TestImage,
}

struct Trace {
    weights_version: u64,
    config: ModelConfig,
    source: Source,
    input: Box<[f32; IMAGE_PIXELS]>,
    result: Result<Vec<StageActivation>, String>,
    /// Bumped on every recomputation, so textures know when they are stale.
    generation: u64,
}

/// Textures for the selected stage: one per feature map (or one strip for a vector).
struct StageTextures {
    key: &'static str,
    generation: u64,
    textures: Vec<TextureHandle>,
}

/// What the inspector's saturation column means.
const SATURATION_HELP: &str = "Share of this stage's outputs that are saturated at the latest training measurement: \
    for sigmoid below 0.053 or above 0.947 (slope under 0.05, little gradient passes), for ReLU exactly 0. See the \
    Gradient flow tab.";

#[derive(Default)]
pub struct InspectorView {
    table: Option<StageTable>,
    /// The selected stage's key; None selects the first stage.
    selected: Option<&'static str>,
    trace: Option<Trace>,
    generations: u64,
    stage_textures: Option<StageTextures>,
    /// The first conv layer's filters and the weights version they show.
    filter_textures: Option<(u64, Vec<TextureHandle>)>,
    filter_range: f32,
    /// The latest training measurement of each activation stage's saturation (0..1), shown beside its row.
    pub saturation: std::collections::BTreeMap<String, f32>,
    /// Set when the network the next run trains differs from the one shown (trained weights): a note says so.
    pub next_run_differs: bool,
}

impl InspectorView {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        config: ModelConfig,
        predictor: Option<&Predictor>,
        input: Option<&[f32; 784]>,
        fallback_test_image: Option<&[f32; 784]>,
        weights_version: u64,
    ) {
        if self.table.as_ref().is_none_or(|t| t.config != config) {
            self.table = Some(StageTable::new(config));
            if self.selected.is_some_and(|k| !self.rows().iter().any(|r| r.key == k)) {
                self.selected = None;
            }
        }
        ui.heading(format!("{}, stage by stage", arch_name(&config.arch)));
        ui.label("Output shapes for one 1×1×28×28 input. Click a stage to see its activations.");
        if self.next_run_differs {
            ui.weak("These are the trained weights' stages; the Architecture tab's network differs (Train starts it from new weights).");
        }
        self.table_ui(ui);
        ui.separator();

        let Some(predictor) = predictor else {
            ui.label("No weights yet: start training (or load a weights file) to see activations and filters.");
            return;
        };
        ui.columns(2, |cols| {
            self.activations_ui(&mut cols[0], config, predictor, input, fallback_test_image, weights_version);
            self.filters_ui(&mut cols[1], predictor, weights_version);
        });
    }

    /// The selected stage key (the first stage if none was chosen).
    pub fn selected_stage(&self) -> Option<&'static str> {
        self.selected.or_else(|| self.rows().iter().find(|r| r.shape.is_some()).map(|r| r.key))
    }

    fn rows(&self) -> &[crate::app::architecture::stage_table::Row] {
        self.table.as_ref().map_or(&[], |t| t.rows.as_slice())
    }

    fn table_ui(&mut self, ui: &mut egui::Ui) {
        let Some(table) = &self.table else { return };
        let selected = self.selected_stage();
        let style = TableStyle {
            id: "inspector-stage-table",
            selected,
            selectable: true,
            saturation: Some((&self.saturation, SATURATION_HELP)),
            error_below: true,
        };
        if let Some(key) = table_ui(ui, table, &style) {
            self.selected = Some(key);
        }
        if let Some(row) = table.rows.iter().find(|r| Some(r.key) == selected) {
            ui.label(format!("{} ({}): {}", row.key, row.layer, row.computes));
        }
    }

    fn refresh_trace(
        &mut self,
        config: ModelConfig,
        predictor: &Predictor,
        input: Option<&[f32; 784]>,
        fallback: Option<&[f32; 784]>,
        weights_version: u64,
    ) {
        let (source, image) = match (input, fallback) {
            (Some(i), _) => (Source::Canvas, i),
            (None, Some(f)) => (Source::TestImage, f),
            (None, None) => {
                self.trace = None;
                return;
            }
        };
        let fresh = self.trace.as_ref().is_some_and(|t| {
            t.weights_version == weights_version && t.config == config && t.source == source && *t.input == *image
        });
        if fresh {
            return;
        }
        self.generations = self.generations.wrapping_add(1);
        self.trace = Some(Trace {
            weights_version,
            config,
            source,
            input: Box::new(*image),
            result: predictor.trace(image).map_err(|e| e.to_string()),
            generation: self.generations,
        });
    }

    fn activations_ui(
        &mut self,
        ui: &mut egui::Ui,
        config: ModelConfig,
        predictor: &Predictor,
        input: Option<&[f32; 784]>,
        fallback: Option<&[f32; 784]>,
        weights_version: u64,
    ) {
        self.refresh_trace(config, predictor, input, fallback, weights_version);
        let Some(key) = self.selected_stage() else { return };
        ui.label(RichText::new(format!("Activations of {key}")).strong());
        let Some(trace) = &self.trace else {
            ui.label("Draw a digit on the canvas (or load the test set) to see this stage's activations.");
            return;
        };
        ui.weak(match trace.source {
            Source::Canvas => "for the digit on the canvas",
            Source::TestImage => "for a test image (the canvas is empty)",
        });
        let traced = match &trace.result {
            Ok(s) => s,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Tracing failed: {e}"));
                return;
            }
        };
        let Some(stage) = traced.iter().find(|s| s.key == key) else {
            ui.label(format!("stage {key} is not in this model"));
            return;
        };
        let generation = trace.generation;
        let stale = self.stage_textures.as_ref().is_none_or(|t| t.key != key || t.generation != generation);
        if stale {
            let images = stage_images(stage);
            let reuse = self.stage_textures.take().map(|t| t.textures).unwrap_or_default();
            let textures = upload(ui.ctx(), "inspector-stage", reuse, images, TextureOptions::NEAREST);
            self.stage_textures = Some(StageTextures { key, generation, textures });
        }
        let textures = self.stage_textures.as_ref().map(|t| t.textures.as_slice()).unwrap_or_default();
        match stage.shape.as_slice() {
            [_, c, h, w] => {
                ui.label(format!("{c} feature maps {h}×{w}"));
                ui.weak("each map scaled to its own min (black) … max (white)");
                // Many small maps (c3, s4) are drawn smaller so that all of them fit on screen.
                let target = if *c > 6 { 50.0 } else { 84.0 };
                let scale = (target / *h.max(&1) as f32).floor().max(1.0);
                let size = Vec2::new(*w as f32 * scale, *h as f32 * scale);
                let per_row = ((ui.available_width() / (size.x + 8.0)).floor() as usize).clamp(1, 8);
                egui::Grid::new("inspector-maps").spacing([6.0, 6.0]).show(ui, |ui| {
                    for (i, tex) in textures.iter().enumerate() {
                        let range = value_range(map_values(stage, i));
                        ui.vertical(|ui| {
                            ui.add(egui::Image::new((tex.id(), size))).on_hover_text(format!(
                                "map {} of {key}: min {:.3}, max {:.3}",
                                i + 1,
                                range.0,
                                range.1
                            ));
                            ui.small(format!("map {}", i + 1));
                        });
                        if (i + 1).is_multiple_of(per_row) {
                            ui.end_row();
                        }
                    }
                });
            }
            [_, n] => {
                let (lo, hi) = value_range(&stage.values);
                ui.label(format!("vector of {n} values"));
                ui.weak(format!("min {lo:.3} (black) … max {hi:.3} (white), {VECTOR_COLUMNS} per row"));
                let is_output = traced.last().is_some_and(|last| last.key == stage.key);
                if is_output || *n <= 10 {
                    logit_bars(ui, predictor, &stage.values);
                }
                if let Some(tex) = textures.first() {
                    let [tw, th] = tex.size();
                    let scale = (ui.available_width() / tw as f32).clamp(4.0, 12.0);
                    ui.add(egui::Image::new((tex.id(), Vec2::new(tw as f32 * scale, th as f32 * scale))));
                }
            }
            other => {
                ui.label(format!("output shape {other:?}"));
            }
        }
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui, predictor: &Predictor, weights_version: u64) {
        // The first convolution's filters, shaped as the stage description says.
        let first_conv =
            stages::try_stages(predictor.weights().config).unwrap_or_default().into_iter().find_map(|s| match s.kind {
                StageKind::Conv { in_channels, out_channels, kernel, .. } => {
                    Some((s.key, in_channels, out_channels, kernel))
                }
                _ => None,
            });
        let Some((key, in_channels, out_channels, kernel)) = first_conv else {
            ui.label(RichText::new("No convolution").strong());
            ui.label("This network has no conv blocks, so no feature maps and no filters: every stage is a vector.");
            return;
        };
        ui.label(
            RichText::new(format!("First convolution ({key}): {out_channels} filters, {kernel}×{kernel}")).strong(),
        );
        let Some((param, _)) = predictor.weights().layer(key) else {
            ui.label(format!("these weights have no {key}.weight"));
            return;
        };
        let expected = [out_channels, in_channels, kernel, kernel];
        if param.shape != expected || param.data.len() != expected.iter().product::<usize>() {
            ui.label(format!("{key}.weight has shape {:?}, expected {expected:?}", param.shape));
            return;
        }
        let stale = self.filter_textures.as_ref().is_none_or(|(v, _)| *v != weights_version);
        if stale {
            let range = param.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
            // One image per filter: its first input channel (c1 has one).
            let images: Vec<ColorImage> = param
                .data
                .chunks(in_channels * kernel * kernel)
                .map(|f| {
                    ColorImage::new(
                        [kernel, kernel],
                        f[..kernel * kernel].iter().map(|&v| diverging(v / range)).collect(),
                    )
                })
                .collect();
            let reuse = self.filter_textures.take().map(|(_, t)| t).unwrap_or_default();
            self.filter_textures =
                Some((weights_version, upload(ui.ctx(), "inspector-filter", reuse, images, TextureOptions::NEAREST)));
            self.filter_range = range;
        }
        ui.weak(format!("blue negative, white 0, red positive (±{:.3})", self.filter_range));
        let Some((_, textures)) = &self.filter_textures else { return };
        // LeNet-5's six filters large, three a row; a wide layer's many filters smaller, so all of them fit.
        let (side, per_row) = if textures.len() > 6 { (32.0, 8) } else { (60.0, 3) };
        egui::Grid::new("inspector-filters").spacing([6.0, 6.0]).show(ui, |ui| {
            for (i, tex) in textures.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.add(egui::Image::new((tex.id(), Vec2::splat(side))));
                    ui.small(format!("filter {}", i + 1));
                });
                if i % per_row == per_row - 1 {
                    ui.end_row();
                }
            }
        });
    }
}

/// Values per row when a vector is shown as a strip.
const VECTOR_COLUMNS: usize = 20;

/// The values of feature map `i` of a [1, C, H, W] activation.
fn map_values(stage: &StageActivation, i: usize) -> &[f32] {
    match stage.shape.as_slice() {
        [_, _, h, w] => stage.values.get(i * h * w..(i + 1) * h * w).unwrap_or(&[]),
        _ => &[],
    }
}

fn value_range(v: &[f32]) -> (f32, f32) {
    v.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

/// Greyscale, min → black, max → white (a constant map is mid-grey).
fn normalise(v: &[f32]) -> Vec<u8> {
    let (lo, hi) = value_range(v);
    v.iter().map(|&x| if hi - lo > 1e-12 { (((x - lo) / (hi - lo)) * 255.0).round() as u8 } else { 128 }).collect()
}

/// The images to show for one stage: a greyscale image per feature map, or one strip for a vector.
fn stage_images(stage: &StageActivation) -> Vec<ColorImage> {
    match stage.shape.as_slice() {
        [_, c, h, w] => (0..*c)
            .map(|i| {
                let v = map_values(stage, i);
                if v.len() == h * w {
                    ColorImage::from_gray([*w, *h], &normalise(v))
                } else {
                    ColorImage::filled([*w, *h], Color32::RED)
                }
            })
            .collect(),
        [_, n] if *n > 0 => {
            let cols = (*n).min(VECTOR_COLUMNS);
            let rows = n.div_ceil(cols);
            let mut gray = normalise(&stage.values);
            let mut px: Vec<Color32> = gray.drain(..).map(Color32::from_gray).collect();
            px.resize(cols * rows, Color32::from_rgb(60, 20, 20));
            vec![ColorImage::new([cols, rows], px)]
        }
        _ => Vec::new(),
    }
}

/// Blue (−1) – white (0) – red (+1).
pub(crate) fn diverging(x: f32) -> Color32 {
    let t = x.clamp(-1.0, 1.0);
    let fade = |c: f32| (255.0 * (1.0 - t.abs() * (1.0 - c))).round() as u8;
    if t >= 0.0 {
        Color32::from_rgb(fade(0.85), fade(0.2), fade(0.15))
    } else {
        Color32::from_rgb(fade(0.15), fade(0.35), fade(0.85))
    }
}

/// The output layer's logits, one bar per class (longest = highest score).
fn logit_bars(ui: &mut egui::Ui, predictor: &Predictor, logits: &[f32]) {
    let (lo, hi) = value_range(logits);
    egui::Grid::new("inspector-logits").num_columns(3).spacing([6.0, 1.0]).show(ui, |ui| {
        for (i, &v) in logits.iter().enumerate() {
            let name = predictor.class_names().get(i).cloned().unwrap_or_else(|| i.to_string());
            ui.small(name);
            let (rect, _) = ui.allocate_exact_size(Vec2::new(120.0, 10.0), egui::Sense::hover());
            let frac = if hi - lo > 1e-12 { (v - lo) / (hi - lo) } else { 0.5 };
            ui.painter().rect_filled(rect, 1.0, ui.visuals().extreme_bg_color);
            let bar = egui::Rect::from_min_size(rect.min, Vec2::new(rect.width() * frac, rect.height()));
            ui.painter().rect_filled(bar, 1.0, Color32::from_rgb(40, 120, 220));
            ui.small(format!("{v:+.2}"));
            ui.end_row();
        }
    });
}
