//! Starting from other weights: frozen layers stay bit for bit, the others learn; and a real fine-tune — a set in
//! another stroke style made from MNIST *test* digits, taught on top of a quickly trained LeNet-5 (ReLU) — raises the
//! accuracy on held-out images of that style while MNIST's stays within a few points.

use crate::support::data::{fresh_weights, mnist, small};
use crate::support::image_folder::{other_hand, write_digits};
use lenet_playground::engine::data::set::{Dataset, ImageSet, IMAGE_PIXELS};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Optimizer, Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::fine_tune::{self, BeforeAfter};
use lenet_playground::engine::training::train::train;

fn quiet_train(cfg: &TrainConfig, data: &Dataset, initial: Option<&ModelWeights>) -> ModelWeights {
    train(cfg, data, initial, &Control::new(), &mut |_| {}).expect("the run trains")
}

#[test]
fn frozen_layers_keep_their_bits_and_the_others_learn() {
    let data = small(400, 100);
    let start = fresh_weights(3);
    for optimizer in [Optimizer::Sgd, Optimizer::Adam] {
        let cfg = TrainConfig {
            epochs: 1,
            optimizer,
            lr: 0.01,
            freeze: vec!["c1".into(), "c3".into()],
            ..TrainConfig::default()
        };
        let after = quiet_train(&cfg, &data, Some(&start));
        for (a, b) in after.params.iter().zip(&start.params) {
            let frozen = a.name.starts_with("c1.") || a.name.starts_with("c3.");
            let same = a.data.iter().zip(&b.data).all(|(x, y)| x.to_bits() == y.to_bits());
            assert_eq!(same, frozen, "{optimizer:?}: {} frozen {frozen} but unchanged {same}", a.name);
        }
    }
    let bad = TrainConfig { freeze: vec!["s2".into()], ..TrainConfig::default() };
    let e = train(&bad, &data, Some(&start), &Control::new(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("cannot freeze 's2'") && e.contains("c1, c3, f5, f6, out"), "{e}");
}

/// Test images `from..` of the shipped MNIST (the first ones are the styled set's sources).
fn mnist_test_from(from: usize) -> ImageSet {
    let t = &mnist().test;
    ImageSet { images: t.images[from * IMAGE_PIXELS..].to_vec(), labels: t.labels[from..].to_vec() }
}

#[test]
fn teaching_another_hand_raises_its_accuracy_and_keeps_mnist() {
    // LeNet-5 with ReLU (the modern preset) reads digits after 2 epochs on 5,000 images; the sigmoid default
    // would still sit at chance after so few batches.
    let base_cfg = TrainConfig { epochs: 2, limit: Some(5_000), ..TrainConfig::preset(Preset::Modern) };
    let base = quiet_train(&base_cfg, mnist(), None);
    // 25 + 25 images per class in a thick, slanted, dark-on-light hand: train/ and held-out test/.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(write_digits(&dir.path().join("train"), &mnist().test, 0, 25, other_hand()), 250);
    assert_eq!(write_digits(&dir.path().join("test"), &mnist().test, 25, 25, other_hand()), 250);
    let own = Dataset::load(Some(dir.path())).unwrap();
    let mix = fine_tune::teaching_set(&own, mnist(), 7).unwrap();
    assert_eq!(mix.train.len(), 250 * (1 + fine_tune::MNIST_PER_OWN));
    let after = quiet_train(&fine_tune::config(&base_cfg, mix.train.len()), &mix, Some(&base));
    let mnist_test = mnist_test_from(5_000);
    let r = BeforeAfter::measure(&base, &after, &own.test, &mnist_test).unwrap();
    println!("fine-tune: {} | {} ({})", r.lines()[0], r.lines()[1], fine_tune::describe_mix(250));
    assert!(r.own_after > r.own_before + 0.05, "{r:?}");
    assert!(r.mnist_after > r.mnist_before - 0.04, "{r:?}");
}
