//! End to end: slices with a user header from C (`c_scan_rows.c`) and C++
//! (`cpp_scan_rows.cpp`, `SlicePublisher`/`SliceSubscriber`) against a real
//! daemon. Rows of `u16` pixels, each with a `Frame` header, go from a C
//! publisher to a C subscriber (under the sanitizers), from a C publisher
//! to a Rust subscriber of `[u16]` with header `Frame` and to a C++ one,
//! from a Rust publisher of that type to the C subscriber, and from a C++
//! publisher to the Rust subscriber: the daemon takes the C, C++ and Rust
//! declarations as one type, and each side reads the other's lengths,
//! pixels and headers. Bad slice and header input is checked by
//! `c_errors.c` (`c_programs.rs`).

mod support;

use support::{Build, CProgram, Daemon, STEP, compile_as, compile_cpp, scratch_dir};
use zerocp_os_linux::testing::role::spawn_child;

/// Rows per test; more than `MAX_WIDTH` of `c_scan_rows.c` would wrap.
const ROWS: u32 = 12;

/// What `c_scan_rows subscribe` prints for row `i` as either publisher
/// writes it: `i + 1` pixels of value `100 i + k`.
fn row_line(i: u32) -> String {
    let width = i + 1;
    let sum: u32 = (0..width).map(|k| 100 * i + k).sum();
    format!("row id={i} width={width} len={width} sum={sum}")
}

/// Expects `ROWS` rows, in order, from `subscriber`.
fn expect_rows(subscriber: &mut CProgram) {
    for i in 0..ROWS {
        assert_eq!(subscriber.expect_line("row "), row_line(i));
    }
}

