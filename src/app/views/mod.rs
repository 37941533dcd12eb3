pub mod canvas;
pub mod inspector;
