//! The run store: every recorded run is a folder `runs/<id>/` under the data folder, holding `weights.safetensors`,
//! `metrics.csv` and `run.json` (written in that order, each atomically, so a folder without `run.json` is an
//! incomplete run). The CLI (`train --record`) and the app write the same folders; `runs` and the Runs view read
//! them. Reading is defensive: a damaged, oversized or foreign folder is skipped with a message, never a panic.
//!
//! The data folder is `$LENET_PLAYGROUND_HOME` when set, else `$XDG_DATA_HOME/lenet-playground`, else
//! `~/.local/share/lenet-playground`.

mod labels;
mod origin;
mod record;
mod recorder;
mod store;
mod stored_metrics;
pub use labels::{diff_label, settings_label, settings_summary, utc_date, utc_stamp};
pub use origin::{color_slot, end_x_epochs, RUN_COLOR_SLOTS};
pub use record::*;
pub use recorder::{summarize, RunRecorder};
pub use store::{data_dir, read_metrics_text, RunStore};
pub use stored_metrics::{parse_metrics_csv, BatchPoint, EpochPoint, StoredMetrics};
