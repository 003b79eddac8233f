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
//! compile_fail` rewrites them; `expected_files_keep_the_key_messages` then
//! checks that each file still holds the message that matters (the cause,
//! the field's name), whatever rustc wraps around it.

use std::path::Path;

/// Each case and what its error must say.
const KEY_MESSAGES: &[(&str, &[&str])] = &[
    (
        "bad_attribute",
        &["unknown #[zerocp] key", "name = \"robot::Pose\""],
    ),
    ("drop", &["`Handle` implements Drop", "struct Handle"]),
    ("enum", &["is for structs only, not enums"]),
    (
        "field_not_zero_copy_safe",
        &[
            "`&'static str` is not `ZeroCopySafe`",
            "field_label_must_be_zero_copy_safe",
            "label: &'static str",
        ],
    ),
    ("generic", &["does not take generic types"]),
    ("missing_repr", &["the type has no #[repr]"]),
    (
        "padding",
        &["`Gappy` has padding after field `flag`;", "flag: u8"],
    ),
    (
        "trailing_padding",
        &[
            "`Tail` has padding after field `flag`, at its end",
            "flag: u8",
        ],
    ),
    ("union", &["is for structs only, not unions"]),
    ("wrong_repr", &["found #[repr(align(8))]"]),
];

// The diagnostics are the host compiler's, the same for every target: CI
// checks them natively, not once more per emulated target (where each case
// is a cargo build run from under qemu).
#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "the compiler's diagnostics do not depend on the target: checked on the x86_64 host"
)]
fn refused_types_fail_to_compile_naming_the_cause() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

#[test]
fn expected_files_keep_the_key_messages() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut cases: Vec<String> = std::fs::read_dir(&ui)
        .expect("tests/ui")
        .map(|entry| entry.expect("an entry of tests/ui").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    let listed: Vec<&str> = KEY_MESSAGES.iter().map(|(case, _)| *case).collect();
    assert_eq!(
        cases, listed,
        "every case in tests/ui needs its key messages here"
    );
    for (case, keys) in KEY_MESSAGES {
        let stderr = std::fs::read_to_string(ui.join(format!("{case}.stderr")))
            .unwrap_or_else(|e| panic!("tests/ui/{case}.stderr: {e}"));
        for key in *keys {
            assert!(
                stderr.contains(key),
                "tests/ui/{case}.stderr lacks {key:?}:\n{stderr}"
            );
        }
    }
}
