//! What every benchmark shares about counts and labels: the
//! `ZEROCP_BENCH_SCALE` factor and the payload labels of the peer's output.

use crate::common::error::BenchError;

/// Environment variable scaling every count (default 1.0).
pub const SCALE_ENV: &str = "ZEROCP_BENCH_SCALE";

/// `ZEROCP_BENCH_SCALE` as a positive float (1.0 when unset).
pub fn scale() -> Result<f64, BenchError> {
    match std::env::var(SCALE_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(1.0),
        Err(e) => Err(BenchError::Usage(format!("{SCALE_ENV}: {e}"))),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(BenchError::Usage(format!(
                "{SCALE_ENV}={text:?} is not a positive number"
            ))),
        },
    }
}

/// `64B`, `4KiB`, `64KiB`, `1MiB`, `4MiB`.
pub fn size_label(size: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if size >= MIB && size.is_multiple_of(MIB) {
        format!("{}MiB", size / MIB)
    } else if size >= KIB && size.is_multiple_of(KIB) {
        format!("{}KiB", size / KIB)
    } else {
        format!("{size}B")
    }
}
