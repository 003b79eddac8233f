//! # zerocp-daemon
//!
//! The ZeroCP daemon `zerocpd` and its control plane, Diroute.
