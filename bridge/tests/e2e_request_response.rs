//! End to end on this machine: request/response across real bridges,
//! private domains with their own daemons, Zenoh peers over 127.0.0.1.
//!
//! - A server in domain A, offered by A's bridge (`[[outbound_server]]`),
//!   answers a client in domain B through B's bridge
//!   (`[[inbound_server]]`): requests and responses of 64 B to 1 MiB, each
//!   carrying its number and bytes that follow from it, three responses
//!   per request, in order, then the end of the stream (once sent with the
//!   last response, once as an end marker).
//! - Two bridges of one domain, one offering the service out and one
//!   bringing it in, with no server anywhere: a client's request goes from
//!   the inbound bridge into Zenoh, reaches the outbound bridge, which
//!   refuses it as its own domain's instead of sending it round again; the
//!   client's stream ends.
//! - Server routes across daemon restarts: after the answering domain's
//!   daemon restarted, and after the asking domain's, every request of a
//!   new client is answered (the first is asked again until the route is
//!   back).

mod support;

use support::{
    Domain, STEP, connect, counter, counters_now, free_port, listen, server_config, stop_bridge,
};
use zerocp_os_linux::testing::role::spawn_child;

/// Requests the client sends once the route works.
const REQUESTS: &str = "12";

#[test]
fn a_server_of_one_domain_answers_a_client_of_another() {
    let (a, b) = (Domain::start(), Domain::start());
    let port = free_port();
    let bridge_a = a.bridge("a", &server_config(&listen(port), "outbound_server"));
    let bridge_b = b.bridge("b", &server_config(&connect(port), "inbound_server"));
    let mut server = spawn_child("roles::server", &[], &a.envs());
    server.expect_line("ready", STEP);
    ask(&b);
    server.close_stdin();
    server.expect_success(STEP);
    for (bridge, who) in [(bridge_a, "a"), (bridge_b, "b")] {
        let counters = stop_bridge(bridge);
        assert!(counter(&counters, "requests") >= 12, "{who}: {counters}");
        assert!(counter(&counters, "responses") >= 36, "{who}: {counters}");
        assert_eq!(counter(&counters, "rejected"), 0, "{who}: {counters}");
    }
    a.stop();
    b.stop();
}

/// A client of B whose every request must be answered.
fn ask(b: &Domain) {
    let mut client = spawn_child("roles::client", &[REQUESTS], &b.envs());
    assert_eq!(client.expect_line("answered ", STEP), REQUESTS);
    client.expect_success(STEP);
}

#[test]
fn server_routes_survive_their_daemons_restarting() {
    let (mut a, mut b) = (Domain::start(), Domain::start());
    let port = free_port();
    let bridge_a = a.bridge("a", &server_config(&listen(port), "outbound_server"));
    let bridge_b = b.bridge("b", &server_config(&connect(port), "inbound_server"));
    let mut server = spawn_child("roles::server", &[], &a.envs());
    server.expect_line("ready", STEP);
    ask(&b);
    // The answering side: the server and the bridge's client re-attach.
    a.restart_daemon();
    ask(&b);
    // The asking side: the bridge's server re-attaches.
    b.restart_daemon();
    ask(&b);
    server.close_stdin();
    server.expect_success(STEP);
    for bridge in [bridge_a, bridge_b] {
        let counters = stop_bridge(bridge);
        assert!(counter(&counters, "responses") >= 108, "{counters}");
    }
    a.stop();
    b.stop();
}

