//! The panels of the window. Each view draws from state it is given and reports what the user asked for as
//! `UiCommand`s; none of them starts threads or touches files.

pub mod architecture;
pub mod attribution;
pub mod backdrop;
pub mod banner;
pub mod canvas;
pub mod coach;
pub mod collector;
pub mod controls;
pub mod epoch_axis;
pub mod evaluation;
pub mod files_section;
pub mod gradients;
pub mod inside;
pub mod inspector;
pub mod legend_row;
pub mod plots;
pub mod probabilities;
pub mod runs;
pub mod runs_scatter;
pub mod set_chooser;
pub mod stage_table;
pub mod texture;
pub mod train_start;
