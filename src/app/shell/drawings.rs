//! The collector in the window: carrying out what it asks for (`DrawingsCommand`) — saving the canvas' drawing into
//! the user's set, a new set, training on it, teaching the current weights the user's handwriting, reading the set
//! with the current weights — and applying the helpers' answers (`DrawingsMsg`). Every file and evaluation runs on
//! a helper thread; a run is a normal run of the trainer, on the set's data.
//!
//! Teaching ("Teach it my handwriting") remembers the weights it started from, the held-out drawings and MNIST's
//! test set; when the run ends, both weights are measured on both sets (helper thread) and the figures are shown side
//! by side.

use crate::app::command::DrawingsCommand;
use crate::app::drawings::state::{Drawings, Teaching};
use crate::app::jobs::{AppMsg, DrawingsMsg, Job};
use crate::app::state::Phase;
use crate::app::PlaygroundApp;
use crate::engine::data::digit::GrayImage;
use crate::engine::data::image_folder;
use crate::engine::data::set::{Dataset, MNIST_NAME};
use crate::engine::insight::evaluate::evaluate_weights;
use crate::engine::model::stages;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::drawing_sets;
use crate::engine::store::my_drawings::{self, SetSummary};
use crate::engine::store::runs::{RunStore, StoredRun};
use crate::engine::training::config::TrainConfig;
use crate::engine::training::fine_tune::{self, BeforeAfter};
use crate::engine::training::small_set;
use crate::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;

fn msg(m: DrawingsMsg) -> AppMsg {
    AppMsg::Drawings(Box::new(m))
}

impl PlaygroundApp {
    /// The data home the sets live under (the run store's), or an error saying how to get one.
    fn drawings_home(&self) -> Result<PathBuf> {
        match &self.session.experiments.store {
            Some(store) => Ok(store.data_dir().to_path_buf()),
            None => Err(Error::Config("no data folder to keep drawings in (set LENET_PLAYGROUND_HOME)".into())),
        }
    }

    /// The collector's state (tests).
    pub fn drawings(&self) -> &Drawings {
        &self.drawings
    }

    /// Each frame: the first lists the current set; a teaching run that has ended is compared. Never waits.
    pub(crate) fn drawings_tick(&mut self) {
        if !self.drawings.started {
            self.drawings.started = true;
            if let Ok(home) = self.drawings_home() {
                let dir = my_drawings::sets_dir(&home);
                self.spawn_helper(Job::ReadDrawings, move || {
                    let result = std::fs::read_dir(&dir)
                        .ok()
                        .and_then(|_| drawing_sets::current_or_default(&home).ok())
                        .map(|d| my_drawings::summary(&d))
                        .unwrap_or_else(|| Err(Error::Config("no set yet".into())));
                    summary_msg(&home, result, None)
                });
            }
        }
        let idle = !self.session.run_active() && self.session.phase == Phase::Idle;
        if let Some(t) = self.drawings.teaching.take_if(|_| idle) {
            let Some(after) = self.session.weights.clone() else { return };
            self.spawn_helper(Job::ReadDrawings, move || {
                msg(DrawingsMsg::Compared(BeforeAfter::measure(&t.before, &after, &t.own_test, &t.mnist_test)))
            });
        }
    }

