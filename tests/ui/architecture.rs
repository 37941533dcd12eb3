//! The Architecture tab driven headless: an edit changes the stage tables (the editor's and the inspector's) before
//! any training, an impossible network disables Train with the reason and leaves no weights, the MLP preset has no
//! conv stages (and the inspector says there are no feature maps), and the editor is locked while a run is active.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lenet_playground::app::state::{Phase, Settings};
use lenet_playground::app::{PlaygroundApp, Tab};

use crate::support::data::mnist_arc;
use crate::support::ui::{click, click_role, harness, run_until, small_batches};

fn app(settings: Settings) -> Harness<'static, PlaygroundApp> {
    let mut h = harness([1280.0, 800.0], settings, mnist_arc());
    h.step();
    h
}

fn disabled(h: &Harness<'static, PlaygroundApp>, role: Role, label: &str) -> bool {
    h.get_by_role_and_label(role, label).accesskit_node().is_disabled()
}

fn count(h: &Harness<'static, PlaygroundApp>, label: &str) -> usize {
    h.query_all_by_label(label).count()
}

/// Types `value` into the editor's DragValue named `name` (as a screen reader would), then steps two frames.
fn set(h: &mut Harness<'static, PlaygroundApp>, name: &str, value: f64) {
    h.get_by_label(name).set_value_accesskit(value);
    h.step();
    h.step();
}

#[test]
fn editing_c1_changes_both_stage_tables_before_training() {
    let mut h = app(Settings::default());
    click(&mut h, "Network inspector");
    assert_eq!(count(&h, "[1, 6, 28, 28]"), 2, "c1 and its activation");
    assert_eq!(count(&h, "61,706"), 1, "LeNet-5's total");

    click(&mut h, "Architecture");
    assert_eq!(h.state().tab, Tab::Architecture);
    assert_eq!(count(&h, "[1, 6, 28, 28]"), 2, "the editor shows the same table");
    set(&mut h, "c1 channels", 12.0);
    assert_eq!(h.state().settings.train.model.arch.blocks()[0].channels, 12);
    assert_eq!(count(&h, "[1, 12, 28, 28]"), 2, "the editor's table follows at once");
    // c1: 12·25 + 12 = 312; c3 now reads 12 channels: 16·12·25 + 16 = 4,816; the total 61,706 − 156 − 2,416 + 312 + 4,816.
    assert_eq!(count(&h, "312"), 1);
    assert_eq!(count(&h, "4,816"), 1);
    assert_eq!(count(&h, "64,262"), 1);
    assert!(h.query_by_label_contains("64,262 parameters").is_some(), "the summary line");
    assert_eq!(h.state().settings.train.model.arch.preset_key(), None);

    click(&mut h, "Network inspector");
    assert_eq!(count(&h, "[1, 12, 28, 28]"), 2, "the inspector shows the edited network");
    assert_eq!(count(&h, "[1, 6, 28, 28]"), 0);
    assert_eq!(count(&h, "64,262"), 1);
    assert!(h.query_by_label("Custom, stage by stage").is_some(), "an edited preset is Custom");
    assert!(h.query_by_label("12 feature maps 28×28").is_some(), "fresh weights of the new shape are traced");
    assert!(h.state().session.history.is_empty(), "no training happened");

    // The same padding shortcut and a kernel change in one go: c1 7×7 "same" keeps 28×28.
    click(&mut h, "Architecture");
    set(&mut h, "c1 kernel", 7.0);
    assert_eq!(count(&h, "(28 + 2·2 − 7)/1 + 1 = 26"), 1, "a bigger kernel shrinks the map");
    click(&mut h, "c1 same padding");
    assert_eq!(h.state().settings.train.model.arch.blocks()[0].padding, 3);
    assert_eq!(count(&h, "(28 + 2·3 − 7)/1 + 1 = 28"), 1);

    // Dropout before f5 is a stage of its own, without parameters.
    set(&mut h, "f5 dropout", 0.3);
    assert_eq!(h.state().settings.train.model.arch.hidden()[0].dropout_pct, 30);
    assert_eq!(count(&h, "f5.drop"), 1);
    assert_eq!(count(&h, "Dropout"), 1);
}

