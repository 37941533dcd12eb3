//! The x axis of every plot over a run, in epochs: one definition, so the stacked and linked plots label alike.

/// The x axis in epochs, shared by every plot over a run. Labels need only ~30 px apart (egui_plot's default asks 60,
/// which hides every epoch label of a 5-epoch run in a 1024 px window).
pub(crate) fn epoch_axis() -> egui_plot::AxisHints<'static> {
    epoch_ticks().label("epoch")
}

/// The same ticks without the axis name (the learning-rate plot under the two others).
pub(crate) fn epoch_ticks() -> egui_plot::AxisHints<'static> {
    egui_plot::AxisHints::new_x().label_spacing(28.0..=48.0)
}
