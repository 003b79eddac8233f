//! End to end: the daemon restarts under traffic, and the same ports go on
//! (issue 11, item 5).
//!
//! A publisher process publishes numbered ticks every few milliseconds to
//! three subscriber processes: one blocked in `wait(None)`, one busy-polling
//! `take`, one holding the last two samples it took. The test kills the
//! daemon (`kill -9`) or stops it (SIGTERM), waits until every process has
//! seen the retryable `Disconnected` error, starts a new daemon on the same
//! domain, and waits until every subscriber receives ticks again, on the
//! port values it created at the start. What must hold:
//!
//! - every call during an outage returns `Disconnected` (a publish of a loan
//!   made before the restart may say `LoanedBeforeReconnect`; any other
//!   error, a panic or a hang fails the role), and `wait(None)` wakes with
//!   it: once the ticks stop, nothing else can end the waiter's wait;
//! - each subscriber's ticks are valid, their sequence numbers (the
//!   publisher's own and the runtime's, [`Sample::sequence`](zerocp::Sample::sequence))
//!   strictly increase, and the publisher's run has no gap except across
//!   an outage;
//! - a tick taken while the subscriber's runtime stayed at epoch `e` was
//!   published at epoch `e` (the publisher stamps its epoch into it): no
//!   chunk of the old daemon's memory reaches the new daemon's queues;
//! - every subscriber receives ticks published after each restart;
//! - the samples held across a restart stay readable and unchanged;
//! - once the applications exit, `zerocpctl mempools` of the new daemon
//!   shows every chunk free again.
//!
//! The processes run in lockstep with the restarts (the parent starts a new
//! daemon only after every process reported the outage, and restarts again
//! only after ticks flow), so every runtime registers once with each daemon
//! and all epochs agree: epoch `r + 1` after the `r`-th restart.
//!
//! Twenty restarts in a row alternate `kill -9` and SIGTERM. Restarts
//! during a burst of port creation are `e2e_restart_port_burst.rs`.
//!
//! Nothing here is timed: every step waits for a line or a condition with a
//! generous deadline (the suite also runs under qemu-user).

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// One pool; subscriber queues of 16 and a few held and loaned chunks stay
/// far below its quotas (half of it per process and per port).
const POOLS: &[(u32, u32)] = &[(64, 256)];
/// The subscriber roles.
const SUBSCRIBERS: [&str; 3] = ["roles::waiter", "roles::poller", "roles::holder"];

/// How the daemon goes away.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// `kill -9`: its files stay behind for the next daemon to remove.
    Kill,
    /// SIGTERM: it says `Shutdown` to every process and removes its files.
    Term,
}

fn stop_daemon(domain: &mut TestDomain, how: Stop) {
    match how {
        Stop::Kill => domain.kill(),
        Stop::Term => domain.stop_with(rustix::process::Signal::TERM),
    }
}

/// Waits for `child`'s next line `marker <value>` and checks the value.
fn expect_value(child: &mut TestChild, marker: &str, value: impl std::fmt::Display) {
    let got = child.expect_line(marker, WAIT);
    assert_eq!(
        got,
        value.to_string(),
        "{}: {marker}{got} instead of {marker}{value}",
        child.role()
    );
}

/// The publisher and the three subscribers, with ticks flowing at epoch 1.
fn start_traffic(domain: &TestDomain) -> (TestChild, Vec<TestChild>) {
    let mut subscribers: Vec<TestChild> = SUBSCRIBERS
        .iter()
        .map(|role| {
            let mut child = spawn_child(role, &[], &domain.envs());
            child.expect_line("ready", WAIT);
            child
        })
        .collect();
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    expect_value(&mut publisher, "flowing ", 1);
    for child in &mut subscribers {
        expect_value(child, "flowing ", 1);
    }
    (publisher, subscribers)
}

/// The `restart`-th restart (1, 2, …): the daemon goes, every process
/// reports the outage, a new daemon comes, every process flows again.
fn restart(
    domain: &mut TestDomain,
    how: Stop,
    restart: u32,
    publisher: &mut TestChild,
    subscribers: &mut [TestChild],
) {
    stop_daemon(domain, how);
    for child in std::iter::once(&mut *publisher).chain(subscribers.iter_mut()) {
        expect_value(child, "outage ", restart);
    }
    domain.spawn("info");
    expect_value(publisher, "flowing ", restart + 1);
    for child in subscribers.iter_mut() {
        if child.role() == "roles::holder" {
            expect_value(child, "held across the restart ", 2);
        }
        expect_value(child, "flowing ", restart + 1);
    }
}

