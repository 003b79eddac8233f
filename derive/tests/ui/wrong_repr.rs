use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(align(8))]
struct Pose {
    x: f64,
    y: f64,
}

fn main() {}
