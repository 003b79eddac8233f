//! End to end: the C++ programs of `ffi/examples` (over `zerocp.hpp`),
//! compiled with the system C++ compiler against `libzerocp_c.a`, against
//! a real daemon: a C publisher reaches a C++ subscriber, a C++ publisher
//! a Rust subscriber and a Rust publisher a C++ subscriber, all on the
//! examples' `Counter`; the C++ misuse program gets its typed errors; and
//! payload types the wrapper cannot carry (`tests/cpp/*.cpp`) do not
//! compile.

mod support;

use std::path::Path;
use std::process::Command;

use support::c_build::cxx_compiler;
use support::{CProgram, Daemon, compile, compile_cpp, scratch_dir};
use zerocp_os_linux::testing::role::spawn_child;

const COUNT: usize = 5;

/// A C publisher's counters reach a C++ subscriber (started first) in
/// order, with the C text and sequence numbers.
#[test]
fn a_c_publisher_reaches_a_cpp_subscriber() {
    let dir = scratch_dir();
    let publisher = compile("c_publisher", &dir);
    let subscriber = compile_cpp("cpp_subscriber", &dir);
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

/// A C notifier's event ids reach a C++ listener, each once.
#[test]
fn a_c_notifier_reaches_a_cpp_listener() {
    let dir = scratch_dir();
    let notifier = compile("c_events", &dir);
    let listener = compile_cpp("cpp_events", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut listen = CProgram::spawn(&listener, &[&COUNT.to_string()], &daemon.envs());
    listen.expect_line("ready");
    let mut notify = CProgram::spawn(&notifier, &["notify", &COUNT.to_string()], &daemon.envs());
    let mut ids: Vec<String> = (0..COUNT).map(|_| listen.expect_line("event ")).collect();
    ids.sort();
    let expected: Vec<String> = (0..COUNT).map(|i| format!("event {i}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(listen.expect_line("received"), format!("received {COUNT}"));
    listen.expect_success();
    notify.expect_line("notified");
    notify.close_stdin();
    notify.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

/// A C++ publisher's counters, published before anyone subscribed, reach
/// a Rust subscriber of the examples' `Counter` through the history.
#[test]
fn a_cpp_publisher_reaches_a_rust_subscriber() {
    let dir = scratch_dir();
    let publisher = compile_cpp("cpp_publisher", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut publ = CProgram::spawn(&publisher, &[&COUNT.to_string()], &daemon.envs());
    assert_eq!(publ.expect_line("published"), format!("published {COUNT}"));
    let mut rust = spawn_child(
        "roles::rust_subscriber",
        &[&COUNT.to_string()],
        &daemon.envs(),
    );
    for i in 0..COUNT {
        let line = rust.expect_line("count=", support::STEP);
        assert_eq!(line, format!("{i} text=hello from C++ #{i} seq={i}"));
    }
    rust.expect_success(support::STEP);
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

/// A Rust publisher's counters reach a C++ subscriber: the C++ struct's
/// name, size, alignment and offsets are the Rust type's.
#[test]
fn a_rust_publisher_reaches_a_cpp_subscriber() {
    let dir = scratch_dir();
    let subscriber = compile_cpp("cpp_subscriber", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut sub = CProgram::spawn(&subscriber, &[&COUNT.to_string()], &daemon.envs());
    sub.expect_line("ready");
    let mut rust = spawn_child(
        "roles::rust_publisher",
        &[&COUNT.to_string()],
        &daemon.envs(),
    );
    rust.expect_line("published", support::STEP);
    for i in 0..COUNT {
        let line = sub.expect_line("count=");
        assert_eq!(line, format!("count={i} text=hello from Rust #{i} seq={i}"));
    }
    sub.expect_success();
    rust.close_stdin();
    rust.expect_success(support::STEP);
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

/// Invalid names and options, payload types other than the service's,
/// limits, double publish and release, loans and samples outliving their
/// port, moved-from objects: each gets its `zerocp::Error` (code and
/// message; `cpp_errors.cpp` checks them) and the process exits normally.
#[test]
fn misuse_from_cpp_gets_typed_errors() {
    let dir = scratch_dir();
    let program = compile_cpp("cpp_errors", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut errors = CProgram::spawn(&program, &[], &daemon.envs());
    errors.expect_line("all error checks passed");
    errors.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

/// A payload that is not trivially copyable, not standard-layout, or has
/// no type name, and the header of a slice port declared without one, are
/// refused at compile time by the wrapper's `static_assert`s, each with
/// its message.
#[test]
fn payloads_the_wrapper_cannot_carry_do_not_compile() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        ("not_trivially_copyable", "must be trivially copyable"),
        ("not_standard_layout", "must be standard-layout"),
        ("unnamed_type", "specialise zerocp::TypeName<T>"),
        ("header_without_type", "this port has no user header"),
    ];
    for (name, message) in cases {
        let output = Command::new(cxx_compiler())
            .args(["-std=c++17", "-fsyntax-only", "-I"])
            .arg(ffi.join("include"))
            .arg(ffi.join("tests").join("cpp").join(format!("{name}.cpp")))
            .output()
            .expect("run c++");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}.cpp compiled");
        assert!(
            stderr.contains(message),
            "{name}.cpp: no {message:?} in the compiler's errors: {stderr}"
        );
    }
}

/// Every class that owns a C handle (or a loan, or a sample) moves
/// without throwing and cannot be copied (`tests/cpp/handles_are_move_only.cpp`),
/// and a loan is read-only through a const reference
/// (`tests/cpp/loans_are_const_correct.cpp`): each file compiles only if so.
#[test]
fn owning_classes_are_move_only_and_loans_const_correct() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["handles_are_move_only", "loans_are_const_correct"] {
        let output = Command::new(cxx_compiler())
            .args([
                "-std=c++17",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsyntax-only",
                "-I",
            ])
            .arg(ffi.join("include"))
            .arg(ffi.join("tests").join("cpp").join(format!("{name}.cpp")))
            .output()
            .expect("run c++");
        assert!(
            output.status.success(),
            "{name}.cpp: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

mod roles {
    use std::io::BufRead;
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

    fn runtime(name: &str) -> (Runtime, ServiceDescription) {
        let rt = Runtime::builder(name)
            .reconnect(false)
            .init()
            .expect("init");
        let svc = ServiceDescription::new("Examples", "Demo", "Counter").expect("service");
        (rt, svc)
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        let Some(args) = role_args("roles::daemon") else {
            return;
        };
        crate::support::run_daemon_role(&args);
    }

    /// Receives its first argument's number of counters (with history) and
    /// prints each as `count=N text=T seq=S`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_subscriber() {
        let Some(args) = role_args("roles::rust_subscriber") else {
            return;
        };
        let count: usize = args[0].parse().expect("a count");
        let (rt, svc) = runtime("rust-subscriber");
        let subscriber = rt
            .subscriber::<Counter>(&svc)
            .history(count as u32)
            .queue_capacity(64)
            .create()
            .expect("a Rust subscriber of the C++ publisher's type");
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
                "count={} text={} seq={}",
                sample.count,
                std::str::from_utf8(text).expect("UTF-8"),
                sample.sequence()
            );
            received += 1;
        }
    }

    /// Publishes its first argument's number of counters, says
    /// "published", and keeps its port until its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_publisher() {
        let Some(args) = role_args("roles::rust_publisher") else {
            return;
        };
        let count: u64 = args[0].parse().expect("a count");
        let (rt, svc) = runtime("rust-publisher");
        let publisher = rt
            .publisher::<Counter>(&svc)
            .create()
            .expect("a Rust publisher of the C++ subscriber's type");
        for i in 0..count {
            let text = format!("hello from Rust #{i}");
            let mut bytes = [0u8; 48];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            let counter = Counter {
                count: i,
                sent_ns: 0,
                pid: std::process::id(),
                text_len: text.len() as u32,
                text: bytes,
            };
            publisher
                .loan_uninit()
                .expect("loan")
                .write(counter)
                .publish()
                .expect("publish");
        }
        println!("published");
        for line in std::io::stdin().lock().lines() {
            line.expect("stdin");
        }
    }
}