#[test]
fn an_impossible_kernel_disables_train_and_says_why() {
    let mut h = app(Settings::default());
    click(&mut h, "Architecture");
    click(&mut h, "Add conv block");
    assert_eq!(h.state().settings.train.model.arch.blocks().len(), 3);
    assert!(disabled(&h, Role::Button, "Add conv block"), "at most three blocks");
    // Three 9×9 blocks with pooling: 28 → 24 → 12 → 4 → 2, and a 9×9 kernel does not fit a 2×2 map.
    for key in ["c1", "c3", "c5"] {
        set(&mut h, &format!("{key} kernel"), 9.0);
    }
    click_role(&mut h, Role::CheckBox, "c5 pool");
    let arch = h.state().settings.train.model.arch;
    assert!(arch.blocks().iter().all(|b| b.kernel == 9 && b.pool), "{arch}");
    assert!(disabled(&h, Role::Button, "Train"), "Train is disabled");
    let reason = "Cannot train this network: c5: a 9×9 kernel does not fit a 2×2 map with padding 1";
    let shown = h.query_all_by_label_contains(reason).count();
    assert!(shown >= 2, "the side panel and the editor say why");
    assert_eq!(
        count(&h, "—"),
        11,
        "c5 and the 8 stages after it are not worked out (c5.act s6 flatten f7 …), nor the totals"
    );

    // Train's hover text is the reason.
    h.get_by_role_and_label(Role::Button, "Train").hover();
    for _ in 0..20 {
        h.step();
    }
    assert!(h.query_all_by_label_contains(reason).count() > shown, "the tooltip says it too");

    // Space does what the disabled button does (issue 28, also seen): no run, no error banner, the status line
    // gives the same reason; the untrained model is gone.
    h.key_press(egui::Key::Space);
    h.step();
    h.step();
    assert_eq!(h.state().session.phase, Phase::Idle);
    assert_eq!(h.state().session.error, None, "no error banner");
    assert!(h.state().session.status.contains(reason), "{}", h.state().session.status);
    assert!(h.state().session.weights.is_none());
    click(&mut h, "Network inspector");
    assert!(h.query_all_by_label_contains("does not fit").count() >= 1, "the inspector marks it too");

    // A smaller kernel fixes it: Train is back, with fresh weights of the new network.
    click(&mut h, "Architecture");
    set(&mut h, "c5 kernel", 1.0);
    assert!(h.query_by_label("Remove c5").is_some());
    assert!(!disabled(&h, Role::Button, "Train"));
    assert!(h.state().session.weights.as_ref().is_some_and(|w| w.config.arch == h.state().settings.train.model.arch));
}

#[test]
fn the_mlp_preset_has_no_conv_stages_and_no_feature_maps() {
    let mut h = app(Settings::default());
    click(&mut h, "Architecture");
    h.get_by_label("Architecture preset").click();
    h.step();
    h.step();
    h.get_by_label("MLP 784-300-100-10").click();
    h.step();
    h.step();
    let arch = h.state().settings.train.model.arch;
    assert_eq!(arch.preset_key(), Some("mlp"), "{arch}");
    assert_eq!(count(&h, "Conv2d"), 0, "no conv stages");
    assert_eq!(count(&h, "AvgPool2d"), 0, "no pooling stages");
    assert_eq!(count(&h, "flatten"), 1);
    for key in ["f1", "f2", "out"] {
        assert_eq!(count(&h, key), 2, "{key}: in the editor and in the table");
    }
    assert_eq!(count(&h, "[1, 784]"), 1);
    assert_eq!(count(&h, "[1, 300]"), 2, "f1 and its activation");
    // 784·300 + 300 + 300·100 + 100 + 100·10 + 10.
    assert_eq!(count(&h, "266,610"), 1);
    assert!(h.query_by_label_contains("None: the image goes straight to the dense layers").is_some());

    click(&mut h, "Network inspector");
    assert_eq!(count(&h, "Conv2d"), 0);
    assert!(h.query_by_label_contains("MLP 784-300-100-10, stage by stage").is_some());
    assert!(h.query_by_label_contains("no feature maps").is_some(), "the inspector says there are none");
    assert!(h.query_by_label("vector of 784 values").is_some(), "flatten is selected first");
}

#[test]
fn the_editor_is_locked_while_a_run_is_active() {
    let mut h = app(small_batches(50));
    click(&mut h, "Train");
    run_until(&mut h, "the run to start", |a| a.session.run_active());
    click(&mut h, "Architecture");
    assert!(h.query_by_label_contains("Fixed for the current run").is_some());
    assert!(disabled(&h, Role::Button, "Add conv block"));
    assert!(disabled(&h, Role::Button, "Add dense layer"));
    assert!(h.get_by_label("c1 channels").accesskit_node().is_disabled());
    let before = h.state().settings.train.model.arch;
    h.get_by_label("c1 channels").set_value_accesskit(30.0);
    h.step();
    h.step();
    assert_eq!(h.state().settings.train.model.arch, before, "a locked editor changes nothing");
    click(&mut h, "Stop");
    run_until(&mut h, "the run to end", |a| a.session.phase == Phase::Idle);
    assert!(!disabled(&h, Role::Button, "Add conv block"));
}

