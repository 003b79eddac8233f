//! The checked-in header `include/zerocp.h` is what cbindgen makes of the
//! crate now: this test regenerates it into memory and fails when the file
//! differs (CI runs it). `scripts/ffi-header.sh` writes it
//! (`ZEROCP_BLESS_HEADER=1`).

use std::path::Path;

#[test]
fn the_checked_in_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = dir.join("include/zerocp.h");
    if std::env::var_os("ZEROCP_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/zerocp.h");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ffi/include/zerocp.h is not what the crate generates now: run scripts/ffi-header.sh and commit it"
    );
}