    pub(crate) fn drawings_command(&mut self, cmd: DrawingsCommand) {
        let home = match self.drawings_home() {
            Ok(h) => h,
            Err(e) => return self.session.show_error("Cannot keep drawings", &e),
        };
        let set_dir = self.drawings.summary.as_ref().map(|s| s.dir.clone());
        match cmd {
            DrawingsCommand::Refresh => {
                if let Some(dir) = set_dir {
                    self.spawn_helper(Job::ReadDrawings, move || summary_msg(&home, my_drawings::summary(&dir), None));
                }
            }
            DrawingsCommand::Add(class) => {
                let Some(img) = self.canvas.drawing_on_paper() else {
                    self.session.status = "Draw something first: the canvas is empty.".into();
                    return;
                };
                self.canvas.clear();
                self.spawn_helper(Job::SaveDrawing, move || {
                    let saved = set_dir
                        .map(Ok)
                        .unwrap_or_else(|| drawing_sets::current_or_default(&home))
                        .and_then(|dir| save_and_summarise(&dir, &class, &img));
                    match saved {
                        Ok((summary, path)) => summary_msg(
                            &home,
                            Ok(summary),
                            Some(format!("Added to your set as '{class}': {}", path.display())),
                        ),
                        Err(e) => summary_msg(&home, Err(e), None),
                    }
                });
            }
            DrawingsCommand::Remove(path) => {
                let Some(dir) = set_dir else { return };
                self.spawn_helper(Job::SaveDrawing, move || {
                    let result = my_drawings::remove_drawing(&dir, &path).and_then(|()| my_drawings::summary(&dir));
                    let saved = result.is_ok().then(|| format!("Removed {}", path.display()));
                    summary_msg(&home, result, saved)
                });
            }
            DrawingsCommand::NewSet { name, classes } => {
                let name = name.trim().to_string();
                self.spawn_helper(Job::SaveDrawing, move || {
                    // A new set is the one collected into from now on.
                    let result = my_drawings::parse_classes(&classes)
                        .and_then(|c| my_drawings::create_set(&home, &name, &c))
                        .and_then(|_| drawing_sets::choose_set(&home, &name))
                        .and_then(|dir| my_drawings::summary(&dir));
                    let saved = result.as_ref().ok().map(|s| format!("New set '{}' in {}", s.name, s.dir.display()));
                    summary_msg(&home, result, saved)
                });
            }
            DrawingsCommand::Train { transfer } => {
                let Some(dir) = self.runnable_set(set_dir) else { return };
                // MNIST-trained weights to start from: the current ones if they are, else the newest stored run
                // trained on MNIST (read on the helper thread below).
                let s = &self.session;
                let current = s.weights.clone().filter(|w| s.weights_trained() && w.dataset == MNIST_NAME);
                let store = self.session.experiments.store.clone();
                self.spawn_helper(Job::ReadDrawings, move || {
                    let result = image_folder::load(&dir).map(|l| Arc::new(l.data));
                    let start = transfer.then(|| mnist_weights(current, store.as_ref()));
                    msg(DrawingsMsg::ForTraining { start, result })
                });
            }
            DrawingsCommand::Teach => {
                let Some(dir) = self.runnable_set(set_dir) else { return };
                let seed = self.settings.train.seed;
                self.spawn_helper(Job::ReadDrawings, move || {
                    let result = image_folder::load_with(&dir, true).and_then(|own| {
                        let mnist = Dataset::shipped_mnist()?;
                        let mix = fine_tune::teaching_set(&own.data, &mnist, seed)?;
                        Ok((Arc::new(mix), own.data.test, mnist.test))
                    });
                    msg(DrawingsMsg::ForTeaching(result))
                });
            }
            DrawingsCommand::HowWell => {
                let (Some(dir), Some(weights)) = (set_dir, self.session.weights.clone()) else { return };
                self.spawn_helper(Job::ReadDrawings, move || msg(DrawingsMsg::Answer(how_well(&dir, &weights))));
            }
            DrawingsCommand::Switch(name) => self.spawn_helper(Job::SaveDrawing, move || {
                let result = drawing_sets::choose_set(&home, &name).and_then(|dir| my_drawings::summary(&dir));
                let saved = result.as_ref().ok().map(|s| format!("Collecting into set '{}'", s.name));
                summary_msg(&home, result, saved)
            }),
            DrawingsCommand::Rename { from, to } => {
                let to = to.trim().to_string();
                self.spawn_helper(Job::SaveDrawing, move || {
                    let result = drawing_sets::rename_set(&home, &from, &to).and_then(|dir| my_drawings::summary(&dir));
                    let saved = result.as_ref().ok().map(|s| format!("Renamed set '{from}' to '{}'", s.name));
                    summary_msg(&home, result, saved)
                });
            }
            DrawingsCommand::Delete(name) => {
                if self.session.run_active() {
                    self.session.status = "A run is going on: stop it first.".into();
                    return;
                }
                self.spawn_helper(Job::SaveDrawing, move || match drawing_sets::delete_set(&home, &name) {
                    Ok(next) => {
                        let saved = format!("Deleted set '{name}' and its drawings");
                        match next {
                            Some(dir) => summary_msg(&home, my_drawings::summary(&dir), Some(saved)),
                            None => msg(DrawingsMsg::NoSet {
                                sets: drawing_sets::list_sets(&home).unwrap_or_default(),
                                saved,
                            }),
                        }
                    }
                    Err(e) => summary_msg(&home, Err(e), None),
                });
            }
            DrawingsCommand::OpenFolder => {
                let Some(dir) = set_dir else { return };
                self.spawn_helper(Job::ReadDrawings, move || msg(DrawingsMsg::Said(open_folder(&dir))));
            }
        }
    }

