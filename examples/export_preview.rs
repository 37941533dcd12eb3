//! Renders the off-screen plot export from synthetic curves, to look at it:
//! `cargo run --example export_preview -- OUT_DIR`.
use lenet_playground::app::export::{render_png, render_svg, PlotSeries};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let n = 3000;
    let noise = |i: usize| (i * 7919 % 100) as f64 / 100.0;
    let s = PlotSeries {
        loss: (0..n).map(|i| [i as f64 / 600.0, 2.3 / (1.0 + i as f64 / 50.0) + 0.1 * noise(i)]).collect(),
        accuracy: (0..n).map(|i| [i as f64 / 600.0, 100.0 - 90.0 / (1.0 + i as f64 / 50.0) - 5.0 * noise(i)]).collect(),
        test_accuracy: (1..=5).map(|e| [e as f64, 95.0 + e as f64 * 0.5]).collect(),
        smoothing: 20,
        network: "LeNet-5 training".into(),
        subtitle: "synthetic curves".into(),
        overlays: Vec::new(),
    };
    let png = match render_png(&s, 1200, 900) {
        Ok(p) => p,
        Err(e) => return eprintln!("error: {e}"),
    };
    let svg = match render_svg(&s, 1200, 900) {
        Ok(s) => s,
        Err(e) => return eprintln!("error: {e}"),
    };
    for (name, bytes) in [("export-preview.png", png), ("export-preview.svg", svg.into_bytes())] {
        if let Err(e) = std::fs::write(format!("{dir}/{name}"), bytes) {
            eprintln!("error: {name}: {e}");
        }
    }
}
