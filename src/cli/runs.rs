//! `runs`: the recorded runs of the data folder as a table, or one JSON object per run per line.

use super::output::{print_stderr, print_stdout};
use crate::engine::store::runs::{data_dir, settings_summary, utc_date, RunStore, StoredRun};
use crate::error::printable;
use crate::{Error, Result};

/// The store of `data_dir()`, with its runs folder created (used by `train --record` before it trains).
pub(super) fn prepare_store() -> Result<RunStore> {
    let store = RunStore::new(data_dir()?);
    let dir = store.runs_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, "cannot create the runs folder").because(e))?;
    crate::engine::files::atomic_file::check_writable(&dir.join("run.json"))?;
    Ok(store)
}

pub(super) fn run_runs(json: bool) -> Result<()> {
    let store = RunStore::new(data_dir()?);
    store.check_readable()?;
    let list = store.list();
    for m in &list.skipped {
        print_stderr(&format!("warning: {}\n", printable(m)));
    }
    let mut out = String::new();
    if json {
        for r in &list.runs {
            out.push_str(&json_line(r));
            out.push('\n');
        }
    } else if list.runs.is_empty() {
        print_stderr(&format!(
            "no recorded runs in {} (record one with `train --record`)\n",
            store.runs_dir().display()
        ));
    } else {
        out.push_str(&table(&list.runs));
    }
    print_stdout(&out);
    if !json && !list.runs.is_empty() {
        print_stderr(&format!(
            "{} run(s) in {}, {:.1} MB\n",
            list.runs.len(),
            store.runs_dir().display(),
            store.disk_usage() as f64 / 1e6
        ));
    }
    Ok(())
}

fn json_line(r: &StoredRun) -> String {
    let rec = &r.record;
    serde_json::json!({
        "id": rec.id,
        "name": rec.name,
        "created_unix": rec.created_unix,
        "source": rec.source,
        "status": rec.status,
        "test_accuracy": rec.summary.test_accuracy,
        "best_test_accuracy": rec.summary.best_test_accuracy,
        "epochs_completed": rec.summary.epochs_completed,
        "duration_secs": rec.summary.duration_secs,
        "dataset": rec.dataset,
        "config": rec.config,
        "arch": rec.config.model.arch.spec(),
        "params": crate::engine::model::stages::try_stages(rec.config.model)
            .map(|s| s.iter().map(|s| s.kind.num_params()).sum::<usize>())
            .ok(),
        "lr_changes": rec.lr_changes.len(),
        "continued_from": rec.continued_from,
        "path": r.dir.display().to_string(),
    })
    .to_string()
}

fn pct(a: Option<f32>) -> String {
    a.map(|a| format!("{:.2}%", a * 100.0)).unwrap_or_else(|| "-".into())
}

fn table(runs: &[StoredRun]) -> String {
    let rows: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            let rec = &r.record;
            // One row per run: a name with a newline or ESC (an old or hand-edited run.json) is shown escaped.
            [
                printable(&rec.name),
                rec.id.clone(),
                utc_date(rec.created_unix),
                rec.status.key().to_string(),
                pct(rec.summary.best_test_accuracy),
                pct(rec.summary.test_accuracy),
                printable(&settings_summary(&rec.config)),
            ]
        })
        .collect();
    let header = ["name", "id", "date (UTC)", "status", "best test", "final test", "settings"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}
