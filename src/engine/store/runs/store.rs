//! The run store's operations: saving a run as a folder (each file atomically, `run.json` last), listing the
//! folders defensively, renaming and deleting.

use super::labels::{settings_label, utc_stamp};
use super::origin;
use super::origin::color_slot;
use super::record::*;
use super::stored_metrics::{parse_metrics_csv, StoredMetrics};
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::files::bounded_read::{read_bounded, Refusal};
use crate::engine::model::checkpoint;
use crate::engine::model::weights::ModelWeights;
use crate::error::printable;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The data folder: `$LENET_PLAYGROUND_HOME`, else `$XDG_DATA_HOME/lenet-playground`, else
/// `~/.local/share/lenet-playground` (empty variables count as unset).
pub fn data_dir() -> Result<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = var("LENET_PLAYGROUND_HOME") {
        return Ok(home);
    }
    if let Some(xdg) = var("XDG_DATA_HOME") {
        return Ok(xdg.join("lenet-playground"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home.join(".local/share/lenet-playground"));
    }
    Err(Error::Config("no data folder: set LENET_PLAYGROUND_HOME (or HOME) to say where runs are kept".into()))
}

#[derive(Debug, Clone)]
pub struct RunStore {
    data_dir: PathBuf,
}

impl RunStore {
    /// The store under a given data folder (tests pass a temporary one).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        RunStore { data_dir: data_dir.into() }
    }
    /// The store under `data_dir()`.
    pub fn open_default() -> Result<Self> {
        Ok(RunStore::new(data_dir()?))
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    pub fn runs_dir(&self) -> PathBuf {
        self.data_dir.join("runs")
    }

    /// Writes a run into a new folder (weights, metrics, then run.json) and returns it as stored.
    pub fn save(&self, run: &NewRun) -> Result<StoredRun> {
        let runs_dir = self.runs_dir();
        std::fs::create_dir_all(&runs_dir)
            .map_err(|e| Error::write(&runs_dir, "cannot create the runs folder").because(e))?;
        let (id, dir) = create_run_dir(&runs_dir)?;
        let mut record = run.record.clone();
        record.format = FORMAT.into();
        record.id = id;
        if record.name.trim().is_empty() {
            record.name = settings_label(&record.config);
        }
        // Apart from every other run: its own name (two runs of one name would be one legend entry) and a colour
        // slot of its own while free ones last.
        let others = self.list().runs;
        let names: Vec<&str> = others.iter().map(|r| r.record.name.as_str()).collect();
        record.name = origin::unique_name(&record.name, &names);
        record.color_slot = Some(origin::free_color_slot(others.iter().map(|r| color_slot(&r.record))));
        let written = (|| {
            if let Some(w) = &run.weights {
                checkpoint::save(&dir.join(WEIGHTS_FILE), w)?;
            }
            write_atomic(&dir.join(METRICS_CSV), run.metrics_csv.as_bytes())?;
            write_record(&dir, &record)?;
            read_run(&dir).map_err(|m| Error::write(dir.join(RUN_JSON), m))
        })();
        if written.is_err() {
            // No half folder: what was written of this run goes (each file's temporary is already gone).
            let _ = std::fs::remove_dir_all(&dir);
        }
        written
    }

    /// Fails (naming the folder) if the runs folder exists but cannot be listed: a file, not readable. A store that
    /// does not exist yet is fine: it has no runs.
    pub fn check_readable(&self) -> Result<()> {
        let runs_dir = self.runs_dir();
        match std::fs::metadata(&runs_dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::data(&runs_dir, "cannot read the runs folder").because(e)),
            Ok(m) if !m.is_dir() => return Err(Error::data(&runs_dir, "the runs folder is not a folder")),
            Ok(_) => {}
        }
        std::fs::read_dir(&runs_dir)
            .map(drop)
            .map_err(|e| Error::data(&runs_dir, "cannot read the runs folder").because(e))
    }

    /// Every complete run, oldest first; every other folder is skipped with a message saying why.
    pub fn list(&self) -> RunList {
        let mut out = RunList::default();
        let runs_dir = self.runs_dir();
        let entries = match std::fs::read_dir(&runs_dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
            Err(e) => {
                out.skipped.push(format!("{}: cannot read the runs folder: {e}", runs_dir.display()));
                return out;
            }
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .collect();
        dirs.sort();
        // Each folder once, whatever links point at it: one run, one id.
        let mut seen = std::collections::HashSet::new();
        for dir in dirs {
            if !dir.is_dir() {
                out.skipped.push(format!("{}: not a run folder (a file), skipped", dir.display()));
                continue;
            }
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !is_run_id(name) {
                out.skipped.push(format!(
                    "{}: not a run id (letters, digits, '-', '_' and '.' only), skipped",
                    printable(&dir.display().to_string())
                ));
                continue;
            }
            if let Ok(real) = std::fs::canonicalize(&dir) {
                if !seen.insert(real.clone()) {
                    out.skipped.push(format!(
                        "{}: the same folder as another run ({}), skipped",
                        dir.display(),
                        real.display()
                    ));
                    continue;
                }
            }
            match read_run(&dir) {
                Ok(r) => out.runs.push(r),
                Err(m) => out.skipped.push(format!("{}: {m}, skipped", dir.display())),
            }
        }
        // Oldest first: by creation time (ms when known), then id.
        out.runs.sort_by_key(|r| {
            let ms = if r.record.created_unix_ms > 0 { r.record.created_unix_ms } else { r.record.created_unix * 1000 };
            (ms, r.record.id.clone())
        });
        out
    }

    /// The run with this id.
    pub fn get(&self, id: &str) -> Result<StoredRun> {
        let dir = self.run_dir(id)?;
        read_run(&dir).map_err(|m| Error::data(dir.join(RUN_JSON), m))
    }

    pub fn rename(&self, id: &str, name: &str) -> Result<StoredRun> {
        let dir = self.run_dir(id)?;
        let mut run = read_run(&dir).map_err(|m| Error::data(dir.join(RUN_JSON), m))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Config("a run's name cannot be empty".into()));
        }
        check_run_name(name).map_err(Error::Config)?;
        let others = self.list().runs;
        let names: Vec<&str> = others.iter().filter(|r| r.id() != id).map(|r| r.record.name.as_str()).collect();
        run.record.name = origin::unique_name(name, &names);
        write_record(&dir, &run.record)?;
        Ok(run)
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        let dir = self.run_dir(id)?;
        // remove_dir_all removes a symbolic link itself, never what it points to.
        std::fs::remove_dir_all(&dir).map_err(|e| Error::write(&dir, format!("cannot delete the run: {e}")))
    }

    /// Deletes all but the newest `keep` runs; returns how many were deleted.
    pub fn clear_old(&self, keep: usize) -> Result<usize> {
        let runs = self.list().runs;
        let n = runs.len().saturating_sub(keep);
        for r in &runs[..n] {
            self.delete(r.id())?;
        }
        Ok(n)
    }

    /// Bytes used by the runs folder (its run folders' files).
    pub fn disk_usage(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(self.runs_dir()) else { return 0 };
        entries.filter_map(|e| e.ok()).map(|e| dir_bytes(&e.path())).sum()
    }

    pub fn load_weights(&self, run: &StoredRun) -> Result<ModelWeights> {
        let path = run.weights_path();
        checkpoint::load(&path)
    }

    pub fn load_metrics(&self, run: &StoredRun) -> Result<StoredMetrics> {
        let path = run.metrics_path();
        let text = read_bounded_text(&path, MAX_METRICS_BYTES).map_err(|m| Error::data(&path, m))?;
        parse_metrics_csv(&text).map_err(|m| Error::data(&path, m))
    }

    fn run_dir(&self, id: &str) -> Result<PathBuf> {
        if !is_run_id(id) {
            return Err(Error::Config(format!("'{id}' is not a run id")));
        }
        let dir = self.runs_dir().join(id);
        if !dir.is_dir() {
            return Err(Error::Config(format!("no run '{id}' in {}", self.runs_dir().display())));
        }
        Ok(dir)
    }
}

