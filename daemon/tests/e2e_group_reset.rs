//! End to end: resetting a segment group onto fresh memory.
//!
//! - `zerocpctl reset-group alpha` while a publisher and a subscriber stream
//!   in `alpha` and another pair in `beta`: both of `alpha`'s processes get
//!   a `Revoked` error saying the group was reset, create their ports again
//!   (on the group's new memory) and messages flow again; `beta`'s pair
//!   sees nothing of it (every message, in order, no error); `zerocpctl
//!   groups` counts the reset. A uid that is neither root nor the daemon's
//!   is refused with `AccessDenied` naming the rule.
//! - A hostile member of `alpha` (this test, registered with a port there)
//!   cuts the group's freelist short with the seeded scribbler
//!   ([`support::scribble::Scribbler::cut_freelist`]): a process of the
//!   group can then loan fewer chunks than the pool has. Once every process
//!   of the group has gone, the daemon finds the freelist not whole, logs the
//!   lost chunks and resets the group: a new process loans every chunk of
//!   the pool again, and `zerocpctl mempools` is back to its base.

mod e2e_support;
mod support;

use std::time::Duration;

use support::scribble::{Scribbler, seed_from_env};
use support::{MappedGroup, RawClient, TestDomain};
use zerocp_os_linux::testing::role::{spawn_child, spawn_child_as};

/// How long the parent waits for a child's line or exit, or a condition.
const WAIT: Duration = Duration::from_secs(60);
/// `alpha`'s index among the groups (`default` is 0).
const ALPHA: u32 = 1;
/// Chunks of `alpha`'s one pool.
const ALPHA_CHUNKS: u32 = 16;
/// The user a test child switches to (`nobody`).
const NOBODY: u32 = 65534;

fn config() -> String {
    format!(
        "[limits]\nmax_processes = 16\n\n[access]\nuids = [{NOBODY}]\nsocket_mode = 0o666\n\n\
         [quota]\nprocess_percent = 100\nport_percent = 100\n\n\
         [[mempool]]\nsize = 64\ncount = 8\n\n\
         [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
         max_publishers = 4\nmax_subscribers = 4\n\
         [[group.mempool]]\nsize = 64\ncount = {ALPHA_CHUNKS}\n\n\
         [[group]]\nname = \"beta\"\nservices = [\"Robot/Beta/*\"]\n\
         max_publishers = 4\nmax_subscribers = 4\n\
         [[group.mempool]]\nsize = 64\ncount = 32\n"
    )
}

/// Each group's name and reset count, from `zerocpctl groups --json`.
fn resets(domain: &TestDomain) -> Vec<(String, u64)> {
    let groups = domain.ctl_json(&["groups"]);
    groups["groups"]
        .as_array()
        .expect("a list of groups")
        .iter()
        .map(|g| {
            let name = g["name"].as_str().expect("a name").to_owned();
            (name, g["resets"].as_u64().expect("a reset count"))
        })
        .collect()
}

/// Each pool's group, chunk count and chunks in use.
fn used(domain: &TestDomain) -> Vec<(String, u64, u64)> {
    let pools = domain.mempools().into_iter();
    pools.map(|p| (p.group, p.chunk_count, p.used)).collect()
}

fn resets_of(domain: &TestDomain, group: &str) -> u64 {
    resets(domain)
        .into_iter()
        .find(|(name, _)| name == group)
        .map_or_else(|| panic!("no group {group}"), |(_, n)| n)
}

