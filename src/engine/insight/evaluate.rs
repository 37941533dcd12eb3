//! The test pass: loss, accuracy, per-class accuracy, the confusion matrix and every test image's predicted class
//! and confidence, from one forward pass per batch. The logits are copied to the host once per batch and everything
//! is counted there (a log-sum-exp per row gives both the loss and the winner's softmax probability), so the
//! matrix and the predictions cost nothing noticeable on top of the accuracy.

use crate::engine::data::set::ImageSet;
use crate::engine::model::lenet::{argmax, LeNet};
use crate::engine::model::net_layers::{self, with_slices};
use crate::engine::model::weights::ModelWeights;
use crate::error::printable;
use crate::{Error, Result};

/// What the network said about each test image, in test-set order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestPredictions {
    pub predicted: Vec<u8>,
    /// Softmax probability of the predicted class, 0..1.
    pub confidence: Vec<f32>,
}

/// What can ask a long pass to stop early (a training run's control): evaluation itself knows nothing of runs.
pub trait StopSignal {
    fn stop_requested(&self) -> bool;
}

/// Evaluation batch: large for throughput, no gradients.
pub(crate) const EVAL_BATCH: usize = 1000;

/// What the test pass found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// Mean cross-entropy over the set.
    pub loss: f32,
    /// Fraction correct, 0..1.
    pub accuracy: f32,
    /// Fraction correct per true class, 0..1 (0 for a class with no images).
    pub class_accuracy: Vec<f32>,
    /// `confusion[true][predicted]` counts, classes × classes.
    pub confusion: Vec<Vec<u32>>,
    /// Each image's predicted class and confidence, in set order.
    pub predictions: TestPredictions,
}

impl Evaluation {
    pub fn images(&self) -> u64 {
        total(&self.confusion)
    }
    pub fn correct(&self) -> u64 {
        correct(&self.confusion)
    }
}

/// Evaluates `model` on `data`. Returns None if stopped part-way (checked between batches).
pub fn evaluate(model: &LeNet, data: &ImageSet, control: Option<&dyn StopSignal>) -> Result<Option<Evaluation>> {
    evaluate_with_progress(model, data, control, &mut |_, _| {})
}

/// As `evaluate`, from plain weights (what the app holds), reporting `(images done, total)` after each batch.
pub fn evaluate_weights(
    weights: &ModelWeights,
    data: &ImageSet,
    control: Option<&dyn StopSignal>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<Evaluation>> {
    weights.check_shapes()?;
    let model = LeNet::from_weights(weights)?;
    evaluate_with_progress(&model, data, control, progress)
}

/// As `evaluate`, reporting `(images done, total)` after each batch.
pub(crate) fn evaluate_with_progress(
    model: &LeNet,
    data: &ImageSet,
    control: Option<&dyn StopSignal>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<Evaluation>> {
    let n = data.len();
    let mut loss_sum = 0f64;
    let classes = model.config.classes;
    let mut confusion = vec![vec![0u32; classes]; classes];
    let mut predicted = Vec::with_capacity(n);
    let mut confidence = Vec::with_capacity(n);
    // The whole-step kernels' forward pass: each core gathers and computes its share of a batch.
    let (mut net, _) = net_layers::net(model.config, false)?;
    let mut values = Vec::new();
    let mut start = 0;
    while start < n {
        if control.is_some_and(|c| c.stop_requested()) {
            return Ok(None);
        }
        let end = (start + EVAL_BATCH).min(n);
        let idx: Vec<usize> = (start..end).collect();
        let gather = |images: std::ops::Range<usize>, dst: &mut [f32]| data.pixels_into(&idx[images], dst);
        with_slices(model.params(), |params| Ok(net.logits(params, &gather, idx.len(), &mut values)?))?;
        if let Some(&bad) = data.labels[start..end].iter().find(|&&l| l as usize >= classes) {
            return Err(Error::Config(format!("a test label {bad} is past the network's {classes} classes")));
        }
        for (row, &label) in values.chunks_exact(classes).zip(&data.labels[start..end]) {
            let scored = score_row(row, label as usize);
            loss_sum += scored.loss;
            confusion[label as usize][scored.best] += 1;
            predicted.push(scored.best as u8);
            confidence.push(scored.confidence);
        }
        start = end;
        progress(end, n);
    }
    let class_accuracy = confusion
        .iter()
        .enumerate()
        .map(|(t, row)| {
            let sum: u32 = row.iter().sum();
            if sum == 0 {
                0.0
            } else {
                row[t] as f32 / sum as f32
            }
        })
        .collect();
    let correct = correct(&confusion);
    Ok(Some(Evaluation {
        loss: (loss_sum / n.max(1) as f64) as f32,
        accuracy: correct as f32 / n.max(1) as f32,
        class_accuracy,
        confusion,
        predictions: TestPredictions { predicted, confidence },
    }))
}

struct Scored {
    best: usize,
    confidence: f32,
    loss: f64,
}

/// Winner (first maximum on ties, as `argmax`), its softmax probability and the cross-entropy for `label`.
fn score_row(row: &[f32], label: usize) -> Scored {
    let best = argmax(row);
    let max = row[best] as f64;
    let sum_exp: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
    Scored { best, confidence: (1.0 / sum_exp) as f32, loss: sum_exp.ln() + max - row[label] as f64 }
}

/// A test set whose labels number `data_names` renumbered to the classes the weights score (`weights_names`), matched
/// by name: a folder renamed or listed in another order is still scored right. A class the weights do not know is
/// an error naming it (no accuracy at all rather than a wrong one). The same set when the names agree.
pub fn in_weights_classes<'a>(
    test: &'a ImageSet,
    data_names: &[String],
    weights_names: &[String],
) -> Result<std::borrow::Cow<'a, ImageSet>> {
    if data_names == weights_names {
        return Ok(std::borrow::Cow::Borrowed(test));
    }
    let known = |names: &[String]| {
        let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
        let more = if names.len() > 12 { format!(", … ({} in all)", names.len()) } else { String::new() };
        printable(&format!("{}{more}", shown.join(", ")))
    };
    let mut to_weights = Vec::with_capacity(data_names.len());
    for name in data_names {
        match weights_names.iter().position(|w| w == name) {
            Some(i) => to_weights.push(i as u8),
            None => {
                return Err(Error::Config(format!(
                    "the data set's class '{}' is not one of the classes these weights score ({}): classes are \
                     matched by name; rename the folder, or train on this data set first (train --data … \
                     --init-from …)",
                    printable(name),
                    known(weights_names)
                )))
            }
        }
    }
    let labels = test
        .labels
        .iter()
        .map(|&l| {
            to_weights.get(l as usize).copied().ok_or_else(|| {
                Error::Internal(format!("label {l} is outside the data set's {} classes", data_names.len()))
            })
        })
        .collect::<Result<Vec<u8>>>()?;
    Ok(std::borrow::Cow::Owned(ImageSet { images: test.images.clone(), labels }))
}

