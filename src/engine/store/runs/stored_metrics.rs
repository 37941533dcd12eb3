//! A stored run's curves, read back from its `metrics.csv` by header names (files of any version: extra columns and
//! row kinds are ignored), for the Runs view's overlays.

/// A stored run's curves, read back from its metrics.csv.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredMetrics {
    pub batches: Vec<BatchPoint>,
    pub epochs: Vec<EpochPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchPoint {
    pub epoch: usize,
    pub batch: usize,
    pub x_epochs: f64,
    pub loss: f32,
    /// 0..1
    pub accuracy: f32,
    /// None in files written before the `lr` column existed.
    pub lr: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochPoint {
    pub epoch: usize,
    pub x_epochs: f64,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
}

/// Parses a metrics CSV by its header names (any column order; extra columns and row kinds are ignored).
pub fn parse_metrics_csv(text: &str) -> std::result::Result<StoredMetrics, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("metrics.csv is empty")?.split(',').map(str::trim).collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let need = |name: &str| col(name).ok_or_else(|| format!("metrics.csv has no '{name}' column"));
    let (kind, epoch, x, loss, acc) =
        (need("kind")?, need("epoch")?, need("x_epochs")?, need("loss")?, need("accuracy")?);
    let (batch, test_loss, test_acc, lr) = (col("batch"), col("test_loss"), col("test_accuracy"), col("lr"));
    let mut out = StoredMetrics::default();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        let line_no = i + 2;
        let cell = |c: usize| cells.get(c).map(|s| s.trim()).unwrap_or("");
        let num = |c: usize, what: &str| -> std::result::Result<f64, String> {
            cell(c).parse::<f64>().map_err(|_| format!("metrics.csv line {line_no}: '{}' is not a {what}", cell(c)))
        };
        let opt = |c: Option<usize>| c.and_then(|c| cell(c).parse::<f64>().ok());
        match cell(kind) {
            "batch" => out.batches.push(BatchPoint {
                epoch: num(epoch, "epoch")? as usize,
                batch: opt(batch).unwrap_or(0.0) as usize,
                x_epochs: num(x, "position")?,
                loss: num(loss, "loss")? as f32,
                accuracy: num(acc, "accuracy")? as f32,
                lr: opt(lr),
            }),
            "epoch" => out.epochs.push(EpochPoint {
                epoch: num(epoch, "epoch")? as usize,
                x_epochs: num(x, "position")?,
                train_loss: num(loss, "loss")? as f32,
                train_accuracy: num(acc, "accuracy")? as f32,
                test_loss: opt(test_loss).unwrap_or(f64::NAN) as f32,
                test_accuracy: opt(test_acc).unwrap_or(f64::NAN) as f32,
            }),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_reader_goes_by_header_names() {
        let csv = "epoch,kind,x_epochs,loss,accuracy,test_accuracy,extra\n1,batch,0.5,2.0,0.1,,x\n\
                   1,epoch,1.0,1.5,0.4,0.6,y\n1,diagnostics,0.5,,,,z\n";
        let m = parse_metrics_csv(csv).unwrap();
        assert_eq!(m.batches.len(), 1);
        assert_eq!(m.batches[0].lr, None);
        assert_eq!(m.epochs[0].test_accuracy, 0.6);
        assert!(parse_metrics_csv("kind,epoch\n").unwrap_err().contains("x_epochs"));
        assert!(parse_metrics_csv("kind,epoch,x_epochs,loss,accuracy\nbatch,1,zz,1,1\n")
            .unwrap_err()
            .contains("line 2"));
    }
}
