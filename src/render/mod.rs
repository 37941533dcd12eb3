//! Renderings of engine results for people: colour scales, images and their file encodings. Here, not in the engine,
//! so the engine only computes; not in the app, so the CLI draws the same pictures without the window. No egui,
//! no candle: plain pixels (the `image` crate).

pub mod attribution;
