//! The confusion matrix as an image: a heat map with its numbers, class names on both axes and a title.

use crate::app::command::PlotFormat;
use crate::app::export::encode::{encode_png, register_font};
use crate::app::export::matrix_cells::{cell_intensity, cell_rgb, cell_text};

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
