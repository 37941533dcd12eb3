//! What tests and the screenshot export read of the window: the canvas, frame times, the Inside tab's progress,
//! and the capture of the plots after a frame that drew them.

use crate::app::canvas::view::CanvasView;
use crate::app::jobs::{AppMsg, Job};
use crate::app::{PlaygroundApp, Tab};

impl PlaygroundApp {
    /// The canvas panel (its input is also the inspector's).
    pub fn canvas(&self) -> &CanvasView {
        &self.canvas
    }

    /// Mean and max UI work (logic + ui) over recent frames, in ms.
    pub fn frame_time_ms(&self) -> Option<(f32, f32)> {
        self.frame_times.mean_max_ms()
    }

    /// The Inside tab's representation frames so far (one per epoch of the current run, and epoch 0).
    pub fn inside_frames(&self) -> usize {
        self.inside_worker.frames.len()
    }

    /// The Inside tab's unit ranking is there and is the one last asked for.
    pub fn inside_ranking_ready(&self) -> bool {
        self.inside_worker.rankings.is_some() && !self.inside_worker.ranking_pending()
    }

    /// Where each map digit was drawn in the Inside tab's last painted map (window points), for tests that click one.
    pub fn inside_map_points(&self) -> &[egui::Pos2] {
        &self.inside.map.drawn
    }

    /// Data sets or weights that arrived during the run and wait for it to end.
    pub fn waiting_for_run_end(&self) -> usize {
        self.background.deferred.len()
    }

    /// Captures the plots after a frame that drew them, for `ExportScreenPng`.
    pub(in crate::app) fn capture_pending_screenshot(&mut self, ctx: &egui::Context) {
        if self.tab != Tab::Plots {
            return;
        }
        if let (Some(path), Some(rect)) = (self.pending_screenshot.take(), self.plots.plots_rect) {
            let tx = self.background.tx.clone();
            let wake = ctx.clone();
            let pixels_per_point = ctx.pixels_per_point();
            // Not a thread: egui's callback sends it, counted like a helper's job until it arrives.
            let _not_a_write = self.background.in_flight.start(Job::Capture);
            ctx.request_screenshot(move |image| {
                let _ = tx.send((Job::Capture, AppMsg::Screenshot { path, image, rect, pixels_per_point }));
                wake.request_repaint();
            });
        }
    }
}
