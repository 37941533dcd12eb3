//! `eval`: a weights file against a test set — loss, accuracy overall and per class, the confusion matrix and the
//! most confused pairs; `--mistakes DIR` writes every misclassified test image as a PNG with an index.csv.

use super::checks::check_not_in_image_folder;
use super::output::{print_stderr, print_stdout};
use crate::engine::data::set::{Dataset, ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::files::atomic_file::{write_atomic, write_new};
use crate::engine::files::bounded_read::read_bounded;
use crate::engine::insight::evaluate::{
    confusion_table, evaluate_weights, in_weights_classes, most_confused, Evaluation,
};
use crate::engine::model::checkpoint;
use crate::engine::model::memory::bytes_text;
use crate::engine::model::weights::ModelWeights;
use crate::error::printable;
use crate::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// How many confused pairs are listed.
const TOP_PAIRS: usize = 5;

pub(super) fn run_eval(
    weights: &Path,
    data: Option<&Path>,
    json: bool,
    mistakes: Option<&PathBuf>,
    force: bool,
) -> Result<()> {
    // The folder is checked before minutes of evaluation: new, empty, or (with --force) only what eval wrote, and
    // not inside the image folder evaluated (its PNGs would join the data set).
    if let (Some(dir), Some(data)) = (mistakes, data) {
        check_not_in_image_folder("--mistakes", &dir.join("index.csv"), data)?;
    }
    let previous = match mistakes {
        Some(dir) => Some(previous_mistakes(dir, force)?),
        None => None,
    };
    let w = checkpoint::load(weights)?;
    // Classes by name: the matrix, the per-class lines and the mistakes are in the weights' classes.
    let data = test_in_weights_classes(&w, weights, data, "there is nothing to measure accuracy on")?;
    let test = &data.test;
    let ev = evaluate_weights(&w, test, None, &mut |_, _| {})?.unwrap_or_default();
    if !ev.loss.is_finite() {
        return Err(Error::weights(
            weights,
            format!(
                "the network's outputs overflow on the test set (test loss {}): the weights are finite but far too \
                 large to be trained LeNet-5 weights",
                ev.loss
            ),
        ));
    }
    let written = match (mistakes, previous) {
        (Some(dir), Some(previous)) => Some(write_mistakes(dir, &previous, test, &ev)?),
        _ => None,
    };
    let names = &w.class_names;
    let pairs = most_confused(&ev.confusion, TOP_PAIRS);
    if json {
        let mut v = serde_json::json!({
            "test_loss": ev.loss,
            "data_memory_bytes": data.memory_bytes(),
            "test_accuracy": ev.accuracy,
            "class_accuracy": ev.class_accuracy,
            "classes": names,
            "confusion": ev.confusion,
            "most_confused": pairs.iter().map(|p| serde_json::json!({
                "true": p.true_class, "predicted": p.predicted, "count": p.count
            })).collect::<Vec<_>>(),
        });
        if let (Some(n), Some(dir)) = (written, mistakes) {
            v["mistakes"] = serde_json::json!({"dir": dir.display().to_string(), "images": n});
        }
        print_stdout(&format!("{v}\n"));
        return Ok(());
    }
    let mut out = format!(
        "data: {}\ntest loss: {:.4}\ntest accuracy: {:.2}%\n",
        memory_line(&data),
        ev.loss,
        ev.accuracy * 100.0
    );
    for (name, a) in names.iter().zip(&ev.class_accuracy) {
        out.push_str(&format!("  {name:<12} {:.2}%\n", a * 100.0));
    }
    out.push_str("\nconfusion matrix (rows: true class, columns: predicted):\n");
    out.push_str(&confusion_table(&ev.confusion, names));
    out.push_str("\nmost confused:\n");
    if pairs.is_empty() {
        out.push_str("  none: every test image is classified correctly\n");
    }
    for p in &pairs {
        let row: u32 = ev.confusion[p.true_class].iter().sum();
        out.push_str(&format!(
            "  true {} → predicted {}: {} image{} ({:.1} % of the {}s)\n",
            names[p.true_class],
            names[p.predicted],
            p.count,
            if p.count == 1 { "" } else { "s" },
            100.0 * p.count as f64 / row.max(1) as f64,
            names[p.true_class]
        ));
    }
    if let (Some(n), Some(dir)) = (written, mistakes) {
        out.push_str(&format!(
            "\nwrote {n} misclassified images and index.csv to {}\n",
            printable(&dir.display().to_string())
        ));
    }
    print_stdout(&out);
    Ok(())
}

/// "MNIST (shipped, 10000 test images), 7.7 MB in memory: the test half (the training images are not read)".
fn memory_line(data: &Dataset) -> String {
    format!(
        "{}, {} in memory: the test half (the training images are not read)",
        data.describe_test_half(),
        bytes_text(data.memory_bytes())
    )
}

/// The test half of `data` (its notes printed) in the classes of the weights `w` read from `weights`; the
/// training images are not read. An empty test set is an error ending with `empty` (why the command needs
/// images).
pub(super) fn test_in_weights_classes(
    w: &ModelWeights,
    weights: &Path,
    data: Option<&Path>,
    empty: &str,
) -> Result<Dataset> {
    let loaded = Dataset::load_test_half_noted(data)?;
    for note in &loaded.notes {
        print_stderr(&format!("data: {}\n", printable(note)));
    }
    let mut data = loaded.data;
    if data.test.is_empty() {
        return Err(Error::Config(format!("the test set is empty: {empty}")));
    }
    // Renumbered only when the classes differ; otherwise the set is used in place (no copy).
    let renumbered = match in_weights_classes(&data.test, &data.class_names, &w.class_names) {
        Ok(Cow::Owned(test)) => Some(test),
        Ok(Cow::Borrowed(_)) => None,
        Err(Error::Config(m)) => return Err(Error::weights(weights, m)),
        Err(other) => return Err(other),
    };
    if let Some(test) = renumbered {
        data.test = test;
    }
    Ok(data)
}

/// The index `eval --mistakes` writes last, listing every image it wrote.
const INDEX_CSV: &str = "index.csv";
/// An index.csv of 10,000 images is about 300 KB.
const MAX_INDEX_BYTES: u64 = 4 << 20;

/// An image's file name: `<index>_true-<t>_pred-<p>.png`.
fn mistake_name(index: usize, label: u8, pred: u8) -> String {
    format!("{index}_true-{label}_pred-{pred}.png")
}

/// What a previous `eval --mistakes` left in `dir` (to be removed before writing), after checking that the folder
/// may be used: it does not exist, is empty, or — with `force` — holds nothing but an index.csv and the images it
/// lists. Anything else is refused, so no file eval did not write is overwritten or mixed with its output.
fn previous_mistakes(dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) if dir.exists() && !dir.is_dir() => {
            return Err(Error::write(dir, "not a folder").because(e));
        }
        Err(e) => return Err(Error::write(dir, "cannot read the folder").because(e)),
    };
    let mut names = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::write(dir, "cannot read the folder").because(e))?;
        names.push(e.file_name());
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if !force {
        return Err(Error::write(
            dir,
            format!(
                "the folder is not empty ({} entries): choose a new folder, or add --force to replace what an \
                 earlier `eval --mistakes` wrote there",
                names.len()
            ),
        ));
    }
    let index = dir.join(INDEX_CSV);
    let text = read_bounded(&index, MAX_INDEX_BYTES).ok().and_then(|b| String::from_utf8(b).ok());
    let listed: std::collections::HashSet<String> = match text {
        Some(text) => text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split(',');
                let (i, t, p) = (f.next()?.parse().ok()?, f.next()?.parse().ok()?, f.next()?.parse().ok()?);
                Some(mistake_name(i, t, p))
            })
            .collect(),
        None => Default::default(),
    };
    let mut ours = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let is_ours = name.to_str().is_some_and(|n| n == INDEX_CSV || listed.contains(n))
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if !is_ours {
            return Err(Error::write(
                dir,
                format!(
                    "--force replaces only what an earlier `eval --mistakes` wrote (index.csv and the images it \
                     lists), and the folder also holds {}: choose a new folder",
                    printable(&name.to_string_lossy())
                ),
            ));
        }
        ours.push(path);
    }
    Ok(ours)
}

