use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
