//! What outlives a run: the run store ([`runs`]) and the user's own drawings ([`my_drawings`], in sets: [`drawing_sets`]). It reads the model
//! and the recipe; nothing below it reads the store.

pub mod drawing_sets;
pub mod my_drawings;
pub mod runs;
