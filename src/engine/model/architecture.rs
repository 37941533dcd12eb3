//! What a learner can change about the network itself: its conv blocks (channels, kernel, padding, pooling after
//! it) and the hidden dense layers (width, dropout before it). Plain `Copy` data, so it travels inside
//! [`ModelConfig`](crate::engine::model::config::ModelConfig) to the model, the weight files, the trainer, the
//! runs and the views; [`stages`](super::stages) is the one place that derives sizes, parameter shapes and keys
//! from it, and the one place that says why a description cannot be built.
//!
//! The compact text form (`--arch`, weight-file metadata, run records) is a comma-separated list, one item per
//! layer before the output layer:
//! - `c<channels>k<kernel>[p<padding>|psame][-pool]`: a stride-1 convolution (the configured activation after it),
//!   optionally followed by the configured 2×2 pooling. `psame` is `(kernel − 1) / 2`. Padding defaults to 0.
//! - `f<width>[-drop<rate>]`: a hidden dense layer (activation after it), with dropout of `rate` (0–0.7) on its
//!   input while training.
//! - `lenet5`, `mlp`, `wide`, `tiny` name the presets; `linear` is no hidden layer at all (softmax regression).
//!
//! LeNet-5 reads `c6k5p2-pool,c16k5-pool,f120,f84`.

mod differences;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// At most this many conv blocks and this many hidden dense layers.
pub const MAX_BLOCKS: usize = 3;
pub const MAX_HIDDEN: usize = 3;
/// The editor's and the parser's bounds.
pub const CHANNELS: std::ops::RangeInclusive<usize> = 1..=64;
pub const KERNEL: std::ops::RangeInclusive<usize> = 1..=9;
pub const WIDTH: std::ops::RangeInclusive<usize> = 1..=1024;
/// Dropout rates are kept in hundredths (0..=70), so a description stays `Eq` and prints exactly.
pub const MAX_DROPOUT_PCT: u8 = 70;

/// One convolution, optionally followed by pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvBlock {
    pub channels: usize,
    pub kernel: usize,
    pub padding: usize,
    pub pool: bool,
}

impl ConvBlock {
    /// The padding that keeps the side for an odd kernel ("same"); one less than that for an even kernel.
    pub fn same_padding(kernel: usize) -> usize {
        kernel.saturating_sub(1) / 2
    }
}

/// One hidden fully connected layer, with dropout on its input while training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dense {
    pub width: usize,
    /// Dropout rate in hundredths (30 = 0.3); 0 is none.
    pub dropout_pct: u8,
}

impl Dense {
    pub fn dropout(&self) -> f32 {
        self.dropout_pct as f32 / 100.0
    }
}

/// The network between the 28×28 input and the output layer (whose width is the number of classes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Architecture {
    blocks: [ConvBlock; MAX_BLOCKS],
    n_blocks: usize,
    hidden: [Dense; MAX_HIDDEN],
    n_hidden: usize,
}

const NO_BLOCK: ConvBlock = ConvBlock { channels: 1, kernel: 1, padding: 0, pool: false };
const NO_DENSE: Dense = Dense { width: 1, dropout_pct: 0 };

/// The named starting points of the Architecture editor (`--arch NAME`).
pub const PRESETS: [(&str, &str); 4] = [
    ("lenet5", "LeNet-5 (1998): 6 and 16 channels, 5×5 kernels, 120-84"),
    ("mlp", "MLP 784-300-100-10 (LeCun 1998's baseline, no convolutions)"),
    ("wide", "Wide LeNet: 32 and 64 channels"),
    ("tiny", "Tiny LeNet: 2 and 4 channels, 16 hidden"),
];

impl Architecture {
    /// A description from its parts; `Err` says which bound a part breaks (sizes are checked by `stages`).
    pub fn new(blocks: &[ConvBlock], hidden: &[Dense]) -> Result<Self, ArchError> {
        if blocks.len() > MAX_BLOCKS {
            return Err(ArchError::new(format!("at most {MAX_BLOCKS} conv blocks, got {}", blocks.len())));
        }
        if hidden.len() > MAX_HIDDEN {
            return Err(ArchError::new(format!("at most {MAX_HIDDEN} hidden layers, got {}", hidden.len())));
        }
        for (i, b) in blocks.iter().enumerate() {
            let n = i + 1;
            if !CHANNELS.contains(&b.channels) {
                return Err(ArchError::new(format!("block {n}: {} channels is outside {CHANNELS:?}", b.channels)));
            }
            if !KERNEL.contains(&b.kernel) {
                return Err(ArchError::new(format!("block {n}: kernel {} is outside {KERNEL:?}", b.kernel)));
            }
            if b.padding >= b.kernel {
                return Err(ArchError::new(format!(
                    "block {n}: padding {} must be less than the kernel ({}): more adds only zeros",
                    b.padding, b.kernel
                )));
            }
        }
        for (i, d) in hidden.iter().enumerate() {
            let n = i + 1;
            if !WIDTH.contains(&d.width) {
                return Err(ArchError::new(format!("hidden layer {n}: width {} is outside {WIDTH:?}", d.width)));
            }
            if d.dropout_pct > MAX_DROPOUT_PCT {
                return Err(ArchError::new(format!(
                    "hidden layer {n}: dropout {} is above 0.7",
                    d.dropout_pct as f32 / 100.0
                )));
            }
        }
        let mut arch =
            Architecture { blocks: [NO_BLOCK; MAX_BLOCKS], n_blocks: 0, hidden: [NO_DENSE; MAX_HIDDEN], n_hidden: 0 };
        arch.blocks[..blocks.len()].copy_from_slice(blocks);
        arch.hidden[..hidden.len()].copy_from_slice(hidden);
        arch.n_blocks = blocks.len();
        arch.n_hidden = hidden.len();
        Ok(arch)
    }

