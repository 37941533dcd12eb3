//! What one training step costs in memory, estimated from the batch size alone, so a front end can warn before a
//! run starts that a large batch will need gigabytes (measured: batch 10,000 peaks at about 0.6 GB, 60,000 at about
//! 3 GB; the activations and their gradients grow with the batch, the rest is fixed).

/// Memory that does not grow with the batch: the data set, the model, the optimiser state, the runtime.
const FIXED_BYTES: u64 = 120_000_000;
/// Per image of a batch: the activations of every stage and their gradients, as f32.
const PER_IMAGE_BYTES: u64 = 48_000;
/// Above this estimate a front end says so.
pub const HINT_ABOVE_BYTES: u64 = 500_000_000;

/// The estimated peak memory of one training step at `batch_size`, in bytes.
pub fn step_peak_bytes(batch_size: usize) -> u64 {
    FIXED_BYTES + PER_IMAGE_BYTES * batch_size as u64
}

/// "≈ 0.6 GB per step" when the estimate is over [`HINT_ABOVE_BYTES`], else None.
pub fn step_memory_hint(batch_size: usize) -> Option<String> {
    let bytes = step_peak_bytes(batch_size);
    (bytes > HINT_ABOVE_BYTES).then(|| format!("≈ {:.1} GB of memory per step", bytes as f64 / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_matches_the_measured_peaks_and_hints_only_when_large() {
        let gb = |b| step_peak_bytes(b) as f64 / 1e9;
        assert!((gb(10_000) - 0.6).abs() < 0.1, "{}", gb(10_000));
        assert!((gb(60_000) - 3.0).abs() < 0.3, "{}", gb(60_000));
        assert_eq!(step_memory_hint(100), None);
        assert_eq!(step_memory_hint(5_000), None);
        assert_eq!(step_memory_hint(10_000).as_deref(), Some("≈ 0.6 GB of memory per step"));
        assert_eq!(step_memory_hint(60_000).as_deref(), Some("≈ 3.0 GB of memory per step"));
    }
}
