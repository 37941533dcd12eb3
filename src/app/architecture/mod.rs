//! The Architecture tab and the Network inspector: the network as an editable list of blocks (its stage table of
//! shapes, parameters, FLOPs and memory), and the trained network's stages with their formulas and feature maps.

pub mod edit;
pub mod inspector;
pub mod stage_table;
pub mod view;
