//! Compute-thread set-up: pool sizing, `RAYON_NUM_THREADS`, and flush-to-zero / denormals-are-zero.

use std::sync::Once;

/// MXCSR bits: FTZ (bit 15) and DAZ (bit 6).
#[cfg(target_arch = "x86_64")]
const MXCSR_FTZ_DAZ: u32 = 0x8040;

/// Sets flush-to-zero and denormals-are-zero on the calling thread (x86_64 only; no-op elsewhere).
#[inline]
pub(crate) fn set_flush_to_zero() {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{0}]", in(reg) &mut csr as *mut u32, options(nostack, preserves_flags));
        if csr & MXCSR_FTZ_DAZ != MXCSR_FTZ_DAZ {
            csr |= MXCSR_FTZ_DAZ;
            std::arch::asm!("ldmxcsr [{0}]", in(reg) &csr as *const u32, options(nostack, readonly, preserves_flags));
        }
    }
}

/// True if the calling thread flushes subnormals to zero (always false off x86_64).
pub fn flush_to_zero_enabled() -> bool {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{0}]", in(reg) &mut csr as *mut u32, options(nostack, preserves_flags));
        csr & MXCSR_FTZ_DAZ == MXCSR_FTZ_DAZ
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

static INIT: Once = Once::new();

/// Number of compute threads: `RAYON_NUM_THREADS` if set to a positive number, else the machine's
/// available parallelism.
pub fn compute_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Sets the compute threads' environment where it is unset: `RAYON_NUM_THREADS` (the machine's cores) and
/// `CANDLE_NUM_THREADS=1`. Writing the environment is sound only while no other thread runs, so the one caller is
/// `startup::init_compute`, the first line of `main`; it returns false (and writes nothing) when it can tell that
/// other threads already run (Linux: `/proc/self/status`), e.g. in a test harness, where `.cargo/config.toml`'s
/// `[env]` table provides the same variables instead.
pub(crate) fn set_compute_env() -> bool {
    if !single_threaded() {
        return false;
    }
    // The value cargo's `[env]` table (.cargo/config.toml) gives test harnesses is a stand-in: it names itself in
    // LENET_PLAYGROUND_CARGO_RAYON, and a binary (`cargo run`) replaces it with the machine's cores.
    let from_cargo = std::env::var_os("LENET_PLAYGROUND_CARGO_RAYON")
        .is_some_and(|v| std::env::var_os("RAYON_NUM_THREADS").is_some_and(|r| r == v));
    if std::env::var_os("RAYON_NUM_THREADS").is_none() || from_cargo {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        // candle reads this variable on every matmul instead of probing /proc/cpuinfo.
        // SAFETY: no other thread exists (checked above, and `main` calls this first).
        #[allow(unused_unsafe)]
        unsafe {
            std::env::set_var("RAYON_NUM_THREADS", n.to_string())
        };
    }
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // candle's elementwise ops (>= 64k elements) run on its own "barrier pool", whose
        // workers spin-wait (25k pause iterations) after every op. Next to rayon's pool (gemm,
        // these kernels) that oversubscribes the cores: measured 2x slower training steps on
        // 2 cores. With 1, elementwise ops run on the calling thread and the pool has no
        // workers. Must be set before candle first uses that pool.
        // SAFETY: as above.
        #[allow(unused_unsafe)]
        unsafe {
            std::env::set_var("CANDLE_NUM_THREADS", "1")
        };
    }
    true
}

/// False if the process is known to run more than one thread (Linux: the `Threads:` line of /proc/self/status);
/// true where that cannot be read (the caller's promise, first line of `main`, stands).
fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|n| n.trim().parse::<usize>().ok())))
        .flatten()
        .is_none_or(|n| n <= 1)
}

/// See [`crate::kernels::init_compute_threads`].
pub fn init_compute_threads() {
    INIT.call_once(|| {
        let n = compute_threads();
        // Builds rayon's global pool (used by candle's gemm and by these kernels). If another
        // component already built it, this fails harmlessly and the broadcast below covers it.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).start_handler(|_| set_flush_to_zero()).build_global();
        rayon::broadcast(|_| set_flush_to_zero());
        // candle's private CPU pool (used inside `Device::with_context`).
        candle_core::Device::Cpu.with_context(|| rayon::broadcast(|_| set_flush_to_zero()));
        // candle's barrier pool (elementwise ops): every worker plus the caller runs this once.
        candle_core::utils::barrier_pool().execute(|_| set_flush_to_zero());
    });
    // MXCSR is per thread: always cover the caller (cheap and idempotent).
    set_flush_to_zero();
}
