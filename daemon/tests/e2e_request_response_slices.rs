//! End to end: request/response with slices on both sides, and the limits
//! of a client and a server.
//!
//! - a client of `[u8]` requests and a server of `[u8]` responses in two
//!   processes: each request comes back upper-cased as a stream of
//!   responses of changing lengths (an empty request as one empty
//!   response); a request longer than the client's maximum is refused
//!   with `SliceTooLong`, a client without a maximum with
//!   `MissingMaxSliceLen`, a client of sized requests on the slice service
//!   with a type mismatch; a server killed (`kill -9`) while it holds a
//!   request and a loaned slice response leaves its client `ServerGone`
//!   and every chunk back in its pool;
//! - a server whose client never drains its response queue gets
//!   `ClientBusy` after its send timeout; a client whose parked responses
//!   fill `max_held` gets `TooManyHeld` from its receive, and receives
//!   everything once it drops what it holds;
//! - access rules name the channels: a process that may only subscribe in
//!   a group can be neither a client (it publishes requests) nor a server
//!   (it publishes responses), and the refusal says so.

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
/// The longest request and response slice, in bytes.
const MAX_LEN: usize = 64;
/// The user the access test's child switches to (`nobody`).
const NOBODY: u32 = 65534;

fn domain() -> TestDomain {
    TestDomain::builder()
        .heartbeat_timeout_ms(HEARTBEAT_TIMEOUT.as_millis() as u64)
        .mempools(&[(64, 64)])
        .start()
}

fn quit(child: &mut TestChild) {
    child.send_line("quit");
    child.expect_success(WAIT);
}

#[test]
fn slices_travel_both_ways_between_processes() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut server = spawn_child("roles::slice_server", &["rr-slices"], &domain.envs());
    server.expect_line("ready", WAIT);
    let mut client = spawn_child("roles::slice_client", &["rr-slices"], &domain.envs());
    client.expect_line("ready", WAIT);

    client.send_line("ask hello-world");
    assert_eq!(client.expect_line("answered ", WAIT), "HELLO-WORLD 4,4,3");
    client.send_line("ask x");
    assert_eq!(client.expect_line("answered ", WAIT), "X 1");
    client.send_line("ask-empty");
    assert_eq!(client.expect_line("answered ", WAIT), "0");
    client.send_line("refusals");
    client.expect_line("refused all", WAIT);
    let services = domain.ctl_json(&["services"]).to_string();
    assert!(
        services.contains("E2E/rr-slices/Event:request"),
        "{services}"
    );

    client.send_line("hold");
    server.expect_line("holding", WAIT);
    assert!(
        domain.used_chunks() >= baseline + 2,
        "the held request and the loaned response are not counted"
    );
    server.kill();
    client.expect_line("server-gone", WAIT);
    quit(&mut client);
    assert!(
        domain.wait_until(HEARTBEAT_TIMEOUT + SLACK, || domain.used_chunks()
            == baseline),
        "chunks were not all returned: {:?}",
        domain.mempools()
    );
    domain.stop();
}

#[test]
fn a_busy_client_and_a_full_client_get_typed_errors() {
    let domain = domain();
    let baseline = domain.used_chunks();
    let mut limits = spawn_child("roles::limits", &["rr-limits"], &domain.envs());
    assert_eq!(limits.expect_line("client-busy ", WAIT), "sent 1");
    assert_eq!(limits.expect_line("too-many-held ", WAIT), "held 1");
    assert_eq!(limits.expect_line("received ", WAIT), "1:1001 2:2001");
    limits.expect_success(WAIT);
    assert!(
        domain.wait_until(SLACK, || domain.used_chunks() == baseline),
        "chunks were not all returned: {:?}",
        domain.mempools()
    );
    domain.stop();
}

