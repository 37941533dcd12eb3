//! The Inside tab's helper thread and what it has delivered: one representation frame per epoch of the current
//! run (the fixed test digits through the penultimate layer, projected; captured whether or not the tab is open, so
//! the scrubber has every epoch) and the unit rankings of the stage the tab shows (rebuilt once per epoch while
//! training, and for any new weights otherwise). Frames queue in order; a newer ranking replaces one not started.

use crate::app::state::Session;
use crate::engine::data::set::Dataset;
use crate::engine::insight::inside::dream::{dream, Dream};
use crate::engine::insight::inside::evolution::{unit_epoch, UnitEpoch};
use crate::engine::insight::inside::representation::{capture, features, Features, Frame, MapDigits};
use crate::engine::insight::inside::units::{rank_units, UnitRanking, SHOWN};
use crate::engine::model::predict::Predictor;
use crate::engine::model::weights::ModelWeights;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

enum Request {
    Frame {
        generation: u64,
        epoch: usize,
        weights: Arc<ModelWeights>,
        digits: Arc<MapDigits>,
    },
    Rank {
        key: RankKey,
        weights: Arc<ModelWeights>,
        data: Arc<Dataset>,
    },
    Dream {
        key: DreamKey,
        weights: Arc<ModelWeights>,
    },
    Neighbours {
        weights_version: u64,
        weights: Arc<ModelWeights>,
        data: Arc<Dataset>,
    },
    Evolution {
        key: EvolutionKey,
        snapshots: Vec<(usize, Arc<ModelWeights>)>,
        have: Vec<UnitEpoch>,
        digits: Arc<MapDigits>,
    },
}

/// What a unit's epoch-by-epoch strip was computed for: the run, the unit and how many epochs it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EvolutionKey {
    pub generation: u64,
    pub stage: usize,
    pub unit: usize,
    pub epochs: usize,
}

/// The weights of each epoch are kept for the strip while they fit in this much memory (LeNet-5: 250 KB an epoch).
const MAX_SNAPSHOT_BYTES: usize = 256 << 20;

fn snapshot_bytes(w: &ModelWeights) -> usize {
    w.params.iter().map(|p| p.data.len() * 4).sum()
}

/// What an activation-maximisation image was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DreamKey {
    pub weights_version: u64,
    pub stage: usize,
    pub unit: usize,
}

/// What a ranking was computed for: the weights and the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RankKey {
    pub weights_version: u64,
    pub stage: usize,
}

enum Done {
    Frame { generation: u64, result: Result<(Frame, Features), String> },
    Rank(Rankings),
    Dream(DreamKey, Result<Dream, String>),
    Evolution(EvolutionKey, Result<Vec<UnitEpoch>, String>),
    Neighbours(u64, Result<Features, String>),
}

/// Training images whose features are kept, to find the canvas digit's nearest (20,000 × 84 values for LeNet-5).
pub(crate) const NEIGHBOUR_IMAGES: usize = 20_000;

/// Rankings of one stage's units over the test set, and how long they took.
pub(crate) struct Rankings {
    pub key: RankKey,
    pub units: Result<Vec<UnitRanking>, String>,
    pub secs: f64,
}

#[derive(Default)]
pub(crate) struct InsideWorker {
    channel: Option<(Sender<Request>, Receiver<Done>)>,
    /// The run the frames belong to (`History::generation`) and the last epoch asked for.
    generation: Option<u64>,
    asked_epoch: Option<usize>,
    pub frames: Vec<Frame>,
    /// The digits on the map and the data set they were taken from.
    pub digits: Option<(Arc<MapDigits>, Arc<Dataset>)>,
    pub rankings: Option<Rankings>,
    /// The ranking asked for last, and the epochs done then.
    asked_rank: Option<(RankKey, usize)>,
    /// The selected unit's activation-maximisation image, and the one asked for last.
    pub dream: Option<(DreamKey, Result<Dream, String>)>,
    asked_dream: Option<(DreamKey, usize)>,
    /// Each epoch's weights of the current run (from 0), while they fit in MAX_SNAPSHOT_BYTES.
    snapshots: Vec<(usize, Arc<ModelWeights>)>,
    /// The selected unit epoch by epoch, and what was asked for last.
    pub evolution: Option<(EvolutionKey, Result<Vec<UnitEpoch>, String>)>,
    asked_evolution: Option<EvolutionKey>,
    /// The penultimate features of the first NEIGHBOUR_IMAGES training images, for the weights version given.
    pub neighbours: Option<(u64, Result<Features, String>)>,
    asked_neighbours: Option<(u64, usize)>,
    /// Why the last frame failed, shown in the tab.
    pub error: Option<String>,
    /// The current weights, copied once per weights version for all the requests that need them.
    weights: Option<(u64, Arc<ModelWeights>)>,
}

