//! End to end: request/response (a `Client` and a `Server` per process).
//!
//! - a client with no server gets `NoServer` at once; with one, a request
//!   gets its stream of responses (one, several, none) and its end, also
//!   with several requests in flight received out of order;
//! - `zerocpctl services` lists the client's and the server's ports on the
//!   service's `:request` and `:response` channels; a plain publisher of the
//!   request channel is refused with a type mismatch;
//! - a server killed (`kill -9`) while it holds a request and a loaned
//!   response: the client waiting on that request gets `ServerGone` (not a
//!   hang) although another server lives, the next request goes to the
//!   survivor, and every chunk returns to its pool;
//! - a client killed with requests in flight and a loaned request: the
//!   server's answers fail with `ClientGone`, and every chunk returns;
//! - a client whose server's request queue stays full gets `ServerBusy`
//!   after its send timeout, and its earlier request is still answered;
//! - a client and a server go on after the daemon was killed and started
//!   again; a request pending across the restart ends with `ServerGone`;
//! - a forged request (a plain publisher declaring the channel's tagged
//!   type) names no routed client: answering it fails with `ClientGone`
//!   and reaches no real client.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// The daemon's heartbeat timeout in these tests.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(3_000);
/// Slack on top of the heartbeat timeout for slow (emulated) CI machines.
const SLACK: Duration = Duration::from_secs(10);
/// A request with this bit is held by the server, never answered.
const HOLD: u64 = 1 << 63;

fn domain() -> TestDomain {
    TestDomain::builder()
        .heartbeat_timeout_ms(HEARTBEAT_TIMEOUT.as_millis() as u64)
        .mempools(&[(64, 64)])
        .start()
}

fn server(domain: &TestDomain, instance: &str, mode: &str) -> TestChild {
    let mut server = spawn_child("roles::server", &[instance, mode], &domain.envs());
    server.expect_line("ready", WAIT);
    server
}

fn client(domain: &TestDomain, instance: &str) -> TestChild {
    let mut client = spawn_child("roles::client", &[instance], &domain.envs());
    client.expect_line("ready", WAIT);
    client
}

fn quit(child: &mut TestChild) {
    child.send_line("quit");
    child.expect_success(WAIT);
}

/// Waits until the daemon counts `baseline` used chunks again.
fn expect_pools_whole(domain: &TestDomain, baseline: u64) {
    assert!(
        domain.wait_until(HEARTBEAT_TIMEOUT + SLACK, || domain.used_chunks()
            == baseline),
        "chunks were not all returned: {:?}",
        domain.mempools()
    );
}

#[test]
fn requests_get_their_streams_of_responses() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut client = client(&domain, "rr");
    client.send_line("no-server");
    client.expect_line("no-server", WAIT);

    let mut server = server(&domain, "rr", "auto");
    client.send_line("ask 1");
    assert_eq!(client.expect_line("answered ", WAIT), "1:1");
    // Three requests in flight, received last first: the responses of the
    // others are parked for them; one stream is empty.
    client.send_line("ask 3 0 2");
    assert_eq!(client.expect_line("answered ", WAIT), "3:3 0:0 2:2");

    let services = domain.ctl_json(&["services"]).to_string();
    for needed in [
        "E2E/rr/Event:request",
        "E2E/rr/Event:response",
        "request:u64",
    ] {
        assert!(services.contains(needed), "{needed} missing in {services}");
    }
    client.send_line("plain");
    client.expect_line("refused", WAIT);

    quit(&mut client);
    quit(&mut server);
    expect_pools_whole(&domain, baseline);
    domain.stop();
}

#[test]
fn a_client_learns_that_its_server_died_while_another_lives() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut victim = server(&domain, "rr-gone", "auto");
    let mut survivor = server(&domain, "rr-gone", "auto");
    let mut client = client(&domain, "rr-gone");

    // The oldest server gets the request; it holds it and a loaned response.
    client.send_line("hold");
    victim.expect_line("holding", WAIT);
    assert!(
        domain.used_chunks() >= baseline + 2,
        "the held request and the loaned response are not counted"
    );
    victim.kill();
    client.expect_line("server-gone", WAIT);
    client.send_line("ask 2");
    assert_eq!(client.expect_line("answered ", WAIT), "2:2");

    quit(&mut client);
    quit(&mut survivor);
    expect_pools_whole(&domain, baseline);
    domain.stop();
}