#[test]
fn access_rules_name_the_channels() {
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: running a child as another uid needs root");
        return;
    }
    let config = format!(
        "[access]\nuids = [{NOBODY}]\nsocket_mode = 0o666\n\n\
         [[mempool]]\nsize = 64\ncount = 8\n\n\
         [[group]]\nname = \"calc\"\nservices = [\"E2E/rr-access/*\"]\n\
         publish = {{ uids = [0], gids = [] }}\n\
         subscribe = {{ uids = [{NOBODY}], gids = [] }}\n\
         [[group.mempool]]\nsize = 64\ncount = 4\n"
    );
    let domain = TestDomain::builder().config_toml(&config).start();
    let nobody = NOBODY.to_string();
    let mut app = spawn_child(
        "roles::subscribe_only",
        &["rr-access", &nobody],
        &domain.envs(),
    );
    for role in ["client", "server"] {
        let line = app.expect_line(&format!("{role} denied "), WAIT);
        for part in [
            "access denied",
            &format!("uid {NOBODY}"),
            "E2E/rr-access/Event:",
            "group \"calc\"",
        ] {
            assert!(line.contains(part), "{part:?} missing from {line:?}");
        }
    }
    app.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use std::io::BufRead;

    use super::*;
    use crate::e2e_support::{ROLE_DEADLINE, expect_command, say, service};
    use zerocp::error::{CreateExchangeError, CreatePortReason, LoanError, TakeError};
    use zerocp::{ActiveRequest, RespondError, ResponseError, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// The request that the slice server holds (with a loaned response)
    /// instead of answering.
    const HOLD: &[u8] = b"hold";

    /// Answers `request` with its bytes upper-cased, in responses of at
    /// most four bytes (one empty response for an empty request), the last
    /// one sent as the last of the stream.
    fn upper_case(request: ActiveRequest<'_, [u8], [u8]>) -> Result<(), RespondError> {
        let upper = request.to_ascii_uppercase();
        let mut pieces: Vec<&[u8]> = upper.chunks(4).collect();
        let last = pieces.pop().unwrap_or(&[]);
        for piece in pieces {
            let loan = request.loan_slice_uninit(piece.len()).expect("loan");
            loan.write_from_slice(piece).expect("length").send()?;
        }
        let loan = request.loan_slice_uninit(last.len()).expect("loan");
        loan.write_from_slice(last).expect("length").send_last()
    }

    /// A server of `[u8]` requests and `[u8]` responses that upper-cases
    /// every request until told to quit (`HOLD`: holds it with a loaned
    /// response until killed).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn slice_server() {
        let Some(args) = role_args("roles::slice_server") else {
            return;
        };
        let rt = Runtime::init("e2e-rr-slice-server").expect("init");
        let server = rt
            .server::<[u8], [u8]>(&service(&args[0]))
            .max_response_len(MAX_LEN as u32)
            .create()
            .expect("server");
        say("ready");
        let (quit_tx, quit_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            expect_command("quit");
            quit_tx.send(()).expect("the server waits");
        });
        while quit_rx.try_recv().is_err() {
            server.wait(Some(Duration::from_millis(50))).expect("wait");
            while let Some(request) = server.receive().expect("receive") {
                if *request == *HOLD {
                    let _loan = request.loan_slice_uninit(MAX_LEN).expect("loan");
                    say("holding");
                    loop {
                        std::thread::park();
                    }
                }
                upper_case(request).expect("answer");
            }
        }
    }

    /// A client of the slice server, on command: `ask TEXT` (prints the
    /// answer and the lengths of its responses), `ask-empty`, `refusals`,
    /// `hold`, `quit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn slice_client() {
        let Some(args) = role_args("roles::slice_client") else {
            return;
        };
        let svc = service(&args[0]);
        let rt = Runtime::init("e2e-rr-slice-client").expect("init");
        let client = rt
            .client::<[u8], [u8]>(&svc)
            .max_request_len(MAX_LEN as u32)
            .create()
            .expect("client");
        say("ready");
        let ask = |text: &[u8]| {
            let loan = client.loan_slice_uninit(text.len()).expect("loan");
            let pending = loan.write_from_slice(text).expect("length").send();
            let pending = pending.expect("send");
            let (mut answer, mut lengths) = (Vec::new(), Vec::new());
            while let Some(r) = pending.receive(Some(ROLE_DEADLINE)).expect("receive") {
                answer.extend_from_slice(&r);
                lengths.push(r.len().to_string());
            }
            (String::from_utf8(answer).expect("text"), lengths.join(","))
        };
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["ask", text] => {
                    let (answer, lengths) = ask(text.as_bytes());
                    say(format!("answered {answer} {lengths}"));
                }
                ["ask-empty"] => {
                    let (answer, lengths) = ask(b"");
                    assert!(answer.is_empty());
                    say(format!("answered {lengths}"));
                }
                ["refusals"] => {
                    refusals(&rt, &svc, &client);
                    say("refused all");
                }
                ["hold"] => {
                    let loan = client.loan_slice_uninit(HOLD.len()).expect("loan");
                    let pending = loan.write_from_slice(HOLD).expect("length").send();
                    let got = pending.expect("send").receive(Some(ROLE_DEADLINE));
                    assert!(
                        matches!(got, Err(ResponseError::ServerGone { .. })),
                        "{got:?}"
                    );
                    say("server-gone");
                }
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// A too long request, a client without a maximum, and a client of
    /// sized requests on the slice service are refused, each with its own
    /// typed error.
    fn refusals(
        rt: &Runtime,
        svc: &zerocp::ServiceDescription,
        client: &zerocp::Client<[u8], [u8]>,
    ) {
        let too_long = client.loan_slice_uninit(MAX_LEN + 1).map(drop);
        assert!(
            matches!(too_long, Err(LoanError::SliceTooLong { len: 65, max: 64 })),
            "{too_long:?}"
        );
        let no_max = rt.client::<[u8], [u8]>(svc).create().map(drop);
        let Err(CreateExchangeError::Port(no_max)) = no_max else {
            panic!("a slice client without a maximum was created: {no_max:?}");
        };
        assert!(
            matches!(no_max.reason, CreatePortReason::MissingMaxSliceLen),
            "{no_max}"
        );
        let sized = rt.client::<u8, [u8]>(svc).create().map(drop);
        let Err(CreateExchangeError::Port(sized)) = sized else {
            panic!("a sized client joined the slice service: {sized:?}");
        };
        assert!(sized.is_type_mismatch(), "{sized}");
    }

    /// `ClientBusy` and `TooManyHeld` in one process (a client and a server
    /// on one service; the daemon routes them as any two processes).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn limits() {
        let Some(args) = role_args("roles::limits") else {
            return;
        };
        let svc = service(&args[0]);
        let rt = Runtime::init("e2e-rr-limits").expect("init");
        let server = rt
            .server::<u64, u64>(&svc)
            .send_timeout(Duration::from_millis(20))
            .create()
            .expect("server");
        let busy_client = rt
            .client::<u64, u64>(&svc)
            .queue_capacity(1)
            .create()
            .expect("client");
        let full_client = rt
            .client::<u64, u64>(&svc)
            .max_held(1)
            .create()
            .expect("client");

        // A response queue of one that the client does not drain.
        let first = busy_client.loan_uninit().expect("loan").write(1).send();
        let first = first.expect("send");
        let request = server.receive().expect("receive").expect("a request");
        request
            .loan_uninit()
            .expect("loan")
            .write(1001)
            .send()
            .expect("fits");
        let busy = request.loan_uninit().expect("loan").write(1002).send();
        assert!(
            matches!(busy, Err(RespondError::ClientBusy { .. })),
            "{busy:?}"
        );
        say("client-busy sent 1");
        drop(request);
        let got = first.receive(Some(ROLE_DEADLINE)).expect("receive");
        assert_eq!(got.map(|r| *r), Some(1001));
        drop(first);

        // Two requests answered in reverse: receiving the first parks the
        // second's response, which fills `max_held`.
        let send = |n: u64| full_client.loan_uninit().expect("loan").write(n).send();
        let (a, b) = (send(1).expect("send"), send(2).expect("send"));
        let mut requests = Vec::new();
        while requests.len() < 2 {
            server.wait(Some(ROLE_DEADLINE)).expect("wait");
            requests.extend(std::iter::from_fn(|| server.receive().expect("receive")));
        }
        for request in requests.into_iter().rev() {
            let n = *request;
            request
                .loan_uninit()
                .expect("loan")
                .write(n * 1000 + 1)
                .send_last()
                .expect("sent");
        }
        let full = a.receive(Some(ROLE_DEADLINE));
        let Err(ResponseError::Take(TakeError::TooManyHeld { max })) = full else {
            panic!("a receive past max_held: {full:?}");
        };
        say(format!("too-many-held held {max}"));
        let second = *b.receive(Some(ROLE_DEADLINE)).expect("b").expect("parked");
        let first = *a.receive(Some(ROLE_DEADLINE)).expect("a").expect("queued");
        say(format!("received 1:{first} 2:{second}"));
    }

    /// Switches to `uid` and tries to be a client and a server of a service
    /// whose group lets it only subscribe.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscribe_only() {
        let Some(args) = role_args("roles::subscribe_only") else {
            return;
        };
        // Gid first, while still allowed to change it; the daemon reads the
        // connecting thread's credentials.
        let id: u32 = args[1].parse().expect("uid");
        let gid = rustix::process::Gid::from_raw(id);
        rustix::thread::set_thread_res_gid(gid, gid, gid).expect("setresgid");
        let uid = rustix::process::Uid::from_raw(id);
        rustix::thread::set_thread_res_uid(uid, uid, uid).expect("setresuid");
        let svc = service(&args[0]);
        let rt = Runtime::init("e2e-rr-access").expect("init");
        let client = rt.client::<u64, u64>(&svc).create().map(drop);
        let server = rt.server::<u64, u64>(&svc).create().map(drop);
        for (role, result) in [("client", client), ("server", server)] {
            let Err(CreateExchangeError::Port(e)) = result else {
                panic!("a subscribe-only {role} was created: {result:?}");
            };
            assert!(e.is_access_denied(), "{e}");
            say(format!("{role} denied {e}"));
        }
    }
}
