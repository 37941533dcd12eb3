//! "How the representation forms": the penultimate layer's activations for 2,000 fixed test digits, projected to
//! 2-D (PCA), coloured by class, one frame per epoch with a scrubber, and the silhouette score per epoch (how far
//! apart the classes are, −1..1). Click a point to put that digit on the canvas; the canvas's drawing is a star
//! on the latest frame, with the map's digits nearest to it in the network's eyes.

use super::grid::{grey_scale, grid_ui, GridStyle};
use crate::app::command::UiCommand;
use crate::app::inside::worker::NEIGHBOUR_IMAGES;
use crate::engine::data::set::{ImageSet, IMAGE_SIDE};
use crate::engine::insight::inside::representation::{Frame, MapDigits};
use egui::{Color32, Pos2, Sense, Stroke, Ui, Vec2};
use egui_plot::{Line, Plot, PlotPoints, Points};

/// The canvas digit on the latest frame: where it lands and its nearest training images (indices).
pub(crate) struct Star {
    pub point: [f32; 2],
    pub nearest: Vec<usize>,
}

pub(crate) struct MapInputs<'a> {
    pub frames: &'a [Frame],
    pub digits: Option<&'a MapDigits>,
    pub class_names: &'a [String],
    pub star: Option<Star>,
    pub error: Option<&'a str>,
    pub train: Option<&'a ImageSet>,
}

#[derive(Default)]
pub(crate) struct MapView {
    /// The frame shown; None follows the latest.
    pub frame: Option<usize>,
    /// Where each digit was drawn in the last frame painted (tests click them).
    pub drawn: Vec<Pos2>,
}

/// Ten distinguishable colours (Tableau 10), then evenly spaced hues for more classes.
pub(crate) fn class_colour(class: usize, classes: usize) -> Color32 {
    const TEN: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    if classes <= TEN.len() {
        let (r, g, b) = TEN[class % TEN.len()];
        return Color32::from_rgb(r, g, b);
    }
    egui::ecolor::Hsva::new(class as f32 / classes as f32, 0.75, 0.85, 1.0).into()
}

impl MapView {
    pub(crate) fn ui(&mut self, ui: &mut Ui, inputs: &MapInputs, commands: &mut Vec<UiCommand>) {
        ui.heading("How the representation forms");
        ui.label(
            "Each point is one of 2,000 fixed test digits, placed by what the last hidden layer makes of it (its two \
             principal components), coloured by its true class. Training pulls the classes into separate clusters.",
        );
        if let Some(e) = inputs.error {
            ui.colored_label(Color32::RED, e);
        }
        let (Some(digits), false) = (inputs.digits, inputs.frames.is_empty()) else {
            ui.weak(
                "The first map appears once there are weights (it is captured before training and after every epoch).",
            );
            return;
        };
        let last = inputs.frames.len() - 1;
        let mut shown = self.frame.unwrap_or(last).min(last);
        ui.horizontal(|ui| {
            let slider = egui::Slider::new(&mut shown, 0..=last).text("frame").custom_formatter(|v, _| {
                inputs.frames.get(v as usize).map_or(String::new(), |f| format!("epoch {}", f.epoch))
            });
            if ui.add_enabled(last > 0, slider).changed() {
                self.frame = if shown == last { None } else { Some(shown) };
            }
            if self.frame.is_some() && ui.button("Latest").clicked() {
                self.frame = None;
                shown = last;
            }
        });
        let frame = &inputs.frames[shown];
        ui.label(format!(
            "After epoch {}: silhouette {:+.3}; the two axes show {:.0}% of the variance. Captured in {:.0} ms.",
            frame.epoch,
            frame.silhouette,
            frame.explained * 100.0,
            frame.capture_ms
        ));
        let labels = digits.labels();
        let classes = inputs.class_names.len().max(labels.iter().max().map_or(1, |m| m + 1));
        ui.columns(2, |cols| {
            let star = inputs.star.as_ref().filter(|_| shown == last);
            self.points_ui(&mut cols[0], frame, &labels, classes, star, commands);
            legend_ui(&mut cols[1], inputs.class_names, classes);
            silhouette_ui(&mut cols[1], inputs.frames, shown);
            if let Some(s) = star {
                cols[1].label(format!(
                    "The canvas's digit (the star) is nearest, in this layer, to these training images (of the first {}):",
                    crate::app::widgets::format::thousands(NEIGHBOUR_IMAGES)
                ));
                match inputs.train.filter(|_| !s.nearest.is_empty()) {
                    Some(train) => neighbours_ui(&mut cols[1], train, &s.nearest, inputs.class_names),
                    None => {
                        cols[1].weak("Finding them…");
                    }
                }
            } else if inputs.star.is_some() {
                cols[1].weak("The canvas's digit is shown on the latest frame.");
            }
        });
    }