/// Whether a result asked for under weights `asked_version` after `asked_epoch` epochs is refreshed now: for any new
/// weights when no run is under way, and once per epoch while one trains.
fn refresh_due(asked_version: u64, asked_epoch: usize, version: u64, epochs_done: usize, run_active: bool) -> bool {
    asked_version != version && (!run_active || epochs_done > asked_epoch)
}

impl InsideWorker {
    /// Takes what the thread finished; asks for the frame of an epoch that ended (and of epoch 0 when a run
    /// starts) and, when `unit` is given (the tab shows it), for its stage's rankings and its wanted image.
    /// `want_neighbours`: the map is shown with a digit on the canvas, so the training images' features are wanted.
    pub(crate) fn sync(
        &mut self,
        ctx: &egui::Context,
        session: &Session,
        rank_stage: Option<(usize, usize)>,
        want_neighbours: bool,
    ) {
        self.take_results();
        let (Some(data), Some(current)) = (&session.data, &session.weights) else { return };
        let version = session.weights_version;
        let weights = match &self.weights {
            Some((v, w)) if *v == version => w.clone(),
            _ => {
                let w = Arc::new(current.clone());
                self.weights = Some((version, w.clone()));
                w
            }
        };
        let generation = session.history.generation();
        if self.generation != Some(generation) {
            self.generation = Some(generation);
            self.restart_frames();
        }
        let digits = match &self.digits {
            Some((d, from)) if Arc::ptr_eq(from, data) => d.clone(),
            _ => {
                let d = Arc::new(MapDigits::from_test(&data.test));
                self.digits = Some((d.clone(), data.clone()));
                self.restart_frames();
                d
            }
        };
        let run_active = session.run_active();
        // Epoch 0: the weights a run starts from (or whatever is loaded before a run); then each epoch that ended.
        let epochs_done = session.history.epochs.last().map_or(0, |e| e.epoch);
        if self.asked_epoch.is_none_or(|e| epochs_done > e) {
            self.asked_epoch = Some(epochs_done);
            let bytes: usize = self.snapshots.iter().map(|(_, w)| snapshot_bytes(w)).sum();
            if bytes + snapshot_bytes(&weights) <= MAX_SNAPSHOT_BYTES {
                self.snapshots.push((epochs_done, weights.clone()));
            }
            let weights = weights.clone();
            self.send(ctx, Request::Frame { generation, epoch: epochs_done, weights, digits: digits.clone() });
        }
        if want_neighbours {
            let due = self.asked_neighbours.is_none_or(|(v, e)| refresh_due(v, e, version, epochs_done, run_active));
            if due {
                self.asked_neighbours = Some((version, epochs_done));
                let request =
                    Request::Neighbours { weights_version: version, weights: weights.clone(), data: data.clone() };
                self.send(ctx, request);
            }
        }
        let Some((stage, unit)) = rank_stage else { return };
        let dream_key = DreamKey { weights_version: version, stage, unit };
        let dream_due = self.asked_dream.is_none_or(|(k, e)| {
            (k.stage, k.unit) != (stage, unit) || refresh_due(k.weights_version, e, version, epochs_done, run_active)
        });
        if dream_due {
            self.asked_dream = Some((dream_key, epochs_done));
            self.send(ctx, Request::Dream { key: dream_key, weights: weights.clone() });
        }
        let evolution_key = EvolutionKey { generation, stage, unit, epochs: self.snapshots.len() };
        if self.asked_evolution != Some(evolution_key) && !self.snapshots.is_empty() {
            self.asked_evolution = Some(evolution_key);
            // Rows already computed for this run and unit are kept: only new epochs are computed.
            let have = match &self.evolution {
                Some((k, Ok(rows))) if (k.generation, k.stage, k.unit) == (generation, stage, unit) => rows.clone(),
                _ => Vec::new(),
            };
            let snapshots = self.snapshots.clone();
            self.send(ctx, Request::Evolution { key: evolution_key, snapshots, have, digits });
        }
        let key = RankKey { weights_version: version, stage };
        let due = self.asked_rank.is_none_or(|(k, e)| {
            k.stage != stage || refresh_due(k.weights_version, e, version, epochs_done, run_active)
        });
        if due {
            self.asked_rank = Some((key, epochs_done));
            self.send(ctx, Request::Rank { key, weights, data: data.clone() });
        }
    }

    /// A new run or new data: its frames and kept weights start again from epoch 0.
    fn restart_frames(&mut self) {
        self.asked_epoch = None;
        self.frames.clear();
        self.snapshots.clear();
        self.error = None;
    }

    /// The ranking the tab asked for last is still being computed.
    pub(crate) fn ranking_pending(&self) -> bool {
        self.asked_rank.is_some_and(|(k, _)| self.rankings.as_ref().is_none_or(|r| r.key != k))
    }

