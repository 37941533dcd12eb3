//! LeNet-5 training-step benchmark: plain candle ops vs `lenet_playground::kernels`.
//!
//! `cargo run --example kernel_bench [-- --steps 30 --warmup 5]`
//!
//! Full step at batch 100 (forward, cross-entropy, backward, SGD update of Vars), median ms over
//! `--steps` steps after `--warmup`, for sigmoid+avg-pool (classic) and relu+max-pool; then
//! batch-1000 no-grad forward throughput. Random inputs and labels, Xavier-uniform weights.

use candle_core::{DType, Device, Result, Tensor, Var, D};
use candle_nn::{Optimizer, SGD};
use lenet_playground::kernels;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq)]
enum Act {
    Sigmoid,
    Relu,
}
#[derive(Clone, Copy, PartialEq)]
enum Pool {
    Avg,
    Max,
}
#[derive(Clone, Copy, PartialEq)]
enum Impl {
    /// candle's generic conv2d + broadcast bias, avg_pool2d / max_pool2d.
    Plain,
    /// `kernels::conv2d` + activation + `kernels::{avg,max}_pool2x2`.
    Fast,
    /// `kernels::conv2d_act_pool`.
    Fused,
}

struct Net {
    vars: Vec<Var>, // c1w c1b c3w c3b f5w f5b f6w f6b f7w f7b
}

fn xavier(fan_in: usize, fan_out: usize, shape: &[usize], dev: &Device) -> Result<Var> {
    let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
    Var::from_tensor(&Tensor::rand(-a as f32, a as f32, shape, dev)?)
}

impl Net {
    fn new(dev: &Device) -> Result<Self> {
        let zeros = |n: usize| Var::zeros(n, DType::F32, dev);
        Ok(Self {
            vars: vec![
                xavier(25, 150, &[6, 1, 5, 5], dev)?,
                zeros(6)?,
                xavier(150, 400, &[16, 6, 5, 5], dev)?,
                zeros(16)?,
                xavier(400, 120, &[120, 400], dev)?,
                zeros(120)?,
                xavier(120, 84, &[84, 120], dev)?,
                zeros(84)?,
                xavier(84, 10, &[10, 84], dev)?,
                zeros(10)?,
            ],
        })
    }

