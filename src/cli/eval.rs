//! `eval`: a weights file against a test set — loss, accuracy overall and per class, the confusion matrix and the
//! most confused pairs; `--mistakes DIR` writes every misclassified test image as a PNG with an index.csv.

use super::print_stdout;
use crate::engine::data::mnist::{Dataset, ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::insight::evaluate::{confusion_table, evaluate_weights, most_confused, Evaluation};
use crate::engine::model::checkpoint;
use crate::engine::store::atomic_file::write_atomic;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// How many confused pairs are listed.
const TOP_PAIRS: usize = 5;

pub(super) fn run_eval(weights: &Path, data: Option<&Path>, json: bool, mistakes: Option<&PathBuf>) -> Result<()> {
    let w = checkpoint::load(weights)?;
    let data = Dataset::load(data)?;
    if data.test.is_empty() {
        return Err(Error::Config("the test set is empty: there is nothing to measure accuracy on".into()));
    }
    let ev = evaluate_weights(&w, &data.test, None, &mut |_, _| {})?.unwrap_or_default();
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
    let written = match mistakes {
        Some(dir) => Some(write_mistakes(dir, &data.test, &ev)?),
        None => None,
    };
    let names = &data.class_names;
    let pairs = most_confused(&ev.confusion, TOP_PAIRS);
    if json {
        let mut v = serde_json::json!({
            "test_loss": ev.loss,
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
    let mut out =
        format!("data: {}\ntest loss: {:.4}\ntest accuracy: {:.2}%\n", data.describe(), ev.loss, ev.accuracy * 100.0);
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
        out.push_str(&format!("\nwrote {n} misclassified images and index.csv to {}\n", dir.display()));
    }
    print_stdout(&out);
    Ok(())
}

/// Writes each misclassified image as `<index>_true-<t>_pred-<p>.png` (the test image as stored: 28×28, ink
/// white) and `index.csv`; returns how many images were written.
fn write_mistakes(dir: &Path, test: &ImageSet, ev: &Evaluation) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, "cannot create the folder").because(e))?;
    let mut csv = String::from("index,true,predicted,confidence\n");
    let mut n = 0;
    for (i, (&label, &pred)) in test.labels.iter().zip(&ev.predictions.predicted).enumerate() {
        if label == pred {
            continue;
        }
        let pixels = test.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].to_vec();
        let img = image::GrayImage::from_raw(IMAGE_SIDE as u32, IMAGE_SIDE as u32, pixels)
            .ok_or_else(|| Error::Internal("a test image has the wrong size".into()))?;
        let path = dir.join(format!("{i}_true-{label}_pred-{pred}.png"));
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .map_err(|e| Error::encode(format!("{} as PNG", path.display()), e))?;
        write_atomic(&path, &bytes)?;
        csv.push_str(&format!("{i},{label},{pred},{:.4}\n", ev.predictions.confidence[i]));
        n += 1;
    }
    write_atomic(&dir.join("index.csv"), csv.as_bytes())?;
    Ok(n)
}
