//! The messages of the control plane and their payloads, one module per
//! family, every item re-exported here (and from [`wire`](crate::wire)):
//!
//! | module | payloads |
//! |---|---|
//! | `registration` | [`Register`], [`Registered`] |
//! | `ports` | [`PortKind`], [`CreatePublisher`], [`CreateSubscriber`], [`CreateNotifier`], [`CreateListener`], [`PortCreated`], [`RemovePort`] |
//! | `introspection` | [`PageRequest`], [`Status`], [`ProcessInfo`] and [`ProcessesPage`], [`PortInfo`] and [`PortsPage`], [`MempoolInfo`] and [`Mempools`] |
//! | `groups` | [`GroupInfo`], [`AccessRule`], [`RuleScope`], [`GroupsPage`] and their limits |
//! | `audit_counts` | [`FindingKind`], [`AuditCounts`] |
//! | `operator` | [`RevokePort`], [`ResetGroup`], [`GroupReset`] |
//! | `revocation` | the notice [`PortRevoked`] and its [`RevokeReason`] |
//! | `history` | the notice [`HistoryWanted`] |
//! | `layout` | [`ServiceLayout`], the answer to the service layout query |
//! | `wake_fd` | [`WakeFdPort`] (of `SetWakeFd`, `QueryWakeFd`, `WakeFd`) |
//! | `error_reply` | [`ErrorReply`], [`ErrorCode`] |

mod audit_counts;
mod error_reply;
mod groups;
mod history;
mod introspection;
mod layout;
mod operator;
mod ports;
mod registration;
mod revocation;
mod wake_fd;

pub use audit_counts::{AuditCounts, FindingKind, MAX_FINDING_DETAIL_LEN};
pub use error_reply::{ErrorCode, ErrorReply};
pub use groups::{
    AccessRule, GROUPS_PER_PAGE, GroupInfo, GroupsPage, MAX_GROUP_NAME_LEN, MAX_GROUP_PATTERNS,
    MAX_PATTERN_LEN, MAX_RULE_IDS, RuleScope,
};
pub use history::HistoryWanted;
pub use introspection::{
    MempoolInfo, Mempools, PAGE_END, PORTS_PER_PAGE, PROCESSES_PER_PAGE, PageRequest, PortInfo,
    PortsPage, ProcessInfo, ProcessState, ProcessesPage, Status,
};
pub use layout::ServiceLayout;
pub use operator::{GroupReset, ResetGroup, RevokePort};
pub use ports::{
    CreateListener, CreateNotifier, CreatePublisher, CreateSubscriber, PayloadShape, PortCreated,
    PortKind, RemovePort,
};
pub use registration::{Register, Registered};
pub use revocation::{PortRevoked, RevokeReason};
pub use wake_fd::WakeFdPort;