#[test]
fn a_killed_client_leaves_no_chunk_behind() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut server = server(&domain, "rr-crash", "manual");
    let mut victim = client(&domain, "rr-crash");

    victim.send_line("in-flight 2");
    victim.expect_line("holding", WAIT);
    assert!(
        domain.used_chunks() >= baseline + 3,
        "queued requests and the loaned one are not counted"
    );
    victim.kill();
    // Once the daemon unrouted the dead client, the queued requests are
    // answered into nowhere: each send fails with ClientGone.
    let pid = victim.pid();
    assert!(
        domain.wait_until(HEARTBEAT_TIMEOUT + SLACK, || !domain
            .process_pids()
            .contains(&pid)),
        "the killed client is still registered"
    );
    server.send_line("serve");
    assert_eq!(server.expect_line("served ", WAIT), "0 client-gone 2");
    quit(&mut server);
    expect_pools_whole(&domain, baseline);
    domain.stop();
}

#[test]
fn a_full_server_queue_makes_a_send_fail_with_server_busy() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut server = server(&domain, "rr-busy", "tiny");
    let mut client = client(&domain, "rr-busy");
    client.send_line("busy");
    client.expect_line("server-busy", WAIT);
    server.send_line("serve");
    assert_eq!(server.expect_line("served ", WAIT), "1 client-gone 0");
    assert_eq!(client.expect_line("answered ", WAIT), "1:1");
    quit(&mut client);
    quit(&mut server);
    expect_pools_whole(&domain, baseline);
    domain.stop();
}

