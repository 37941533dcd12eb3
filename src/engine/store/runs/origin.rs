//! Where a run started from. A run either starts from fresh weights (no origin) or continues from weights that were
//! trained before — another run's, or a weights file's — and then says so: `run.json` records the origin and the
//! epoch offset (how many epochs the starting weights had been trained), and every position the run records (its
//! batches' and epochs' `x_epochs`, learning-rate changes, hints) counts from that offset, as the window's plots do.
//! Epoch and batch *numbers* stay the run's own (epoch 1 is this run's first), so its coach judges it on its own
//! history.

use super::record::{ContinuedFrom, RunOrigin, RunRecord, StoredRun};
use std::path::Path;

impl ContinuedFrom {
    /// Continues a recorded run: its id and name, starting where it ended.
    pub fn run(stored: &StoredRun) -> Self {
        ContinuedFrom {
            origin: RunOrigin::Run { id: stored.id().to_string(), name: stored.record.name.clone() },
            epoch_offset: end_x_epochs(&stored.record),
        }
    }

    /// Continues from a weights file, at epoch 0 (a file does not say how long it was trained).
    pub fn weights_file(path: &Path) -> Self {
        ContinuedFrom { origin: RunOrigin::WeightsFile { path: path.display().to_string() }, epoch_offset: 0.0 }
    }

    /// `continued from 'Adam lr 0.003' at epoch 5.00` (`name_of` gives a recorded run's current name by id).
    pub fn describe(&self, name_of: impl Fn(&str) -> Option<String>) -> String {
        let what = match &self.origin {
            RunOrigin::Run { id, name } => format!("'{}'", name_of(id).unwrap_or_else(|| format!("{name}, deleted"))),
            RunOrigin::WeightsFile { path } => {
                let file = Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned());
                format!("file {}", file.unwrap_or_else(|| path.clone()))
            }
            RunOrigin::Unrecorded { name } => format!("'{name}' (not recorded)"),
        };
        format!("continued from {what} at epoch {:.2}", self.epoch_offset)
    }
}

/// Where a recorded run ended on its x axis (epochs since its weights were fresh): what a run continuing from its
/// weights starts at.
pub fn end_x_epochs(record: &RunRecord) -> f64 {
    let offset = record.continued_from.as_ref().map_or(0.0, |c| c.epoch_offset);
    record.summary.end_x_epochs.unwrap_or(offset + record.summary.epochs_completed as f64)
}

/// How many colours the window's run palette has: a run's `color_slot` is below it.
pub const RUN_COLOR_SLOTS: u32 = 8;

/// A run's colour slot for life: the stored one, else (runs saved before slots existed) one derived from its id.
pub fn color_slot(record: &RunRecord) -> u32 {
    record.color_slot.map(|s| s % RUN_COLOR_SLOTS).unwrap_or_else(|| {
        // FNV-1a of the id: stable across sessions and list changes.
        let h = record.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        (h % RUN_COLOR_SLOTS as u64) as u32
    })
}

/// The least used slot among `taken` (lowest first on a tie): a new run's colour, apart from the others' as long as
/// there are free ones.
pub(super) fn free_color_slot(taken: impl Iterator<Item = u32>) -> u32 {
    let mut used = [0usize; RUN_COLOR_SLOTS as usize];
    for s in taken {
        used[(s % RUN_COLOR_SLOTS) as usize] += 1;
    }
    (0..RUN_COLOR_SLOTS).min_by_key(|&s| used[s as usize]).unwrap_or(0)
}

/// `name`, or `name (2)`, `name (3)`… — the first that no other run has.
pub(super) fn unique_name(name: &str, taken: &[&str]) -> String {
    if !taken.contains(&name) {
        return name.to_string();
    }
    (2..)
        .map(|n| format!("{name} ({n})"))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_unique_and_slots_spread() {
        assert_eq!(unique_name("Adam lr 0.003", &[]), "Adam lr 0.003");
        assert_eq!(unique_name("Adam lr 0.003", &["Adam lr 0.003"]), "Adam lr 0.003 (2)");
        assert_eq!(unique_name("A", &["A", "A (2)"]), "A (3)");
        assert_eq!(free_color_slot([0, 1, 3].into_iter()), 2);
        assert_eq!(free_color_slot((0..8).chain([0])), 1);
    }

    #[test]
    fn an_origin_reads_back_and_describes_itself() {
        let c = ContinuedFrom { origin: RunOrigin::Run { id: "x".into(), name: "old".into() }, epoch_offset: 5.0 };
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"kind\":\"run\""), "{json}");
        assert_eq!(serde_json::from_str::<ContinuedFrom>(&json).unwrap(), c);
        assert_eq!(c.describe(|_| Some("new".into())), "continued from 'new' at epoch 5.00");
        assert_eq!(c.describe(|_| None), "continued from 'old, deleted' at epoch 5.00");
        let f = ContinuedFrom::weights_file(Path::new("/tmp/w.safetensors"));
        assert_eq!(f.describe(|_| None), "continued from file w.safetensors at epoch 0.00");
    }
}
