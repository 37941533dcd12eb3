//! `inspect`: the stage table of a network — every stage's output shape for one 28×28 input, and with
//! `--details` its parameters, the size arithmetic, what it computes, the total parameter count and the FLOPs per
//! image — for LeNet-5 or any `--arch`.

use super::output::print_stdout;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::inspect::stage_table;
use crate::engine::model::stages;
use crate::engine::numbers::thousands;
use crate::Result;

pub(super) fn run_inspect(cfg: ModelConfig, details: bool) -> Result<()> {
    print_stdout(&table(cfg, details)?);
    Ok(())
}

/// The text `inspect` prints.
fn table(cfg: ModelConfig, details: bool) -> Result<String> {
    let rows = stage_table(cfg)?;
    let mut out = String::new();
    if details {
        out.push_str(&format!("architecture: {}\n", cfg.arch));
    }
    for r in &rows {
        if details {
            out.push_str(&format!(
                "{:<8} {:<36} params {:>7}  {}{}\n",
                r.key,
                r.line(),
                r.params,
                r.computes,
                r.formula.as_ref().map(|f| format!("  [{f}]")).unwrap_or_default()
            ));
        } else {
            out.push_str(&r.line());
            out.push('\n');
        }
    }
    if details {
        let macs = stages::macs_per_image(&stages::stages(cfg));
        out.push_str(&format!("total parameters: {}\n", rows.iter().map(|r| r.params).sum::<usize>()));
        out.push_str(&format!(
            "FLOPs per image (forward): {} ({} multiply-adds)\n",
            thousands(2 * macs),
            thousands(macs)
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_give_parameters_and_flops() {
        let text = table(ModelConfig::default(), true).unwrap();
        assert!(text.starts_with("architecture: c6k5p2-pool,c16k5-pool,f120,f84\n"), "{text}");
        assert!(text.contains("total parameters: 61706\n"), "{text}");
        assert!(text.contains("FLOPs per image (forward): 833,040 (416,520 multiply-adds)\n"), "{text}");
        let mlp = ModelConfig { arch: "mlp".parse().unwrap(), ..ModelConfig::default() };
        let plain = table(mlp, false).unwrap();
        assert_eq!(plain.lines().next(), Some("Flatten out shape: [1, 784]"), "{plain}");
        assert_eq!(plain.lines().last(), Some("Linear out shape: [1, 10]"), "{plain}");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
    }
}
