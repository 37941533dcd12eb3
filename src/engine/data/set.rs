//! A data set as the rest of the engine sees it, whatever it was read from: images as bytes with their labels, the
//! train/test pair with its class names, and the image size every reader produces. A leaf: the readers ([`mnist`](super::mnist)
//!, [`image_folder`](super::image_folder), [`shipped`](super::shipped)) import it, not each other.

use crate::engine::rng::Rng;
use crate::error::printable;
use std::path::PathBuf;

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// The digits' class count, the default of a network's output layer.
pub const NUM_CLASSES: usize = 10;

/// The shipped set's name, as weight files and run records carry it.
pub const MNIST_NAME: &str = "MNIST";

/// Images as bytes (0 = background, 255 = full ink), row-major 28×28, with their labels. Kept as u8 to keep full
/// MNIST at ~50 MB; batches are converted to f32 on the fly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageSet {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The i-th image scaled to 0..1.
    pub fn image(&self, i: usize) -> [f32; IMAGE_PIXELS] {
        let mut out = [0f32; IMAGE_PIXELS];
        for (o, &p) in out.iter_mut().zip(&self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]) {
            *o = p as f32 / 255.0;
        }
        out
    }
    /// The first `n` items (or all).
    pub fn truncated(&self, n: usize) -> ImageSet {
        let n = n.min(self.len());
        ImageSet { images: self.images[..n * IMAGE_PIXELS].to_vec(), labels: self.labels[..n].to_vec() }
    }
    /// Gathers the given items into a batch: pixels scaled to 0..1 (the training normalisation) and labels.
    pub fn batch(&self, indices: &[usize]) -> (Vec<f32>, Vec<u32>) {
        let mut pixels = vec![0f32; indices.len() * IMAGE_PIXELS];
        self.pixels_into(indices, &mut pixels);
        (pixels, indices.iter().map(|&i| self.labels[i] as u32).collect())
    }

    /// The pixels of images `indices`, scaled to 0..1, into `dst` (`indices.len()` images): a batch's pixels
    /// without allocating, as each core of a training step gathers its share.
    pub fn pixels_into(&self, indices: &[usize], dst: &mut [f32]) {
        for (dst, &i) in dst.chunks_exact_mut(IMAGE_PIXELS).zip(indices) {
            for (d, &p) in dst.iter_mut().zip(&self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]) {
                *d = p as f32 / 255.0;
            }
        }
    }
    /// A fresh permutation of 0..len per epoch, from the run's RNG: the same seed gives the same order.
    pub fn shuffled_indices(&self, rng: &mut Rng) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut idx);
        idx
    }
}

/// A train/test pair with what the UI and CLI need to describe it.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    /// Folder it was read from; None for the shipped MNIST.
    pub source: Option<PathBuf>,
    pub class_names: Vec<String>,
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Dataset {
    /// The bytes the set takes in memory (pixels and labels, both halves): what a run holds for its data, since
    /// training reads the set in place (issue 29); said before a run.
    pub fn memory_bytes(&self) -> u64 {
        [&self.train, &self.test].iter().map(|s| (s.images.len() + s.labels.len()) as u64).sum()
    }

    /// [`Dataset::describe`] for a set read for its test half ([`Dataset::load_test_half_noted`]): the training
    /// half was not read, so it is not counted.
    pub fn describe_test_half(&self) -> String {
        printable(&match &self.source {
            None => format!("{} (shipped, {} test images)", self.name, self.test.len()),
            Some(p) => format!("{} ({}, {} test images)", self.name, p.display(), self.test.len()),
        })
    }

    /// "MNIST (shipped)" or "Fashion-MNIST (/usr/share/…)", with any control character of a folder name escaped
    /// (it is printed on terminals).
    pub fn describe(&self) -> String {
        printable(&match &self.source {
            None => format!("{} (shipped, {} train / {} test)", self.name, self.train.len(), self.test.len()),
            Some(p) => {
                format!("{} ({}, {} train / {} test)", self.name, p.display(), self.train.len(), self.test.len())
            }
        })
    }
}

/// A data set with what a user should be told about how it was read (skipped images, the cache).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub data: Dataset,
    /// Lines such as "skipped 2 unreadable images (first: …)"; empty when there is nothing to say.
    pub notes: Vec<String>,
}
