//! End to end: a participant that writes bad values into the shared
//! segments, seen by the runtimes it shares them with.
//!
//! Every process with a port in a group maps the group's control part
//! read-write (and a publisher its payload part), so a hostile or broken one
//! can write anything there. The test plays that participant: it maps the daemon's segments
//! writable and scribbles over a real runtime's port, then checks that the
//! runtime refuses what it reads with a typed error (`TakeError::
//! CorruptChunk` naming the index and what is wrong) or skips it, keeps
//! working, and leaks no chunk:
//!
//! - a subscriber's queue holding an index outside the data segment, or
//!   naming a chunk whose header names another chunk, another mempool, has
//!   a wrong chunk size or a payload size not the port's;
//! - a publisher's topology naming subscriber ports that do not exist, and
//!   its history ring holding entries that are no chunks of its mempool.

mod e2e_support;
mod support;

use std::time::Duration;

use e2e_support::Msg;
use support::{MappedGroup, TestDomain};
use zerocp_core::chunk_header::ChunkInit;
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// Pool 0 takes `Msg` (24 bytes); pool 1 is another mempool.
const MEMPOOLS: &[(u32, u32)] = &[(64, 8), (1024, 4)];

/// The test's own writable mappings of the default group's control and
/// payload parts: what any admitted publisher of the group could write.
struct Hostile {
    group: MappedGroup,
}

impl Hostile {
    fn of(domain: &TestDomain) -> Self {
        let [_, control, payload] = domain.segment_names();
        Self {
            group: MappedGroup::of_daemon(domain.daemon_pid(), 0, [control, payload]),
        }
    }

    fn pools(&self) -> MemPoolManager<'_> {
        self.group.pools()
    }
}

/// The header a publisher of `Msg` writes into chunk `chunk` of pool 0,
/// with `change` applied.
fn header(pools: &MemPoolManager<'_>, chunk: u32, change: impl FnOnce(&mut ChunkInit)) {
    let mut init = ChunkInit {
        chunk_size: pools.layout().pools()[0].stride(),
        payload_size: size_of::<Msg>() as u32,
        payload_align: align_of::<Msg>() as u32,
        user_header_size: 0,
        origin_port: 0,
        origin_generation: 1,
        sequence: 0,
        mempool: 0,
        chunk_index: chunk,
    };
    change(&mut init);
    pools
        .chunk(chunk)
        .expect("a chunk of the segment")
        .init(&init)
        .expect("a header that fits its chunk");
}