    fn points_ui(
        &mut self,
        ui: &mut Ui,
        frame: &Frame,
        labels: &[usize],
        classes: usize,
        star: Option<&Star>,
        commands: &mut Vec<UiCommand>,
    ) {
        let side = ui.available_width().clamp(200.0, 460.0);
        let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::click());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Representation map"));
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let all = frame.points.iter().chain(star.map(|s| &s.point));
        let (lo, hi) = all.fold(([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]), |(lo, hi), p| {
            ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
        });
        let inner = rect.shrink(8.0);
        let to_screen = |p: &[f32; 2]| {
            let t = |v: f32, a: f32, b: f32| if b - a > 1e-12 { (v - a) / (b - a) } else { 0.5 };
            Pos2::new(
                inner.min.x + t(p[0], lo[0], hi[0]) * inner.width(),
                inner.max.y - t(p[1], lo[1], hi[1]) * inner.height(),
            )
        };
        self.drawn = frame.points.iter().map(to_screen).collect();
        for (pos, &label) in self.drawn.iter().zip(labels) {
            painter.circle_filled(*pos, 2.2, class_colour(label, classes));
        }
        if let Some(s) = star {
            let c = to_screen(&s.point);
            star_shape(&painter, c, 9.0);
        }
        let nearest =
            |p: Pos2| self.drawn.iter().enumerate().map(|(i, q)| (i, q.distance(p))).min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some(p) = response.hover_pos() {
            if let Some((i, _)) = nearest(p).filter(|(_, d)| *d <= 6.0) {
                response.clone().on_hover_text(format!("test digit #{i}, class {}", labels[i]));
            }
        }
        if response.clicked() {
            if let Some((i, _)) = response.interact_pointer_pos().and_then(nearest).filter(|(_, d)| *d <= 8.0) {
                commands.push(UiCommand::ShowTestImage(i));
            }
        }
    }
}

/// A five-pointed star, outlined so it shows on any colour.
fn star_shape(painter: &egui::Painter, centre: Pos2, radius: f32) {
    let points: Vec<Pos2> = (0..10)
        .map(|i| {
            let r = if i % 2 == 0 { radius } else { radius * 0.45 };
            let a = std::f32::consts::PI * (i as f32 / 5.0) - std::f32::consts::FRAC_PI_2;
            centre + Vec2::new(a.cos(), a.sin()) * r
        })
        .collect();
    painter.add(egui::Shape::convex_polygon(points.clone(), Color32::from_rgb(255, 215, 0), Stroke::NONE));
    painter.add(egui::Shape::closed_line(points, Stroke::new(1.5, Color32::BLACK)));
}

fn legend_ui(ui: &mut Ui, names: &[String], classes: usize) {
    ui.horizontal_wrapped(|ui| {
        for c in 0..classes {
            let (r, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
            ui.painter().circle_filled(r.center(), 4.5, class_colour(c, classes));
            ui.small(names.get(c).cloned().unwrap_or_else(|| c.to_string()));
        }
    });
}

/// The silhouette score of every frame, the shown one marked.
fn silhouette_ui(ui: &mut Ui, frames: &[Frame], shown: usize) {
    let figures: Vec<String> = frames.iter().map(|f| format!("{:+.2}", f.silhouette)).collect();
    ui.small(format!("Silhouette per epoch (−1..1, higher: classes further apart): {}", figures.join(", ")))
        .on_hover_text(
            "For each digit: how much nearer it is to its own class than to the nearest other class, in the \
                        last hidden layer's full space (not the 2-D picture), averaged over the 2,000 digits.",
        );
    let line: PlotPoints = frames.iter().map(|f| [f.epoch as f64, f.silhouette as f64]).collect();
    let marker = frames.get(shown).map(|f| [f.epoch as f64, f.silhouette as f64]);
    Plot::new("inside-silhouette")
        .height(140.0)
        .x_axis_label("epoch")
        .y_axis_label("silhouette")
        .include_y(0.0)
        .include_y(1.0)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .show(ui, |plot| {
            plot.line(Line::new("silhouette", line));
            if let Some(m) = marker {
                plot.points(Points::new("shown", vec![m]).radius(4.0));
            }
        });
}

/// The nearest training images, small, with their classes.
fn neighbours_ui(ui: &mut Ui, train: &ImageSet, nearest: &[usize], names: &[String]) {
    egui::Grid::new("inside-neighbours").spacing([6.0, 4.0]).show(ui, |ui| {
        for (k, &i) in nearest.iter().filter(|&&i| i < train.len()).enumerate() {
            ui.vertical(|ui| {
                let name = format!("training image {i}");
                let style = GridStyle { name: &name, cell_px: 2.0, outline: None, selected: None };
                grid_ui(ui, &train.image(i), (IMAGE_SIDE, IMAGE_SIDE), &style, grey_scale(&[0.0, 1.0]));
                let label = train.labels[i] as usize;
                ui.small(names.get(label).cloned().unwrap_or_else(|| label.to_string()));
            });
            if k % 4 == 3 {
                ui.end_row();
            }
        }
    });
}
