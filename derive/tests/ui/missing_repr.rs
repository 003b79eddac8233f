use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
struct Pose {
    x: f64,
    y: f64,
}

fn main() {}
