//! Checks of the command line's values made before anything runs: ranges, and outputs that would overwrite inputs.

use crate::engine::data::idx::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::engine::data::image_folder::is_image_folder;
use crate::engine::files::atomic_file::same_file;
use crate::engine::training::config::LR_RANGE;
use crate::error::printable;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The files a `--data` folder can be read from (that exist or not): the four IDX files, gzip or raw, its
/// SHA256SUMS and classes.txt.
pub(crate) fn data_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
        .iter()
        .flat_map(|stem| [dir.join(format!("{stem}.gz")), dir.join(stem)])
        .collect();
    files.push(dir.join("SHA256SUMS"));
    files.push(dir.join("classes.txt"));
    files
}

/// Refuses, before anything is written, an output (`flag`'s path) inside an image-folder data set: every image
/// under it is read by the run, a new PNG in a class folder would join the set, and its cache is written there.
pub(crate) fn check_not_in_image_folder(flag: &str, output: &Path, data: &Path) -> Result<()> {
    if !(data.is_dir() && is_image_folder(data)) {
        return Ok(());
    }
    let (Ok(root), Some(parent)) = (std::fs::canonicalize(data), output.parent()) else { return Ok(()) };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    // The nearest folder of the output that exists: a new subfolder of the data set is inside it too.
    let mut folder = Some(parent);
    while let Some(f) = folder {
        if let Ok(real) = std::fs::canonicalize(f) {
            if real.starts_with(&root) {
                return Err(Error::Config(format!(
                    "{flag} {} is inside the image folder {} that this run reads (its images and its cache): \
                     refusing to write there; choose a path outside it",
                    printable(&output.display().to_string()),
                    printable(&data.display().to_string())
                )));
            }
            return Ok(());
        }
        folder = f.parent();
    }
    Ok(())
}

/// Refuses, before anything is written, an output (`flag`'s path) that is one of the command's inputs.
pub(crate) fn check_not_input(flag: &str, output: &Path, inputs: &[PathBuf]) -> Result<()> {
    match inputs.iter().find(|i| same_file(output, i)) {
        Some(input) => Err(Error::Config(format!(
            "{flag} {} is one of this command's inputs ({}): refusing to overwrite it",
            printable(&output.display().to_string()),
            printable(&input.display().to_string())
        ))),
        None => Ok(()),
    }
}

/// Training steps `bench` accepts.
pub(crate) const BENCH_STEPS_RANGE: (usize, usize) = (1, 10_000);

/// `--lr` must lie in the window's slider range: anything else is refused before training, with the range.
pub(crate) fn check_lr(lr: Option<f64>) -> Result<()> {
    let (lo, hi) = LR_RANGE;
    match lr {
        Some(v) if !(lo..=hi).contains(&v) => Err(Error::Config(format!(
            "learning rate {v} is outside the allowed range {lo} to {hi} (the window's slider)"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn check_bench_steps(steps: u64) -> Result<usize> {
    let (lo, hi) = BENCH_STEPS_RANGE;
    if !(lo as u64..=hi as u64).contains(&steps) {
        return Err(Error::Config(format!("--steps {steps} is outside the allowed range {lo} to {hi}")));
    }
    Ok(steps as usize)
}