    fn forward(&self, x: &Tensor, act: Act, pool: Pool, imp: Impl, grad: bool) -> Result<Tensor> {
        let p: Vec<Tensor> =
            self.vars.iter().map(|v| if grad { v.as_tensor().clone() } else { v.as_tensor().detach() }).collect();
        let act_f = |t: Tensor| match act {
            Act::Sigmoid => candle_nn::ops::sigmoid(&t),
            Act::Relu => t.relu(),
        };
        let conv = |x: &Tensor, w: &Tensor, b: &Tensor, pad: usize, input_grad: bool| match imp {
            Impl::Plain => kernels::generic_conv2d(x, w, b, pad),
            _ => kernels::conv2d(x, w, b, pad, input_grad),
        };
        let pool_f = |t: &Tensor| match (imp, pool) {
            (Impl::Plain, Pool::Avg) => t.avg_pool2d(2),
            (Impl::Plain, Pool::Max) => t.max_pool2d(2),
            (_, Pool::Avg) => kernels::avg_pool2x2(t),
            (_, Pool::Max) => kernels::max_pool2x2(t),
        };
        let linear = |t: &Tensor, w: &Tensor, b: &Tensor| t.matmul(&w.t()?)?.broadcast_add(b);
        let block = |x: &Tensor, w: &Tensor, b: &Tensor, pad: usize, input_grad: bool| -> Result<Tensor> {
            if imp == Impl::Fused {
                let a = match act {
                    Act::Sigmoid => kernels::Activation::Sigmoid,
                    Act::Relu => kernels::Activation::Relu,
                };
                let pl = match pool {
                    Pool::Avg => kernels::Pooling::Avg,
                    Pool::Max => kernels::Pooling::Max,
                };
                kernels::conv2d_act_pool(x, w, b, pad, a, pl, input_grad)
            } else {
                pool_f(&act_f(conv(x, w, b, pad, input_grad)?)?)
            }
        };
        let h = block(x, &p[0], &p[1], 2, false)?;
        let h = block(&h, &p[2], &p[3], 0, true)?;
        let h = h.flatten_from(1)?;
        let h = act_f(linear(&h, &p[4], &p[5])?)?;
        let h = act_f(linear(&h, &p[6], &p[7])?)?;
        linear(&h, &p[8], &p[9])
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn train_ms(act: Act, pool: Pool, imp: Impl, steps: usize, warmup: usize) -> Result<(f64, f32)> {
    let dev = Device::Cpu;
    let net = Net::new(&dev)?;
    let mut opt = SGD::new(net.vars.clone(), 0.1)?;
    let x = Tensor::rand(0f32, 1f32, (100, 1, 28, 28), &dev)?;
    let y = Tensor::rand(0f32, 10f32, 100, &dev)?.to_dtype(DType::U32)?;
    let mut times = Vec::new();
    let mut loss_v = 0f32;
    for i in 0..warmup + steps {
        let t = Instant::now();
        let logits = net.forward(&x, act, pool, imp, true)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        opt.backward_step(&loss)?;
        loss_v = loss.to_scalar::<f32>()?;
        if i >= warmup {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok((median(times), loss_v))
}

fn eval_images_per_sec(act: Act, pool: Pool, imp: Impl, reps: usize) -> Result<f64> {
    let dev = Device::Cpu;
    let net = Net::new(&dev)?;
    let x = Tensor::rand(0f32, 1f32, (1000, 1, 28, 28), &dev)?;
    let mut times = Vec::new();
    for i in 0..reps + 2 {
        let t = Instant::now();
        let pred = net.forward(&x, act, pool, imp, false)?.argmax(D::Minus1)?;
        let _ = pred.to_vec1::<u32>()?;
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(1000.0 / median(times))
}

/// Single-image forward latency (p50, p99) in microseconds.
fn predict_us(act: Act, pool: Pool, imp: Impl, reps: usize) -> Result<(f64, f64)> {
    let dev = Device::Cpu;
    let net = Net::new(&dev)?;
    let x = Tensor::rand(0f32, 1f32, (1, 1, 28, 28), &dev)?;
    let mut times = Vec::new();
    for i in 0..reps + 20 {
        let t = Instant::now();
        let pred = net.forward(&x, act, pool, imp, false)?.argmax(D::Minus1)?;
        let _ = pred.to_vec1::<u32>()?;
        if i >= 20 {
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |q: f64| times[((q * (times.len() - 1) as f64).round() as usize).min(times.len() - 1)];
    Ok((pct(0.5), pct(0.99)))
}

fn main() -> Result<()> {
    // First, while this is the only thread: the compute environment and pools, as in the app.
    lenet_playground::startup::init_compute();
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (steps, warmup) = (arg("--steps", 30), arg("--warmup", 5));
    // `--profile-fast sigmoid|relu`: only fast-kernel training steps (for perf record).
    if let Some(i) = args.iter().position(|a| a == "--profile-fast") {
        let (act, pool) = match args.get(i + 1).map(String::as_str) {
            Some("relu") => (Act::Relu, Pool::Max),
            _ => (Act::Sigmoid, Pool::Avg),
        };
        let imp = if args.iter().any(|a| a == "--separate") { Impl::Fast } else { Impl::Fused };
        let (ms, _) = train_ms(act, pool, imp, steps, warmup)?;
        println!("fast: {ms:.2} ms/step");
        return Ok(());
    }
    println!(
        "LeNet-5, batch 100, {} compute threads (RAYON_NUM_THREADS={}), FTZ={}, median of {steps} steps after {warmup} warm-up, profile: {}",
        kernels::compute_threads(),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_default(),
        kernels::flush_to_zero_enabled(),
        if cfg!(debug_assertions) { "dev" } else { "release" }
    );
    println!();
    println!("Training step (forward + cross-entropy + backward + SGD), batch 100, ms/step (lower is better):");
    println!();
    println!("| config      | plain candle | kernels (separate ops) | kernels (fused conv+act+pool) | speed-up plain/fused | fused train img/s |");
    println!("|-------------|-------------:|-----------------------:|------------------------------:|---------------------:|------------------:|");
    let configs = [("sigmoid+avg", Act::Sigmoid, Pool::Avg), ("relu+max", Act::Relu, Pool::Max)];
    for (name, act, pool) in configs {
        let (plain, lp) = train_ms(act, pool, Impl::Plain, steps, warmup)?;
        let (fast, lf) = train_ms(act, pool, Impl::Fast, steps, warmup)?;
        let (fused, lu) = train_ms(act, pool, Impl::Fused, steps, warmup)?;
        println!(
            "| {name:<11} | {plain:>12.2} | {fast:>22.2} | {fused:>29.2} | {:>19.2}x | {:>17.0} |",
            plain / fused,
            100.0 * 1000.0 / fused
        );
        if !(lp.is_finite() && lf.is_finite() && lu.is_finite()) {
            eprintln!("warning: non-finite loss (plain {lp}, separate {lf}, fused {lu})");
        }
    }
    println!();
    println!("No-grad forward, batch 1000, images/s (higher is better):");
    println!();
    println!("| config      | plain candle | kernels (separate ops) | kernels (fused) | speed-up fused/plain |");
    println!("|-------------|-------------:|-----------------------:|----------------:|---------------------:|");
    for (name, act, pool) in configs {
        let ep = eval_images_per_sec(act, pool, Impl::Plain, 10)?;
        let ef = eval_images_per_sec(act, pool, Impl::Fast, 10)?;
        let eu = eval_images_per_sec(act, pool, Impl::Fused, 10)?;
        println!("| {name:<11} | {ep:>12.0} | {ef:>22.0} | {eu:>15.0} | {:>19.2}x |", eu / ep);
    }
    println!();
    println!("Single-image forward (1x1x28x28) latency, µs, 1000 reps:");
    println!();
    println!("| config      | plain p50 | plain p99 | fused p50 | fused p99 |");
    println!("|-------------|----------:|----------:|----------:|----------:|");
    for (name, act, pool) in configs {
        let (p50, p99) = predict_us(act, pool, Impl::Plain, 1000)?;
        let (f50, f99) = predict_us(act, pool, Impl::Fused, 1000)?;
        println!("| {name:<11} | {p50:>9.1} | {p99:>9.1} | {f50:>9.1} | {f99:>9.1} |");
    }
    Ok(())
}
