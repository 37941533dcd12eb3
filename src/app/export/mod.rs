//! Files the app writes besides weights: the two plots rendered off-screen with plotters (PNG or SVG, any size,
//! independent of the window), the plots as they are on screen (cropped from a screenshot), the confusion matrix,
//! and the metrics CSV.
//! Everything here runs on a helper thread (`write_*`); every file goes through `write_atomic`, so a failed
//! export never leaves half a file. Drawing fails with a sentence (`String`); writing a file with a `crate::Error`
//! that names the file. This file writes; the renderings are `charts.rs` (the plots), `confusion.rs` (the matrix)
//! and `encode.rs` (sizes, PNG, the font) beside it.

pub mod charts;
pub mod confusion;
mod encode;
pub mod matrix_cells;

pub use charts::{render_png, render_svg, OverlayExport, PlotSeries};
pub(crate) use confusion::{render_confusion, ConfusionExport};
pub(crate) use encode::{MAX_EXPORT_SIDE, MIN_EXPORT_SIDE};

use crate::app::command::PlotFormat;
use crate::app::export::encode::encode_png;
use crate::app::history::{metrics_csv, RunStart};
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::model::config::ModelConfig;
use crate::engine::training::events::{BatchMetrics, EpochMetrics};
use crate::Error;
use std::path::Path;

