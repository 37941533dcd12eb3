fn main() { lenet_playground::hello(); }
