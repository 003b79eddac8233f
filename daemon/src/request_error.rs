//! [`RequestError`]: a request the control plane refused, as the `Error`
//! reply names it (a code and a detail that says what was refused and
//! why), and the helpers its checks build one with.

use zerocp_core::wire::{ErrorCode, ErrorReply};

/// A request was refused: the code and detail of the `Error` reply.
///
/// ```
/// use zerocp_core::wire::ErrorCode;
/// use zerocp_daemon::request_error::RequestError;
///
/// let refused = RequestError {
///     code: ErrorCode::NoSuchPort,
///     detail: "this process has no subscriber port 3 of group 1".into(),
/// };
/// assert_eq!(refused.to_reply().code, ErrorCode::NoSuchPort);
/// assert!(refused.to_string().ends_with("subscriber port 3 of group 1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Specifics (names, values); cut to fit the reply frame when sent.
    pub detail: String,
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for RequestError {}

impl RequestError {
    /// The `Error` reply frame's payload.
    pub fn to_reply(&self) -> ErrorReply {
        ErrorReply::new(self.code, &self.detail)
    }
}

/// A [`RequestError`] of `code` saying `detail`.
pub(crate) fn error(code: ErrorCode, detail: impl Into<String>) -> RequestError {
    RequestError {
        code,
        detail: detail.into(),
    }
}

/// Refuses a request field outside `min..=max` as `InvalidArgument`, with
/// the detail `detail` writes.
pub(crate) fn check_range(
    value: u32,
    min: u32,
    max: u32,
    detail: impl FnOnce() -> String,
) -> Result<(), RequestError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(error(ErrorCode::InvalidArgument, detail()))
    }
}