#[test]
fn a_request_that_would_go_round_a_loop_is_refused() {
    let a = Domain::start();
    let port = free_port();
    let bridge_in = a.bridge("a-in", &server_config(&listen(port), "inbound_server"));
    let mut bridge_out = a.bridge("a-out", &server_config(&connect(port), "outbound_server"));
    let mut client = spawn_child("roles::asker", &[], &a.envs());
    let deadline = std::time::Instant::now() + STEP;
    while counter(&counters_now(&mut bridge_out), "skipped") == 0 {
        assert!(std::time::Instant::now() < deadline, "no request refused");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    client.close_stdin();
    client.expect_success(STEP);
    let counters_out = stop_bridge(bridge_out);
    let counters_in = stop_bridge(bridge_in);
    // The outbound bridge never sent a request into the domain (the only
    // server there is the inbound bridge's own).
    assert_eq!(counter(&counters_out, "requests"), 0, "{counters_out}");
    assert!(counter(&counters_in, "failed") >= 1, "{counters_in}");
    a.stop();
}

mod roles {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use zerocp::{PendingResponse, Runtime, SendRequestError, ServiceDescription};
    use zerocp_os_linux::testing::role::role_args;

    use super::support::{ASK_SERVICE, MAX_LEN, check, fill, payload_len, watch_stdin};

    /// Responses per request.
    const RESPONSES: u64 = 3;
    /// The longest a response may take (the bridges' timeout is 30 s).
    const RECEIVE: Option<Duration> = Some(Duration::from_secs(60));

    fn service() -> ServiceDescription {
        let mut parts = ASK_SERVICE.split('/');
        let mut next = || parts.next().expect("three parts");
        ServiceDescription::new(next(), next(), next()).expect("service")
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        super::support::daemon_role();
    }

    /// Answers request `n` (checked) with responses `3n`, `3n+1`, `3n+2`
    /// until stdin closes; the stream of an even request ends with its last
    /// response, of an odd one with an end marker. It waits out a daemon
    /// restart (its port re-attaches).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn server() {
        if role_args("roles::server").is_none() {
            return;
        }
        let rt = Runtime::init("bridge-test-server").expect("init");
        let server = rt
            .server::<[u8], [u8]>(&service())
            .max_response_len(MAX_LEN as u32)
            .create()
            .expect("server");
        let closed = watch_stdin().closed;
        println!("ready");
        while !closed.load(Ordering::Relaxed) {
            if let Err(e) = server.wait(Some(Duration::from_millis(50))) {
                eprintln!("wait: {e} (the daemon restarts)");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            while let Ok(Some(request)) = server.receive() {
                let n = check(&request);
                for k in 0..RESPONSES {
                    let seq = RESPONSES * n + k;
                    let loan = request.loan_slice_uninit(payload_len(seq)).expect("loan");
                    let response = loan.write_with(|bytes| fill(seq, bytes));
                    if k + 1 == RESPONSES && n.is_multiple_of(2) {
                        response.send_last().expect("send last");
                    } else {
                        response.send().expect("send");
                    }
                }
                request.finish().expect("finish");
            }
        }
    }

    /// The numbers of the responses to `pending`, each one checked, until
    /// the end of its stream.
    fn responses(pending: &PendingResponse<'_, [u8], [u8]>) -> Vec<u64> {
        let mut seen = Vec::new();
        while let Some(response) = pending.receive(RECEIVE).expect("receive") {
            seen.push(check(&response));
        }
        seen
    }

    /// Sends its argument's number of requests and checks their responses;
    /// the first is sent again until an answer comes (until the bridges
    /// have met, a request's stream ends empty; until the bridge's server
    /// re-attached after a restart, there is none). Prints `answered N`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn client() {
        let Some(args) = role_args("roles::client") else {
            return;
        };
        let count: u64 = args[0].parse().expect("a count");
        let rt = Runtime::init("bridge-test-client").expect("init");
        let client = rt
            .client::<[u8], [u8]>(&service())
            .max_request_len(MAX_LEN as u32)
            .create()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut n = 0;
        while n < count {
            let loan = client.loan_slice_uninit(payload_len(n)).expect("loan");
            let sent = loan.write_with(|bytes| fill(n, bytes)).send();
            let seen = match sent {
                Ok(pending) => responses(&pending),
                // The bridge's server is not back yet after a restart.
                Err(SendRequestError::NoServer) if n == 0 => Vec::new(),
                Err(e) => panic!("request {n}: {e}"),
            };
            if seen.is_empty() && n == 0 {
                assert!(Instant::now() < deadline, "the route never answered");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            let expected: Vec<u64> = (0..RESPONSES).map(|k| RESPONSES * n + k).collect();
            assert_eq!(seen, expected, "request {n}'s responses");
            n += 1;
        }
        println!("answered {count}");
    }

    /// Sends requests of 64 bytes one after the other until stdin closes;
    /// every stream must end (there is no server to answer).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn asker() {
        if role_args("roles::asker").is_none() {
            return;
        }
        let rt = Runtime::init("bridge-test-asker").expect("init");
        let client = rt
            .client::<[u8], [u8]>(&service())
            .max_request_len(MAX_LEN as u32)
            .create()
            .expect("client");
        let closed = watch_stdin().closed;
        while !closed.load(Ordering::Relaxed) {
            let loan = client.loan_slice_uninit(payload_len(0)).expect("loan");
            let pending = loan
                .write_with(|bytes| fill(0, bytes))
                .send()
                .expect("send");
            assert_eq!(responses(&pending), Vec::<u64>::new());
        }
    }
}
