//! Decoding a listed image folder into the data set, on all cores, through the canvas' preprocessing.

use crate::engine::data::digit::{preprocess, GrayImage};
use crate::engine::data::image_folder::listing::Entry;
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS};
use crate::{Error, Result};
use rayon::prelude::*;
use std::path::Path;

/// More unreadable images than this share of the folder is an error rather than a note.
pub const MAX_SKIPPED_SHARE: f64 = 0.1;

/// The decoded split, as the cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decoded {
    pub train: ImageSet,
    pub test: ImageSet,
    pub notes: Vec<String>,
}

/// Decodes every listed image (on all cores) through the canvas' preprocessing. Unreadable or blank images are
/// skipped and counted; too many of them, or a class left without training images, is an error.
pub(super) fn decode(dir: &Path, class_names: &[String], entries: &[Entry], allow_empty: bool) -> Result<Decoded> {
    let results: Vec<Result<[u8; IMAGE_PIXELS]>> = entries.par_iter().map(|e| decode_one(&e.path)).collect();
    let mut train = ImageSet { images: Vec::new(), labels: Vec::new() };
    let mut test = ImageSet { images: Vec::new(), labels: Vec::new() };
    let mut skipped = Vec::new();
    for (e, r) in entries.iter().zip(results) {
        match r {
            Ok(px) => {
                let set = if e.test { &mut test } else { &mut train };
                set.images.extend_from_slice(&px);
                set.labels.push(e.class);
            }
            Err(err) => skipped.push(err),
        }
    }
    let too_many = skipped.len() as f64 > (entries.len() as f64 * MAX_SKIPPED_SHARE).max(1.0);
    if let (true, Some(first)) = (too_many, skipped.first()) {
        return Err(Error::data(
            dir,
            format!("{} of {} images cannot be used; the first: {}", skipped.len(), entries.len(), first.report()),
        ));
    }
    for (c, name) in class_names.iter().enumerate() {
        if !allow_empty && !train.labels.contains(&(c as u8)) {
            let path = entries
                .iter()
                .find(|e| e.class as usize == c)
                .map(|e| e.path.clone())
                .unwrap_or_else(|| dir.join(name));
            return Err(Error::data(path, format!("no readable training image of class '{name}'")));
        }
    }
    if test.is_empty() {
        return Err(Error::data(dir, "no readable test image: there is nothing to measure accuracy on"));
    }
    let mut notes = Vec::new();
    if let Some(first) = skipped.first() {
        notes.push(format!(
            "skipped {} unusable image(s) of {}; the first: {}",
            skipped.len(),
            entries.len(),
            first.report()
        ));
    }
    Ok(Decoded { train, test, notes })
}

/// One image file as the network sees it: decoded, either polarity, cropped, scaled and centred like MNIST.
fn decode_one(path: &Path) -> Result<[u8; IMAGE_PIXELS]> {
    let img = GrayImage::read_file(path)?;
    let Some(x) = preprocess(&img) else {
        return Err(Error::image(path, "no digit or drawing: the image is blank or has no contrast"));
    };
    let mut out = [0u8; IMAGE_PIXELS];
    for (o, v) in out.iter_mut().zip(x) {
        *o = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    Ok(out)
}
