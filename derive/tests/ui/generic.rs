use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Stamped<T> {
    stamp: u64,
    value: T,
}

fn main() {}