    /// LeNet-5 as the classic lesson draws it: the default everywhere.
    pub fn lenet5() -> Self {
        Self::preset("lenet5").expect("the LeNet-5 preset is valid")
    }

    /// One of [`PRESETS`] by key.
    pub fn preset(key: &str) -> Option<Self> {
        let (blocks, hidden): (&[ConvBlock], &[Dense]) = match key {
            "lenet5" => (&[conv(6, 5, 2, true), conv(16, 5, 0, true)], &[dense(120), dense(84)]),
            "mlp" => (&[], &[dense(300), dense(100)]),
            "wide" => (&[conv(32, 5, 2, true), conv(64, 5, 0, true)], &[dense(120), dense(84)]),
            "tiny" => (&[conv(2, 5, 2, true), conv(4, 5, 0, true)], &[dense(16)]),
            "linear" => (&[], &[]),
            _ => return None,
        };
        Some(Self::new(blocks, hidden).expect("presets are within bounds"))
    }

    /// The preset this description is, if any.
    pub fn preset_key(&self) -> Option<&'static str> {
        PRESETS.iter().map(|(k, _)| *k).chain(["linear"]).find(|k| Self::preset(k) == Some(*self))
    }

    pub fn blocks(&self) -> &[ConvBlock] {
        &self.blocks[..self.n_blocks]
    }

    pub fn hidden(&self) -> &[Dense] {
        &self.hidden[..self.n_hidden]
    }

    /// The same description with its blocks replaced (bounds checked).
    pub fn with_blocks(&self, blocks: &[ConvBlock]) -> Result<Self, ArchError> {
        Self::new(blocks, self.hidden())
    }

    /// The same description with its hidden layers replaced (bounds checked).
    pub fn with_hidden(&self, hidden: &[Dense]) -> Result<Self, ArchError> {
        Self::new(self.blocks(), hidden)
    }

    /// The compact text form (see the module docs); presets print as their spelled-out form.
    pub fn spec(&self) -> String {
        let mut items: Vec<String> = self
            .blocks()
            .iter()
            .map(|b| {
                let pad = if b.padding > 0 { format!("p{}", b.padding) } else { String::new() };
                format!("c{}k{}{pad}{}", b.channels, b.kernel, if b.pool { "-pool" } else { "" })
            })
            .collect();
        items.extend(self.hidden().iter().map(|d| match d.dropout_pct {
            0 => format!("f{}", d.width),
            pct => format!("f{}-drop{}", d.width, fmt_rate(pct)),
        }));
        if items.is_empty() {
            "linear".into()
        } else {
            items.join(",")
        }
    }
}

impl Default for Architecture {
    fn default() -> Self {
        Self::lenet5()
    }
}

impl fmt::Debug for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Architecture({})", self.spec())
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

fn conv(channels: usize, kernel: usize, padding: usize, pool: bool) -> ConvBlock {
    ConvBlock { channels, kernel, padding, pool }
}

fn dense(width: usize) -> Dense {
    Dense { width, dropout_pct: 0 }
}

