//! What the loom model binaries (`tests/loom_*.rs`) share; each includes it
//! with `mod loom_support;` and keeps its models in a `#[cfg(loom)]` module.
//!
//! Built with `--cfg loom` (`ci/loom.sh`), it gives them [`model`]. Built
//! without, the models compile to nothing and this module gives each binary
//! one ignored test instead, whose reason says how to run them, so a plain
//! `cargo test` reports the models as skipped rather than "0 passed".

/// Runs `f` under loom with a bounded number of preemptions (default 3,
/// `LOOM_MAX_PREEMPTIONS` overrides it).
#[cfg(loom)]
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Stands for this binary's loom models in a build without `--cfg loom`.
#[cfg(not(loom))]
#[test]
#[ignore = "loom models run only with RUSTFLAGS=\"--cfg loom\" (ci/loom.sh)"]
fn loom_models() {}
