//! What changed from one architecture to another, in the words of the stage keys (`c1 6→16 channels`,
//! `+f3 64`, `no pooling after c1`): how the run store labels a run against the one before it. Blocks and hidden
//! layers are compared by position; a layer's key is the one it has in the newer description (LeCun's
//! numbering, as in `stages`), or in the older one for a layer that was removed.

use super::{Architecture, ConvBlock, Dense};

impl Architecture {
    /// The changes that turn `self` into `other`, one short phrase each, convolution blocks first; empty when
    /// they are the same.
    pub fn differences(&self, other: &Architecture) -> Vec<String> {
        let (old_keys, new_keys) = (Keys::of(self), Keys::of(other));
        let mut out = Vec::new();
        for i in 0..self.blocks().len().max(other.blocks().len()) {
            match (self.blocks().get(i), other.blocks().get(i)) {
                (Some(a), Some(b)) => block_changes(&new_keys.conv[i], a, b, &mut out),
                (None, Some(b)) => out.push(format!("+{} {}", new_keys.conv[i], block_text(b))),
                (Some(a), None) => out.push(format!("-{} {}", old_keys.conv[i], block_text(a))),
                (None, None) => {}
            }
        }
        for i in 0..self.hidden().len().max(other.hidden().len()) {
            match (self.hidden().get(i), other.hidden().get(i)) {
                (Some(a), Some(b)) => dense_changes(&new_keys.dense[i], a, b, &mut out),
                (None, Some(b)) => out.push(format!("+{} {}", new_keys.dense[i], dense_text(b))),
                (Some(a), None) => out.push(format!("-{} {}", old_keys.dense[i], dense_text(a))),
                (None, None) => {}
            }
        }
        out
    }
}

/// The keys of a description's conv and dense layers (c1, c3, f5, … for LeNet-5).
struct Keys {
    conv: Vec<String>,
    dense: Vec<String>,
}

impl Keys {
    fn of(arch: &Architecture) -> Self {
        let mut n = 1;
        let mut conv = Vec::new();
        for b in arch.blocks() {
            conv.push(format!("c{n}"));
            n += if b.pool { 2 } else { 1 };
        }
        let dense = (0..arch.hidden().len()).map(|i| format!("f{}", n + i)).collect();
        Keys { conv, dense }
    }
}

fn block_changes(key: &str, a: &ConvBlock, b: &ConvBlock, out: &mut Vec<String>) {
    if a.channels != b.channels {
        out.push(format!("{key} {}→{} channels", a.channels, b.channels));
    }
    if a.kernel != b.kernel {
        out.push(format!("{key} kernel {}→{}", a.kernel, b.kernel));
    }
    if a.padding != b.padding {
        out.push(format!("{key} padding {}→{}", a.padding, b.padding));
    }
    match (a.pool, b.pool) {
        (true, false) => out.push(format!("no pooling after {key}")),
        (false, true) => out.push(format!("pooling after {key}")),
        _ => {}
    }
}

fn dense_changes(key: &str, a: &Dense, b: &Dense, out: &mut Vec<String>) {
    if a.width != b.width {
        out.push(format!("{key} {}→{}", a.width, b.width));
    }
    if a.dropout_pct != b.dropout_pct {
        out.push(format!("{key} dropout {}→{}", rate(a.dropout_pct), rate(b.dropout_pct)));
    }
}

/// `32 channels 3×3 p1 pooled`.
fn block_text(b: &ConvBlock) -> String {
    let pad = if b.padding > 0 { format!(" p{}", b.padding) } else { String::new() };
    format!("{} channels {}×{}{pad}{}", b.channels, b.kernel, b.kernel, if b.pool { " pooled" } else { "" })
}

/// `64` or `64 dropout 0.3`.
fn dense_text(d: &Dense) -> String {
    match d.dropout_pct {
        0 => d.width.to_string(),
        pct => format!("{} dropout {}", d.width, rate(pct)),
    }
}

fn rate(pct: u8) -> String {
    super::fmt_rate(pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(s: &str) -> Architecture {
        s.parse().unwrap()
    }

    #[test]
    fn each_change_is_named_by_its_layer() {
        let lenet = Architecture::lenet5();
        assert!(lenet.differences(&lenet).is_empty());
        assert_eq!(lenet.differences(&arch("c16k5p2-pool,c16k5-pool,f120,f84")), ["c1 6→16 channels"]);
        assert_eq!(lenet.differences(&arch("c6k5p2,c16k5-pool,f120,f84")), ["no pooling after c1"]);
        assert_eq!(arch("c6k5p2,c16k5-pool").differences(&arch("c6k5p2-pool,c16k5-pool")), ["pooling after c1"]);
        assert_eq!(lenet.differences(&arch("c6k3p1-pool,c16k5-pool,f120,f84")), ["c1 kernel 5→3", "c1 padding 2→1"]);
        assert_eq!(lenet.differences(&arch("c6k5p2-pool,c16k5-pool,f120,f84,f64")), ["+f7 64"]);
        assert_eq!(arch("f300,f100").differences(&arch("f300,f100,f64")), ["+f3 64"]);
        assert_eq!(arch("f300,f100,f64").differences(&arch("f300,f100")), ["-f3 64"]);
        assert_eq!(arch("f300").differences(&arch("f300-drop0.3")), ["f1 dropout 0→0.3"]);
        assert_eq!(arch("f300").differences(&arch("f200")), ["f1 300→200"]);
        assert_eq!(
            lenet.differences(&arch("c6k5p2-pool,c16k5-pool,c32k3p1-pool,f120,f84")),
            ["+c5 32 channels 3×3 p1 pooled"]
        );
        // Layers keep the keys of the newer description: removing a pooling renumbers the dense layers.
        assert_eq!(arch("f120").differences(&Architecture::lenet5())[0], "+c1 6 channels 5×5 p2 pooled");
        assert_eq!(
            Architecture::lenet5().differences(&arch("mlp")),
            ["-c1 6 channels 5×5 p2 pooled", "-c3 16 channels 5×5 pooled", "f1 120→300", "f2 84→100"]
        );
    }
}
