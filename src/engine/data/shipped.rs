//! The MNIST files compiled into the binary, so the app trains with no set-up, from any working directory, with no
//! network; their published checksums are verified before they are used.

use crate::engine::data::checksums::{check_digest, parse_sums, sha256_hex};
use crate::engine::data::classes::{owned, DIGIT_CLASSES};
use crate::engine::data::idx::{idx_from_bytes, Kind};
use crate::engine::data::idx::{read_pair, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::engine::data::set::{Dataset, ImageSet, MNIST_NAME};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The shipped files, byte-exact copies of assets/mnist, with their published checksums.
const SHIPPED: [(&str, &[u8]); 4] = [
    (TRAIN_IMAGES, include_bytes!("../../../assets/mnist/train-images-idx3-ubyte.gz")),
    (TRAIN_LABELS, include_bytes!("../../../assets/mnist/train-labels-idx1-ubyte.gz")),
    (TEST_IMAGES, include_bytes!("../../../assets/mnist/t10k-images-idx3-ubyte.gz")),
    (TEST_LABELS, include_bytes!("../../../assets/mnist/t10k-labels-idx1-ubyte.gz")),
];
const SHIPPED_SHA256SUMS: &str = include_str!("../../../assets/mnist/SHA256SUMS");

impl Dataset {
    /// The MNIST files shipped inside the binary, checksums verified.
    pub fn shipped_mnist() -> Result<Dataset> {
        Dataset::shipped_halves(true)
    }

    /// The shipped MNIST's test half only (the training half is empty and its images are not decoded).
    pub fn shipped_mnist_test_half() -> Result<Dataset> {
        Dataset::shipped_halves(false)
    }

    fn shipped_halves(with_train: bool) -> Result<Dataset> {
        let sums_path = Path::new("assets/mnist/SHA256SUMS");
        let sums = parse_sums(sums_path, SHIPPED_SHA256SUMS)?;
        let mut parts = Vec::new();
        for (name, bytes) in SHIPPED {
            let path = PathBuf::from(format!("assets/mnist/{name}.gz"));
            let expected = sums.get(&format!("{name}.gz")).map(String::as_str);
            let Some(expected) = expected else {
                return Err(Error::data(&path, "no checksum listed for this file"));
            };
            check_digest(&path, &sha256_hex(bytes), expected)?;
            parts.push((path, bytes));
        }
        let train = if with_train {
            read_pair(
                &parts[0].0,
                idx_from_bytes(&parts[0].0, parts[0].1, Kind::Images)?,
                &parts[1].0,
                idx_from_bytes(&parts[1].0, parts[1].1, Kind::Labels)?,
            )?
        } else {
            ImageSet::default()
        };
        let test = read_pair(
            &parts[2].0,
            idx_from_bytes(&parts[2].0, parts[2].1, Kind::Images)?,
            &parts[3].0,
            idx_from_bytes(&parts[3].0, parts[3].1, Kind::Labels)?,
        )?;
        Ok(Dataset { name: MNIST_NAME.into(), source: None, class_names: owned(&DIGIT_CLASSES), train, test })
    }
}
