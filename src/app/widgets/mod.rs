//! Pieces every room draws with: the backdrop and banners, legend rows, textures kept by key, and shared text.

pub mod backdrop;
pub mod banner;
pub mod format;
pub mod legend_row;
pub mod texture;