    fn take_results(&mut self) {
        let Some((_, rx)) = &self.channel else { return };
        while let Ok(done) = rx.try_recv() {
            match done {
                Done::Frame { generation, result } if Some(generation) == self.generation => match result {
                    Ok((frame, _)) => self.frames.push(frame),
                    Err(e) => self.error = Some(e),
                },
                Done::Frame { .. } => {}
                Done::Rank(r) => self.rankings = Some(r),
                Done::Dream(key, d) => self.dream = Some((key, d)),
                Done::Evolution(key, e) => self.evolution = Some((key, e)),
                Done::Neighbours(v, f) => self.neighbours = Some((v, f)),
            }
        }
    }

    fn send(&mut self, ctx: &egui::Context, request: Request) {
        if self.channel.is_none() {
            let (tx, requests) = unbounded();
            let (done, rx) = unbounded();
            let ctx = ctx.clone();
            let spawned =
                std::thread::Builder::new().name("inside".into()).spawn(move || inside_loop(&requests, &done, &ctx));
            if let Err(e) = spawned {
                self.error = Some(format!("cannot start the Inside tab's helper thread: {e}"));
                return;
            }
            self.channel = Some((tx, rx));
        }
        if let Some((tx, _)) = &self.channel {
            let _ = tx.send(request);
        }
    }
}

/// Serves requests in order, except that only the newest of the waiting rankings is computed. Ends when the app
/// drops its sender.
fn inside_loop(requests: &Receiver<Request>, done: &Sender<Done>, ctx: &egui::Context) {
    // The work runs on a pool of its own, one thread at a lower priority: the kernels' parallel loops then stay off
    // the pool training uses, and the trainer gets the cores first.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "inside-compute".into())
        .start_handler(|_| yield_to_training())
        .build();
    match pool {
        Ok(pool) => pool.install(|| serve(requests, done, ctx)),
        Err(_) => serve(requests, done, ctx),
    }
}

/// Lowers the calling thread's scheduling priority (Linux: nice 10 for this thread only); elsewhere nothing.
fn yield_to_training() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id; a failure leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

fn serve(requests: &Receiver<Request>, done: &Sender<Done>, ctx: &egui::Context) {
    let mut previous_pca = None;
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let newest_rank = batch.iter().rposition(|r| matches!(r, Request::Rank { .. }));
        let newest_dream = batch.iter().rposition(|r| matches!(r, Request::Dream { .. }));
        let newest_evolution = batch.iter().rposition(|r| matches!(r, Request::Evolution { .. }));
        let newest_neighbours = batch.iter().rposition(|r| matches!(r, Request::Neighbours { .. }));
        for (i, request) in batch.into_iter().enumerate() {
            let out = match request {
                Request::Frame { generation, epoch, weights, digits } => {
                    let result = Predictor::new(&weights)
                        .and_then(|p| {
                            let previous = previous_pca.as_ref().filter(|_| epoch > 0);
                            capture(&p, &digits, epoch, previous)
                        })
                        .map_err(|e| e.report());
                    if let Ok((frame, _)) = &result {
                        previous_pca = Some(frame.pca.clone());
                    }
                    Done::Frame { generation, result }
                }
                Request::Rank { .. } if Some(i) != newest_rank => continue,
                Request::Dream { .. } if Some(i) != newest_dream => continue,
                Request::Evolution { .. } if Some(i) != newest_evolution => continue,
                Request::Neighbours { .. } if Some(i) != newest_neighbours => continue,
                Request::Neighbours { weights_version, weights, data } => {
                    let train = data.train.truncated(NEIGHBOUR_IMAGES);
                    let f = Predictor::new(&weights)
                        .and_then(|p| {
                            let (pixels, _) = train.batch(&(0..train.len()).collect::<Vec<_>>());
                            features(&p, &pixels, train.len())
                        })
                        .map_err(|e| e.report());
                    Done::Neighbours(weights_version, f)
                }
                Request::Evolution { key, snapshots, have, digits } => {
                    let strip = snapshots
                        .iter()
                        .map(|(epoch, w)| match have.iter().find(|row| row.epoch == *epoch) {
                            Some(row) => Ok(row.clone()),
                            None => unit_epoch(&Predictor::new(w)?, *epoch, key.stage, key.unit, &digits.set),
                        })
                        .collect::<crate::Result<Vec<_>>>()
                        .map_err(|e| e.report());
                    Done::Evolution(key, strip)
                }
                Request::Dream { key, weights } => {
                    let d =
                        Predictor::new(&weights).and_then(|p| dream(&p, key.stage, key.unit)).map_err(|e| e.report());
                    Done::Dream(key, d)
                }
                Request::Rank { key, weights, data } => {
                    let start = Instant::now();
                    let units = Predictor::new(&weights)
                        .and_then(|p| rank_units(&p, key.stage, &data.test, SHOWN))
                        .map_err(|e| e.report());
                    Done::Rank(Rankings { key, units, secs: start.elapsed().as_secs_f64() })
                }
            };
            if done.send(out).is_err() {
                return;
            }
            ctx.request_repaint();
        }
    }
}
