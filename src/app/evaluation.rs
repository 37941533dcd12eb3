//! The app side of "what it gets wrong": evaluating loaded weights on demand (a helper thread with a progress
//! counter) and the confusion matrix rendered off screen for export (plotters, PNG or SVG). The canvas's
//! attribution overlay has its own worker (`attribution.rs`).
//!
//! All computation is the engine's (`engine::insight::evaluate`, `engine::insight::explain`) on plain data; nothing here waits on
//! the UI thread.

use super::background::AppMsg;
use super::command::PlotFormat;
use super::state::Session;
use super::views::evaluation::{EvaluationInputs, Snapshot};
use super::PlaygroundApp;
use crate::engine::insight::evaluate::{evaluate_weights, Evaluation};
use crate::engine::store::atomic_file::write_atomic;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An evaluation of weights that were not trained in this session (or asked for with Evaluate).
#[derive(Debug, Clone)]
pub struct OnDemand {
    /// `Session::weights_version` of the weights it was computed for.
    pub weights_version: u64,
    /// The data set it was computed on (name, test images): another data set makes it meaningless.
    pub data: (String, usize),
    pub eval: Arc<Evaluation>,
}

/// Evaluate's state: the last result and, while one runs, its progress.
#[derive(Debug, Default)]
pub struct EvalState {
    pub result: Option<OnDemand>,
    /// (test images done, total) while an evaluation runs.
    pub running: Option<(Arc<AtomicUsize>, usize)>,
    /// The data set of the evaluation running or last run.
    data: (String, usize),
}

impl EvalState {
    /// 0..1 while an evaluation runs.
    pub fn progress(&self) -> Option<f32> {
        self.running.as_ref().map(|(done, total)| done.load(Ordering::Relaxed) as f32 / (*total).max(1) as f32)
    }
}

impl PlaygroundApp {
    /// Evaluates the current weights on the test set on a helper thread (Evaluate button).
    pub(super) fn start_evaluation(&mut self) {
        let s = &mut self.session;
        if self.evaluation.running.is_some() {
            return;
        }
        let (Some(weights), Some(data)) = (s.weights.clone(), s.data.clone()) else {
            s.error = Some("Evaluate needs weights and a test set.".into());
            return;
        };
        let done = Arc::new(AtomicUsize::new(0));
        self.evaluation.running = Some((done.clone(), data.test.len()));
        let weights_version = s.weights_version;
        self.evaluation.data = (data.name.clone(), data.test.len());
        let ctx = self.ctx.clone();
        self.spawn_helper("evaluate", move || {
            let result = evaluate_weights(&weights, &data.test, None, &mut |n, _| {
                done.store(n, Ordering::Relaxed);
                ctx.request_repaint();
            })
            .map_err(|e| e.to_string())
            .and_then(|r| r.ok_or_else(|| "the evaluation was interrupted".to_string()));
            AppMsg::Evaluated { weights_version, result }
        });
    }

    pub(super) fn finish_evaluation(&mut self, weights_version: u64, result: Result<Evaluation, String>) {
        self.evaluation.running = None;
        match result {
            Ok(eval) => {
                self.session.status =
                    format!("Evaluated: test accuracy {:.2} % on {} test images", eval.accuracy * 100.0, eval.images());
                let data = self.evaluation.data.clone();
                self.evaluation.result = Some(OnDemand { weights_version, data, eval: Arc::new(eval) });
            }
            Err(e) => self.session.error = Some(format!("Evaluation failed: {e}")),
        }
    }

    /// Renders the shown confusion matrix off screen and writes it (helper thread).
    pub(super) fn export_confusion(&mut self, format: PlotFormat, path: PathBuf) {
        let Some(m) = self.evaluation_view.export_data() else {
            self.session.error = Some("No confusion matrix to export yet: train, or load weights and Evaluate.".into());
            return;
        };
        self.spawn_helper("export", move || {
            AppMsg::Done(
                render_confusion(&m, format)
                    .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()))
                    .map(|()| format!("Confusion matrix exported to {}", path.display())),
            )
        });
    }
}

