//! The prediction beside the canvas: one clickable bar per class with its probability, and class names that
//! follow the data set (Fashion-MNIST's when loaded).

use crate::engine::data::classes::DIGIT_CLASSES;
use crate::engine::model::predict::{Prediction, Predictor};
use egui::{
    Align, Color32, Label, Layout, Rect, RichText, Sense, Stroke, StrokeKind, TextStyle, TextWrapMode, Vec2, WidgetText,
};

/// The class's display name: the predictor's class names, else the digit.
pub(crate) fn class_name(predictor: Option<&Predictor>, class: usize) -> String {
    predictor
        .and_then(|p| p.class_names().get(class).filter(|n| !n.is_empty()).cloned())
        .or_else(|| DIGIT_CLASSES.get(class).map(|s| s.to_string()))
        .unwrap_or_else(|| format!("class {class}"))
}

/// One row per class: name, a bar as long as the probability, the percentage. The predicted class is highlighted;
/// `explained` (the attribution overlay's class) is outlined. Returns the class whose bar was clicked.
///
/// The columns are measured from this frame's text, not from an earlier frame's layout, so a long class name (a
/// set of one's own) goes above its bar, cut with "…" to the column if it must be, in a single pass; a cut name
/// shows whole on hover.
pub(crate) fn probability_bars(
    ui: &mut egui::Ui,
    predictor: &Predictor,
    p: &Prediction,
    explained: Option<usize>,
) -> Option<usize> {
    const GAP: f32 = 6.0;
    const ROW: f32 = 14.0;
    let mut clicked = None;
    let names: Vec<RichText> = (0..p.probabilities.len())
        .map(|i| {
            let name = RichText::new(class_name(Some(predictor), i));
            if i == p.class {
                name.strong()
            } else {
                name
            }
        })
        .collect();
    let widest = names.iter().map(|n| text_width(ui, n.clone())).fold(0.0, f32::max);
    let percent_width = text_width(ui, RichText::new("100.0 %"));
    // Less 30 points: the side panel's scroll bar and margins cover the last points of the column (the earlier
    // fixed layout kept the same slack).
    let room = ui.available_width() - 30.0;
    // Names beside their bars while the widest fits with a bar of 50 points; otherwise each name on a line of its
    // own above its bar (a set of one's own in a narrow column), cut with "…" only if longer than the column.
    let beside_width = room - percent_width - 2.0 * GAP - 50.0;
    let stacked = widest > beside_width;
    let name_width = if stacked { room.max(40.0) } else { widest.ceil() };
    let bar_width = if stacked { room - percent_width - GAP } else { room - name_width - percent_width - 2.0 * GAP };
    let bar_width = bar_width.clamp(50.0, 160.0);
    for (i, (&prob, name)) in p.probabilities.iter().zip(names).enumerate() {
        let full = name.text().to_string();
        let cut = text_width(ui, name.clone()) > name_width;
        let mut name_ui = Some(|ui: &mut egui::Ui| {
            let label = ui
                .allocate_ui_with_layout(Vec2::new(name_width, ROW), Layout::left_to_right(Align::Center), |ui| {
                    ui.set_min_width(name_width);
                    ui.add(Label::new(name).truncate())
                })
                .inner;
            if cut {
                label.on_hover_text(full);
            }
        });
        if stacked {
            if let Some(name_ui) = name_ui.take() {
                name_ui(ui);
            }
        }
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing = Vec2::new(GAP, 2.0);
            if let Some(name_ui) = name_ui.take() {
                name_ui(ui);
            }
            let (rect, resp) = ui.allocate_exact_size(Vec2::new(bar_width, ROW), Sense::click());
            resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("probability bar {i}")));
            if resp.on_hover_text("Click: show what decided this class (with \"show what decided it\" on)").clicked() {
                clicked = Some(i);
            }
            let chosen = i == p.class;
            let painter = ui.painter();
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let fill = Rect::from_min_size(rect.min, Vec2::new(bar_width * prob.clamp(0.0, 1.0), rect.height()));
            let color = if chosen { Color32::from_rgb(40, 120, 220) } else { Color32::from_rgb(130, 150, 180) };
            painter.rect_filled(fill, 2.0, color);
            if explained == Some(i) {
                painter.rect_stroke(rect, 2.0, Stroke::new(1.5, Color32::from_rgb(230, 120, 0)), StrokeKind::Outside);
            }
            ui.label(format!("{:5.1} %", prob * 100.0));
        });
    }
    clicked
}

/// The predicted class in large type with "prediction" and the confidence beside it. A name too long to stand
/// beside them at 24 points (a set of one's own) gets a line of its own, as large as the column allows down to 16
/// points, wrapped rather than cut.
pub(crate) fn prediction_header(ui: &mut egui::Ui, name: &str, confidence: f32) {
    let confidence = format!("confidence {:.1} %", confidence * 100.0);
    let caption = text_width(ui, RichText::new(&confidence));
    let beside = ui.available_width() - caption - 2.0 * ui.spacing().item_spacing.x;
    let at_44 = text_width(ui, RichText::new(name).size(44.0).strong()).max(1.0);
    let size = (44.0 * beside / at_44).min(44.0).floor();
    if size >= 24.0 {
        ui.horizontal(|ui| {
            ui.label(RichText::new(name).size(size).strong());
            ui.vertical(|ui| {
                ui.label("prediction");
                ui.label(confidence);
            });
        });
    } else {
        let size = (44.0 * ui.available_width() / at_44).clamp(16.0, 44.0).floor();
        ui.label("prediction");
        ui.add(Label::new(RichText::new(name).size(size).strong()).wrap());
        ui.label(confidence);
    }
}

/// The width `text` takes on one line in the body font.
pub(crate) fn text_width(ui: &egui::Ui, text: RichText) -> f32 {
    WidgetText::from(text).into_galley(ui, Some(TextWrapMode::Extend), f32::INFINITY, TextStyle::Body).size().x
}
