//! Short human labels of a run's settings (`Adam lr 0.003`, `SGD lr 0.9 → Adam lr 0.003`, `c1 6→16 channels`) and
//! its dates.

use crate::engine::model::architecture::Architecture;
use crate::engine::training::config::{lr_text, Optimizer, TrainConfig};

fn optimizer_short(o: Optimizer) -> &'static str {
    match o {
        Optimizer::Sgd => "SGD",
        Optimizer::Momentum => "Momentum",
        Optimizer::Adam => "Adam",
    }
}

/// Each setting as a short phrase, in the order labels show them.
fn phrases(c: &TrainConfig) -> [(&'static str, String); 10] {
    [
        ("optimizer", optimizer_short(c.optimizer).to_string()),
        ("lr", format!("lr {}", lr_text(c.lr))),
        ("schedule", c.schedule.summary()),
        ("activation", c.model.activation.label().to_string()),
        ("pooling", format!("{} pool", c.model.pooling.key())),
        ("init", format!("{} init", c.init.key())),
        ("batch", format!("batch {}", c.batch_size)),
        ("epochs", format!("{} ep", c.epochs)),
        ("seed", format!("seed {}", c.seed)),
        ("limit", c.limit.map(|n| format!("{n} images")).unwrap_or_else(|| "all images".into())),
    ]
}

/// The network in a label: its preset's key (`mlp`) or its text form; None for LeNet-5, which labels never name.
fn arch_phrase(c: &TrainConfig) -> Option<String> {
    let arch = c.model.arch;
    (arch != Architecture::lenet5()).then(|| arch.preset_key().map(str::to_string).unwrap_or_else(|| arch.spec()))
}

/// A short name for a run's settings: `Adam lr 0.003` (plus the schedule when not constant, and the network when
/// it is not LeNet-5: `Adam lr 0.003 · mlp`).
pub fn settings_label(c: &TrainConfig) -> String {
    let p = phrases(c);
    let mut s = format!("{} {}", p[0].1, p[1].1);
    if c.schedule != crate::engine::training::schedule::Schedule::Constant {
        s.push(' ');
        s.push_str(&p[2].1);
    }
    if let Some(arch) = arch_phrase(c) {
        s.push_str(" · ");
        s.push_str(&arch);
    }
    s
}

/// Every setting in one line, for tables and tooltips (the network first when it is not LeNet-5).
pub fn settings_summary(c: &TrainConfig) -> String {
    let p = phrases(c);
    let rest = p[2..].iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" · ");
    let arch = arch_phrase(c).map(|a| format!("{a} · ")).unwrap_or_default();
    format!("{arch}{} {} · {rest}", p[0].1, p[1].1)
}

/// What changed from the run before: `SGD lr 0.9 → Adam lr 0.003`, then the network's changes in its layers'
/// words (`c1 6→16 channels, +f3 64`; see [`Architecture::differences`]); the settings label for the first run,
/// and `same settings` when nothing differs.
pub fn diff_label(prev: Option<&TrainConfig>, cur: &TrainConfig) -> String {
    let Some(prev) = prev else { return settings_label(cur) };
    let (a, b) = (phrases(prev), phrases(cur));
    let differs: Vec<usize> = (0..a.len()).filter(|&i| a[i].1 != b[i].1).collect();
    let arch = prev.model.arch.differences(&cur.model.arch);
    if differs.is_empty() && arch.is_empty() {
        return format!("{} (same settings)", settings_label(cur));
    }
    let join = |p: &[(&str, String); 10]| differs.iter().map(|&i| p[i].1.as_str()).collect::<Vec<_>>().join(" ");
    let settings = (!differs.is_empty()).then(|| format!("{} → {}", join(&a), join(&b)));
    settings.into_iter().chain((!arch.is_empty()).then(|| arch.join(", "))).collect::<Vec<_>>().join(", ")
}

/// `YYYYMMDD-HHMMSS` of a Unix time, UTC.
pub fn utc_stamp(unix_secs: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(unix_secs);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

/// `YYYY-MM-DD HH:MM` of a Unix time, UTC (for tables).
pub fn utc_date(unix_secs: u64) -> String {
    let (y, mo, d, h, mi, _) = utc_parts(unix_secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

fn utc_parts(unix_secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}
