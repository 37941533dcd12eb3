//! The prediction beside the canvas: one clickable bar per class with its probability, and class names that
//! follow the data set (Fashion-MNIST's when loaded).

use crate::engine::data::classes::DIGIT_CLASSES;
use crate::engine::model::predict::{Prediction, Predictor};
use egui::{Color32, Rect, RichText, Sense, Stroke, StrokeKind, Vec2};

/// The class's display name: the predictor's class names, else the digit.
pub(crate) fn class_name(predictor: Option<&Predictor>, class: usize) -> String {
    predictor
        .and_then(|p| p.class_names().get(class).filter(|n| !n.is_empty()).cloned())
        .or_else(|| DIGIT_CLASSES.get(class).map(|s| s.to_string()))
        .unwrap_or_else(|| format!("class {class}"))
}

/// One row per class: name, a bar as long as the probability, the percentage. The predicted class is highlighted;
/// `explained` (the attribution overlay's class) is outlined. Returns the class whose bar was clicked.
pub(crate) fn probability_bars(
    ui: &mut egui::Ui,
    predictor: &Predictor,
    p: &Prediction,
    explained: Option<usize>,
) -> Option<usize> {
    let mut clicked = None;
    // Room for the class name and the percentage beside the bar (Fashion-MNIST names are long).
    let bar_width = (ui.available_width() - 140.0).clamp(50.0, 160.0);
    egui::Grid::new("canvas-probability-bars").num_columns(3).spacing([6.0, 2.0]).show(ui, |ui| {
        for (i, &prob) in p.probabilities.iter().enumerate() {
            let name = class_name(Some(predictor), i);
            let chosen = i == p.class;
            let text = if chosen { RichText::new(name).strong() } else { RichText::new(name) };
            ui.label(text);
            let (rect, resp) = ui.allocate_exact_size(Vec2::new(bar_width, 14.0), Sense::click());
            resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("probability bar {i}")));
            if resp.on_hover_text("Click: show what decided this class (with \"show what decided it\" on)").clicked() {
                clicked = Some(i);
            }
            let painter = ui.painter();
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let fill = Rect::from_min_size(rect.min, Vec2::new(bar_width * prob.clamp(0.0, 1.0), rect.height()));
            let color = if chosen { Color32::from_rgb(40, 120, 220) } else { Color32::from_rgb(130, 150, 180) };
            painter.rect_filled(fill, 2.0, color);
            if explained == Some(i) {
                painter.rect_stroke(rect, 2.0, Stroke::new(1.5, Color32::from_rgb(230, 120, 0)), StrokeKind::Outside);
            }
            ui.label(format!("{:5.1} %", prob * 100.0));
            ui.end_row();
        }
    });
    clicked
}
