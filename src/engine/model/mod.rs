//! The network: one description of its stages ([`stages`]), the candle model built from it ([`lenet`]) over the
//! fast kernels ([`ops`]), its parameters as plain data ([`weights`]) and in files ([`checkpoint`]), and what it
//! computes for one input ([`predict`], [`inspect`]); [`onnx`] writes it as a standard graph for other tools.

pub mod architecture;
pub mod checkpoint;
pub mod config;
pub mod grads;
pub mod inspect;
pub mod lenet;
pub mod memory;
pub mod net_layers;
pub mod onnx;
pub mod ops;
pub mod predict;
pub mod stage_types;
pub mod stages;
pub mod weights;