#[test]
fn c_rows_reach_a_c_subscriber_under_sanitizers() {
    let dir = scratch_dir();
    let program = compile_as("c_scan_rows", &dir, Build::Sanitized);
    let daemon = Daemon::start("roles::daemon");
    let rows = ROWS.to_string();
    let mut sub = CProgram::spawn(&program, &["subscribe", &rows], &daemon.envs());
    sub.expect_line("ready");
    let mut publ = CProgram::spawn(&program, &["publish", &rows], &daemon.envs());
    publ.expect_line("published");
    expect_rows(&mut sub);
    sub.expect_success();
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn c_rows_reach_a_rust_subscriber() {
    let dir = scratch_dir();
    let program = compile_as("c_scan_rows", &dir, Build::Plain);
    let daemon = Daemon::start("roles::daemon");
    let rows = ROWS.to_string();
    let mut rust = spawn_child("roles::rust_rows_subscriber", &[&rows], &daemon.envs());
    rust.expect_line("ready", STEP);
    let mut publ = CProgram::spawn(&program, &["publish", &rows], &daemon.envs());
    publ.expect_line("published");
    for i in 0..ROWS {
        // TestChild::expect_line returns what follows the marker.
        let line = rust.expect_line("row ", STEP);
        assert_eq!(format!("row {line}"), row_line(i));
    }
    rust.expect_success(STEP);
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn rust_rows_reach_a_c_subscriber() {
    let dir = scratch_dir();
    let program = compile_as("c_scan_rows", &dir, Build::Plain);
    let daemon = Daemon::start("roles::daemon");
    let rows = ROWS.to_string();
    let mut sub = CProgram::spawn(&program, &["subscribe", &rows], &daemon.envs());
    sub.expect_line("ready");
    let mut rust = spawn_child("roles::rust_rows_publisher", &[&rows], &daemon.envs());
    rust.expect_line("published", STEP);
    expect_rows(&mut sub);
    sub.expect_success();
    rust.close_stdin();
    rust.expect_success(STEP);
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn c_rows_reach_a_cpp_subscriber() {
    let dir = scratch_dir();
    let c_program = compile_as("c_scan_rows", &dir, Build::Plain);
    let cpp_program = compile_cpp("cpp_scan_rows", &dir);
    let daemon = Daemon::start("roles::daemon");
    let rows = ROWS.to_string();
    let mut sub = CProgram::spawn(&cpp_program, &["subscribe", &rows], &daemon.envs());
    sub.expect_line("ready");
    let mut publ = CProgram::spawn(&c_program, &["publish", &rows], &daemon.envs());
    publ.expect_line("published");
    expect_rows(&mut sub);
    sub.expect_success();
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn cpp_rows_reach_a_rust_subscriber() {
    let dir = scratch_dir();
    let program = compile_cpp("cpp_scan_rows", &dir);
    let daemon = Daemon::start("roles::daemon");
    let rows = ROWS.to_string();
    let mut rust = spawn_child("roles::rust_rows_subscriber", &[&rows], &daemon.envs());
    rust.expect_line("ready", STEP);
    let mut publ = CProgram::spawn(&program, &["publish", &rows], &daemon.envs());
    publ.expect_line("published");
    for i in 0..ROWS {
        let line = rust.expect_line("row ", STEP);
        assert_eq!(format!("row {line}"), row_line(i));
    }
    rust.expect_success(STEP);
    publ.close_stdin();
    publ.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

mod roles {
    use std::io::BufRead;
    use std::time::{Duration, Instant};

    use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};
    use zerocp_os_linux::testing::role::role_args;

    /// `frame_t` of `c_scan_rows.c`, as a Rust application declares it.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
    #[zerocp(type_name = "zerocp_examples::Frame")]
    struct Frame {
        id: u32,
        width: u32,
    }

    fn runtime(name: &str) -> (Runtime, ServiceDescription) {
        let rt = Runtime::builder(name)
            .reconnect(false)
            .init()
            .expect("init");
        let svc = ServiceDescription::new("Examples", "Camera", "Rows").expect("service");
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

    /// Takes N rows and prints each as `c_scan_rows subscribe` does.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_rows_subscriber() {
        let Some(args) = role_args("roles::rust_rows_subscriber") else {
            return;
        };
        let count: u32 = args[0].parse().expect("a count");
        let (rt, svc) = runtime("rust-rows-subscriber");
        let subscriber = rt
            .subscriber::<[u16]>(&svc)
            .user_header::<Frame>()
            .history(count)
            .queue_capacity(64)
            .create()
            .expect("a Rust subscriber of the C publisher's rows");
        println!("ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut taken = 0;
        while taken < count {
            assert!(Instant::now() < deadline, "only {taken} of {count} rows");
            let Some(row) = subscriber.take().expect("take") else {
                subscriber
                    .wait(Some(Duration::from_millis(100)))
                    .expect("wait");
                continue;
            };
            let frame = *row.user_header();
            let sum: u32 = row.iter().map(|&p| u32::from(p)).sum();
            println!(
                "row id={} width={} len={} sum={sum}",
                frame.id,
                frame.width,
                row.len()
            );
            taken += 1;
        }
    }

    /// Publishes N rows as `c_scan_rows publish` does, says "published",
    /// keeps its port (and history) until stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_rows_publisher() {
        let Some(args) = role_args("roles::rust_rows_publisher") else {
            return;
        };
        let count: u32 = args[0].parse().expect("a count");
        let (rt, svc) = runtime("rust-rows-publisher");
        let publisher = rt
            .publisher::<[u16]>(&svc)
            .user_header::<Frame>()
            .max_slice_len(64)
            .history(count)
            .create()
            .expect("a Rust publisher of the C subscriber's rows");
        for i in 0..count {
            let width = i + 1;
            let mut row = publisher
                .loan_slice_uninit(width as usize)
                .expect("loan")
                .write_with(|pixels| {
                    for (k, pixel) in (0..).zip(pixels.iter_mut()) {
                        *pixel = (100 * i + k) as u16;
                    }
                });
            *row.user_header_mut() = Frame { id: i, width };
            row.publish().expect("publish");
        }
        println!("published {count}");
        for line in std::io::stdin().lock().lines() {
            line.expect("stdin");
        }
    }
}
