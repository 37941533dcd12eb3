//! `bench`: the engine's throughput, latency and memory on this machine (`engine::training::bench`), for LeNet-5
//! or any `--arch`, as text or one JSON line (what `benches/compare.sh` reads).

use super::output::{print_stderr, print_stdout};
use crate::engine::data::set::Dataset;
use crate::engine::model::architecture::Architecture;
use crate::engine::training::bench;
use crate::Result;

pub(super) fn run_bench(steps: usize, arch: Architecture, json: bool) -> Result<()> {
    let data = Dataset::shipped_mnist()?;
    let r = bench::run(&data, steps, arch, &mut |m| print_stderr(&format!("bench: {m}\n")))?;
    if json {
        print_stdout(&format!("{}\n", serde_json::to_string(&r).unwrap_or_default()));
        return Ok(());
    }
    print_stdout(&format!(
        "machine: {} threads\nnetwork: {} ({} parameters)\ntraining (classic recipe, batch 100): {:.0} images/s, \
         {:.1} s per epoch\nevaluation (batch 1000): {:.0} images/s\nprediction (one image, preprocessing included): \
         p50 {:.0} µs, p99 {:.0} µs\npeak resident memory: {:.0} MB\nattribution map (occlusion): {:.1} ms\n\
         diagnostics overhead: {:.1} % (CPU time {:.1} %; own account {:.1} %, every {:.1} batches)\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        r.arch,
        r.params,
        r.train_images_per_sec,
        r.train_secs_per_epoch,
        r.eval_images_per_sec,
        r.predict_p50_us,
        r.predict_p99_us,
        r.peak_rss_mb,
        r.explain_ms,
        r.diagnostics_overhead_pct,
        r.diagnostics_overhead_cpu_pct,
        r.diagnostics_cost_pct,
        r.diagnostics_every_batches
    ));
    Ok(())
}
