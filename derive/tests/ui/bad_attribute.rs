use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
#[zerocp(name = "robot::Pose")]
struct Pose {
    x: f64,
}

fn main() {}
