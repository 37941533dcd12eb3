//! The two plots (loss above accuracy) drawn off-screen with plotters, at any size, independent of the window;
//! with the series they are drawn from, copied on the UI thread.

use crate::app::export::encode::{check_size, draw_title, encode_png, register_font};
use crate::app::history::{decimate_min_max, moving_average};
use plotters::coord::Shift;
use plotters::prelude::*;

/// A copy of the plotted series, taken on the UI thread (cheap) and rendered elsewhere.
#[derive(Debug, Clone, Default)]
pub struct PlotSeries {
    pub loss: Vec<[f64; 2]>,
    pub accuracy: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
    pub smoothing: usize,
    /// The title's start: "LeNet-5 training", "MLP training", "Network training".
    pub network: String,
    /// Shown after it, e.g. the data set and settings.
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
    let title = if s.subtitle.is_empty() { s.network.clone() } else { format!("{} — {}", s.network, s.subtitle) };
    let root = draw_title(root, &title, (h / 36).clamp(14, 40))?;
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