/// All images counted in a confusion matrix.
pub fn total(confusion: &[Vec<u32>]) -> u64 {
    confusion.iter().flatten().map(|&c| c as u64).sum()
}

/// The diagonal's sum: images classified correctly.
pub fn correct(confusion: &[Vec<u32>]) -> u64 {
    confusion.iter().enumerate().map(|(i, row)| row.get(i).copied().unwrap_or(0) as u64).sum()
}

/// One off-diagonal cell: `count` images of class `true_class` read as `predicted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfusedPair {
    pub true_class: usize,
    pub predicted: usize,
    pub count: u32,
}

/// The `k` largest off-diagonal cells, largest first (ties: by true class, then predicted); empty cells left out.
pub fn most_confused(confusion: &[Vec<u32>], k: usize) -> Vec<ConfusedPair> {
    let mut pairs: Vec<ConfusedPair> = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.iter().enumerate().filter(move |&(p, &c)| p != t && c > 0).map(move |(p, &c)| ConfusedPair {
                true_class: t,
                predicted: p,
                count: c,
            })
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.count.cmp(&a.count).then(a.true_class.cmp(&b.true_class)).then(a.predicted.cmp(&b.predicted))
    });
    pairs.truncate(k);
    pairs
}

/// Indices of the test images with true class `true_class` predicted as `predicted`, most confident first.
pub(crate) fn cell_images(
    labels: &[u8],
    predictions: &TestPredictions,
    true_class: usize,
    predicted: usize,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..labels.len().min(predictions.predicted.len()))
        .filter(|&i| labels[i] as usize == true_class && predictions.predicted[i] as usize == predicted)
        .collect();
    idx.sort_by(|&a, &b| predictions.confidence[b].total_cmp(&predictions.confidence[a]).then(a.cmp(&b)));
    idx
}

/// The matrix as an aligned text table: a header row of predicted class names, one row per true class.
pub(crate) fn confusion_table(confusion: &[Vec<u32>], class_names: &[String]) -> String {
    let names: Vec<&str> = (0..confusion.len()).map(|i| class_names.get(i).map_or("?", |s| s.as_str())).collect();
    let label_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(1).max("true \\ predicted".len());
    let cell_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain(confusion.iter().flatten().map(|c| c.to_string().len()))
        .max()
        .unwrap_or(1);
    let mut out = format!("{:<label_width$}", "true \\ predicted");
    for n in &names {
        out.push_str(&format!(" {n:>cell_width$}"));
    }
    out.push('\n');
    for (name, row) in names.iter().zip(confusion) {
        out.push_str(&format!("{name:<label_width$}"));
        for c in row {
            out.push_str(&format!(" {c:>cell_width$}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_scores_its_winner_loss_and_confidence() {
        let s = score_row(&[0.0, 2.0, 1.0], 1);
        assert_eq!(s.best, 1);
        let z = 1.0 + (-2f64).exp() + (-1f64).exp();
        assert!((s.confidence as f64 - 1.0 / z).abs() < 1e-6);
        assert!((s.loss - z.ln()).abs() < 1e-9);
        assert_eq!(score_row(&[1.0, 1.0], 0).best, 0, "ties go to the first maximum");
    }

    #[test]
    fn confused_pairs_cells_and_table() {
        let mut m = vec![vec![0u32; 3]; 3];
        m[0][0] = 5;
        m[1][1] = 7;
        m[2][2] = 9;
        m[1][2] = 3;
        m[2][0] = 1;
        m[0][2] = 3;
        assert_eq!(total(&m), 28);
        assert_eq!(correct(&m), 21);
        let top = most_confused(&m, 2);
        assert_eq!(
            top,
            vec![
                ConfusedPair { true_class: 0, predicted: 2, count: 3 },
                ConfusedPair { true_class: 1, predicted: 2, count: 3 }
            ]
        );
        let names: Vec<String> = ["zero", "one", "two"].iter().map(|s| s.to_string()).collect();
        let t = confusion_table(&m, &names);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "aligned:\n{t}");
        let preds = TestPredictions { predicted: vec![2, 2, 0, 2], confidence: vec![0.5, 0.9, 0.8, 0.7] };
        assert_eq!(cell_images(&[1, 1, 1, 0], &preds, 1, 2), vec![1, 0]);
    }
}
