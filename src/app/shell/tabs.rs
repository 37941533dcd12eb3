//! The central panel: the banners, the tab row and each tab's room drawn from the state it needs. Adding a tab is
//! a `Tab` variant, its button here and its arm in the match.

use crate::app::evaluation::inputs::EvaluationInputs;
use crate::app::training::plots::PlotExtras;
use crate::app::widgets::banner::error_banner;
use crate::app::{inside, PlaygroundApp, Tab};

impl PlaygroundApp {
    pub(in crate::app) fn central_ui(&mut self, ui: &mut egui::Ui) {
        error_banner(ui, self.session.error.as_deref(), &mut self.commands);
        let running = self.session.run_active();
        self.coach_banner.ui(ui, &self.session.history, running, &mut self.commands);
        // Wrapped: a row wider than the panel would widen the panel's content under the canvas.
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Plots, "Live plots");
            ui.selectable_value(&mut self.tab, Tab::Gradients, "Gradient flow");
            ui.selectable_value(&mut self.tab, Tab::Evaluation, "Evaluation");
            ui.selectable_value(&mut self.tab, Tab::Architecture, "Architecture");
            ui.selectable_value(&mut self.tab, Tab::Inspector, "Network inspector");
            ui.selectable_value(&mut self.tab, Tab::Inside, "Inside the network");
            ui.selectable_value(&mut self.tab, Tab::Runs, "Runs");
        });
        ui.separator();
        match self.tab {
            Tab::Plots => {
                let ex = &self.session.experiments;
                let overlays = ex.overlays().into_iter().map(|(r, s)| (r.name().to_string(), r.color, s)).collect();
                let extras = PlotExtras { overlays, markers: ex.markers_for(self.session.history.generation()) };
                self.plots.ui_with(ui, &self.session.history, &mut self.settings, &extras)
            }
            Tab::Runs => {
                let active = self.session.run_active();
                let busy = self.background.in_flight.runs_view_busy();
                self.runs.ui(ui, &self.session.experiments, active, busy, &mut self.commands)
            }
            Tab::Gradients => {
                let model = self.session.run.as_ref().map_or(self.settings.train.model, |r| r.config.model);
                self.gradients.ui(ui, &self.session.history, model);
            }
            Tab::Inspector => {
                let latest = self.session.history.diagnostics.last();
                self.inspector.saturation = latest.map(|(_, d)| d.saturation.clone()).unwrap_or_default();
                let config = self.session.weights.as_ref().map_or(self.settings.train.model, |w| w.config);
                self.inspector.next_run_differs = config.arch != self.settings.train.model.arch;
                let input = self.canvas.network_input();
                self.inspector.ui(
                    ui,
                    config,
                    self.session.predictor.as_ref(),
                    input.as_ref(),
                    self.session.fallback_image.as_deref(),
                    self.session.weights_version,
                );
            }
            Tab::Inside => {
                let input = self.canvas.network_input();
                let inputs = inside::InsideInputs {
                    predictor: self.session.predictor.as_ref(),
                    weights_version: self.session.weights_version,
                    drawing: input.as_ref(),
                    fallback: self.session.fallback_image.as_deref(),
                    test: self.session.data.as_ref().map(|d| &d.test),
                    train: self.session.data.as_ref().map(|d| &d.train),
                    worker: &self.inside_worker,
                };
                self.inside.ui(ui, &inputs, &mut self.commands);
            }
            Tab::Architecture => {
                let locked = self.session.run_active();
                let (model, batch) = (self.settings.train.model, self.settings.train.batch_size);
                self.architecture.ui(ui, model, batch, locked, &mut self.commands);
            }
            Tab::Evaluation => {
                let inputs = EvaluationInputs::from_state(&self.session, &self.evaluation);
                self.evaluation_view.ui(ui, &inputs, &mut self.commands);
            }
        }
    }
}