/// Writes each misclassified image as `<index>_true-<t>_pred-<p>.png` (the test image as stored: 28×28, ink
/// white), in parallel and each as a new file, then `index.csv` (atomically: it is what says the set is whole);
/// returns how many images were written. `previous` (an earlier eval's files) is removed first. If anything fails,
/// the images written so far are removed again.
fn write_mistakes(dir: &Path, previous: &[PathBuf], test: &ImageSet, ev: &Evaluation) -> Result<usize> {
    for p in previous {
        std::fs::remove_file(p).map_err(|e| Error::write(p, "cannot remove the earlier file").because(e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, "cannot create the folder").because(e))?;
    let wrong: Vec<(usize, u8, u8)> = test
        .labels
        .iter()
        .zip(&ev.predictions.predicted)
        .enumerate()
        .filter(|(_, (l, p))| l != p)
        .map(|(i, (&l, &p))| (i, l, p))
        .collect();
    let results: Vec<Result<PathBuf>> = wrong
        .par_iter()
        .map(|&(i, label, pred)| {
            let path = dir.join(mistake_name(i, label, pred));
            let pixels = test.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].to_vec();
            let img = image::GrayImage::from_raw(IMAGE_SIDE as u32, IMAGE_SIDE as u32, pixels)
                .ok_or_else(|| Error::Internal("a test image has the wrong size".into()))?;
            let mut bytes = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .map_err(|e| Error::encode(format!("{} as PNG", path.display()), e))?;
            write_new(&path, &bytes)?;
            Ok(path)
        })
        .collect();
    let mut first_error = None;
    let mut written = Vec::new();
    for r in results {
        match r {
            Ok(p) => written.push(p),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    let mut csv = String::from("index,true,predicted,confidence\n");
    for &(i, label, pred) in &wrong {
        csv.push_str(&format!("{i},{label},{pred},{:.4}\n", ev.predictions.confidence[i]));
    }
    let result = match first_error {
        Some(e) => Err(e),
        None => write_atomic(&dir.join(INDEX_CSV), csv.as_bytes()),
    };
    if let Err(e) = result {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    Ok(wrong.len())
}
