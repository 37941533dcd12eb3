//! A window with just the canvas and the inspector views, for looking at them (and screenshots) without the full app.
//!
//! ```sh
//! cargo run --example views_demo -- [weights.safetensors]
//! ```
//! With no weights file the network has fresh (untrained) weights.

use lenet_playground::app::architecture::inspector::InspectorView;
use lenet_playground::app::canvas::view::CanvasView;
use lenet_playground::engine::data::classes::DIGIT_CLASSES;
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::predict::Predictor;
use lenet_playground::engine::model::weights::ModelWeights;

struct Demo {
    canvas: CanvasView,
    inspector: InspectorView,
    predictor: Option<Predictor>,
    data: Option<Dataset>,
    message: String,
}

impl eframe::App for Demo {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::left("canvas-panel").default_size(560.0).show(ui, |ui| {
            ui.heading("Draw a digit");
            ui.weak(&self.message);
            self.canvas.ui(ui, self.predictor.as_ref(), self.data.as_ref().map(|d| &d.test), 1);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let input = self.canvas.network_input();
                let fallback = self.data.as_ref().filter(|d| !d.test.is_empty()).map(|d| d.test.image(0));
                let config = self.predictor.as_ref().map(|p| p.weights().config).unwrap_or_default();
                self.inspector.ui(ui, config, self.predictor.as_ref(), input.as_ref(), fallback.as_ref(), 1);
            });
        });
    }
}

fn main() -> eframe::Result {
    // First, while this is the only thread: the compute environment and pools, as in the app.
    lenet_playground::startup::init_compute();
    let names: Vec<String> = DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
    let (weights, message) = match std::env::args().nth(1) {
        Some(path) => match checkpoint::load(std::path::Path::new(&path)) {
            Ok(w) => (w, format!("weights: {path}")),
            Err(e) => {
                eprintln!("cannot load {path}: {e}");
                (
                    ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &names),
                    "untrained weights".into(),
                )
            }
        },
        None => {
            (ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &names), "untrained weights".into())
        }
    };
    let predictor = Predictor::new(&weights).map_err(|e| eprintln!("{e}")).ok();
    let data = Dataset::shipped_mnist().map_err(|e| eprintln!("{e}")).ok();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("LeNet-5 views demo").with_inner_size([1260.0, 780.0]),
        ..Default::default()
    };
    eframe::run_native(
        "LeNet-5 views demo",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(Demo {
                canvas: CanvasView::default(),
                inspector: InspectorView::default(),
                predictor,
                data,
                message,
            }))
        }),
    )
}
