//! What is on the canvas, apart from how it is drawn: the strokes (or a test image put there instead) and the
//! 28×28 input the network reads from them, recomputed only when the content changes (`input_gen`).
//!
//! Strokes are stored in 0..1 canvas coordinates, so the drawing does not depend on the widget's size.

use crate::engine::data::digit::{preprocess, rasterize_strokes, GrayImage};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS};

/// Pen radius as a fraction of the canvas side: a digit drawn at a natural size (about two thirds of the canvas
/// high) ends up with MNIST-like strokes of 2–3 px in the 28×28 input.
pub(crate) const PEN_RADIUS: f32 = 0.04;
/// Resolution the strokes are rasterised at before the MNIST preprocessing (which crops and scales to 20×20).
const RASTER_SIDE: usize = 112;

/// A test-set image placed on the canvas with "Random test digit".
#[derive(Clone)]
pub(crate) struct TestDigit {
    pub pixels: Box<[f32; IMAGE_PIXELS]>,
    pub label: u8,
    pub index: usize,
}

#[derive(Default)]
pub(crate) struct Sketch {
    /// Finished strokes, points in 0..1 canvas coordinates.
    pub strokes: Vec<Vec<[f32; 2]>>,
    /// The stroke being drawn (during a drag).
    pub current: Vec<[f32; 2]>,
    /// A test image shown instead of strokes.
    pub test_digit: Option<TestDigit>,
    /// The network input for the current content (None: nothing on the canvas).
    pub input: Option<Box<[f32; IMAGE_PIXELS]>>,
    /// Bumped whenever the content (and so `input`) changes.
    pub input_gen: u64,
    /// `input_gen` the `input` was computed for.
    computed_gen: Option<u64>,
}

impl Sketch {
    /// True if nothing is on the canvas.
    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty() && self.current.is_empty() && self.test_digit.is_none()
    }

    pub fn clear(&mut self) {
        self.strokes.clear();
        self.current.clear();
        self.test_digit = None;
        self.changed();
    }

    /// Removes the last stroke (or the test digit).
    pub fn undo(&mut self) {
        if !self.current.is_empty() {
            self.current.clear();
        } else if self.test_digit.is_some() {
            self.test_digit = None;
        } else {
            self.strokes.pop();
        }
        self.changed();
    }

    /// The pointer is down at `p`: the stroke goes on (drawing over a test digit starts a fresh drawing).
    pub fn pen_at(&mut self, p: [f32; 2]) {
        if self.current.is_empty() && self.test_digit.is_some() {
            self.test_digit = None;
            self.strokes.clear();
        }
        if self.current.last() != Some(&p) {
            self.current.push(p);
            self.changed();
        }
    }

    /// The pointer is up: a stroke being drawn is finished.
    pub fn pen_up(&mut self) {
        if !self.current.is_empty() {
            let stroke = std::mem::take(&mut self.current);
            self.strokes.push(stroke);
            self.changed();
        }
    }

    /// Puts test image `index` of `test_set` on the canvas; out of range, says so and changes nothing.
    pub fn show_test_digit(&mut self, test_set: &ImageSet, index: usize) -> Result<(), String> {
        if index >= test_set.len() || test_set.images.len() < (index + 1) * IMAGE_PIXELS {
            return Err(format!("test image {index} is not in the test set"));
        }
        self.strokes.clear();
        self.current.clear();
        self.test_digit =
            Some(TestDigit { pixels: Box::new(test_set.image(index)), label: test_set.labels[index], index });
        self.changed();
        Ok(())
    }

    /// The strokes as drawn, dark ink on light paper at the raster's resolution (what "Add to my set" saves), or
    /// None when nothing is drawn (a test digit is not a drawing).
    pub fn drawing_on_paper(&self) -> Option<GrayImage> {
        if self.strokes.is_empty() {
            return None;
        }
        let mut img = rasterize_strokes(&self.strokes, RASTER_SIDE, PEN_RADIUS);
        img.pixels.iter_mut().for_each(|v| *v = 1.0 - v.clamp(0.0, 1.0));
        Some(img)
    }

    /// The 28×28 input (0..1, ink = 1) the network sees, if something is on the canvas.
    pub fn network_input(&self) -> Option<[f32; IMAGE_PIXELS]> {
        if self.input_is_fresh() {
            return self.input.as_deref().copied();
        }
        self.compute_input().map(|b| *b)
    }

    /// True when `input` was computed for the current content.
    pub fn input_is_fresh(&self) -> bool {
        self.computed_gen == Some(self.input_gen)
    }

    /// Recomputes `input` if the content changed since.
    pub fn refresh_input(&mut self) {
        if !self.input_is_fresh() {
            self.input = self.compute_input();
            self.computed_gen = Some(self.input_gen);
        }
    }

    fn changed(&mut self) {
        self.input_gen = self.input_gen.wrapping_add(1);
    }

    fn compute_input(&self) -> Option<Box<[f32; IMAGE_PIXELS]>> {
        if let Some(t) = &self.test_digit {
            // Test images are already in MNIST form: the network sees them as they are.
            return Some(t.pixels.clone());
        }
        let mut strokes: Vec<Vec<[f32; 2]>> = self.strokes.clone();
        if !self.current.is_empty() {
            strokes.push(self.current.clone());
        }
        if strokes.is_empty() {
            return None;
        }
        let img = rasterize_strokes(&strokes, RASTER_SIDE, PEN_RADIUS);
        preprocess(&img).map(Box::new)
    }
}