/// Subscribers first (the waiter wakes with the next tick), then the
/// publisher; each must exit cleanly, and the new daemon must have every
/// chunk back.
fn finish_traffic(domain: &TestDomain, mut publisher: TestChild, subscribers: Vec<TestChild>) {
    for mut child in subscribers {
        child.send_line("exit");
        let received = child.expect_line("received ", WAIT);
        eprintln!("{}: received {received}", child.role());
        child.expect_success(WAIT);
    }
    publisher.send_line("exit");
    let published = publisher.expect_line("published ", WAIT);
    eprintln!("publisher: published {published}");
    publisher.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
}

fn traffic_across(stops: &[Stop]) {
    let mut domain = TestDomain::builder()
        .mempools(POOLS)
        .log_level("info")
        .start();
    let (mut publisher, mut subscribers) = start_traffic(&domain);
    for (i, how) in stops.iter().enumerate() {
        let restart_no = u32::try_from(i + 1).expect("a few restarts");
        restart(
            &mut domain,
            *how,
            restart_no,
            &mut publisher,
            &mut subscribers,
        );
    }
    finish_traffic(&domain, publisher, subscribers);
    domain.stop();
}

#[test]
fn traffic_flows_again_after_the_daemon_was_killed() {
    traffic_across(&[Stop::Kill]);
}

#[test]
fn traffic_flows_again_after_the_daemon_was_stopped() {
    traffic_across(&[Stop::Term]);
}

#[test]
fn traffic_flows_again_after_twenty_restarts_in_a_row() {
    let stops: Vec<Stop> = (0..20)
        .map(|i| if i % 2 == 0 { Stop::Kill } else { Stop::Term })
        .collect();
    traffic_across(&stops);
}

mod roles {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use zerocp::{
        ConnectionState, FullPolicy, LoanError, PublishError, Publisher, Runtime, Sample,
        Subscriber, TakeError, WaitError, ZeroCopySafe,
    };
    use zerocp_os_linux::testing::role::role_args;

    use crate::e2e_support::{ROLE_DEADLINE, say, service, stop_flag};
    use crate::support::wait_until;

    /// How often the publisher publishes.
    const PACE: Duration = Duration::from_millis(2);
    /// Samples the holder keeps.
    const HELD: usize = 2;
    /// Ticks a subscriber takes at an epoch before it says the epoch flows
    /// (at least [`HELD`]: the holder then holds that many).
    const FLOWING: u64 = 8;

