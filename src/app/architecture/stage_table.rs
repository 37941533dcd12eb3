//! The stage table the Architecture editor and the inspector share: each stage's output shape for one 28×28 input,
//! its size arithmetic, its parameters and FLOPs, and the totals. It is worked out from the description alone
//! (`stages::stages_until_error`, no model is built), so it follows every edit at once, before any training. An
//! architecture that does not fit shows the stages that do, then the offending one in red with the reason, then the
//! rest greyed: never a panic, whatever the edit.

use crate::app::widgets::format::thousands;
use crate::engine::model::architecture::ArchError;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::inspect::describe;
use crate::engine::model::stages::{self, macs_per_image, Spec};
use egui::{RichText, Ui};
use std::collections::BTreeMap;

/// One row: a stage worked out (`shape` is Some), the offending one, or one after it (not worked out).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub key: &'static str,
    pub layer: &'static str,
    /// `[1, C, H, W]` or `[1, N]`; None where the sizes could not be worked out.
    pub shape: Option<Vec<usize>>,
    pub params: usize,
    /// 2 × multiply-adds of this stage for one image.
    pub flops: usize,
    pub formula: Option<String>,
    pub computes: String,
}

/// The table of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StageTable {
    pub config: ModelConfig,
    pub rows: Vec<Row>,
    /// Why the description cannot be trained; its `stage` is the row marked red.
    pub error: Option<ArchError>,
}

impl StageTable {
    pub fn new(config: ModelConfig) -> Self {
        let (worked, error) = stages::stages_until_error(config);
        let last = worked.len().checked_sub(1).filter(|_| error.is_none());
        let mut rows: Vec<Row> = worked
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (formula, computes) = describe(s, Some(i) == last);
                Row {
                    key: s.key,
                    layer: s.kind.layer_name(),
                    shape: Some(s.output.dims(1)),
                    params: s.kind.num_params(),
                    flops: 2 * macs_per_image(std::slice::from_ref(s)),
                    formula,
                    computes,
                }
            })
            .collect();
        // The stages from the offending one on: named, not worked out.
        for (key, spec) in stages::rows(config).into_iter().skip(worked.len()) {
            let layer = match spec {
                Spec::Conv { .. } => "Conv2d",
                Spec::Act => config.activation.label(),
                Spec::Pool => config.pooling.label(),
                Spec::Flatten => "Flatten",
                Spec::Dropout { .. } => "Dropout",
                Spec::Linear { .. } => "Linear",
            };
            let computes = "not worked out: a stage before it does not fit".to_string();
            rows.push(Row { key, layer, shape: None, params: 0, flops: 0, formula: None, computes });
        }
        StageTable { config, rows, error }
    }

    pub fn total_params(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    pub fn total_flops(&self) -> usize {
        self.rows.iter().map(|r| r.flops).sum()
    }

    /// The row the error names (red).
    fn is_offending(&self, key: &str) -> bool {
        self.error.as_ref().and_then(|e| e.stage) == Some(key)
    }
}

/// How a table is drawn: the inspector's keys are selectable and it has a saturation column.
pub(crate) struct TableStyle<'a> {
    pub id: &'a str,
    pub selected: Option<&'static str>,
    pub selectable: bool,
    /// Each activation stage's latest saturation (0..1) with the column's hover text.
    pub saturation: Option<(&'a BTreeMap<String, f32>, &'a str)>,
    /// Repeat the error under the table (the editor says it above, in its summary line).
    pub error_below: bool,
}

