//! The paper one draws on: the pointer draws strokes, Delete / Backspace / C clear and Ctrl+Z undoes, and the
//! sketch is painted ink on paper over a faint guide of the 20×20 box MNIST digits fill.

use crate::app::canvas::sketch::{Sketch, PEN_RADIUS};
use crate::app::widgets::texture::KeyedTexture;
use crate::engine::data::set::IMAGE_SIDE;
use egui::{
    Color32, ColorImage, Key, KeyboardShortcut, Modifiers, Pos2, Rect, Sense, Stroke, StrokeKind, TextureOptions, Vec2,
};

const PAPER: Color32 = Color32::from_rgb(250, 250, 245);
const INK: Color32 = Color32::from_rgb(20, 20, 30);

/// Draws the canvas as large as fits (160–340 points) and applies the pointer and the keys to `sketch`.
/// `test_texture` holds a test digit's image, keyed by its index. Returns true when a key cleared the canvas.
pub(crate) fn surface_ui(ui: &mut egui::Ui, sketch: &mut Sketch, test_texture: &mut KeyedTexture<usize>) -> bool {
    let side = ui.available_width().min(ui.available_height() - 40.0).clamp(160.0, 340.0);
    let (response, painter) = ui.allocate_painter(Vec2::splat(side), Sense::drag());
    // The prompt painted on an empty canvas is its accessible name too (what a screen reader and the UI tests read).
    let name = if sketch.is_empty() { "Drawing canvas: draw a digit" } else { "Drawing canvas" };
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, name));
    let rect = response.rect;
    let to_canvas = |p: Pos2| -> [f32; 2] {
        [((p.x - rect.min.x) / rect.width()).clamp(0.0, 1.0), ((p.y - rect.min.y) / rect.height()).clamp(0.0, 1.0)]
    };
    let to_screen = |p: [f32; 2]| -> Pos2 { rect.min + Vec2::new(p[0] * rect.width(), p[1] * rect.height()) };

    match response.interact_pointer_pos() {
        Some(pos) => sketch.pen_at(to_canvas(pos)),
        None => sketch.pen_up(),
    }

    // Keys act wherever the pointer is, unless a widget (a text field, a slider's value being typed) has the
    // keyboard.
    let nothing_focused = ui.memory(|m| m.focused().is_none());
    let cleared = nothing_focused
        && ui.input(|i| {
            i.key_pressed(Key::Delete)
                || i.key_pressed(Key::Backspace)
                || (i.key_pressed(Key::C) && i.modifiers.is_none())
        });
    if cleared {
        sketch.clear();
    }
    if nothing_focused && ui.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Z))) {
        sketch.undo();
    }

    painter.rect_filled(rect, 4.0, PAPER);
    let guide = Rect::from_center_size(rect.center(), rect.size() * (20.0 / 28.0));
    painter.rect_stroke(guide, 2.0, Stroke::new(1.0, Color32::from_gray(225)), StrokeKind::Inside);
    if let Some(t) = &sketch.test_digit {
        let tex = test_texture.get(ui.ctx(), "canvas-test-digit", t.index, TextureOptions::LINEAR, || {
            ColorImage::from_gray_iter(
                [IMAGE_SIDE, IMAGE_SIDE],
                t.pixels.iter().map(|v| 255 - (v.clamp(0.0, 1.0) * 230.0) as u8),
            )
        });
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.image(tex.id(), rect.shrink(2.0), uv, Color32::WHITE);
    }
    let width = PEN_RADIUS * 2.0 * rect.width();
    let stroke = Stroke::new(width, INK);
    for line in sketch.strokes.iter().chain(std::iter::once(&sketch.current)) {
        match line.len() {
            0 => {}
            1 => {
                painter.circle_filled(to_screen(line[0]), width / 2.0, INK);
            }
            _ => {
                let pts: Vec<Pos2> = line.iter().map(|p| to_screen(*p)).collect();
                for p in [pts[0], pts[pts.len() - 1]] {
                    painter.circle_filled(p, width / 2.0, INK);
                }
                for w in pts.windows(2) {
                    painter.circle_filled(w[1], width / 2.0, INK);
                    painter.line_segment([w[0], w[1]], stroke);
                }
            }
        }
    }
    if sketch.is_empty() {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "draw a digit",
            egui::FontId::proportional(20.0),
            Color32::from_gray(160),
        );
    }
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, Color32::from_gray(150)), StrokeKind::Inside);
    cleared
}
