//! What the network reads: the MNIST family's files (checked before they are trusted) and any drawing or photo
//! turned into the 28×28 digit the network was trained on.
//!
//! Every reader produces the leaf [`set`]'s types; [`load`] alone chooses a reader, so no reader names another.
//! * [`set`]: a data set — images as bytes with labels, the train/test pair and its class names.
//! * [`load`]: `--data DIR` or nothing, told apart: an MNIST-format folder, an image folder, or the shipped set.
//! * [`mnist`]: a folder with the four IDX files of the MNIST family, checked ([`checksums`], [`classes`]).
//! * [`idx`]: the IDX file format and its standard file names, read defensively.
//! * [`checksums`]: `SHA256SUMS` and digests.
//! * [`classes`]: the class names (digits, Fashion-MNIST's, `classes.txt`).
//! * [`image_folder`]: your own data — one subfolder of PNG/JPEG files per class — listed, decoded and cached.
//! * [`shipped`]: the MNIST files compiled into the binary.
//! * [`image_file`]: PNG and JPEG files decoded, in bounded memory, to a grey image.
//! * [`digit`]: pure pixel work — any grey image turned into MNIST's 28×28 input, and pen strokes drawn.

pub(crate) mod checksums;
pub mod classes;
pub mod digit;
pub mod idx;
pub mod image_file;
pub mod image_folder;
pub mod load;
pub mod mnist;
pub mod set;
mod shipped;
