//! What the network reads: the MNIST family's files (checked before they are trusted) and any drawing or photo
//! turned into the 28×28 digit the network was trained on.
//!
//! * [`mnist`]: a data set — the train/test pair and its class names, from a folder or shipped.
//! * [`idx`]: the IDX file format, read defensively.
//! * [`checksums`]: `SHA256SUMS` and digests.
//! * [`classes`]: the class names (digits, Fashion-MNIST's, `classes.txt`).
//! * [`image_folder`]: your own data — one subfolder of PNG/JPEG files per class — and its [`folder_cache`].
//! * [`shipped`]: the MNIST files compiled into the binary.
//! * [`image_file`]: PNG and JPEG files decoded, in bounded memory, to a grey image.
//! * [`digit`]: pure pixel work — any grey image turned into MNIST's 28×28 input, and pen strokes drawn.

pub(crate) mod checksums;
pub(crate) mod classes;
pub mod digit;
mod folder_cache;
pub(crate) mod idx;
pub mod image_file;
pub mod image_folder;
pub mod mnist;
mod shipped;
