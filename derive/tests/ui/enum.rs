use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(u8)]
enum Mode {
    Idle,
    Run,
}

fn main() {}