#[test]
fn a_group_reset_while_it_streams_revokes_its_ports_and_traffic_resumes() {
    let domain = TestDomain::builder().config_toml(&config()).start();
    let envs = domain.envs();
    let mut beta_sub = spawn_child("roles::beta_subscriber", &[], &envs);
    beta_sub.expect_line("ready", WAIT);
    let mut beta_pub = spawn_child("roles::beta_publisher", &[], &envs);
    beta_pub.expect_line("publishing", WAIT);
    let mut alpha_sub = spawn_child("roles::alpha_subscriber", &[], &envs);
    alpha_sub.expect_line("subscribed", WAIT);
    let mut alpha_pub = spawn_child("roles::alpha_publisher", &[], &envs);
    alpha_pub.expect_line("publishing", WAIT);
    alpha_sub.expect_line("flowing", WAIT);

    let said = domain.ctl_ok(&["reset-group", "alpha"]);
    assert_eq!(
        said,
        "group alpha (index 1) reset onto fresh memory (incarnation 1): 2 ports revoked\n"
    );
    let reason = "an operator reset its segment group onto fresh memory (zerocpctl reset-group)";
    for child in [&mut alpha_pub, &mut alpha_sub] {
        let error = child.expect_line("revoked: ", WAIT);
        assert!(error.contains(reason), "{}: {error}", child.role());
        child.expect_line("recreated", WAIT);
    }
    // Messages published on the new memory arrive.
    alpha_sub.expect_line("flowing", WAIT);
    assert_eq!(
        resets(&domain),
        [
            ("default".to_owned(), 0),
            ("alpha".to_owned(), 1),
            ("beta".to_owned(), 0)
        ]
    );
    assert!(
        domain
            .daemon_log()
            .contains("group \"alpha\" reset onto fresh memory (incarnation 1): uid 0 asked"),
        "{}",
        domain.daemon_log()
    );

    for child in [&mut alpha_pub, &mut alpha_sub] {
        child.close_stdin();
        child.expect_success(WAIT);
    }
    beta_pub.close_stdin();
    let published: u64 = beta_pub
        .expect_line("published ", WAIT)
        .parse()
        .expect("a count");
    beta_pub.expect_success(WAIT);
    beta_sub.send_line(&format!("expect {published}"));
    let received: u64 = beta_sub
        .expect_line("received ", WAIT)
        .parse()
        .expect("a count");
    beta_sub.expect_success(WAIT);
    assert_eq!(received, published, "beta missed messages");
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn only_root_or_the_daemon_uid_may_reset_a_group() {
    if !rustix::process::geteuid().is_root() {
        println!("skipped: switching a child to another uid needs root");
        return;
    }
    let domain = TestDomain::builder().config_toml(&config()).start();
    domain.open_to_other_users();
    let socket = domain.socket_path().display().to_string();
    let mut stranger = spawn_child_as("roles::stranger", &[&socket], &[], NOBODY, NOBODY);
    assert_eq!(
        stranger.expect_line("refused ", WAIT),
        format!(
            "AccessDenied: access denied: uid {NOBODY} may not reset group \"alpha\": only \
             root and the daemon's uid 0 may"
        )
    );
    stranger.expect_success(WAIT);
    assert_eq!(resets_of(&domain, "alpha"), 0);
    domain.stop();
}

#[test]
fn chunks_a_member_cut_from_the_freelist_come_back_when_the_group_empties() {
    let seed = seed_from_env();
    println!("scribble seed {seed} (replay with ZEROCP_SCRIBBLE_SEED={seed})");
    let domain = TestDomain::builder().config_toml(&config()).start();
    let envs = domain.envs();
    let base = used(&domain);

    // This test as a process of `alpha`, holding what its publisher gets.
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("reset-cutter");
    let (created, fds) = client.create_publisher_with_segments::<u64>("Robot/Alpha/Cut", 0);
    assert_eq!(created.group, ALPHA);
    let alpha = MappedGroup::from_reply(ALPHA, fds, domain.group_segment_names("alpha"), true);
    let lost = Scribbler::new(seed)
        .cut_freelist(&alpha, 0)
        .expect("the pool has free chunks");
    println!("cut {lost} of {ALPHA_CHUNKS} chunks from alpha's freelist");

    let mut loaner = spawn_child("roles::alpha_loans_all", &[], &envs);
    let loaned: u32 = loaner
        .expect_line("loaned ", WAIT)
        .parse()
        .expect("a count");
    loaner.expect_success(WAIT);
    assert_eq!(
        loaned,
        ALPHA_CHUNKS - lost,
        "the cut chunks are lost to the pool"
    );
    assert_eq!(resets_of(&domain, "alpha"), 0, "the group is not empty yet");

    // The last process of the group goes.
    drop(client);
    assert!(
        domain.wait_until(WAIT, || resets_of(&domain, "alpha") == 1),
        "alpha was not reset; log:\n{}",
        domain.daemon_log()
    );
    let log = domain.daemon_log();
    assert!(
        log.contains(&format!("{lost} chunks lost")),
        "the daemon did not count the lost chunks:\n{log}"
    );
    assert_eq!(used(&domain), base);
    let mut loaner = spawn_child("roles::alpha_loans_all", &[], &envs);
    let loaned: u32 = loaner
        .expect_line("loaned ", WAIT)
        .parse()
        .expect("a count");
    loaner.expect_success(WAIT);
    assert_eq!(loaned, ALPHA_CHUNKS, "every chunk is back");
    assert!(domain.wait_until(WAIT, || used(&domain) == base));
    assert_eq!(resets_of(&domain, "alpha"), 1, "a whole group is not reset");
    drop(alpha);
    domain.stop();
}

mod roles {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::e2e_support::{
        Msg, ROLE_DEADLINE, publish_recreating, publish_until_stopped, receive_in_order, say,
        stop_flag,
    };
    use zerocp::{
        FullPolicy, LoanError, Runtime, ServiceDescription, Subscriber, TakeError, WaitError,
    };
    use zerocp_daemon::ctl::{CtlClient, CtlError};
    use zerocp_os_linux::testing::role::role_args;

    /// A pause between two publishes: paces the load, synchronises nothing.
    const PACE: Duration = Duration::from_micros(200);
    /// How long a subscriber sleeps for data at most before it looks again.
    const POLL: Duration = Duration::from_millis(50);
    /// Messages an `alpha` subscriber takes before it says traffic flows.
    const FLOWING: u64 = 20;
    /// `beta`'s queue, far smaller than its pool.
    const BETA_QUEUE: u32 = 8;
    /// `alpha`'s queue, far smaller than its pool.
    const ALPHA_QUEUE: u32 = 4;

    fn service(group: &str) -> ServiceDescription {
        ServiceDescription::new("Robot", group, "Seq").expect("valid")
    }

    /// Publishes until stopped; when its port is revoked it says so once,
    /// creates it again and goes on.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_publisher() {
        if role_args("roles::alpha_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("reset-alpha-pub").expect("init");
        publish_recreating(&rt, &service("Alpha"), PACE, &stop_flag());
    }

    /// A subscriber of `alpha` whose queue ([`ALPHA_QUEUE`]) is far smaller
    /// than the pool: a subscriber slowed down (qemu) never leaves its
    /// publisher without chunks.
    fn alpha_subscriber_port(rt: &Runtime) -> Subscriber<Msg> {
        rt.subscriber::<Msg>(&service("Alpha"))
            .queue_capacity(ALPHA_QUEUE)
            .create()
            .expect("subscriber")
    }

    /// Takes until stopped and says "flowing" after every [`FLOWING`]
    /// valid messages since it (re)created its port; when its port is
    /// revoked it says so once and creates it again.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_subscriber() {
        if role_args("roles::alpha_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("reset-alpha-sub").expect("init");
        let mut subscriber = alpha_subscriber_port(&rt);
        let stop = stop_flag();
        say("subscribed");
        let (mut taken, mut revoked) = (0u64, false);
        while !stop.load(Ordering::Acquire) {
            let error = match subscriber.take() {
                Ok(Some(msg)) => {
                    assert!(msg.is_valid(), "a corrupt message {:?}", *msg);
                    taken += 1;
                    if taken == FLOWING {
                        say("flowing");
                    }
                    None
                }
                Ok(None) => match subscriber.wait(Some(POLL)) {
                    Ok(_) => None,
                    Err(e @ WaitError::Revoked { .. }) => Some(e.to_string()),
                    Err(e) => panic!("wait: {e}"),
                },
                Err(e @ TakeError::Revoked { .. }) => Some(e.to_string()),
                Err(e) => panic!("take: {e}"),
            };
            if let Some(error) = error {
                assert!(!revoked, "revoked twice: {error}");
                revoked = true;
                say(format!("revoked: {error}"));
                drop(subscriber);
                subscriber = alpha_subscriber_port(&rt);
                taken = 0;
                say("recreated");
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_subscriber() {
        if role_args("roles::beta_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("reset-beta-sub").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("Beta"))
            .queue_capacity(BETA_QUEUE)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        receive_in_order(&subscriber, POLL);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_publisher() {
        if role_args("roles::beta_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("reset-beta-pub").expect("init");
        // Lossless on purpose (beta checks every sequence number): wait for
        // room as long as it takes, not the default publish timeout.
        let publisher = rt
            .publisher::<Msg>(&service("Beta"))
            .publish_timeout(Duration::MAX)
            .create()
            .expect("publisher");
        let stop = stop_flag();
        publish_until_stopped(&publisher, PACE, &stop);
    }

    /// Loans chunks of `alpha`'s pool, holding them, until it runs out;
    /// says how many it got.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_loans_all() {
        if role_args("roles::alpha_loans_all").is_none() {
            return;
        }
        let rt = Runtime::init("reset-loans-all").expect("init");
        // More loans than the pool has chunks (16).
        let publisher = rt
            .publisher::<Msg>(&service("Alpha"))
            .max_loans(32)
            .create()
            .expect("publisher");
        let mut held = Vec::new();
        let give_up = Instant::now() + ROLE_DEADLINE;
        loop {
            match publisher.loan_uninit() {
                Ok(sample) => held.push(sample),
                Err(LoanError::OutOfChunks { .. }) => break,
                Err(e) => panic!("loan: {e}"),
            }
            assert!(Instant::now() < give_up, "loaning never ended");
        }
        say(format!("loaned {}", held.len()));
    }

    /// Not root nor the daemon's uid: asks to reset `alpha` and says how it
    /// was refused.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn stranger() {
        let Some(args) = role_args("roles::stranger") else {
            return;
        };
        let mut client = CtlClient::connect_path(std::path::Path::new(&args[0])).expect("connect");
        match client.reset_group("alpha") {
            Err(CtlError::Refused { code, detail }) => say(format!("refused {code}: {detail}")),
            other => panic!("reset-group as a stranger gave {other:?}"),
        }
    }
}
