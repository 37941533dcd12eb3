//! The Evaluation tab: the confusion matrix of the current weights on the test set, a cell's images, the epoch
//! replay, and Evaluate's own state (weights not trained in this session).

pub mod gallery;
pub mod inputs;
pub mod state;
pub mod view;
