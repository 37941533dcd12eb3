//! What a network costs in memory while it trains at a batch size, worked out from its stages before anything
//! runs: the parameter count does not bound it (three 64-channel 9×9 blocks with padding 8 are under the parameter
//! limit and need gigabytes at batch 1000). A run that would not fit in the machine's available memory is refused
//! with the figure, instead of swapping for minutes or dying on a failed allocation.

use crate::engine::data::set::IMAGE_PIXELS;
use crate::engine::files::bounded_read::read_bounded;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages::{self, StageKind};
use crate::{Error, Result};

const F32: u64 = 4;
/// A run may take this share of the memory available when it starts.
const MAX_SHARE: f64 = 0.8;

/// Bytes a training step of `cfg` at `batch` needs, about: every stage's output is kept for the backward pass and
/// gets a gradient of its size; the largest convolution's im2col buffers; the input batch; and four copies of the
/// parameters (values, gradients and the optimiser's two moments). `None` for a network that does not fit.
pub fn training_bytes(cfg: ModelConfig, batch: usize) -> Option<u64> {
    let stages = stages::try_stages(cfg).ok()?;
    let batch = batch as u64;
    let mut per_image = IMAGE_PIXELS as u64;
    let mut im2col = 0;
    for s in &stages {
        per_image += 2 * s.output.len() as u64;
        if let StageKind::Conv { in_channels, kernel, .. } = s.kind {
            // The convolution's columns are built per image forward and per chunk of images backward, on each
            // compute thread: they do not grow with the batch.
            let positions = (s.output.len() / s.output.dims(1)[1]) as u64;
            let columns = (in_channels * kernel * kernel) as u64 * positions;
            im2col = im2col.max(columns * (CONV_CHUNK + 2) * threads());
        }
    }
    let params: u64 = stages.iter().map(|s| s.kind.num_params() as u64).sum();
    Some(F32 * (batch * per_image + im2col + 4 * params))
}

/// Images per backward chunk of the convolution kernel (src/kernels/conv.rs), and the compute threads.
const CONV_CHUNK: u64 = 16;

fn threads() -> u64 {
    rayon::current_num_threads() as u64
}

