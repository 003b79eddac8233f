//! Building C against this build's `libzerocp_c.a`: where the library is,
//! which compilers to use, and the compile command. Shared by the tests
//! (`support`, which panics on its errors) and the benchmark
//! (`benches/latency_c.rs`, which reports them).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The system libraries a program linking `libzerocp_c.a` needs.
pub const SYSTEM_LIBS: [&str; 6] = ["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl"];

/// `libzerocp_c.a` of this build: beside the running test or benchmark
/// binary (`deps/`) or one level up.
pub fn static_library() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the running binary: {e}"))?;
    let deps = exe.parent().ok_or("the running binary has no directory")?;
    [Some(deps), deps.parent()]
        .into_iter()
        .flatten()
        .map(|d| d.join("libzerocp_c.a"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no libzerocp_c.a beside {} (it is built with the tests: crate-type staticlib)",
                exe.display()
            )
        })
}

/// The GNU triple prefix of this target's compilers, when the binary runs
/// for a foreign architecture under qemu-user (CI's `test-cross`): the
/// binary is the target's, and so must be the programs it compiles.
/// Debian's cross compilers (and the native ones of an aarch64 or armv7
/// Debian) carry these names.
const TARGET_PREFIX: Option<&str> = if cfg!(target_arch = "aarch64") {
    Some("aarch64-linux-gnu-")
} else if cfg!(target_arch = "arm") {
    Some("arm-linux-gnueabihf-")
} else {
    None
};

/// The compiler `tool` (`gcc` or `g++`) for this target: `$CC`/`$CXX`
/// when set (`env`), else the target's prefixed one on a foreign
/// architecture, else `cc`/`c++` (`plain`).
fn compiler(env: &str, tool: &str, plain: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| match TARGET_PREFIX {
        Some(prefix) => format!("{prefix}{tool}"),
        None => plain.to_string(),
    })
}

/// The C compiler (see [`compiler`]).
pub fn c_compiler() -> String {
    compiler("CC", "gcc", "cc")
}

/// The C++ compiler (see [`compiler`]).
pub fn cxx_compiler() -> String {
    compiler("CXX", "g++", "c++")
}

/// Compiles `source` (C or C++, as `compiler` is) with `flags` against the
/// static library and the public headers into the program `out`.
pub fn compile(compiler: &str, source: &Path, flags: &[&str], out: &Path) -> Result<(), String> {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let cc = compiler;
    let status = Command::new(cc)
        .args(flags)
        .arg("-I")
        .arg(include)
        .arg(source)
        .arg(static_library()?)
        .args(SYSTEM_LIBS)
        .arg("-o")
        .arg(out)
        .status()
        .map_err(|e| format!("running {cc}: {e}"))?;
    if !status.success() {
        return Err(format!("{cc} {} failed: {status}", source.display()));
    }
    Ok(())
}
