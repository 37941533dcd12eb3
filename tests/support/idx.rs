//! Data folders built byte by byte for the reader's tests: IDX image and label files, gzip, and the four files of
//! an MNIST-format folder.

use lenet_playground::engine::data::idx;
use std::io::Write;
use std::path::Path;

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX image file of `n` images of `side`×`side` pixels; the file's pixel `i` is `pixel(i)`.
pub fn idx_images_with(n: usize, side: u32, pixel: impl Fn(usize) -> u8) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    v.extend((n as u32).to_be_bytes());
    v.extend(side.to_be_bytes());
    v.extend(side.to_be_bytes());
    v.extend((0..n * (side * side) as usize).map(pixel));
    v
}

/// `n` images of `side`×`side` pixels counting up modulo 251.
pub fn idx_images_sized(n: usize, side: u32) -> Vec<u8> {
    idx_images_with(n, side, |i| (i % 251) as u8)
}

/// `n` 28×28 images, pixels counting up modulo 251.
pub fn idx_images(n: usize) -> Vec<u8> {
    idx_images_sized(n, 28)
}

/// An IDX label file of `n` labels 0, 1, …, 9, 0, ….
pub fn idx_labels(n: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((n as u32).to_be_bytes());
    v.extend((0..n).map(|i| (i % 10) as u8));
    v
}

/// Writes the four files of a data set (images and labels of the training and the test set) into `dir`, which is
/// created; `gzip` chooses `.gz` or raw names.
pub fn write_files(dir: &Path, train: (Vec<u8>, Vec<u8>), test: (Vec<u8>, Vec<u8>), gzip: bool) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in [
        (idx::TRAIN_IMAGES, train.0),
        (idx::TRAIN_LABELS, train.1),
        (idx::TEST_IMAGES, test.0),
        (idx::TEST_LABELS, test.1),
    ] {
        if gzip {
            std::fs::write(dir.join(format!("{name}.gz")), gz(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// A gzip data set of `train` and `test` 28×28 images in `dir`, which is created.
pub fn write_set(dir: &Path, train: usize, test: usize) {
    write_files(dir, (idx_images(train), idx_labels(train)), (idx_images(test), idx_labels(test)), true);
}
