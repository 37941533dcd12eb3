//! A grid of values painted cell by cell and clickable: the Inside tab's feature maps, input windows, kernels and
//! weight rows. Painted rather than uploaded as textures, so a click names the cell and a frame can outline one.

use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

/// How a grid is drawn.
pub(crate) struct GridStyle<'a> {
    /// Accessible name, so tests (and screen readers) find the grid.
    pub name: &'a str,
    pub cell_px: f32,
    /// Cells outlined: rows `top..bottom`, columns `left..right`.
    pub outline: Option<[usize; 4]>,
    /// The one selected cell (row, column), outlined thicker.
    pub selected: Option<(usize, usize)>,
}

/// Paints `values` (`height` rows of `width`) with `colour`, and returns the clicked cell (row, column) if any.
pub(crate) fn grid_ui(
    ui: &mut Ui,
    values: &[f32],
    (height, width): (usize, usize),
    style: &GridStyle,
    colour: impl Fn(f32) -> Color32,
) -> Option<(usize, usize)> {
    let size = Vec2::new(width as f32, height as f32) * style.cell_px;
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let name = style.name.to_string();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    let painter = ui.painter_at(rect);
    let cell = |y: usize, x: usize| {
        Rect::from_min_size(rect.min + Vec2::new(x as f32, y as f32) * style.cell_px, Vec2::splat(style.cell_px))
    };
    for y in 0..height {
        for x in 0..width {
            if let Some(&v) = values.get(y * width + x) {
                painter.rect_filled(cell(y, x), 0.0, colour(v));
            }
        }
    }
    if let Some([top, bottom, left, right]) = style.outline {
        let r = Rect::from_min_max(cell(top, left).min, cell(bottom.max(top + 1) - 1, right.max(left + 1) - 1).max);
        painter.rect_stroke(r, 0.0, Stroke::new(2.0, Color32::from_rgb(255, 170, 0)), StrokeKind::Inside);
    }
    if let Some((y, x)) = style.selected {
        painter.rect_stroke(cell(y, x), 0.0, Stroke::new(2.0, Color32::from_rgb(230, 30, 200)), StrokeKind::Inside);
    }
    let pos: Pos2 = response.interact_pointer_pos().filter(|_| response.clicked())?;
    let (x, y) = ((pos.x - rect.min.x) / style.cell_px, (pos.y - rect.min.y) / style.cell_px);
    (x >= 0.0 && y >= 0.0 && (y as usize) < height && (x as usize) < width).then_some((y as usize, x as usize))
}

/// Greys from the smallest (black) to the largest (white) of `values`.
pub(crate) fn grey_scale(values: &[f32]) -> impl Fn(f32) -> Color32 {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    move |v| {
        let t = if hi - lo > 1e-12 { (v - lo) / (hi - lo) } else { 0.5 };
        Color32::from_gray((t * 255.0).round() as u8)
    }
}

/// Blue (negative) – white – red (positive), scaled by the largest magnitude of `values`.
pub(crate) fn signed_scale(values: &[f32]) -> impl Fn(f32) -> Color32 {
    let m = values.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    move |v| crate::app::architecture::inspector::diverging(v / m)
}