/// The metrics CSV of the current run and of ticked stored runs, with first columns `run` (`current` for the
/// current run) and `run_id` (the stored run's id: two runs never share it, whatever their names). Stored files are read here (a helper thread), by header names, within the store's size bound.
pub(crate) fn write_metrics_with_runs(
    path: &Path,
    model: ModelConfig,
    batches: &[BatchMetrics],
    epochs: &[EpochMetrics],
    starts: &[RunStart],
    runs: &[(String, String, std::path::PathBuf)],
) -> crate::Result<String> {
    let current = metrics_csv(model, batches, epochs, &[], starts);
    let columns: Vec<&str> = current.lines().next().unwrap_or_default().split(',').collect();
    let mut out = format!("run,run_id,{}\n", columns.join(","));
    let csv_cell = |s: &str| {
        if s.contains(',') || s.contains('"') {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for line in current.lines().skip(1) {
        out.push_str(&format!("current,,{line}\n"));
    }
    for (name, id, csv_path) in runs {
        let text = crate::engine::store::runs::read_metrics_text(csv_path)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').map(str::trim).collect();
        let index: Vec<Option<usize>> = columns.iter().map(|c| header.iter().position(|h| h == c)).collect();
        let name = csv_cell(name);
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = line.split(',').collect();
            let row: Vec<&str> = index.iter().map(|i| i.and_then(|i| cells.get(i).copied()).unwrap_or("")).collect();
            out.push_str(&format!("{name},{},{}\n", csv_cell(id), row.join(",")));
        }
    }
    write_atomic(path, out.as_bytes())?;
    Ok(format!("Metrics of the current run and {} ticked run(s) exported to {}", runs.len(), path.display()))
}

/// Renders both plots off-screen and writes them; Ok is a message for the status line, Err one for the banner.
pub(crate) fn write_plots(
    path: &Path,
    format: PlotFormat,
    width: u32,
    height: u32,
    series: &PlotSeries,
) -> crate::Result<String> {
    let bytes = match format {
        PlotFormat::Png => render_png(series, width, height),
        PlotFormat::Svg => render_svg(series, width, height).map(String::into_bytes),
    }
    .map_err(|e| Error::write(path, e))?;
    write_atomic(path, &bytes)?;
    Ok(format!("Plots exported to {} ({width}×{height})", path.display()))
}

/// Crops the plots' `rect` out of a screenshot and writes it as PNG.
pub(crate) fn write_screen(
    path: &Path,
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> crate::Result<String> {
    let region = image.region(&rect, Some(pixels_per_point));
    let [w, h] = region.size;
    let rgba: Vec<u8> = region.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let bytes =
        encode_png(&rgba, w as u32, h as u32, image::ExtendedColorType::Rgba8).map_err(|e| Error::write(path, e))?;
    write_atomic(path, &bytes)?;
    Ok(format!("On-screen plots saved to {} ({w}×{h})", path.display()))
}

/// Writes the metrics CSV (the same columns as `train --metrics`), with the gradient and activation measurements
/// as `kind=diagnostics` rows.
pub(crate) fn write_metrics_with_diagnostics(
    path: &Path,
    model: ModelConfig,
    batches: &[BatchMetrics],
    epochs: &[EpochMetrics],
    diagnostics: &[crate::engine::insight::diagnostics::Diagnostics],
    starts: &[RunStart],
) -> crate::Result<String> {
    // Each run's rows at the x its curves have (a continued run's from its offset).
    let csv = metrics_csv(model, batches, epochs, diagnostics, starts);
    write_atomic(path, csv.as_bytes())?;
    Ok(format!("Metrics exported to {} ({} batches, {} epochs)", path.display(), batches.len(), epochs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> PlotSeries {
        PlotSeries {
            loss: (0..n).map(|i| [i as f64 / 100.0, 2.3 / (1.0 + i as f64 / 50.0)]).collect(),
            accuracy: (0..n).map(|i| [i as f64 / 100.0, 100.0 - 90.0 / (1.0 + i as f64 / 50.0)]).collect(),
            test_accuracy: (1..=n / 100).map(|e| [e as f64, 95.0]).collect(),
            smoothing: 10,
            network: "LeNet-5 training".into(),
            subtitle: "MNIST, test".into(),
            overlays: Vec::new(),
        }
    }

    #[test]
    fn png_and_svg_render_with_text() {
        let png = render_png(&series(3000), 800, 600).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (800, 600));
        let svg = render_svg(&series(3000), 800, 600).unwrap();
        assert!(svg.contains("<svg") && svg.contains("epoch") && svg.contains("test accuracy"));
        // Empty history still gives axes.
        assert!(render_svg(&PlotSeries::default(), 400, 300).unwrap().contains("<svg"));
        assert!(render_png(&series(10), 10, 10).unwrap_err().contains("between"));
    }

    /// Issue 28: a long network and data set name is a title of several lines, every word drawn, no ink at the
    /// image's left or right edge (where a cut-off title would run out).
    #[test]
    fn a_long_title_is_broken_into_lines_inside_the_image() {
        let mut s = series(300);
        s.network = "Custom network training".into();
        s.subtitle = "my-grandmothers-handwriting, c8k3psame-pool,c16k3psame-pool,c32k3psame-pool,f64: Sigmoid + \
                      AvgPool2d, Xavier init, SGD lr 0.1, batch 100"
            .into();
        let svg = render_svg(&s, 500, 400).unwrap();
        let lines = svg.matches("<text").count() - render_svg(&series(300), 500, 400).unwrap().matches("<text").count();
        assert!(lines >= 1, "the long title takes two lines or more where the short one takes one: {lines} more");
        assert!(svg.contains("batch 100") && svg.contains("my-grandmothers-handwriting"), "every word is drawn");
        let img = image::load_from_memory(&render_png(&s, 500, 400).unwrap()).unwrap().to_rgb8();
        if let Ok(path) = std::env::var("LENET_TITLE_PNG") {
            img.save(path).unwrap();
        }
        let dark = |x: u32, y: u32| img.get_pixel(x, y).0.iter().all(|&c| c < 128);
        for y in 0..60 {
            for x in (0..4).chain(496..500) {
                assert!(!dark(x, y), "ink at the edge ({x}, {y}): the title runs out of the image");
            }
        }
    }

    #[test]
    fn the_confusion_matrix_renders_with_its_numbers_as_text() {
        let e = ConfusionExport {
            confusion: vec![vec![90, 10, 0], vec![0, 50, 0], vec![1, 0, 99]],
            class_names: vec!["a".into(), "b".into(), "c".into()],
            normalised: false,
            title: "t".into(),
        };
        let png = render_confusion(&e, PlotFormat::Png).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = String::from_utf8(render_confusion(&e, PlotFormat::Svg).unwrap()).unwrap();
        let compact: String = svg.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(compact.contains("<svg") && compact.contains(">99</text>"), "numbers are drawn as text");
    }
}
