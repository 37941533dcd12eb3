//! The Inside tab: the network seen from inside, for the current weights (live while training, as the weights
//! arrive) and any architecture. Three views of one network: how one number is computed ([`element`]), what a unit
//! responds to ([`units`]) and how the representation forms over the epochs ([`map`]). The value picked in the
//! first is the unit of the second. The trace of the input is recomputed only when the weights or the input change.

pub(crate) mod element;
pub(crate) mod grid;
pub(crate) mod map;
pub(crate) mod units;
pub mod worker;

use crate::app::command::UiCommand;
use crate::app::inside::worker::InsideWorker;
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS};
use crate::engine::insight::inside::representation::features;
use crate::engine::insight::inside::units::unit_count;
use crate::engine::model::predict::{Predictor, StageActivation};
use crate::engine::model::stages::Stage;
use egui::Ui;
use element::Selection;
use map::{MapInputs, MapView, Star};
use units::UnitInputs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    #[default]
    Element,
    Units,
    Map,
}

struct Trace {
    weights_version: u64,
    input: Box<[f32; IMAGE_PIXELS]>,
    result: Result<Vec<StageActivation>, String>,
}

/// A drawing, the weights version, the number of frames and the neighbours' weights version (+1; 0: none).
type StarKey = (Box<[f32; IMAGE_PIXELS]>, u64, usize, u64);

#[derive(Default)]
pub struct InsideView {
    pub section: Section,
    pub(crate) selection: Selection,
    trace: Option<Trace>,
    pub(crate) map: MapView,
    /// The drawing's place on the latest map, and what it was computed for.
    star: Option<(StarKey, Option<Star>)>,
}

/// What the tab is drawn from.
pub(crate) struct InsideInputs<'a> {
    pub predictor: Option<&'a Predictor>,
    pub weights_version: u64,
    /// What is on the canvas (a drawing or a test digit put there), if anything.
    pub drawing: Option<&'a [f32; IMAGE_PIXELS]>,
    /// The digit explained when the canvas is empty (a test image).
    pub fallback: Option<&'a [f32; IMAGE_PIXELS]>,
    pub test: Option<&'a ImageSet>,
    /// The training images, the canvas digit's neighbours are drawn from.
    pub train: Option<&'a ImageSet>,
    pub worker: &'a InsideWorker,
}

impl InsideView {
    /// The stage and unit the "What a unit responds to" view shows, when it is shown.
    pub(crate) fn shown_unit(&self, stages: &[Stage]) -> Option<(usize, usize)> {
        let stage = stages.get(self.selection.stage)?;
        (self.section == Section::Units).then(|| (self.selection.stage, unit_of(stage, self.selection.cell)))
    }

    pub(crate) fn ui(&mut self, ui: &mut Ui, inputs: &InsideInputs, commands: &mut Vec<UiCommand>) {
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.section, Section::Element, "How a number is computed");
            ui.selectable_value(&mut self.section, Section::Units, "What a unit responds to");
            ui.selectable_value(&mut self.section, Section::Map, "How the representation forms");
        });
        ui.separator();
        let Some(predictor) = inputs.predictor else {
            ui.label("No weights yet: start training (or load a weights file) to look inside the network.");
            return;
        };
        let stages = predictor.stages();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match self.section {
            Section::Element => self.element_section_ui(ui, predictor, inputs),
            Section::Units => {
                let Some(test) = inputs.test else {
                    ui.label("No test images loaded.");
                    return;
                };
                element::stage_picker_ui(ui, &mut self.selection, stages, false);
                self.selection.picked = true;
                let stage = &stages[self.selection.stage.min(stages.len() - 1)];
                let unit = unit_of(stage, self.selection.cell);
                let unit_inputs = UnitInputs {
                    stage,
                    unit,
                    rankings: inputs.worker.rankings.as_ref().filter(|r| r.key.stage == self.selection.stage),
                    pending: inputs.worker.ranking_pending(),
                    dream: inputs
                        .worker
                        .dream
                        .as_ref()
                        .filter(|(k, _)| (k.stage, k.unit) == (self.selection.stage, unit))
                        .map(|d| &d.1),
                    evolution: inputs
                        .worker
                        .evolution
                        .as_ref()
                        .filter(|(k, _)| (k.stage, k.unit) == (self.selection.stage, unit))
                        .map(|e| &e.1),
                    test,
                    digits: inputs.worker.digits.as_ref().map(|d| &d.0.set),
                };
                units::units_ui(ui, &unit_inputs, commands);
            }
            Section::Map => {
                let star = self.star(predictor, inputs);
                let w = inputs.worker;
                let map_inputs = MapInputs {
                    frames: &w.frames,
                    digits: w.digits.as_ref().map(|d| &*d.0),
                    class_names: predictor.class_names(),
                    star,
                    error: w.error.as_deref(),
                    train: inputs.train,
                };
                self.map.ui(ui, &map_inputs, commands);
            }
        });
    }

    fn element_section_ui(&mut self, ui: &mut Ui, predictor: &Predictor, inputs: &InsideInputs) {
        let (input, source) = match (inputs.drawing, inputs.fallback) {
            (Some(d), _) => (d, "the digit on the canvas"),
            (None, Some(f)) => (f, "a test digit (draw on the canvas to use your own)"),
            (None, None) => {
                ui.label("Draw a digit on the canvas to see how the network computes it.");
                return;
            }
        };
        let fresh =
            self.trace.as_ref().is_some_and(|t| t.weights_version == inputs.weights_version && *t.input == *input);
        if !fresh {
            let result = predictor.trace(input).map_err(|e| e.report());
            self.trace = Some(Trace { weights_version: inputs.weights_version, input: Box::new(*input), result });
        }
        let Some(trace) = &self.trace else { return };
        ui.label(format!("For {source}, with the current weights."));
        match &trace.result {
            Ok(t) => element::element_ui(
                ui,
                &mut self.selection,
                predictor.stages(),
                t,
                &trace.input[..],
                predictor.weights(),
            ),
            Err(e) => {
                ui.colored_label(egui::Color32::RED, e);
            }
        }
    }

    /// The drawing's point on the latest map and its nearest map digits (recomputed when the drawing, the
    /// weights or the frames change).
    fn star(&mut self, predictor: &Predictor, inputs: &InsideInputs) -> Option<Star> {
        let drawing = inputs.drawing?;
        let frame = inputs.worker.frames.last()?;
        let neighbours = inputs.worker.neighbours.as_ref().map_or(0, |(v, _)| *v + 1);
        let key = (Box::new(*drawing), inputs.weights_version, inputs.worker.frames.len(), neighbours);
        if self.star.as_ref().is_none_or(|(k, _)| *k != key) {
            let star = features(predictor, &drawing[..], 1).ok().and_then(|f| {
                let point = *frame.pca.project(&f.values).first()?;
                let nearest = match &inputs.worker.neighbours {
                    Some((_, Ok(all))) => all.nearest(&f.values, 8),
                    _ => Vec::new(),
                };
                Some(Star { point, nearest })
            });
            self.star = Some((key, star));
        }
        self.star.as_ref().and_then(|(_, s)| s.as_ref().map(|s| Star { point: s.point, nearest: s.nearest.clone() }))
    }
}

/// The unit a selected value belongs to: its channel in a map, itself in a vector.
fn unit_of(stage: &Stage, cell: usize) -> usize {
    match crate::engine::insight::inside::element::map_position(stage.output, cell) {
        Some((c, _, _)) => c,
        None => cell,
    }
    .min(unit_count(stage).saturating_sub(1))
}