    /// One tick: the publisher's sequence number, the epoch of the
    /// publisher's runtime it was published at, and a check word of both.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Tick {
        seq: u64,
        epoch: u64,
        check: u64,
    }

    // SAFETY: repr(C) of three u64: no padding, no pointers, no drop glue,
    // every bit pattern is a valid value.
    unsafe impl ZeroCopySafe for Tick {
        const TYPE_NAME: &'static str = "e2e::Tick";
    }

    impl Tick {
        fn new(seq: u64, epoch: u64) -> Self {
            Self {
                seq,
                epoch,
                check: Self::mix(seq, epoch),
            }
        }

        fn is_valid(&self) -> bool {
            self.check == Self::mix(self.seq, self.epoch)
        }

        fn mix(seq: u64, epoch: u64) -> u64 {
            let x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch.rotate_left(29);
            x ^ (x >> 31) ^ 0x5EED
        }
    }

    /// The runtime of a role: reconnecting with a short ceiling, so a
    /// restarted daemon is found soon.
    fn runtime(name: &str) -> Runtime {
        Runtime::builder(name)
            .reconnect_ceiling(Duration::from_millis(100))
            .init()
            .expect("init")
    }

    fn epoch_of(state: ConnectionState) -> Option<u64> {
        match state {
            ConnectionState::Connected { epoch } => Some(u64::from(epoch)),
            _ => None,
        }
    }

    /// Blocks until the runtime is connected again (the role's calls would
    /// return `Disconnected` at once until then).
    fn wait_connected(rt: &Runtime) {
        assert!(
            wait_until(ROLE_DEADLINE, || epoch_of(rt.connection_state()).is_some()),
            "still {:?}",
            rt.connection_state()
        );
    }

    /// What a subscriber checks of the stream of ticks it takes (module
    /// docs), and what it tells the parent: `flowing <epoch>` once it took
    /// [`FLOWING`] ticks of an epoch, `outage <n>` at the first
    /// `Disconnected` of the `n`-th outage.
    struct Feed<'r> {
        rt: &'r Runtime,
        /// The last tick, its runtime sequence number, and the connection
        /// state read before it was taken.
        last: Option<(Tick, u64, ConnectionState)>,
        /// Whether a call returned `Disconnected` since the last tick.
        outage: bool,
        outages: u32,
        /// The epoch of the last ticks taken at a known epoch, and how many.
        epoch: (u64, u64),
        /// The last epoch said to flow.
        flowing: u64,
        received: u64,
    }

    impl<'r> Feed<'r> {
        fn new(rt: &'r Runtime) -> Self {
            Self {
                rt,
                last: None,
                outage: false,
                outages: 0,
                epoch: (0, 0),
                flowing: 0,
                received: 0,
            }
        }

        /// The connection state, to read before each take.
        fn before(&self) -> ConnectionState {
            self.rt.connection_state()
        }

        /// A call returned `Disconnected`.
        fn disconnected(&mut self) {
            if !self.outage {
                self.outage = true;
                self.outages += 1;
                say(format!("outage {}", self.outages));
            }
        }

        /// Checks `tick` (runtime sequence number `sequence`), taken with
        /// `before` the state read before the take.
        fn check(&mut self, tick: &Tick, sequence: u64, before: ConnectionState) {
            let after = self.rt.connection_state();
            assert!(tick.is_valid(), "a corrupt tick {tick:?}");
            // Taken while the runtime stayed at one epoch: so was it published.
            let epoch = epoch_of(after).filter(|_| before == after);
            if let Some(epoch) = epoch {
                assert_eq!(
                    tick.epoch, epoch,
                    "{tick:?} of another epoch taken during epoch {epoch}"
                );
            }
            self.check_order(tick, sequence, after);
            self.last = Some((*tick, sequence, before));
            self.outage = false;
            self.received += 1;
            if let Some(epoch) = epoch {
                self.count(epoch);
            }
        }

        /// Both sequence numbers increase; the publisher's has no gap
        /// unless an outage lies between the last tick and this one.
        fn check_order(&self, tick: &Tick, sequence: u64, after: ConnectionState) {
            let Some((last, last_sequence, last_before)) = self.last else {
                return;
            };
            assert!(tick.seq > last.seq, "{tick:?} after {last:?}");
            assert!(
                sequence > last_sequence,
                "runtime sequence {sequence} after {last_sequence}"
            );
            let across_outage = self.outage || last_before != after || epoch_of(after).is_none();
            assert!(
                across_outage || tick.seq == last.seq + 1,
                "{tick:?} after {last:?} without an outage between"
            );
        }

        /// Counts a tick taken at `epoch`; says the epoch flows at the
        /// [`FLOWING`]th.
        fn count(&mut self, epoch: u64) {
            let (current, count) = self.epoch;
            let count = if current == epoch { count + 1 } else { 1 };
            self.epoch = (epoch, count);
            if count == FLOWING && epoch > self.flowing {
                self.flowing = epoch;
                say(format!("flowing {epoch}"));
            }
        }

        fn say_received(&self) {
            say(format!(
                "received {} ticks in {} epochs",
                self.received, self.flowing
            ));
        }
    }

    /// A subscriber of the traffic with the role's setup: the runtime, a
    /// block-publisher queue (no tick is lost while both sides are
    /// attached), the stop flag (set by the parent's `exit`).
    fn subscriber_role(role: &str, name: &str, run: impl FnOnce(&Runtime, &AtomicBool)) {
        if role_args(role).is_none() {
            return;
        }
        let rt = runtime(name);
        let stop = stop_flag();
        run(&rt, &stop);
    }

    fn traffic_subscriber(rt: &Runtime) -> Subscriber<Tick> {
        rt.subscriber::<Tick>(&service("traffic"))
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber")
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waiter() {
        subscriber_role("roles::waiter", "e2e-rt-waiter", |rt, stop| {
            let subscriber = traffic_subscriber(rt);
            let mut feed = Feed::new(rt);
            say("ready");
            while !stop.load(Ordering::Acquire) {
                match subscriber.wait(None) {
                    Ok(_) => drain(&subscriber, &mut feed),
                    Err(WaitError::Disconnected) => {
                        feed.disconnected();
                        wait_connected(rt);
                    }
                    Err(e) => panic!("wait: {e}"),
                }
            }
            feed.say_received();
        });
    }

    /// Takes every queued tick.
    fn drain(subscriber: &Subscriber<Tick>, feed: &mut Feed<'_>) {
        loop {
            let before = feed.before();
            match subscriber.take() {
                Ok(Some(tick)) => feed.check(&tick, tick.sequence(), before),
                Ok(None) => return,
                Err(TakeError::Disconnected) => return feed.disconnected(),
                Err(e) => panic!("take: {e}"),
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn poller() {
        subscriber_role("roles::poller", "e2e-rt-poller", |rt, stop| {
            let subscriber = traffic_subscriber(rt);
            let mut feed = Feed::new(rt);
            say("ready");
            while !stop.load(Ordering::Acquire) {
                // Busy: no wait, not even during the outage.
                drain(&subscriber, &mut feed);
                std::thread::yield_now();
            }
            feed.say_received();
        });
    }

    /// The holder's samples with copies of what they held when taken.
    type Held<'s> = VecDeque<(Sample<'s, Tick>, Tick)>;

    fn check_held(held: &Held<'_>) {
        for (sample, copy) in held {
            assert_eq!(**sample, *copy, "a held sample changed");
        }
    }

    /// Checks `tick` and keeps it, dropping the oldest held beyond
    /// [`HELD`]; at the first tick of a new epoch, says how many samples of
    /// the old ones it held across the restart.
    fn keep<'s>(
        held: &mut Held<'s>,
        feed: &mut Feed<'_>,
        tick: Sample<'s, Tick>,
        before: ConnectionState,
    ) {
        let copy = *tick;
        if !held.is_empty() && held.iter().all(|(_, t)| t.epoch < copy.epoch) {
            say(format!("held across the restart {}", held.len()));
        }
        feed.check(&copy, tick.sequence(), before);
        held.push_back((tick, copy));
        if held.len() > HELD {
            held.pop_front();
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn holder() {
        subscriber_role("roles::holder", "e2e-rt-holder", |rt, stop| {
            let subscriber = traffic_subscriber(rt);
            let mut feed = Feed::new(rt);
            let mut held = Held::new();
            say("ready");
            while !stop.load(Ordering::Acquire) {
                check_held(&held);
                let before = feed.before();
                match subscriber.take() {
                    Ok(Some(tick)) => keep(&mut held, &mut feed, tick, before),
                    Ok(None) => hold_on(&subscriber),
                    Err(TakeError::Disconnected) => {
                        feed.disconnected();
                        check_held(&held);
                        wait_connected(rt);
                    }
                    Err(e) => panic!("take: {e}"),
                }
            }
            feed.say_received();
        });
    }

    /// Waits a little for the next tick; the take that follows reports
    /// what the wait returned.
    fn hold_on(subscriber: &Subscriber<Tick>) {
        match subscriber.wait(Some(Duration::from_millis(100))) {
            Ok(_) | Err(WaitError::Disconnected) => {}
            Err(e) => panic!("wait: {e}"),
        }
    }

    /// What became of one tick.
    enum Outcome {
        /// Published at this epoch.
        Published(u64),
        /// The loan failed with `Disconnected`: no sequence number used.
        NotLoaned,
        /// The publish failed with `Disconnected` (the number is used: a
        /// subscriber may have the tick already), or the loan was made
        /// before the runtime registered again (`LoanedBeforeReconnect`:
        /// released, published nowhere).
        Lost,
    }

    /// Loans, stamps and publishes tick `seq`.
    fn publish_tick(rt: &Runtime, publisher: &Publisher<Tick>, seq: u64) -> Outcome {
        let loan = match publisher.loan_uninit() {
            Ok(loan) => loan,
            Err(LoanError::Disconnected) => return Outcome::NotLoaned,
            Err(e) => panic!("loan: {e}"),
        };
        // Read after the loan: a loan made at epoch `e` is published at `e`
        // or not at all.
        let epoch = epoch_of(rt.connection_state()).unwrap_or_default();
        match loan.write(Tick::new(seq, epoch)).publish() {
            Ok(()) => Outcome::Published(epoch),
            Err(PublishError::Disconnected | PublishError::LoanedBeforeReconnect) => Outcome::Lost,
            Err(e) => panic!("publish: {e}"),
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = runtime("e2e-rt-publisher");
        let publisher = rt
            .publisher::<Tick>(&service("traffic"))
            .publish_timeout(Duration::MAX)
            .create()
            .expect("publisher");
        let stop = stop_flag();
        let (mut seq, mut flowing, mut outages, mut outage) = (0, 0, 0, false);
        while !stop.load(Ordering::Acquire) {
            let outcome = publish_tick(&rt, &publisher, seq);
            if !matches!(outcome, Outcome::NotLoaned) {
                seq += 1;
            }
            match outcome {
                Outcome::Published(epoch) => {
                    outage = false;
                    if epoch > flowing {
                        flowing = epoch;
                        say(format!("flowing {epoch}"));
                    }
                }
                _ if !outage => {
                    outage = true;
                    outages += 1;
                    say(format!("outage {outages}"));
                }
                _ => {}
            }
            std::thread::sleep(PACE);
        }
        say(format!("published {seq} ticks"));
    }
}