/// A run folder's name: what `get`, `rename` and `delete` accept.
fn is_run_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn write_record(dir: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_string_pretty(record).map_err(|e| Error::encode("run.json", e))?;
    write_atomic(&dir.join(RUN_JSON), format!("{json}\n").as_bytes())
}

fn create_run_dir(runs_dir: &Path) -> Result<(String, PathBuf)> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut seed = now.as_nanos() as u64 ^ ((std::process::id() as u64) << 32);
    for _ in 0..64 {
        // splitmix64 step: a different 4-hex suffix on each try.
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let id = format!("{}-{:04x}", utc_stamp(now.as_secs()), z & 0xffff);
        let dir = runs_dir.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::write(&dir, "cannot create the run folder").because(e)),
        }
    }
    Err(Error::write(runs_dir, "could not find a free run id"))
}

/// Reads one run folder; the error says what is wrong with it.
fn read_run(dir: &Path) -> std::result::Result<StoredRun, String> {
    let json_path = dir.join(RUN_JSON);
    if !json_path.is_file() {
        return Err("no run.json (an incomplete run or not a run folder)".into());
    }
    let text = read_bounded_text(&json_path, MAX_RUN_JSON_BYTES)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("run.json is not JSON ({e})"))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(f) => return Err(format!("run.json has format '{f}', expected {FORMAT}")),
        None => return Err("run.json is not a LeNet-5 Playground run (no format)".into()),
    }
    let mut record: RunRecord = serde_json::from_value(value).map_err(|e| format!("run.json is damaged ({e})"))?;
    check_summary(&record.summary)?;
    // The folder is the truth for the id (a copied folder keeps working).
    if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
        record.id = name.to_string();
    }
    let weights = dir.join(WEIGHTS_FILE);
    Ok(StoredRun {
        dir: dir.to_path_buf(),
        record,
        has_weights: weights.is_file(),
        has_metrics: dir.join(METRICS_CSV).is_file(),
        bytes: dir_bytes(dir),
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(dir) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::symlink_metadata(e.path()).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn too_large(path: &Path, len: u64, max: u64) -> String {
    format!("{} is {len} bytes, more than the {max} a run file may have", file_name(path))
}

/// A stored metrics.csv as text, refused above `MAX_METRICS_BYTES` before reading.
pub fn read_metrics_text(path: &Path) -> Result<String> {
    read_bounded_text(path, MAX_METRICS_BYTES).map_err(|m| Error::data(path, m))
}

/// Reads a text file of at most `max` bytes (checked before reading, and enforced while reading).
fn read_bounded_text(path: &Path, max: u64) -> std::result::Result<String, String> {
    let bytes = read_bounded(path, max).map_err(|r| match r {
        Refusal::NotFound(e) | Refusal::Io(e) => format!("cannot read {}: {e}", file_name(path)),
        Refusal::NotRegular(what) => format!("{} is not a regular file ({what})", file_name(path)),
        Refusal::TooLarge(len) => too_large(path, len, max),
        Refusal::Grew => format!("{} grew past {max} bytes while reading", file_name(path)),
    })?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not text (UTF-8)", file_name(path)))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

impl RunStore {
    /// The origin of a run started from the weights file at `path`: the run whose `weights.safetensors` it is, when
    /// it is in this store (so `train --init-from runs/<id>/weights.safetensors` continues that run, at its end),
    /// else the file itself at epoch 0.
    pub fn origin_of_weights(&self, path: &Path) -> ContinuedFrom {
        let in_store = || -> Option<ContinuedFrom> {
            let real = std::fs::canonicalize(path).ok()?;
            let runs = std::fs::canonicalize(self.runs_dir()).ok()?;
            let dir = real.parent()?;
            if real.file_name()? != WEIGHTS_FILE || dir.parent()? != runs {
                return None;
            }
            let run = self.get(dir.file_name()?.to_str()?).ok()?;
            Some(ContinuedFrom::run(&run))
        };
        in_store().unwrap_or_else(|| ContinuedFrom::weights_file(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::runs::labels::{diff_label, settings_summary, utc_date, utc_stamp};
    use crate::engine::training::config::{Preset, TrainConfig};

    #[test]
    fn dates_and_ids_are_utc_and_sortable() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_796_083_199), "20261130-235959");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00");
    }

    #[test]
    fn labels_say_what_differs_from_the_run_before() {
        let classic = TrainConfig::preset(Preset::Classic);
        let default = TrainConfig { epochs: classic.epochs, ..TrainConfig::default() };
        assert_eq!(diff_label(Some(&classic), &default), "SGD lr 0.9 → Adam lr 0.003");
        assert_eq!(diff_label(None, &default), "Adam lr 0.003");
        assert!(diff_label(Some(&default), &default).contains("same settings"));
        // The network's changes come in its layers' words, after the settings'.
        let with = |arch: &str, c: &TrainConfig| {
            let mut c = c.clone();
            c.model.arch = arch.parse().unwrap();
            c
        };
        let wide_c1 = with("c16k5p2-pool,c16k5-pool,f120,f84", &default);
        assert_eq!(diff_label(Some(&default), &wide_c1), "c1 6→16 channels");
        assert_eq!(diff_label(Some(&classic), &wide_c1), "SGD lr 0.9 → Adam lr 0.003, c1 6→16 channels");
        let mlp = with("mlp", &default);
        assert_eq!(diff_label(Some(&mlp), &with("f300,f100,f64", &default)), "+f3 64");
        assert_eq!(diff_label(None, &mlp), "Adam lr 0.003 · mlp");
        assert!(settings_summary(&mlp).starts_with("mlp · Adam lr 0.003 · "), "{}", settings_summary(&mlp));
        assert!(!settings_summary(&default).contains("c6k5"));
    }

    #[test]
    fn old_run_records_without_an_architecture_are_lenet5() {
        let old = r#"{"format":"lenet-playground-run/1","id":"20260101-000000-abcd","name":"x","source":"cli",
            "status":"finished","config":{"model":{"activation":"sigmoid","pooling":"avg"},"init":"xavier",
            "optimizer":"adam","lr":0.003,"epochs":1,"batch_size":100,"seed":42,"limit":null}}"#;
        let rec: RunRecord = serde_json::from_str(old).unwrap();
        assert_eq!(rec.config.model.arch, crate::engine::model::architecture::Architecture::lenet5());
        assert_eq!(rec.config.model.classes, 10);
        let mlp: RunRecord =
            serde_json::from_str(&old.replace(r#""pooling":"avg""#, r#""pooling":"avg","arch":"mlp""#)).unwrap();
        assert_eq!(mlp.config.model.arch.spec(), "f300,f100");
    }
}
