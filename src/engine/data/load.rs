//! The one place that tells the kinds of data source apart: nothing, an MNIST-format folder or an image folder.

use crate::engine::data::image_folder::{self, is_image_folder};
use crate::engine::data::set::{Dataset, ImageSet, Loaded};
use crate::Result;
use std::path::Path;

impl Dataset {
    /// `--data DIR` if given, else the shipped MNIST.
    pub fn load(dir: Option<&Path>) -> Result<Dataset> {
        Dataset::load_noted(dir).map(|l| l.data)
    }

    /// [`Dataset::load`] with what the user should be told about the reading (skipped images, the cache). The one
    /// place that tells the two kinds of data folder apart: a folder with any of the four IDX file names is read as
    /// an MNIST-format set ([`Dataset::from_dir`]), any other as an image folder
    /// ([`image_folder`](super::super::image_folder)).
    pub fn load_noted(dir: Option<&Path>) -> Result<Loaded> {
        match dir {
            Some(d) if d.is_dir() && is_image_folder(d) => image_folder::load(d),
            Some(d) => Ok(Loaded { data: Dataset::from_dir(d)?, notes: Vec::new() }),
            None => Ok(Loaded { data: Dataset::shipped_mnist()?, notes: Vec::new() }),
        }
    }

    /// [`Dataset::load_noted`] for evaluating weights: only the test half is kept. An MNIST-format folder and the
    /// shipped set do not read their training images at all; an image folder is read whole (its cache holds both
    /// halves) and its training half dropped before anything else is allocated.
    pub fn load_test_half_noted(dir: Option<&Path>) -> Result<Loaded> {
        match dir {
            Some(d) if d.is_dir() && is_image_folder(d) => {
                let mut loaded = image_folder::load(d)?;
                loaded.data.train = ImageSet::default();
                Ok(loaded)
            }
            Some(d) => Ok(Loaded { data: Dataset::test_half_from_dir(d)?, notes: Vec::new() }),
            None => Ok(Loaded { data: Dataset::shipped_mnist_test_half()?, notes: Vec::new() }),
        }
    }
}
