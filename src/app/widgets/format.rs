//! Text the rooms share, so a figure or a message reads the same in every tab.

pub(crate) const LOCKED: &str = "Fixed for the current run: Stop it (or let it finish) to change this.";

/// 61706 → "61,706" (the engine's, so the CLI writes counts the same way).
pub(crate) use crate::engine::numbers::thousands;

/// Seconds as a clock: 75 → "1:15", 3725 → "1h02m".
pub(crate) fn format_secs(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
