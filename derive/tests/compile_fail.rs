//! Types `#[derive(ZeroCopySafe)]` must refuse, each in `tests/ui/`, with the
//! compiler's output in the `.stderr` beside it: the test fails if one
//! compiles, or if its error changes (a message that no longer names the
//! field, say).
//!
//! trybuild compares the whole output, and rustc words its own part of an
//! error (the trait-bound and constant-evaluation wrappers around ours)
//! differently from one release to another, so the files are those of the
//! toolchain CI uses (`ci/setup.sh`: rustup's stable). After a toolchain
//! update, `TRYBUILD=overwrite cargo test -p zerocp-derive --test
//! compile_fail` rewrites them; review the diff: our message and the field's
//! name must still be in each.

#[test]
fn refused_types_fail_to_compile_naming_the_cause() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
