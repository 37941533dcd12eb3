pub fn hello() {}
pub mod kernels;