/// The memory the system can give a new allocation without swapping (`MemAvailable`), if it says.
pub fn available_bytes() -> Option<u64> {
    let text = read_bounded(std::path::Path::new("/proc/meminfo"), 1 << 16).ok()?;
    let line = std::str::from_utf8(&text).ok()?.lines().find(|l| l.starts_with("MemAvailable:"))?.to_string();
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// What a run may use of `available` bytes.
fn budget(available: u64) -> u64 {
    (available as f64 * MAX_SHARE) as u64
}

/// The largest batch whose estimate fits in `budget` bytes (the estimate is `fixed + batch × per_image`), or None
/// when not even one image fits; with the per-image figure.
fn largest_batch(cfg: ModelConfig, budget: u64) -> (Option<u64>, u64) {
    let fixed = training_bytes(cfg, 0).unwrap_or(0);
    let per_image = training_bytes(cfg, 1).map_or(0, |one| one - fixed);
    (budget.checked_sub(fixed).map(|room| room / per_image.max(1)).filter(|&b| b >= 1), per_image)
}

/// Refuses a run whose estimate is over [`MAX_SHARE`] of `available` (when known), saying the figures and the
/// largest batch that fits.
pub fn check_training_memory(cfg: ModelConfig, batch: usize, available: Option<u64>) -> Result<()> {
    let (Some(need), Some(available)) = (training_bytes(cfg, batch), available) else { return Ok(()) };
    if need <= budget(available) {
        return Ok(());
    }
    let (fits, per_image) = largest_batch(cfg, budget(available));
    let what_to_do = match fits {
        Some(b) => format!("a batch size of at most {b} fits"),
        None => "even one image does not fit: make the network smaller".to_string(),
    };
    Err(Error::Config(format!(
        "training {} at batch {batch} needs about {} of memory (activations and their gradients, {} per image); \
         this machine has {} available: {what_to_do}",
        cfg.arch,
        bytes_text(need),
        bytes_text(per_image),
        bytes_text(available)
    )))
}

/// Estimates above this are worth a line beside the batch size.
const HINT_ABOVE_BYTES: u64 = 500_000_000;

/// What the side panel says under the batch size: nothing for an ordinary step; the estimate for a large one; a
/// warning (`true`) with the largest batch that fits when Train would be refused.
pub fn batch_hint(cfg: ModelConfig, batch: usize, available: Option<u64>) -> Option<(String, bool)> {
    let need = training_bytes(cfg, batch)?;
    if let Some(available) = available.filter(|&a| need > budget(a)) {
        let fits = match largest_batch(cfg, budget(available)).0 {
            Some(b) => format!("at most {b} fits"),
            None => "not even 1 fits".into(),
        };
        return Some((
            format!("needs ≈ {} of memory, {} available: {fits}", bytes_text(need), bytes_text(available)),
            true,
        ));
    }
    (need > HINT_ABOVE_BYTES).then(|| (format!("≈ {} of memory per step", bytes_text(need)), false))
}

/// 1536 → "1.5 KB", 9.5e9 → "9.5 GB" (powers of 1024, one decimal).
pub fn bytes_text(n: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_hint_is_silent_for_ordinary_steps_and_warns_before_a_refusal() {
        let lenet = ModelConfig::default();
        let gib = 1u64 << 30;
        assert_eq!(batch_hint(lenet, 100, Some(8 * gib)), None);
        let (big, warn) = batch_hint(lenet, 60_000, Some(64 * gib)).unwrap();
        assert!(!warn && big.starts_with("≈ ") && big.ends_with("GB of memory per step"), "{big}");
        let (refused, warn) = batch_hint(lenet, 60_000, Some(gib)).unwrap();
        assert!(warn && refused.contains("1.0 GB available: at most"), "{refused}");
        // The batch it names is one the refusal lets through, and one more is refused.
        let most: usize = refused.rsplit("at most ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(check_training_memory(lenet, most, Some(gib)).is_ok());
        assert!(check_training_memory(lenet, most + 1, Some(gib)).is_err());
        assert_eq!(batch_hint(lenet, 60_000, None).map(|h| h.1), Some(false), "unknown memory: the estimate only");
    }

    fn cfg(spec: &str) -> ModelConfig {
        ModelConfig { arch: spec.parse().unwrap(), ..ModelConfig::default() }
    }

    #[test]
    fn the_estimate_grows_with_the_batch_and_the_maps() {
        let lenet = training_bytes(cfg("lenet5"), 100).unwrap();
        // LeNet-5 at batch 100: a few tens of megabytes at most.
        assert!((1 << 20..64 << 20).contains(&lenet), "{}", bytes_text(lenet));
        assert!(training_bytes(cfg("lenet5"), 1000).unwrap() > 5 * lenet);
        // The case: three 64-channel 9×9 blocks with padding 8 at batch 1000 took 9.5 GB.
        let big = training_bytes(cfg("c64k9p8,c64k9p8,c64k9p8"), 1000).unwrap();
        assert!(big > 6 << 30, "{}", bytes_text(big));
        assert_eq!(training_bytes(cfg("c4k9-pool,c4k9-pool,c4k9"), 1), None, "a network that does not fit");
    }

    #[test]
    fn a_run_that_does_not_fit_is_refused_with_the_figures_and_a_batch_that_fits() {
        let net = cfg("c64k9p8,c64k9p8,c64k9p8");
        let e = check_training_memory(net, 1000, Some(4 << 30)).unwrap_err().to_string();
        assert!(e.contains("at batch 1000 needs about") && e.contains("4.0 GB available"), "{e}");
        assert!(e.contains("a batch size of at most"), "{e}");
        assert!(check_training_memory(net, 10, Some(1 << 40)).is_ok());
        assert!(check_training_memory(net, 1000, None).is_ok(), "unknown memory: not refused");
        assert!(check_training_memory(cfg("lenet5"), 100, Some(1 << 30)).is_ok());
        assert_eq!(bytes_text(1536), "1.5 KB");
    }
}
