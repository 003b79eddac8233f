use zerocp::ZeroCopySafe;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Handle {
    id: u32,
}

impl Drop for Handle {
    fn drop(&mut self) {}
}

fn main() {}