/// Draws `table`; returns the key of a stage clicked.
pub(crate) fn table_ui(ui: &mut Ui, table: &StageTable, style: &TableStyle) -> Option<&'static str> {
    let mut clicked = None;
    let red = ui.visuals().error_fg_color;
    let columns = if style.saturation.is_some() { 7 } else { 6 };
    // A narrow tab (1024 px windows) keeps FLOPs in view with tighter columns; what still does not fit scrolls, and
    // the line under the table says so.
    let gap = if ui.available_width() < 700.0 { 8.0 } else { 14.0 };
    let scroll = egui::ScrollArea::horizontal().id_salt((style.id, "scroll")).show(ui, |ui| {
        egui::Grid::new(style.id).striped(true).num_columns(columns).spacing([gap, 3.0]).show(ui, |ui| {
            for h in ["Stage", "Layer", "Output shape", "Parameters", "FLOPs", "Size arithmetic"] {
                ui.label(RichText::new(h).strong());
            }
            if let Some((_, help)) = style.saturation {
                ui.label(RichText::new("Saturated").strong()).on_hover_text(help);
            }
            ui.end_row();
            for row in &table.rows {
                let offending = table.is_offending(row.key);
                let tint = |text: RichText| match (&row.shape, offending) {
                    (_, true) => text.color(red),
                    (None, false) => text.weak(),
                    _ => text,
                };
                let key = tint(RichText::new(row.key));
                let response = if style.selectable && row.shape.is_some() {
                    ui.selectable_label(style.selected == Some(row.key), key)
                } else {
                    ui.label(key)
                };
                if response.on_hover_text(&row.computes).clicked() {
                    clicked = Some(row.key);
                }
                ui.label(tint(RichText::new(row.layer))).on_hover_text(&row.computes);
                match &row.shape {
                    Some(shape) => ui.label(tint(RichText::new(format!("{shape:?}")).monospace())),
                    None => ui.label(tint(RichText::new("—"))),
                };
                ui.label(tint(RichText::new(if row.shape.is_some() { thousands(row.params) } else { String::new() })));
                let flops = ui.label(tint(RichText::new(if row.flops > 0 { si(row.flops) } else { String::new() })));
                if row.flops > 0 {
                    flops.on_hover_text(format!("2 × {} multiply-adds per image", thousands(row.flops / 2)));
                }
                match (&table.error, offending) {
                    (Some(e), true) => ui.label(RichText::new(&e.message).color(red)),
                    _ => ui.label(tint(RichText::new(row.formula.clone().unwrap_or_default()))),
                };
                if let Some((saturation, help)) = style.saturation {
                    match saturation.get(row.key) {
                        Some(s) => ui.label(format!("{:.0} %", s * 100.0)).on_hover_text(help),
                        None => ui.label(""),
                    };
                }
                ui.end_row();
            }
            ui.label(RichText::new("Total").strong());
            ui.label("");
            ui.label("");
            // Totals only when every stage was worked out (a network too big to train has them all).
            let complete = table.rows.iter().all(|r| r.shape.is_some());
            let total = |n: usize, f: fn(usize) -> String| if complete { f(n) } else { "—".to_string() };
            ui.label(RichText::new(total(table.total_params(), thousands)).strong());
            ui.label(RichText::new(total(table.total_flops(), si)).strong())
                .on_hover_text("Floating-point operations of one forward pass for one image (2 per multiply-add)");
            ui.label("");
            if style.saturation.is_some() {
                ui.label("");
            }
            ui.end_row();
        });
    });
    if scroll.content_size.x > scroll.inner_rect.width() + 1.0 {
        ui.weak("The table is wider than the tab: scroll sideways (Shift + wheel) for the size arithmetic.");
    }
    if let (Some(e), true) = (&table.error, style.error_below) {
        ui.colored_label(red, format!("Cannot train this network: {e}"));
    }
    clicked
}

/// One line under a table: parameters and FLOPs per image, or why it cannot be trained.
pub(crate) fn summary(table: &StageTable) -> String {
    match &table.error {
        None => format!("{} parameters · {} FLOPs per image", thousands(table.total_params()), si(table.total_flops())),
        Some(e) => format!("Cannot train this network: {e}"),
    }
}

/// 833040 → "833 k", 2_400_000 → "2.40 M".
pub(crate) fn si(n: usize) -> String {
    let x = n as f64;
    if n < 1000 {
        n.to_string()
    } else if x < 1e6 {
        format!("{:.0} k", x / 1e3)
    } else if x < 1e9 {
        format!("{:.2} M", x / 1e6)
    } else {
        format!("{:.2} G", x / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(spec: &str) -> ModelConfig {
        ModelConfig { arch: spec.parse().unwrap(), ..ModelConfig::default() }
    }

    #[test]
    fn lenet_rows_match_the_classic_table() {
        let t = StageTable::new(ModelConfig::default());
        assert!(t.error.is_none());
        let keys: Vec<&str> = t.rows.iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            ["c1", "c1.act", "s2", "c3", "c3.act", "s4", "flatten", "f5", "f5.act", "f6", "f6.act", "out"]
        );
        assert_eq!(t.total_params(), 61_706);
        assert_eq!(t.total_flops(), 2 * 416_520);
        assert_eq!(t.rows[0].formula.as_deref(), Some("(28 + 2·2 − 5)/1 + 1 = 28"));
        assert_eq!(t.rows[5].shape.as_deref(), Some(&[1, 16, 5, 5][..]));
        assert_eq!(t.rows[0].flops, 2 * 6 * 784 * 25);
        assert!(t.rows[11].computes.contains("one score (logit) per class"));
        assert_eq!(summary(&t), "61,706 parameters · 833 k FLOPs per image");
    }

    #[test]
    fn an_impossible_network_marks_its_stage_and_greys_the_rest() {
        let t = StageTable::new(cfg("c6k9-pool,c6k9-pool,c6k9-pool"));
        let e = t.error.clone().expect("three 9×9 blocks with pooling do not fit");
        assert_eq!(e.stage, Some("c5"));
        let c5 = t.rows.iter().position(|r| r.key == "c5").unwrap();
        assert!(t.rows[..c5].iter().all(|r| r.shape.is_some()));
        assert!(t.rows[c5..].iter().all(|r| r.shape.is_none()));
        assert_eq!(t.rows.last().unwrap().key, "out");
        assert!(summary(&t).contains("does not fit"));
        // Too many parameters: every stage is worked out, the biggest is marked.
        let big = StageTable::new(cfg("c64k1,f1024"));
        assert!(big.rows.iter().all(|r| r.shape.is_some()));
        assert!(big.is_offending("f2"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(61_706), "61,706");
        assert_eq!(thousands(7), "7");
        assert_eq!(si(999), "999");
        assert_eq!(si(833_040), "833 k");
        assert_eq!(si(2_400_000), "2.40 M");
    }
}
