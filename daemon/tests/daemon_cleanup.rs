//! Death detection and cleanup: a registered raw client (a child process
//! speaking the wire format and touching shared memory directly) that holds
//! chunks is SIGKILLed; the daemon removes it and returns every chunk it
//! held. One that stops beating is unrouted and kept (see
//! `e2e_unresponsive.rs` for its chunks).

mod support;

use std::time::Duration;

use support::{DEADLINE, MappedGroup, RawClient, TestDomain};
use zerocp_core::mempool_manager::{MemPoolManager, PayloadSpec};
use zerocp_os_linux::names::{CONTROL_PART, DEFAULT_GROUP, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::testing::role::{role_args, spawn_child};

const ROLE: &str = "role_raw_client_holding_chunks";
/// A chunk index no pool has.
const BOGUS_CHUNK: u32 = 999_999;

/// Loans one chunk of `pool` for publisher `port` as a runtime would (header
/// written, refcount 1).
fn loan(pools: &MemPoolManager<'_>, pool: u32, port: u32) -> u32 {
    let spec = PayloadSpec {
        size: 8,
        align: 8,
        user_header_size: 0,
        origin_port: port,
        origin_generation: 1,
    };
    pools.loan(pool, spec).expect("a free chunk")
}

/// The child: registers, creates a publisher and a subscriber, loans two
/// chunks (one kept in the loans list, one delivered into the subscriber's
/// queue), lists two hostile entries, reports, then waits to be killed.
#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn role_raw_client_holding_chunks() {
    let Some(args) = role_args(ROLE) else {
        return;
    };
    let socket = std::path::PathBuf::from(&args[0]);
    let mut client = RawClient::connect(&socket);
    client.register("doomed");
    let (created, fds) = client.create_publisher_with_segments::<u64>("Doom/Raw/Chunks", 0);
    let publisher = created.port_index;
    let subscriber = client.create_subscriber::<u64>("Doom/Raw/Chunks", 4);
    let domain = DomainName::from_env().expect("ZEROCP_DOMAIN");
    let names = [CONTROL_PART, PAYLOAD_PART]
        .map(|part| SegmentName::group_part(&domain, DEFAULT_GROUP, part));
    let group = MappedGroup::from_reply(created.group, fds, names, true);
    let mgmt = group.control();
    let pools = group.pools();
    let pool = pools.layout().pool_for(0, 8, 8).expect("a pool for u64") as u32;
    let port = mgmt.publisher(publisher).expect("publisher port");
    let kept = loan(&pools, pool, publisher);
    port.loans.record(0, kept).expect("record loan");
    let sent = loan(&pools, pool, publisher);
    port.loans.record(1, sent).expect("record loan");
    let queue = &mgmt.subscriber(subscriber).expect("subscriber port").queue;
    queue.push(sent).expect("queue has room");
    port.loans.clear(1);
    // Hostile entries the daemon must bounds-check and refuse: an index past
    // every pool, and the kept chunk listed twice (a second release would
    // free it twice).
    port.loans.record(2, BOGUS_CHUNK).expect("record");
    port.loans.record(3, kept).expect("record");
    println!("holding {kept} {sent}");
    let mut line = String::new();
    drop(std::io::stdin().read_line(&mut line));
}

#[test]
fn killed_client_is_removed_and_its_chunks_returned() {
    let domain = TestDomain::builder().heartbeat_timeout_ms(120_000).start();
    let socket = domain.socket_path().display().to_string();
    let mut child = spawn_child(ROLE, &[&socket], &domain.envs());
    child.expect_line("holding ", DEADLINE);
    let pid = child.pid();
    assert!(domain.process_pids().contains(&pid));
    assert_eq!(domain.used_chunks(), 2);
    let services = domain.ctl_json(&["services"]);
    assert_eq!(
        services["services"][0]["subscribers"][0]["queue_len"], 1,
        "{services}"
    );

    child.kill();
    let gone = domain.wait_until(DEADLINE, || !domain.process_pids().contains(&pid));
    assert!(gone, "zerocpctl still lists the killed process {pid}");
    assert!(
        domain.wait_until(DEADLINE, || domain.used_chunks() == 0),
        "chunks not returned"
    );
    let services = domain.ctl_json(&["services"]);
    assert_eq!(
        services["services"].as_array().map(Vec::len),
        Some(0),
        "{services}"
    );
    let pools = domain.mempools();
    assert!(pools.iter().all(|p| p.used == 0));
    let log = domain.daemon_log();
    assert!(
        log.contains(&format!("skipping loaned chunk {BOGUS_CHUNK}")),
        "{log}"
    );
    assert!(log.contains("2 bad indices skipped"), "{log}");
    domain.stop();
}

#[test]
fn silent_heartbeat_is_detected() {
    let domain = TestDomain::builder()
        .heartbeat_interval_ms(50)
        .heartbeat_timeout_ms(400)
        .start();
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("hung");
    client.create_subscriber::<u32>("Hung/Raw/Beat", 2);
    // The raw client never writes its heartbeat: the daemon unroutes it and
    // closes its connection, but keeps it (this process is alive) as
    // unresponsive until it exits.
    assert!(
        client.recv().is_none(),
        "the daemon should close a silent process"
    );
    let processes = domain.ctl_json(&["processes"]);
    let listed = &processes["processes"][0];
    assert_eq!(listed["pid"].as_u64(), Some(u64::from(std::process::id())));
    assert_eq!(listed["state"], "unresponsive", "{processes}");
    let services = domain.ctl_json(&["services"]);
    assert_eq!(services["services"].as_array().map(Vec::len), Some(0));
    assert!(
        domain.wait_for_log("unresponsive, no heartbeat for", DEADLINE),
        "{}",
        domain.daemon_log()
    );
    domain.stop();
}

#[test]
fn removed_port_returns_its_chunks_and_unregister_frees_the_slot() {
    let domain = TestDomain::builder().heartbeat_timeout_ms(120_000).start();
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("remover");
    let (created, _) = client.create_subscriber_with_segments::<u32>("Remove/Raw/Port", 2);
    let remove = zerocp_core::wire::Message::RemovePort(zerocp_core::wire::RemovePort {
        kind: zerocp_core::wire::PortKind::Subscriber,
        port_index: created.port_index,
        group: 0,
        generation: created.generation,
    });
    assert!(matches!(
        client.request(&remove),
        zerocp_core::wire::Message::PortRemoved
    ));
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["subscribers"], 0);
    assert!(matches!(
        client.request(&zerocp_core::wire::Message::Unregister),
        zerocp_core::wire::Message::Unregistered
    ));
    assert!(domain.wait_until(Duration::from_secs(10), || domain.process_pids().is_empty()));
    domain.stop();
}
