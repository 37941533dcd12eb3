//! A plot legend as a row of names above the plots, outside the data: a legend drawn inside a plot sits on some
//! curve sooner or later (often the newest one). Clicking a name hides or shows what it names.

use egui::{Color32, Sense, Stroke, Ui, Vec2};
use std::collections::HashSet;

/// How an entry's swatch is drawn: like the thing it names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Swatch {
    Line,
    /// A vertical marker line (a learning-rate change, a coach's hint).
    Marker,
    Dot,
}

/// One named thing in a plot.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub name: String,
    pub color: Color32,
    pub swatch: Swatch,
}

impl Entry {
    pub(crate) fn new(name: impl Into<String>, color: Color32, swatch: Swatch) -> Self {
        Self { name: name.into(), color, swatch }
    }
}

/// Which entries the user has hidden, by name (so a hidden run stays hidden while its curves grow).
#[derive(Default)]
pub(crate) struct LegendRow {
    hidden: HashSet<String>,
}

impl LegendRow {
    pub(crate) fn shown(&self, name: &str) -> bool {
        !self.hidden.contains(name)
    }

    /// The row of entries, wrapping onto further lines when the window is narrow.
    pub(crate) fn ui(&mut self, ui: &mut Ui, entries: &[Entry]) {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 10.0;
            for entry in entries {
                let shown = self.shown(&entry.name);
                let clicked = entry_ui(ui, entry, shown)
                    .on_hover_text(if shown { "Click to hide" } else { "Hidden: click to show" })
                    .clicked();
                if clicked && !self.hidden.remove(&entry.name) {
                    self.hidden.insert(entry.name.clone());
                }
            }
        });
    }
}

fn entry_ui(ui: &mut Ui, entry: &Entry, shown: bool) -> egui::Response {
    let color = if shown { entry.color } else { entry.color.gamma_multiply(0.25) };
    let text_color = if shown { ui.visuals().text_color() } else { ui.visuals().weak_text_color() };
    let galley = ui.painter().layout_no_wrap(entry.name.clone(), egui::FontId::proportional(13.0), text_color);
    let swatch = Vec2::new(18.0, galley.size().y);
    let (rect, response) =
        ui.allocate_exact_size(Vec2::new(swatch.x + 4.0 + galley.size().x, galley.size().y), Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &entry.name));
    let painter = ui.painter();
    let mid = rect.left_center() + Vec2::new(swatch.x / 2.0, 0.0);
    match entry.swatch {
        Swatch::Line => {
            painter.line_segment(
                [rect.left_center(), rect.left_center() + Vec2::new(swatch.x, 0.0)],
                Stroke::new(2.5, color),
            );
        }
        Swatch::Marker => {
            for y in [-6.0, -1.0, 4.0] {
                painter.line_segment([mid + Vec2::new(0.0, y), mid + Vec2::new(0.0, y + 2.5)], Stroke::new(2.0, color));
            }
        }
        Swatch::Dot => {
            painter.circle_filled(mid, 4.5, color);
        }
    }
    painter.galley(rect.left_top() + Vec2::new(swatch.x + 4.0, 0.0), galley, text_color);
    if !shown {
        let y = rect.center().y;
        painter.line_segment(
            [egui::pos2(rect.left() + swatch.x + 4.0, y), egui::pos2(rect.right(), y)],
            Stroke::new(1.0, ui.visuals().weak_text_color()),
        );
    }
    response
}