/// 0.3 for 30, 0.05 for 5.
fn fmt_rate(pct: u8) -> String {
    let s = format!("{:.2}", pct as f32 / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Why a description cannot be built: a bound broken, a text that does not parse, or (from `stages`) a size that
/// does not work out. `stage` names the offending stage when there is one, for the editor to mark it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", stage.map(|s| format!("{s}: ")).unwrap_or_default())]
pub struct ArchError {
    pub stage: Option<&'static str>,
    pub message: String,
}

impl ArchError {
    pub fn new(message: impl Into<String>) -> Self {
        ArchError { stage: None, message: message.into() }
    }

    pub fn at(stage: &'static str, message: impl Into<String>) -> Self {
        ArchError { stage: Some(stage), message: message.into() }
    }
}

impl FromStr for Architecture {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, ArchError> {
        let s = s.trim();
        if let Some(arch) = Self::preset(&s.to_ascii_lowercase()) {
            return Ok(arch);
        }
        if s.len() > 200 {
            return Err(ArchError::new("an architecture is at most 200 characters"));
        }
        let (mut blocks, mut hidden) = (Vec::new(), Vec::new());
        for item in s.split(',').map(str::trim) {
            let bad = |why: &str| {
                ArchError::new(format!(
                    "'{item}' is not a layer ({why}); expected e.g. c6k5p2-pool or f120-drop0.3, or one of lenet5, mlp, wide, tiny, linear"
                ))
            };
            let lower = item.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix('c') {
                if !hidden.is_empty() {
                    return Err(ArchError::new(format!("'{item}': conv blocks come before the dense layers")));
                }
                let (body, pool) = match rest.strip_suffix("-pool") {
                    Some(b) => (b, true),
                    None => (rest, false),
                };
                let (channels, rest) = body.split_once('k').ok_or_else(|| bad("no kernel 'k'"))?;
                let (kernel, padding) = match rest.split_once('p') {
                    Some((k, p)) => (k, Some(p)),
                    None => (rest, None),
                };
                let channels = number(channels).ok_or_else(|| bad("channels is not a number"))?;
                let kernel = number(kernel).ok_or_else(|| bad("kernel is not a number"))?;
                let padding = match padding {
                    None => 0,
                    Some("same") => ConvBlock::same_padding(kernel),
                    Some(p) => number(p).ok_or_else(|| bad("padding is not a number or 'same'"))?,
                };
                blocks.push(ConvBlock { channels, kernel, padding, pool });
            } else if let Some(rest) = lower.strip_prefix('f') {
                let (width, drop) = match rest.split_once("-drop") {
                    Some((w, d)) => (w, Some(d)),
                    None => (rest, None),
                };
                let width = number(width).ok_or_else(|| bad("width is not a number"))?;
                let dropout_pct = match drop {
                    None => 0,
                    Some(d) => {
                        let rate: f32 = d.parse().map_err(|_| bad("dropout is not a number"))?;
                        if !(0.0..=0.7).contains(&rate) {
                            return Err(ArchError::new(format!("'{item}': dropout must be within 0–0.7")));
                        }
                        (rate * 100.0).round() as u8
                    }
                };
                hidden.push(Dense { width, dropout_pct });
            } else {
                return Err(bad("it starts with neither 'c' nor 'f'"));
            }
        }
        Architecture::new(&blocks, &hidden)
    }
}

/// A small decimal number (at most 4 digits, so no overflow and no giant allocation downstream).
fn number(s: &str) -> Option<usize> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

impl Serialize for Architecture {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.spec())
    }
}

impl<'de> Deserialize<'de> for Architecture {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_print_and_parse_back() {
        assert_eq!(Architecture::lenet5().spec(), "c6k5p2-pool,c16k5-pool,f120,f84");
        assert_eq!(Architecture::default(), Architecture::lenet5());
        for (key, _) in PRESETS.iter().chain(&[("linear", "")]) {
            let arch = Architecture::preset(key).unwrap();
            assert_eq!(arch.spec().parse::<Architecture>().unwrap(), arch, "{key}");
            assert_eq!(key.parse::<Architecture>().unwrap(), arch);
            assert_eq!(arch.preset_key(), Some(*key));
        }
        assert_eq!(Architecture::preset("mlp").unwrap().spec(), "f300,f100");
        assert_eq!(Architecture::preset("linear").unwrap().blocks().len(), 0);
    }

    #[test]
    fn the_text_form_reads_every_part() {
        let arch: Architecture = "c8k3psame-pool, c16k4p1, F64-drop0.25".parse().unwrap();
        assert_eq!(
            arch.blocks(),
            [
                ConvBlock { channels: 8, kernel: 3, padding: 1, pool: true },
                ConvBlock { channels: 16, kernel: 4, padding: 1, pool: false }
            ]
        );
        assert_eq!(arch.hidden(), [Dense { width: 64, dropout_pct: 25 }]);
        assert_eq!(arch.spec(), "c8k3p1-pool,c16k4p1,f64-drop0.25");
        assert_eq!(arch.preset_key(), None);
        let json = serde_json::to_string(&arch).unwrap();
        assert_eq!(serde_json::from_str::<Architecture>(&json).unwrap(), arch);
    }

    #[test]
    fn bad_text_and_broken_bounds_are_explained() {
        for (text, says) in [
            ("", "not a layer"),
            ("c6", "no kernel"),
            ("c0k5", "outside"),
            ("c65k5", "outside"),
            ("c6k10", "outside"),
            ("c6k3p3", "padding 3 must be less"),
            ("f0", "outside"),
            ("f2000", "outside"),
            ("f10-drop0.8", "0–0.7"),
            ("f10,c6k5", "come before"),
            ("c6k5,c6k5,c6k5,c6k5", "at most 3 conv"),
            ("f1,f1,f1,f1", "at most 3 hidden"),
            ("x12", "neither"),
            ("c99999999999999999999k5", "not a number"),
        ] {
            let err = text.parse::<Architecture>().unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