/// What the Evaluation tab is drawn from: every epoch of the run that has a matrix, then the on-demand result.
pub(super) fn evaluation_inputs<'a>(s: &'a Session, eval: &'a EvalState) -> EvaluationInputs<'a> {
    let mut snapshots: Vec<Snapshot<'a>> = s
        .history
        .epochs
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.confusion.is_empty())
        .map(|(i, e)| Snapshot {
            label: format!("epoch {}", i + 1),
            confusion: &e.confusion,
            predictions: e.predictions.as_deref(),
        })
        .collect();
    let mut note = None;
    let same_data = |r: &OnDemand| s.data.as_ref().is_some_and(|d| r.data == (d.name.clone(), d.test.len()));
    if let Some(r) = eval.result.as_ref().filter(|r| same_data(r)) {
        let current = r.weights_version == s.weights_version;
        if !current {
            note =
                Some("The evaluated matrix is for earlier weights: press Evaluate again for the current ones.".into());
        }
        snapshots.push(Snapshot {
            label: if current { "evaluated".into() } else { "evaluated (earlier weights)".into() },
            confusion: &r.eval.confusion,
            predictions: Some(&r.eval.predictions),
        });
    }
    let class_names: &[String] = match (&s.data, &s.weights) {
        (Some(d), _) => &d.class_names,
        (None, Some(w)) => &w.class_names,
        _ => &[],
    };
    EvaluationInputs {
        snapshots,
        class_names,
        dataset: s.data.as_ref().map_or("", |d| d.name.as_str()),
        test: s.data.as_ref().map(|d| &d.test),
        can_evaluate: s.weights.is_some() && s.data.is_some() && !s.run_active() && eval.running.is_none(),
        progress: eval.progress(),
        note,
    }
}

/// A confusion matrix as shown, for an export.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfusionExport {
    pub confusion: Vec<Vec<u32>>,
    pub class_names: Vec<String>,
    /// Row percentages instead of counts.
    pub normalised: bool,
    /// E.g. "MNIST, epoch 3".
    pub title: String,
}

/// Cell colours shared by the window and the export: the diagonal green, errors orange-red, by `t` in 0..1.
pub fn cell_rgb(diagonal: bool, t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: [f32; 3], b: [f32; 3]| [0, 1, 2].map(|i| (a[i] + (b[i] - a[i]) * t).round() as u8);
    if diagonal {
        mix([236.0, 246.0, 236.0], [30.0, 130.0, 60.0])
    } else {
        mix([250.0, 246.0, 240.0], [200.0, 40.0, 20.0])
    }
}

/// How strongly a cell is coloured: the diagonal by the class's accuracy, errors by their share of the row,
/// against the largest error share (so that even small mistakes stand out from paper).
pub fn cell_intensity(confusion: &[Vec<u32>], t: usize, p: usize) -> f32 {
    let share = |t: usize, p: usize| {
        let row: u32 = confusion[t].iter().sum();
        confusion[t][p] as f32 / row.max(1) as f32
    };
    if t == p {
        return share(t, p);
    }
    let max_err = (0..confusion.len())
        .flat_map(|a| (0..confusion.len()).filter(move |&b| b != a).map(move |b| (a, b)))
        .map(|(a, b)| share(a, b))
        .fold(0f32, f32::max);
    if max_err <= 0.0 {
        0.0
    } else {
        (share(t, p) / max_err).sqrt()
    }
}

/// The text of a cell: its count, or its share of the row in percent.
pub fn cell_text(confusion: &[Vec<u32>], t: usize, p: usize, normalised: bool) -> String {
    if !normalised {
        return confusion[t][p].to_string();
    }
    let row: u32 = confusion[t].iter().sum();
    let pct = 100.0 * confusion[t][p] as f64 / row.max(1) as f64;
    if pct == 0.0 {
        "0".into()
    } else if pct < 10.0 {
        format!("{pct:.1}")
    } else {
        format!("{pct:.0}")
    }
}

/// Renders the matrix with plotters: a heat map with numbers, class names on both axes, a title.
pub fn render_confusion(m: &ConfusionExport, format: PlotFormat) -> Result<Vec<u8>, String> {
    use plotters::prelude::*;
    super::export::register_font()?;
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
            super::export::encode_png(&rgb, w, h, image::ExtendedColorType::Rgb8)
        }
        PlotFormat::Svg => {
            let mut svg = String::new();
            draw(SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area(), m)?;
            Ok(svg.into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_counts_or_row_shares_and_errors_stand_out() {
        let m = vec![vec![90, 10, 0], vec![0, 50, 0], vec![1, 0, 99]];
        assert_eq!(cell_text(&m, 0, 1, false), "10");
        assert_eq!(cell_text(&m, 0, 1, true), "10");
        assert_eq!(cell_text(&m, 2, 0, true), "1.0");
        assert_eq!(cell_intensity(&m, 0, 1), 1.0, "the largest error is fully coloured");
        assert!(cell_intensity(&m, 2, 0) > 0.3, "a small error is still visible");
        assert_eq!(cell_intensity(&m, 1, 0), 0.0);
        assert_ne!(cell_rgb(true, 1.0), cell_rgb(false, 1.0));
        let e = ConfusionExport {
            confusion: m,
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
