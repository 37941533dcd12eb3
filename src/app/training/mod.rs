//! Training in the window: the side panel (the recipe, Train / Pause / Stop, the Files section), the trainer's
//! events applied to the session, the live plots, the gradient flow and the coach's banner.

pub mod coach;
pub mod controls;
pub mod epoch_axis;
pub mod events;
pub mod files_section;
pub mod gradients;
pub mod plots;
pub mod train_start;