    /// The set's folder when a run may start on it now.
    fn runnable_set(&mut self, set_dir: Option<PathBuf>) -> Option<PathBuf> {
        if self.session.run_active() {
            self.session.status = "A run is going on: stop it first.".into();
            return None;
        }
        if set_dir.is_none() {
            self.session.status = "Add a few drawings to your set first.".into();
        }
        set_dir
    }

    pub(crate) fn handle_drawings_msg(&mut self, m: DrawingsMsg) {
        match m {
            DrawingsMsg::Summary { result, saved, sets } => {
                if let Some(sets) = sets {
                    self.drawings.sets = sets;
                }
                match result {
                    Ok(summary) => {
                        self.drawings.summary = Some(summary);
                        if let Some(s) = saved {
                            self.session.status = s;
                        }
                    }
                    // The first listing finds no set yet: nothing to say until the user adds a drawing.
                    Err(e) if self.drawings.summary.is_none() && matches!(e, Error::Config(_)) => {}
                    Err(e) => self.session.show_error("Your set of drawings", &e),
                }
            }
            DrawingsMsg::NoSet { sets, saved } => {
                self.drawings.sets = sets;
                self.drawings.summary = None;
                self.session.status = saved;
            }
            DrawingsMsg::Said(Ok(text)) => self.session.status = text,
            DrawingsMsg::Said(Err(e)) => self.session.show_error("Cannot open the set's folder", &e),
            DrawingsMsg::ForTraining { start: Some(Err(e)), .. } => {
                self.session.show_error("Cannot start from the MNIST weights", &e)
            }
            DrawingsMsg::ForTraining { start, result } => match result {
                Ok(data) => {
                    let mut cfg = self.settings.train.clone();
                    let (initial, which) = match start {
                        Some(Ok((w, which))) => (Some(w), which),
                        _ => (None, String::new()),
                    };
                    let transfer = initial.is_some();
                    if let Some(w) = &initial {
                        // The run's network is the one of the weights it starts from.
                        cfg.model =
                            crate::engine::model::config::ModelConfig { classes: cfg.model.classes, ..w.config };
                        // The conv layers of the network the run starts from (its weights are always a checked
                        // network; the settings' may be one the Architecture tab cannot build).
                        let layers = stages::weighted_layers(w.config);
                        cfg.freeze = layers.into_iter().filter(|l| l.starts_with('c')).map(String::from).collect();
                    }
                    let how = if transfer {
                        format!(
                            "from {which} with {} frozen: the convolutions keep the strokes and shapes they learned \
                             on MNIST; only the dense layers and a fresh output layer learn your classes",
                            cfg.freeze.join(", "),
                        )
                    } else {
                        "from fresh weights".to_string()
                    };
                    let mut status = format!("Training on your set {how}");
                    if let Some((small, said)) = small_set::recipe(&cfg, data.train.len()) {
                        cfg = small;
                        status = format!("{status}; {said}");
                    }
                    self.start_run_on(cfg, data, initial, format!("{status}…"));
                }
                Err(e) => self.session.show_error("Cannot train on your set", &e),
            },
            DrawingsMsg::ForTeaching(result) => match (result, self.session.weights.clone()) {
                (Ok((mix, own_test, mnist_test)), Some(before)) => {
                    let own = mix.train.len() / (1 + fine_tune::MNIST_PER_OWN);
                    let mix_text = fine_tune::describe_mix(own);
                    let cfg = fine_tune::config(&self.settings.train, mix.train.len());
                    self.drawings.mix = Some(mix_text.clone());
                    self.drawings.compared = None;
                    self.drawings.answer = None;
                    self.drawings.teaching = Some(Teaching { before: before.clone(), own_test, mnist_test });
                    self.start_run_on(cfg, mix, Some(before), format!("Teaching it your handwriting: {mix_text}…"));
                }
                (Err(e), _) => self.session.show_error("Cannot teach it your handwriting", &e),
                (Ok(_), None) => self.session.error = Some("There are no weights to teach yet.".into()),
            },
            DrawingsMsg::Answer(Ok(text)) => {
                self.session.status = text.clone();
                self.drawings.answer = Some(text);
            }
            DrawingsMsg::Answer(Err(e)) => self.session.show_error("How well does it read you", &e),
            DrawingsMsg::Compared(Ok(r)) => {
                let [own, mnist] = r.lines();
                self.session.status = format!("Taught: {own}; {mnist}");
                self.drawings.compared = Some(r);
            }
            DrawingsMsg::Compared(Err(e)) => self.session.show_error("Cannot compare before and after", &e),
        }
    }

