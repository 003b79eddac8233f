//! Where a service lives in Zenoh: `<prefix>/<service>/<instance>/<event>`,
//! one key expression per service, the same on every machine, so a
//! bridge's outbound service meets another bridge's inbound one by name.

use zerocp::ServiceDescription;

/// The key expression of `service` under `prefix`.
///
/// ```
/// use zerocp::ServiceDescription;
///
/// let scan = ServiceDescription::new("Robot", "Lidar", "Scan")?;
/// assert_eq!(zerocp_zenoh::key_expr("zerocp", &scan), "zerocp/Robot/Lidar/Scan");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn key_expr(prefix: &str, service: &ServiceDescription) -> String {
    format!(
        "{prefix}/{}/{}/{}",
        service.service(),
        service.instance(),
        service.event()
    )
}
