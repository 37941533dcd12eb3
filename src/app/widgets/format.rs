//! Text the rooms share, so a figure or a message reads the same in every tab.

pub(crate) const LOCKED: &str = "Fixed for the current run: Stop it (or let it finish) to change this.";

/// 61706 → "61,706".
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Seconds as a clock: 75 → "1:15", 3725 → "1h02m".
pub(crate) fn format_secs(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