#[test]
fn the_runs_tab_plots_each_run_by_its_parameters() {
    let home = tempfile::tempdir().unwrap();
    let data = {
        let d = mnist_arc();
        std::sync::Arc::new(lenet_playground::engine::data::set::Dataset {
            test: d.test.truncated(300),
            ..(*d).clone()
        })
    };
    let path = home.path().to_path_buf();
    let mut h =
        crate::support::ui::harness_with([1280.0, 800.0], small_batches(1), data, move |app| app.set_data_home(path));
    h.step();
    h.state_mut().tab = Tab::Runs;
    h.step();
    assert!(h.query_by_label("Parameters against best test accuracy").is_none(), "no runs, no scatter");
    for preset in [None, Some("MLP 784-300-100-10")] {
        if let Some(name) = preset {
            click(&mut h, "Architecture");
            h.get_by_label("Architecture preset").click();
            h.step();
            h.step();
            h.get_by_label(name).click();
            h.step();
            h.step();
        }
        let before = h.state().experiments().runs.len();
        click(&mut h, "Train");
        run_until(&mut h, "the run to be recorded", |a| a.experiments().runs.len() == before + 1);
    }
    let models: Vec<_> = h.state().experiments().runs.iter().map(|r| r.run.record.config.model.arch).collect();
    assert_eq!(models.iter().map(|a| a.preset_key()).collect::<Vec<_>>(), [Some("lenet5"), Some("mlp")]);
    h.state_mut().tab = Tab::Runs;
    h.step();
    h.step();
    assert!(h.query_by_label("Parameters against best test accuracy").is_some(), "one point per run");
    assert!(h.query_by_label("2 of 2 runs").is_some(), "one data set: no choice, both shown");
    assert!(h.query_by_label("All data sets").is_none());
    // A run on another data set: the two are told apart by marker, and either can be shown alone.
    h.state_mut().session.experiments.runs[1].run.record.dataset = "Fashion-MNIST".into();
    h.step();
    h.step();
    assert!(h.query_by_label("2 of 2 runs: circles MNIST, diamonds Fashion-MNIST").is_some());
    h.get_by_label("Data set shown").click();
    h.step();
    h.step();
    h.get_by_label("Fashion-MNIST").click();
    h.step();
    h.step();
    assert!(h.query_by_label("1 of 2 runs").is_some(), "only the Fashion-MNIST run is plotted");
}

/// Issue 28, also seen: a smaller kernel under the same padding grows the map (k5 p2 → k3 p2 gives 30×30), and the
/// editor says so beside the padding, with the "same" button one click away.
#[test]
fn padding_that_grows_the_map_is_named_beside_it() {
    let mut h = app(Settings::default());
    click(&mut h, "Architecture");
    assert_eq!(h.query_all_by_label_contains("map grows").count(), 0, "LeNet-5's c1 is k5 p2: 'same'");
    set(&mut h, "c1 kernel", 3.0);
    let c1 = h.state().settings.train.model.arch.blocks()[0];
    assert_eq!((c1.kernel, c1.padding), (3, 2));
    assert_eq!(count(&h, "map grows by 2"), 1, "28 + 2·2 − 3 + 1 = 30: two more than the input");
    click(&mut h, "c1 same padding");
    assert_eq!(h.state().settings.train.model.arch.blocks()[0].padding, 1);
    assert_eq!(h.query_all_by_label_contains("map grows").count(), 0);
}

/// Issue 28's walk at 1024 px: the stage table's FLOPs column is in view beside the canvas's panel, and what does
/// not fit (the size arithmetic) is said to scroll sideways.
#[test]
fn the_flops_column_is_in_view_at_1024_px_and_the_table_says_it_scrolls() {
    let mut h = harness([1024.0, 700.0], Settings::default(), mnist_arc());
    h.run();
    click(&mut h, "Architecture");
    h.run();
    let flops = h.get_by_label("FLOPs").rect();
    let clear = h.get_by_role_and_label(Role::Button, "Clear").rect();
    assert!(
        flops.right() <= clear.left(),
        "FLOPs ends at {}, the canvas's panel starts at {}",
        flops.right(),
        clear.left()
    );
    let says = h.query_all_by(|n| n.label().or(n.value()).is_some_and(|t| t.contains("scroll sideways"))).count();
    assert_eq!(says, 1, "the line under the table says how to see the rest");
}