#[test]
fn a_client_and_a_server_go_on_after_the_daemon_restarts() {
    let mut domain = domain();
    let mut app = spawn_child("roles::restarter", &["rr-restart"], &domain.envs());
    assert_eq!(app.expect_line("before ", WAIT), "2");
    domain.kill();
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    domain.spawn("debug");
    app.send_line("restarted");
    app.expect_line("stale server-gone", WAIT);
    assert_eq!(app.expect_line("after ", WAIT), "4");
    quit(&mut app);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn a_forged_request_reaches_no_client() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut server = server(&domain, "rr-forged", "manual");
    let mut client = client(&domain, "rr-forged");
    let mut forger = spawn_child("roles::forger", &["rr-forged"], &domain.envs());
    forger.expect_line("sent", WAIT);
    server.send_line("serve");
    assert_eq!(server.expect_line("served ", WAIT), "0 client-gone 1");
    client.send_line("stray");
    assert_eq!(client.expect_line("stray ", WAIT), "0");
    quit(&mut forger);
    quit(&mut client);
    quit(&mut server);
    expect_pools_whole(&domain, baseline);
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::e2e_support::{ROLE_DEADLINE, expect_command, say, service};
    use crate::support::wait_until;
    use zerocp::{
        ActiveRequest, ConnectionState, RespondError, ResponseError, Runtime, SendRequestError,
        ZeroCopySafe,
    };
    use zerocp_os_linux::testing::role::role_args;

    /// Answers request `n` with the stream `n*1000 + i` for `i` in `0..n`
    /// and ends it: an odd `n` with its last response (`send_last`), an
    /// even one with the end marker (`finish`).
    fn answer(request: ActiveRequest<'_, u64, u64>) -> Result<(), RespondError> {
        let n = *request;
        for i in 0..n {
            let loan = request.loan_uninit().expect("loan a response");
            let response = loan.write(n * 1000 + i);
            if n % 2 == 1 && i == n - 1 {
                return response.send_last();
            }
            response.send()?;
        }
        request.finish()
    }

    /// A server. `auto`: answers every request until told to quit; one
    /// with the `HOLD` bit is held with a loaned response until killed.
    /// `manual`: on `serve`, answers what is queued and reports
    /// `served <answered> client-gone <failed>`; `tiny`: the same with a
    /// request queue of one.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn server() {
        let Some(args) = role_args("roles::server") else {
            return;
        };
        let rt = Runtime::init("e2e-rr-server").expect("init");
        let capacity = if args[1] == "tiny" { 1 } else { 16 };
        let server = rt
            .server::<u64, u64>(&service(&args[0]))
            .queue_capacity(capacity)
            .create()
            .expect("server");
        say("ready");
        if args[1] != "auto" {
            expect_command("serve");
            let (mut answered, mut gone) = (0, 0);
            while let Some(request) = server.receive().expect("receive") {
                match answer(request) {
                    Ok(()) => answered += 1,
                    Err(RespondError::ClientGone { .. }) => gone += 1,
                    Err(e) => panic!("answer: {e}"),
                }
            }
            say(format!("served {answered} client-gone {gone}"));
            expect_command("quit");
            return;
        }
        let quit = Arc::new(AtomicBool::new(false));
        let stdin_quit = Arc::clone(&quit);
        std::thread::spawn(move || {
            expect_command("quit");
            stdin_quit.store(true, Ordering::SeqCst);
        });
        while !quit.load(Ordering::SeqCst) {
            server.wait(Some(Duration::from_millis(50))).expect("wait");
            while let Some(request) = server.receive().expect("receive") {
                if *request & HOLD != 0 {
                    let _loan = request.loan_uninit().expect("loan a response");
                    say("holding");
                    loop {
                        std::thread::park();
                    }
                }
                answer(request).expect("answer");
            }
        }
    }

    /// A client, on command: `no-server`, `ask N...` (all in flight, then
    /// received last first), `hold`, `plain`, `in-flight N`, `busy`, `stray`,
    /// `quit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn client() {
        let Some(args) = role_args("roles::client") else {
            return;
        };
        let svc = service(&args[0]);
        let rt = Runtime::init("e2e-rr-client").expect("init");
        let client = rt.client::<u64, u64>(&svc).create().expect("client");
        say("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["no-server"] => {
                    let sent = client.loan_uninit().expect("loan").write(1).send();
                    assert!(matches!(sent, Err(SendRequestError::NoServer)), "{sent:?}");
                    say("no-server");
                }
                ["ask", requests @ ..] => {
                    let requests: Vec<u64> = requests.iter().map(|n| n.parse().unwrap()).collect();
                    let pending: Vec<_> = requests
                        .iter()
                        .map(|&n| {
                            client
                                .loan_uninit()
                                .expect("loan")
                                .write(n)
                                .send()
                                .expect("send")
                        })
                        .collect();
                    let mut counts = vec![0; requests.len()];
                    for (at, pending) in pending.iter().enumerate().rev() {
                        let n = requests[at];
                        while let Some(r) = pending.receive(Some(ROLE_DEADLINE)).expect("receive") {
                            assert_eq!(*r, n * 1000 + counts[at], "response out of order");
                            counts[at] += 1;
                        }
                        assert!(pending.is_done());
                    }
                    let report: Vec<String> = requests
                        .iter()
                        .zip(&counts)
                        .map(|(n, c)| format!("{n}:{c}"))
                        .collect();
                    say(format!("answered {}", report.join(" ")));
                }
                ["hold"] => {
                    let pending = client.loan_uninit().expect("loan").write(HOLD | 1).send();
                    let got = pending.expect("send").receive(Some(ROLE_DEADLINE));
                    assert!(
                        matches!(got, Err(ResponseError::ServerGone { .. })),
                        "{got:?}"
                    );
                    say("server-gone");
                }
                ["plain"] => {
                    let mut channel = svc.event().to_owned();
                    channel.push_str(":request");
                    let plain =
                        zerocp::ServiceDescription::new(svc.service(), svc.instance(), &channel)
                            .expect("channel name");
                    let refused = rt.publisher::<u64>(&plain).create().expect_err("refused");
                    assert!(refused.is_type_mismatch(), "{refused}");
                    say("refused");
                }
                ["in-flight", n] => {
                    let n: usize = n.parse().expect("count");
                    let pending: Vec<_> = (0..n)
                        .map(|i| {
                            client
                                .loan_uninit()
                                .expect("loan")
                                .write(i as u64)
                                .send()
                                .expect("send")
                        })
                        .collect();
                    let _loan = client.loan_uninit().expect("loan");
                    say("holding");
                    drop(pending);
                    loop {
                        std::thread::park();
                    }
                }
                ["busy"] => {
                    let first = client.loan_uninit().expect("loan").write(1).send();
                    let first = first.expect("the first request fits the queue");
                    let second = client.loan_uninit().expect("loan").write(1).send();
                    assert!(
                        matches!(second, Err(SendRequestError::ServerBusy { .. })),
                        "{second:?}"
                    );
                    say("server-busy");
                    let mut count = 0;
                    while let Some(r) = first.receive(Some(ROLE_DEADLINE)).expect("receive") {
                        assert_eq!(*r, 1000);
                        count += 1;
                    }
                    say(format!("answered 1:{count}"));
                }
                ["stray"] => say(format!("stray {}", client.stray())),
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// A server and a client in one process, across a daemon restart:
    /// one round before, a request left pending, then (after `restarted`)
    /// that request's end and one round on the new daemon.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn restarter() {
        let Some(args) = role_args("roles::restarter") else {
            return;
        };
        let svc = service(&args[0]);
        let rt = Runtime::builder("e2e-rr-restarter")
            .reconnect_ceiling(Duration::from_millis(50))
            .init()
            .expect("init");
        let server = rt.server::<u64, u64>(&svc).create().expect("server");
        let client = rt.client::<u64, u64>(&svc).create().expect("client");
        let round = |n: u64| -> u64 {
            let pending = client.loan_uninit().expect("loan").write(n).send();
            let request = server.receive().expect("receive").expect("a request");
            let response = request.loan_uninit().expect("loan a response");
            response.write(*request + 1).send_last().expect("send_last");
            drop(request);
            let response = pending.expect("send").receive(Some(ROLE_DEADLINE));
            *response.expect("receive").expect("a response")
        };
        let before = round(1);
        // The request left pending is sent before the parent hears "before":
        // the parent kills the daemon as soon as it does.
        let stale = client.loan_uninit().expect("loan").write(7).send();
        let stale = stale.expect("send");
        say(format!("before {before}"));
        let state = |wanted: fn(&ConnectionState) -> bool| {
            assert!(
                wait_until(ROLE_DEADLINE, || wanted(&rt.connection_state())),
                "the connection stayed {:?}",
                rt.connection_state()
            );
        };
        state(|s| *s == ConnectionState::Disconnected);
        say("state Disconnected");
        expect_command("restarted");
        state(|s| matches!(s, ConnectionState::Connected { .. }));
        let got = stale.receive(Some(ROLE_DEADLINE));
        assert!(
            matches!(got, Err(ResponseError::ServerGone { .. })),
            "{got:?}"
        );
        say("stale server-gone");
        // A server re-attaches on its next call, as an application's loop
        // makes at once: it must be routed again before the client asks.
        assert!(server.receive().expect("re-attach").is_none());
        say(format!("after {}", round(3)));
        drop(stale);
        expect_command("quit");
    }

    /// What a forger declares: the request channel's tagged type of `u64`.
    #[repr(C)]
    #[derive(Clone, Copy, ZeroCopySafe)]
    #[zerocp(type_name = "request:u64")]
    struct Forged {
        value: u64,
    }

    /// A plain publisher on the request channel, under the tagged type
    /// name: its one request carries no client's port.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn forger() {
        let Some(args) = role_args("roles::forger") else {
            return;
        };
        let svc = service(&args[0]);
        let channel = format!("{}:request", svc.event());
        let channel = zerocp::ServiceDescription::new(svc.service(), svc.instance(), &channel)
            .expect("channel name");
        let rt = Runtime::init("e2e-rr-forger").expect("init");
        let publisher = rt
            .publisher::<Forged>(&channel)
            .create()
            .expect("a publisher of the forged type");
        let forged = publisher
            .loan_uninit()
            .expect("loan")
            .write(Forged { value: 1 });
        forged.publish().expect("publish");
        say("sent");
        expect_command("quit");
    }
}