#[test]
fn take_refuses_corrupt_chunks_with_typed_errors() {
    let domain = TestDomain::builder().mempools(MEMPOOLS).start();
    let envs = domain.envs();
    let mut sub = spawn_child("roles::taking_subscriber", &[], &envs);
    let port: u32 = sub.expect_line("ready ", WAIT).parse().expect("a port");
    let hostile = Hostile::of(&domain);
    let mgmt = hostile.group.control();
    let pools = hostile.pools();
    let queue = &mgmt.subscriber(port).expect("the subscriber's port").queue;
    let stride = pools.layout().pools()[0].stride();
    header(&pools, 1, |h| h.chunk_index = 2);
    header(&pools, 2, |h| h.mempool = 1);
    header(&pools, 3, |h| h.chunk_size = stride + 64);
    header(&pools, 4, |h| h.payload_size = 8);
    let cases: &[(u32, &str)] = &[
        (u32::MAX, "index outside the data segment"),
        (1, "the chunk header names another chunk"),
        (2, "the chunk header names another mempool"),
        (3, "inconsistent chunk header"),
        (4, "payload size differs from the port's type"),
    ];
    for &(chunk, reason) in cases {
        queue.push(chunk).expect("room in the queue");
        sub.send_line("take");
        assert_eq!(
            sub.expect_line("take: ", WAIT),
            format!("corrupt {chunk}: {reason}"),
            "chunk {chunk}"
        );
    }
    sub.send_line("take");
    assert_eq!(sub.expect_line("take: ", WAIT), "none");
    let held = &mgmt.subscriber(port).expect("the port").held;
    assert_eq!(
        held.drain(|c| panic!("chunk {c} still listed as held")),
        0,
        "every refused chunk was unlisted"
    );

    // The subscriber still receives what a real publisher sends.
    let mut publisher = spawn_child("roles::commanded_publisher", &["0"], &envs);
    publisher.expect_line("ready ", WAIT);
    publisher.send_line("publish 7");
    publisher.expect_line("published 7", WAIT);
    sub.send_line("take");
    assert_eq!(sub.expect_line("take: ", WAIT), "took 7");
    for child in [&mut sub, &mut publisher] {
        child.send_line("quit");
        assert!(child.wait(WAIT).success());
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn publishers_skip_hostile_topology_and_history_entries() {
    // No chunk quota: a history of 4 in a pool of 8 would be refused.
    let domain = TestDomain::builder()
        .mempools(MEMPOOLS)
        .quota(100, 100)
        .start();
    let envs = domain.envs();
    let mut publisher = spawn_child("roles::commanded_publisher", &["4"], &envs);
    let port: u32 = publisher
        .expect_line("ready ", WAIT)
        .parse()
        .expect("a port");
    let hostile = Hostile::of(&domain);
    let mgmt = hostile.group.control();
    let pools = hostile.pools();
    let own = mgmt.publisher(port).expect("the publisher's port");

    // Subscribers that do not exist (out of range, never created).
    own.topology
        .write(&[u32::MAX, 0, 9_999, 1, 5, 3])
        .expect("a topology that fits");
    publisher.send_line("publish 0");
    publisher.expect_line("published 0", WAIT);

    // History entries that are no chunks of the publisher's mempool: one
    // outside the segment (`u32::MAX` would read as an empty entry), one of
    // mempool 1 (free: a reference to it would hand a subscriber a chunk
    // nobody published).
    let other_pool = pools.layout().pools()[1].first_chunk();
    own.history.push(u32::MAX - 1);
    own.history.push(other_pool);
    let mut sub = spawn_child("roles::taking_subscriber", &["4"], &envs);
    sub.expect_line("ready ", WAIT);
    publisher.send_line("update");
    publisher.expect_line("updated", WAIT);
    sub.send_line("take");
    assert_eq!(sub.expect_line("take: ", WAIT), "took 0");
    sub.send_line("take");
    assert_eq!(sub.expect_line("take: ", WAIT), "none");
    assert_eq!(pools.refcounts().get(other_pool).map(|c| c.read()), Ok(0));

    // Later publishes evict the bad entries without releasing them.
    for seq in 1..=4 {
        publisher.send_line(&format!("publish {seq}"));
        publisher.expect_line(&format!("published {seq}"), WAIT);
        sub.send_line("take");
        assert_eq!(sub.expect_line("take: ", WAIT), format!("took {seq}"));
    }
    assert_eq!(pools.refcounts().get(other_pool).map(|c| c.read()), Ok(0));
    for child in [&mut sub, &mut publisher] {
        child.send_line("quit");
        assert!(child.wait(WAIT).success());
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::io::BufRead;

    use super::*;
    use crate::e2e_support::{arg, say, service};
    use zerocp::{Runtime, TakeError};
    use zerocp_os_linux::testing::role::role_args;

    /// The parent's commands, one a line, until `quit`.
    fn commands() -> impl Iterator<Item = String> {
        std::io::stdin()
            .lock()
            .lines()
            .map(|line| line.expect("a command from the parent"))
            .take_while(|line| line != "quit")
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn taking_subscriber() {
        let Some(args) = role_args("roles::taking_subscriber") else {
            return;
        };
        let history: u32 = args.first().map_or(0, |_| arg(&args, 0));
        let rt = Runtime::init("hostile-sub").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service("hostile"))
            .history(history)
            .create()
            .expect("subscriber");
        say(format!("ready {}", sub.port_index()));
        for command in commands() {
            assert_eq!(command, "take", "unknown command");
            let outcome = match sub.take() {
                Ok(Some(msg)) if msg.is_valid() => format!("took {}", msg.seq),
                Ok(Some(msg)) => format!("invalid {:?}", *msg),
                Ok(None) => "none".to_owned(),
                Err(TakeError::CorruptChunk { index, reason }) => {
                    format!("corrupt {index}: {reason}")
                }
                Err(e) => format!("error {e}"),
            };
            say(format!("take: {outcome}"));
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn commanded_publisher() {
        let Some(args) = role_args("roles::commanded_publisher") else {
            return;
        };
        let history: u32 = arg(&args, 0);
        let rt = Runtime::init("hostile-pub").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("hostile"))
            .history(history)
            .create()
            .expect("publisher");
        say(format!("ready {}", publisher.port_index()));
        for command in commands() {
            if command == "update" {
                publisher.update_connections().expect("update connections");
                say("updated");
                continue;
            }
            let seq: u64 = command
                .strip_prefix("publish ")
                .and_then(|seq| seq.parse().ok())
                .expect("publish <seq>");
            publisher
                .loan_uninit()
                .expect("loan")
                .write(Msg::new(1, seq))
                .publish()
                .expect("publish");
            say(format!("published {seq}"));
        }
    }
}
