//! Files the app writes besides weights: the two plots rendered off-screen with plotters (PNG or SVG, any size,
//! independent of the window), the plots as they are on screen (cropped from a screenshot), the confusion matrix,
//! and the metrics CSV.
//! Everything here runs on a helper thread (`write_*`); every file goes through `write_atomic`, so a failed
//! export never leaves half a file. Drawing fails with a sentence (`String`); writing a file with a `crate::Error`
//! that names the file.

pub mod matrix_cells;

use crate::app::command::PlotFormat;
use crate::app::export::matrix_cells::{cell_intensity, cell_rgb, cell_text};
use crate::app::history::{decimate_min_max, metrics_csv, moving_average, RunStart};
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::model::config::ModelConfig;
use crate::engine::training::events::{BatchMetrics, EpochMetrics};
use crate::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// A copy of the plotted series, taken on the UI thread (cheap) and rendered elsewhere.
#[derive(Debug, Clone, Default)]
pub struct PlotSeries {
    pub loss: Vec<[f64; 2]>,
    pub accuracy: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
    pub smoothing: usize,
    /// Shown under the title, e.g. the data set and settings.
    pub subtitle: String,
    /// Runs ticked for the overlay, drawn thinner and faded under the current run, with legend entries.
    pub overlays: Vec<OverlayExport>,
}

/// A ticked run's curves for an export (already smoothed like the current run's).
#[derive(Debug, Clone, Default)]
pub struct OverlayExport {
    pub name: String,
    pub(crate) rgb: (u8, u8, u8),
    pub loss: Vec<[f64; 2]>,
    pub accuracy: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
}

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

/// A confusion matrix as shown, for an export.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConfusionExport {
    pub confusion: Vec<Vec<u32>>,
    pub class_names: Vec<String>,
    /// Row percentages instead of counts.
    pub normalised: bool,
    /// E.g. "MNIST, epoch 3".
    pub title: String,
}

/// Renders the matrix with plotters: a heat map with numbers, class names on both axes, a title.
pub(crate) fn render_confusion(m: &ConfusionExport, format: PlotFormat) -> Result<Vec<u8>, String> {
    use plotters::prelude::*;
    register_font()?;
    let (w, h) = (900u32, 860u32);
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, plotters::coord::Shift>,
        m: &ConfusionExport,
    ) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let n = m.confusion.len();
        let (w, h) = root.dim_in_pixel();
        let (left, top) = (150i32, 110i32);
        let side = ((w as i32 - left - 30).min(h as i32 - top - 40) / n.max(1) as i32).max(1);
        let font = |size: f64| ("sans-serif", size).into_font();
        root.draw(&Text::new(m.title.clone(), (20, 18), font(26.0))).map_err(err)?;
        let what = if m.normalised { "share of the true class, %" } else { "test images" };
        root.draw(&Text::new(format!("rows: true class, columns: predicted ({what})"), (20, 52), font(18.0)))
            .map_err(err)?;
        for i in 0..n {
            let name = m.class_names.get(i).cloned().unwrap_or_else(|| i.to_string());
            let y = top + i as i32 * side + side / 2 - 8;
            root.draw(&Text::new(name.clone(), (12, y), font(16.0))).map_err(err)?;
            let x = left + i as i32 * side + 4;
            root.draw(&Text::new(name, (x, top - 24), font(14.0))).map_err(err)?;
            for p in 0..n {
                let c = cell_rgb(i == p, cell_intensity(&m.confusion, i, p));
                let (x0, y0) = (left + p as i32 * side, top + i as i32 * side);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + side - 2, y0 + side - 2)],
                    RGBColor(c[0], c[1], c[2]).filled(),
                ))
                .map_err(err)?;
                let dark = cell_intensity(&m.confusion, i, p) > 0.55;
                let text_color = if dark { WHITE } else { BLACK };
                let t = cell_text(&m.confusion, i, p, m.normalised);
                let style = font(16.0).color(&text_color);
                root.draw(&Text::new(t, (x0 + 6, y0 + side / 2 - 8), style)).map_err(err)?;
            }
        }
        root.present().map_err(err)
    }
    match format {
        PlotFormat::Png => {
            let mut rgb = vec![0u8; (w * h * 3) as usize];
            draw(BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area(), m)?;
            encode_png(&rgb, w, h, image::ExtendedColorType::Rgb8)
        }
        PlotFormat::Svg => {
            let mut svg = String::new();
            draw(SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area(), m)?;
            Ok(svg.into_bytes())
        }
    }
}

pub(crate) const MIN_EXPORT_SIDE: u32 = 200;
pub(crate) const MAX_EXPORT_SIDE: u32 = 8000;

fn check_size(width: u32, height: u32) -> Result<(), String> {
    let ok = |v: u32| (MIN_EXPORT_SIDE..=MAX_EXPORT_SIDE).contains(&v);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(format!(
            "export size must be between {MIN_EXPORT_SIDE} and {MAX_EXPORT_SIDE} pixels per side, got {width}×{height}"
        ))
    }
}

/// Both plots, loss above accuracy, as PNG bytes.
pub fn render_png(series: &PlotSeries, width: u32, height: u32) -> Result<Vec<u8>, String> {
    check_size(width, height)?;
    register_font()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root, series)?;
        root.present().map_err(|e| format!("cannot render the plots: {e}"))?;
    }
    encode_png(&rgb, width, height, image::ExtendedColorType::Rgb8)
}

