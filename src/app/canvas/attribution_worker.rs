//! The attribution worker behind the canvas's "show what decided it": one long-lived thread computing occlusion
//! maps (`engine::insight::explain`) on plain data. A new request replaces the one waiting — the latest wins — so a fast
//! drawing never queues work and the canvas never waits.

use crate::app::canvas::view::CanvasView;
use crate::app::state::Session;
use crate::engine::data::set::IMAGE_PIXELS;
use crate::engine::insight::explain::{occlusion, Attribution};
use crate::engine::model::predict::Predictor;
use crate::engine::model::weights::ModelWeights;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

/// What an attribution map was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttributionKey {
    pub(crate) input_gen: u64,
    pub weights_version: u64,
    /// None: the predicted class.
    pub class: Option<usize>,
}

pub(crate) struct AttributionRequest {
    key: AttributionKey,
    input: Box<[f32; IMAGE_PIXELS]>,
    class: Option<usize>,
    /// New weights, when they changed since the last request.
    weights: Option<ModelWeights>,
}

pub(crate) struct AttributionDone {
    pub key: AttributionKey,
    pub result: Result<Attribution, String>,
}

#[derive(Default)]
struct Slot {
    request: Option<AttributionRequest>,
    quit: bool,
}

/// One thread computing occlusion maps. Requests replace the one waiting (the latest wins), so a fast drawing never
/// queues up work; the thread starts with the first request and ends when the worker is dropped.
pub(crate) struct AttributionWorker {
    shared: Arc<(Mutex<Slot>, Condvar)>,
    results_tx: Sender<AttributionDone>,
    results: Receiver<AttributionDone>,
    started: bool,
    last_key: Option<AttributionKey>,
    sent_weights: Option<u64>,
}

impl Default for AttributionWorker {
    fn default() -> Self {
        let (results_tx, results) = unbounded();
        AttributionWorker {
            shared: Arc::default(),
            results_tx,
            results,
            started: false,
            last_key: None,
            sent_weights: None,
        }
    }
}

impl AttributionWorker {
    /// Sends the canvas's attribution request (if any and new) to the worker, and hands finished maps back.
    pub fn sync(&mut self, ctx: &egui::Context, canvas: &mut CanvasView, session: &Session) {
        while let Ok(done) = self.results.try_recv() {
            canvas.set_attribution(done.key.input_gen, done.key.class, done.result);
        }
        let Some((input_gen, input, class)) = canvas.attribution_request() else { return };
        let key = AttributionKey { input_gen, weights_version: session.weights_version, class };
        if self.last_key == Some(key) {
            return;
        }
        let weights = if self.sent_weights != Some(key.weights_version) {
            match &session.weights {
                Some(w) => Some(w.clone()),
                None => return,
            }
        } else {
            None
        };
        self.sent_weights = Some(key.weights_version);
        self.last_key = Some(key);
        self.submit(ctx, AttributionRequest { key, input: Box::new(input), class, weights });
    }

    fn submit(&mut self, ctx: &egui::Context, mut req: AttributionRequest) {
        let (lock, cvar) = &*self.shared;
        if let Ok(mut slot) = lock.lock() {
            if let Some(old) = slot.request.take() {
                // Weights travel once: keep those of a replaced request.
                if req.weights.is_none() {
                    req.weights = old.weights;
                }
            }
            slot.request = Some(req);
            cvar.notify_one();
        }
        if !self.started {
            self.started = true;
            let (shared, tx, ctx) = (self.shared.clone(), self.results_tx.clone(), ctx.clone());
            let spawned = std::thread::Builder::new().name("attribution".into()).spawn(move || {
                attribution_loop(&shared, &tx, &ctx);
            });
            if spawned.is_err() {
                self.started = false;
            }
        }
    }
}

impl Drop for AttributionWorker {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.shared;
        if let Ok(mut slot) = lock.lock() {
            slot.quit = true;
            cvar.notify_all();
        }
    }
}

fn attribution_loop(shared: &(Mutex<Slot>, Condvar), tx: &Sender<AttributionDone>, ctx: &egui::Context) {
    let (lock, cvar) = shared;
    let mut predictor: Option<Predictor> = None;
    loop {
        let req = {
            let Ok(mut slot) = lock.lock() else { return };
            loop {
                if slot.quit {
                    return;
                }
                if let Some(r) = slot.request.take() {
                    break r;
                }
                slot = match cvar.wait(slot) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        };
        if let Some(w) = &req.weights {
            predictor = Predictor::new(w).ok();
        }
        let result = match &predictor {
            Some(p) => occlusion(p, &req.input, req.class).map_err(|e| e.report()),
            None => Err("no model to explain with".to_string()),
        };
        if tx.send(AttributionDone { key: req.key, result }).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}
