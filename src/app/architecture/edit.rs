//! The Architecture editor's edits applied to a description: pure, so the rules are tested without a window. An
//! edit that would break a bound (a fourth block, padding not below the kernel) is refused with the reason, or
//! made to fit where the intent is plain (a smaller kernel takes the padding down with it). Whether the sizes work
//! out is not checked here: the editor shows that in the stage table, and Train refuses it.

use crate::app::command::ArchCommand;
use crate::engine::model::architecture::{
    ArchError, Architecture, ConvBlock, Dense, CHANNELS, KERNEL, MAX_BLOCKS, MAX_DROPOUT_PCT, MAX_HIDDEN, WIDTH,
};

/// `arch` with `cmd` applied, or why it cannot be.
pub(crate) fn apply(arch: Architecture, cmd: ArchCommand) -> Result<Architecture, ArchError> {
    let mut blocks = arch.blocks().to_vec();
    let mut hidden = arch.hidden().to_vec();
    match cmd {
        ArchCommand::Preset(key) => {
            return Architecture::preset(key).ok_or_else(|| ArchError::new(format!("no preset named '{key}'")));
        }
        ArchCommand::AddBlock => {
            if blocks.len() >= MAX_BLOCKS {
                return Err(ArchError::new(format!("at most {MAX_BLOCKS} conv blocks")));
            }
            // Keeps the side (3×3, padding 1) and the channels of the block before: adding never breaks the sizes.
            let channels = blocks.last().map_or(6, |b| b.channels);
            blocks.push(ConvBlock { channels, kernel: 3, padding: 1, pool: false });
        }
        ArchCommand::RemoveBlock(i) if i < blocks.len() => {
            blocks.remove(i);
        }
        ArchCommand::SetBlock(i, b) if i < blocks.len() => blocks[i] = fit_block(b),
        ArchCommand::AddDense => {
            if hidden.len() >= MAX_HIDDEN {
                return Err(ArchError::new(format!("at most {MAX_HIDDEN} hidden layers")));
            }
            let width = hidden.last().map_or(64, |d| d.width.min(64));
            hidden.push(Dense { width, dropout_pct: 0 });
        }
        ArchCommand::RemoveDense(i) if i < hidden.len() => {
            hidden.remove(i);
        }
        ArchCommand::SetDense(i, d) if i < hidden.len() => {
            hidden[i] = Dense {
                width: d.width.clamp(*WIDTH.start(), *WIDTH.end()),
                dropout_pct: d.dropout_pct.min(MAX_DROPOUT_PCT),
            }
        }
        ArchCommand::RemoveBlock(i) | ArchCommand::SetBlock(i, _) => {
            return Err(ArchError::new(format!("there is no conv block {}", i + 1)));
        }
        ArchCommand::RemoveDense(i) | ArchCommand::SetDense(i, _) => {
            return Err(ArchError::new(format!("there is no hidden layer {}", i + 1)));
        }
    }
    Architecture::new(&blocks, &hidden)
}

/// A block within the bounds: channels and kernel clamped, padding below the kernel.
fn fit_block(b: ConvBlock) -> ConvBlock {
    let kernel = b.kernel.clamp(*KERNEL.start(), *KERNEL.end());
    ConvBlock {
        channels: b.channels.clamp(*CHANNELS.start(), *CHANNELS.end()),
        kernel,
        padding: b.padding.min(kernel - 1),
        pool: b.pool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::architecture::PRESETS;

    #[test]
    fn edits_stay_within_the_bounds() {
        let lenet = Architecture::lenet5();
        let wide =
            apply(lenet, ArchCommand::SetBlock(0, ConvBlock { channels: 99, kernel: 3, padding: 2, pool: true }))
                .unwrap();
        assert_eq!(wide.blocks()[0], ConvBlock { channels: 64, kernel: 3, padding: 2, pool: true });
        let smaller = apply(wide, ArchCommand::SetBlock(0, ConvBlock { kernel: 1, ..wide.blocks()[0] })).unwrap();
        assert_eq!(smaller.blocks()[0].padding, 0, "the padding follows a smaller kernel");

        let three = apply(lenet, ArchCommand::AddBlock).unwrap();
        assert_eq!(three.blocks()[2], ConvBlock { channels: 16, kernel: 3, padding: 1, pool: false });
        assert!(apply(three, ArchCommand::AddBlock).unwrap_err().message.contains("at most 3"));
        assert_eq!(apply(three, ArchCommand::RemoveBlock(0)).unwrap().blocks().len(), 2);
        assert!(apply(three, ArchCommand::RemoveBlock(3)).is_err());

        let mlp = apply(lenet, ArchCommand::Preset("mlp")).unwrap();
        assert_eq!(mlp.preset_key(), Some("mlp"));
        let mlp3 = apply(mlp, ArchCommand::AddDense).unwrap();
        assert_eq!(mlp3.hidden()[2], Dense { width: 64, dropout_pct: 0 });
        assert!(apply(mlp3, ArchCommand::AddDense).is_err());
        let dropped = apply(mlp, ArchCommand::SetDense(1, Dense { width: 5000, dropout_pct: 90 })).unwrap();
        assert_eq!(dropped.hidden()[1], Dense { width: 1024, dropout_pct: 70 });
        assert!(apply(mlp, ArchCommand::SetDense(2, Dense { width: 5, dropout_pct: 0 })).is_err());
        assert!(apply(mlp, ArchCommand::Preset("nope")).is_err());
    }

    #[test]
    fn every_preset_and_every_edit_of_it_is_a_description() {
        for (key, _) in PRESETS {
            let arch = apply(Architecture::lenet5(), ArchCommand::Preset(key)).unwrap();
            for cmd in [ArchCommand::AddBlock, ArchCommand::AddDense, ArchCommand::RemoveBlock(0)] {
                let _ = apply(arch, cmd);
            }
        }
    }
}