    /// A normal run on `data` from `initial` (None: fresh weights from the settings), with `status` said.
    fn start_run_on(&mut self, cfg: TrainConfig, data: Arc<Dataset>, initial: Option<ModelWeights>, status: String) {
        if self.session.run_active() {
            return;
        }
        if let Err(e) = cfg.validate() {
            self.session.error = Some(e.report());
            return;
        }
        let s = &mut self.session;
        s.install_data(data.clone(), &cfg);
        // From the current weights, the run is a continued one (its record says from what, its curves go on).
        let continuing = initial.as_ref().map(|_| crate::app::shell::execute::continuing_origin(s, &cfg));
        self.spawn_trainer(cfg, data, initial, continuing, status);
    }
}

/// The MNIST weights a transfer run starts from, and which they are: `current` (the window's weights, when they
/// were trained on MNIST), else the newest stored run trained on MNIST that kept its weights. Neither is an error
/// that says how to get them: nothing else would be MNIST's strokes and shapes.
fn mnist_weights(current: Option<ModelWeights>, store: Option<&RunStore>) -> Result<(ModelWeights, String)> {
    if let Some(w) = current {
        return Ok((w, "the current MNIST weights".to_string()));
    }
    let newest = store.and_then(|store| {
        let mut runs: Vec<StoredRun> =
            store.list().runs.into_iter().filter(|r| r.has_weights && r.record.dataset == MNIST_NAME).collect();
        runs.sort_by_key(|r| std::cmp::Reverse((r.record.created_unix, r.record.created_unix_ms)));
        runs.into_iter().find_map(|r| store.load_weights(&r).ok().map(|w| (w, r.record.name.clone())))
    });
    match newest {
        Some((w, name)) => Ok((w, format!("the MNIST weights of the stored run '{name}'"))),
        None => Err(Error::Config(
            "no weights trained on MNIST to start from: the current ones are not, and no stored run is. Train on \
             MNIST first (Use shipped MNIST, then Train: one epoch is enough), or Load weights… trained on it"
                .into(),
        )),
    }
}

/// A set's summary with the sets as they are now (listed on the same helper thread).
fn summary_msg(home: &std::path::Path, result: Result<SetSummary>, saved: Option<String>) -> AppMsg {
    msg(DrawingsMsg::Summary { result, saved, sets: drawing_sets::list_sets(home).ok() })
}

/// Opens `dir` in the desktop's file manager (`xdg-open`); the error says where the folder is either way.
fn open_folder(dir: &std::path::Path) -> Result<String> {
    let opened = std::process::Command::new("xdg-open")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match opened {
        Ok(status) if status.success() => Ok(format!("Opened {}", dir.display())),
        Ok(status) => Err(Error::Config(format!("xdg-open failed ({status}); the set is in {}", dir.display()))),
        Err(e) => Err(Error::Config(format!("cannot run xdg-open ({e}); the set is in {}", dir.display()))),
    }
}

fn save_and_summarise(dir: &std::path::Path, class: &str, img: &GrayImage) -> Result<(SetSummary, PathBuf)> {
    let path = my_drawings::add_drawing(dir, class, img)?;
    Ok((my_drawings::summary(dir)?, path))
}

/// The current weights on every drawing of the set, in words.
fn how_well(dir: &std::path::Path, weights: &ModelWeights) -> Result<String> {
    let own = image_folder::load_with(dir, true)?.data;
    if own.class_names != weights.class_names {
        return Err(Error::Config(format!(
            "the current weights read {} ({} classes); your set '{}' has {}: train on it first",
            weights.dataset,
            weights.class_names.len(),
            own.name,
            own.class_names.join(", ")
        )));
    }
    let mut all = own.train.clone();
    all.images.extend_from_slice(&own.test.images);
    all.labels.extend_from_slice(&own.test.labels);
    let ev = evaluate_weights(weights, &all, None, &mut |_, _| {})?
        .ok_or_else(|| Error::Internal("the evaluation was interrupted".into()))?;
    let right = (ev.accuracy * all.len() as f32).round() as usize;
    let worst = own
        .class_names
        .iter()
        .zip(&ev.class_accuracy)
        .enumerate()
        .filter(|(c, _)| all.labels.contains(&(*c as u8)))
        .min_by(|a, b| a.1 .1.total_cmp(b.1 .1))
        .map(|(_, (n, a))| format!("; hardest for it: '{n}' ({:.0} %)", a * 100.0))
        .unwrap_or_default();
    Ok(format!("It reads {right} of your {} drawings ({:.1} %){worst}.", all.len(), ev.accuracy * 100.0))
}
