//! End to end: the C programs of `ffi/examples`, compiled with the system
//! C compiler against `libzerocp_c.a`, against a real daemon: a C
//! publisher and a C subscriber exchange `Counter`s, a C publisher reaches
//! a Rust subscriber of the examples' `Counter` type, and the bad-input
//! program gets its error codes. Each runs twice: built plainly, and with
//! the C side under AddressSanitizer and UndefinedBehaviorSanitizer
//! (`support::Build`), where any finding fails the program.

mod support;

use support::{Build, CProgram, Daemon, compile_as, scratch_dir};
use zerocp_os_linux::testing::role::spawn_child;

const COUNT: usize = 5;

#[test]
fn a_c_publisher_reaches_a_c_subscriber() {
    c_publisher_to_c_subscriber(Build::Plain);
}

#[test]
fn a_c_publisher_reaches_a_c_subscriber_under_sanitizers() {
    c_publisher_to_c_subscriber(Build::Sanitized);
}

/// A C subscriber and a C publisher (started after it) exchange `COUNT`
/// counters, in order, with the publisher's text and sequence numbers.
fn c_publisher_to_c_subscriber(build: Build) {
    let dir = scratch_dir();
    let publisher = compile_as("c_publisher", &dir, build);
    let subscriber = compile_as("c_subscriber", &dir, build);
    let daemon = Daemon::start("roles::daemon");
    let mut sub = CProgram::spawn(&subscriber, &[&COUNT.to_string()], &daemon.envs());
    sub.expect_line("ready");
    let mut publ = CProgram::spawn(&publisher, &[&COUNT.to_string()], &daemon.envs());
    publ.expect_line("published");
    for i in 0..COUNT {
        let line = sub.expect_line("count=");
        assert_eq!(line, format!("count={i} text=hello from C #{i} seq={i}"));
    }
    sub.expect_success();
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn a_c_publisher_reaches_a_rust_subscriber_of_the_same_type() {
    c_publisher_to_rust_subscriber(Build::Plain);
}

#[test]
fn a_c_publisher_reaches_a_rust_subscriber_under_sanitizers() {
    c_publisher_to_rust_subscriber(Build::Sanitized);
}

/// A C publisher's counters reach a Rust subscriber of the examples'
/// `Counter` (same name, size, alignment, field offsets): the daemon
/// accepts both ports as one type, and the Rust side reads the C fields.
fn c_publisher_to_rust_subscriber(build: Build) {
    let dir = scratch_dir();
    let publisher = compile_as("c_publisher", &dir, build);
    let daemon = Daemon::start("roles::daemon");
    let mut rust = spawn_child(
        "roles::rust_subscriber",
        &[&COUNT.to_string()],
        &daemon.envs(),
    );
    rust.expect_line("ready", support::STEP);
    let mut publ = CProgram::spawn(&publisher, &[&COUNT.to_string()], &daemon.envs());
    publ.expect_line("published");
    for i in 0..COUNT {
        let line = rust.expect_line("count=", support::STEP);
        // TestChild::expect_line returns what follows the marker.
        assert_eq!(line, format!("{i} text=hello from C #{i}"));
    }
    rust.expect_success(support::STEP);
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn bad_input_from_c_gets_error_codes_and_messages() {
    bad_input(Build::Plain);
}

#[test]
fn bad_input_from_c_gets_error_codes_under_sanitizers() {
    bad_input(Build::Sanitized);
}

/// NULL pointers, invalid names, sizes and options, another type, slices
/// and user headers misdeclared or overlong, double
/// release, handles used after destroy, wait sets without room for ids or
/// with unknown attachments: each call fails with its code and message
/// (`c_errors.c` checks them) and the process exits normally.
fn bad_input(build: Build) {
    let dir = scratch_dir();
    let program = compile_as("c_errors", &dir, build);
    let daemon = Daemon::start("roles::daemon");
    let mut errors = CProgram::spawn(&program, &[], &daemon.envs());
    errors.expect_line("all error checks passed");
    errors.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

mod roles {
    use std::time::{Duration, Instant};

    use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};
    use zerocp_os_linux::testing::role::role_args;

    /// The examples' message (runtime/examples/common/message.rs), as a
    /// Rust application declares it.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, ZeroCopySafe)]
    #[zerocp(type_name = "zerocp_examples::Counter")]
    struct Counter {
        count: u64,
        sent_ns: u64,
        pid: u32,
        text_len: u32,
        text: [u8; 48],
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        let Some(args) = role_args("roles::daemon") else {
            return;
        };
        crate::support::run_daemon_role(&args);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_subscriber() {
        let Some(args) = role_args("roles::rust_subscriber") else {
            return;
        };
        let count: usize = args[0].parse().expect("a count");
        let rt = Runtime::builder("rust-subscriber")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = ServiceDescription::new("Examples", "Demo", "Counter").expect("service");
        let subscriber = rt
            .subscriber::<Counter>(&svc)
            .history(count as u32)
            .queue_capacity(64)
            .create()
            .expect("a Rust subscriber of the C publisher's type");
        println!("ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut received = 0;
        while received < count {
            assert!(
                Instant::now() < deadline,
                "only {received} of {count} counters"
            );
            let Some(sample) = subscriber.take().expect("take") else {
                subscriber
                    .wait(Some(Duration::from_millis(100)))
                    .expect("wait");
                continue;
            };
            let text = &sample.text[..sample.text_len as usize];
            println!(
                "count={} text={}",
                sample.count,
                std::str::from_utf8(text).expect("UTF-8")
            );
            assert_eq!(sample.sequence(), received as u64);
            received += 1;
        }
    }
}
