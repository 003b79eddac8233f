use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Labelled {
    id: u64,
    label: &'static str,
}

fn main() {}
