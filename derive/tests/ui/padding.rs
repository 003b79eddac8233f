use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Gappy {
    flag: u8,
    value: u32,
}

fn main() {}
