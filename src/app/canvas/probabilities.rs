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
/// set of one's own) is cut with "…" to fit the column in a single pass, and its row shows the whole name on hover.
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
    let room = ui.available_width();
    // The name column gives way first, down to a few letters; the bar keeps at least 50 points.
    let name_width = widest.min((room - percent_width - 2.0 * GAP - 50.0).max(40.0)).ceil();
    let bar_width = (room - name_width - percent_width - 2.0 * GAP).clamp(50.0, 160.0);
    for (i, (&prob, name)) in p.probabilities.iter().zip(names).enumerate() {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing = Vec2::new(GAP, 2.0);
            let full = name.text().to_string();
            let cut = text_width(ui, name.clone()) > name_width;
            let label = ui
                .allocate_ui_with_layout(Vec2::new(name_width, ROW), Layout::left_to_right(Align::Center), |ui| {
                    ui.set_min_width(name_width);
                    ui.add(Label::new(name).truncate())
                })
                .inner;
            if cut {
                label.on_hover_text(full);
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

/// The width `text` takes on one line in the body font.
pub(crate) fn text_width(ui: &egui::Ui, text: RichText) -> f32 {
    WidgetText::from(text).into_galley(ui, Some(TextWrapMode::Extend), f32::INFINITY, TextStyle::Body).size().x
}