/// Both plots as an SVG document.
pub fn render_svg(series: &PlotSeries, width: u32, height: u32) -> Result<String, String> {
    check_size(width, height)?;
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, series)?;
        root.present().map_err(|e| format!("cannot render the plots: {e}"))?;
    }
    Ok(svg)
}

pub(crate) fn encode_png(
    pixels: &[u8],
    width: u32,
    height: u32,
    color: image::ExtendedColorType,
) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(pixels, width, height, color)
        .map_err(|e| format!("cannot encode PNG: {e}"))?;
    Ok(out)
}

/// plotters draws text only with a registered font; egui's bundled Ubuntu-Light serves (no system fonts needed).
pub(crate) fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let defs = egui::FontDefinitions::default();
        let data = defs
            .font_data
            .get("Ubuntu-Light")
            .or_else(|| defs.font_data.values().next())
            .ok_or_else(|| "no bundled font to draw text with".to_string())?;
        let bytes: &'static [u8] = Box::leak((*data.font).as_ref().to_vec().into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "the bundled font could not be read".to_string())
    })
    .clone()
}

const LOSS_COLOR: RGBColor = RGBColor(214, 39, 40);
const ACC_COLOR: RGBColor = RGBColor(44, 160, 44);
const TEST_COLOR: RGBColor = RGBColor(31, 119, 180);

/// One of the two stacked charts.
struct Panel<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    caption: &'a str,
    y_desc: &'a str,
    y_max: f64,
    raw: &'a [[f64; 2]],
    smooth: &'a [[f64; 2]],
    color: RGBColor,
    with_test: bool,
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &PlotSeries) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("cannot render the plots: {e}");
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let title = if s.subtitle.is_empty() {
        "LeNet-5 training".to_string()
    } else {
        format!("LeNet-5 training — {}", s.subtitle)
    };
    let root = root.titled(&title, ("sans-serif", (h / 36).clamp(14, 40))).map_err(err)?;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let overlay_x = s.overlays.iter().filter_map(|o| o.loss.last().map(|p| p[0])).fold(0.0f64, f64::max);
    let x_max =
        s.loss.last().map_or(1.0, |p| p[0]).max(s.test_accuracy.last().map_or(0.0, |p| p[0])).max(overlay_x).max(1e-3);
    let buckets = (w as usize).clamp(100, 4000);
    let thin = |pts: &[[f64; 2]]| decimate_min_max(pts, 0.0, x_max, buckets);
    let loss_smooth = moving_average(&s.loss, s.smoothing);
    let acc_smooth = moving_average(&s.accuracy, s.smoothing);
    let loss_max = s
        .loss
        .iter()
        .chain(s.overlays.iter().flat_map(|o| o.loss.iter()))
        .map(|p| p[1])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;

    let panels = [
        Panel {
            area: &top,
            caption: "Loss per batch",
            y_desc: "loss (cross-entropy)",
            y_max: loss_max,
            raw: &s.loss,
            smooth: &loss_smooth,
            color: LOSS_COLOR,
            with_test: false,
        },
        Panel {
            area: &bottom,
            caption: "Accuracy per batch",
            y_desc: "accuracy (%)",
            y_max: 100.0,
            raw: &s.accuracy,
            smooth: &acc_smooth,
            color: ACC_COLOR,
            with_test: true,
        },
    ];
    let text = (h / 60).clamp(10, 28);
    for Panel { area, caption, y_desc, y_max, raw, smooth, color, with_test } in panels {
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", text + 4))
            .margin(text)
            .x_label_area_size(text * 3)
            .y_label_area_size(text * 4)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .label_style(("sans-serif", text))
            .axis_desc_style(("sans-serif", text + 2))
            .draw()
            .map_err(err)?;
        let name = if with_test { "train accuracy" } else { "loss" };
        // Ticked runs first (under the current run), thin and faded, one legend entry each.
        for o in &s.overlays {
            let c = RGBColor(o.rgb.0, o.rgb.1, o.rgb.2).mix(0.7);
            let pts = if with_test { &o.accuracy } else { &o.loss };
            chart
                .draw_series(LineSeries::new(thin(pts).into_iter().map(|p| (p[0], p[1])), c.stroke_width(1)))
                .map_err(err)?
                .label(o.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
            if with_test && !o.test_accuracy.is_empty() {
                let r = (text / 4).max(2) as i32;
                chart
                    .draw_series(o.test_accuracy.iter().map(|p| Circle::new((p[0], p[1]), r, c.filled())))
                    .map_err(err)?;
            }
        }
        if s.smoothing > 1 {
            let faint = color.mix(0.25);
            chart
                .draw_series(LineSeries::new(thin(raw).into_iter().map(|p| (p[0], p[1])), faint))
                .map_err(err)?
                .label(format!("{name} (per batch)"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], faint));
        }
        let label =
            if s.smoothing > 1 { format!("{name} (moving average of {})", s.smoothing) } else { name.to_string() };
        chart
            .draw_series(LineSeries::new(thin(smooth).into_iter().map(|p| (p[0], p[1])), color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        if with_test && !s.test_accuracy.is_empty() {
            let r = (text / 3).max(3) as i32;
            chart
                .draw_series(s.test_accuracy.iter().map(|p| Circle::new((p[0], p[1]), r, TEST_COLOR.filled())))
                .map_err(err)?
                .label("test accuracy (per epoch)")
                .legend(move |(x, y)| Circle::new((x + 10, y), r, TEST_COLOR.filled()));
        }
        chart
            .configure_series_labels()
            .position(if with_test { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight })
            .label_font(("sans-serif", text))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    Ok(())
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
