use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Tail {
    value: u64,
    flag: u8,
}

fn main() {}
