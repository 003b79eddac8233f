//! zerocpd start and stop: the daemon holds its segments (memory files, never
//! in `/dev/shm`) and its socket exists while it runs; both are gone after
//! SIGTERM, SIGINT, SIGHUP and SIGQUIT; one daemon per domain; stale files of
//! a killed daemon are replaced; invalid configuration is a clear error.

mod support;

use std::process::Stdio;

use rustix::process::Signal;
use support::{DEADLINE, TestDomain, wait_until};

fn assert_running_files(domain: &TestDomain) {
    let held = domain.daemon_segment_fds();
    assert!(
        held.iter().all(Option::is_some),
        "the daemon does not hold all of {:?}: {held:?}",
        domain.segment_names()
    );
    assert_eq!(domain.dev_shm_entries(), Vec::<std::path::PathBuf>::new());
    assert!(domain.socket_path().exists(), "socket missing");
    assert!(domain.lock_path().exists(), "lock file missing");
}

#[test]
fn sigterm_removes_segments_socket_and_lock() {
    let domain = TestDomain::start();
    assert_running_files(&domain);
    assert!(wait_until(DEADLINE, || domain
        .daemon_log()
        .contains("serving domain")));
    domain.stop();
}

#[test]
fn sigint_stops_cleanly_too() {
    let mut domain = TestDomain::start();
    assert_running_files(&domain);
    domain.stop_with(Signal::INT);
    let log = domain.daemon_log();
    assert!(log.contains("received SIGINT"), "{log}");
}

/// SIGHUP (the terminal went away) and SIGQUIT (Ctrl-\\) stop the daemon as
/// cleanly as SIGTERM: exit 0, nothing left behind.
#[test]
fn sighup_and_sigquit_stop_cleanly_too() {
    for signal in [Signal::HUP, Signal::QUIT] {
        let mut domain = TestDomain::start();
        assert_running_files(&domain);
        domain.stop_with(signal);
        let log = domain.daemon_log();
        let name = if signal == Signal::HUP {
            "SIGHUP"
        } else {
            "SIGQUIT"
        };
        assert!(log.contains(&format!("received {name}")), "{log}");
    }
}

#[test]
fn second_daemon_on_a_domain_fails_and_the_first_keeps_serving() {
    let domain = TestDomain::start();
    let out = domain
        .daemon_command("info")
        .stdout(Stdio::null())
        .output()
        .expect("run a second zerocpd");
    assert!(!out.status.success(), "the second daemon must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "domain {} is already served by zerocpd pid {} (lock file {})",
        domain.domain(),
        domain.daemon_pid(),
        domain.lock_path().display()
    );
    assert!(stderr.contains(&expected), "stderr: {stderr}");
    // The first daemon still serves, and its files are untouched.
    assert_running_files(&domain);
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["daemon_pid"], domain.daemon_pid());
    domain.stop();
}

#[test]
fn stale_files_of_a_killed_daemon_are_replaced() {
    let mut domain = TestDomain::start();
    let first_pid = domain.daemon_pid();
    domain.kill();
    // kill -9 leaves the socket and lock files behind, but no memory: the
    // segments went with the daemon's descriptors.
    assert!(domain.socket_path().exists() && domain.lock_path().exists());
    assert_eq!(domain.dev_shm_entries(), Vec::<std::path::PathBuf>::new());
    domain.spawn("debug");
    assert_ne!(domain.daemon_pid(), first_pid);
    assert_running_files(&domain);
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["daemon_pid"], domain.daemon_pid());
    assert_eq!(status["processes"], 0);
    domain.stop();
}

fn run_with_config(text: &str) -> (bool, String, TestDomain) {
    let domain = TestDomain::builder().config_toml(text).prepare();
    let out = domain
        .daemon_command("info")
        .stdout(Stdio::null())
        .output()
        .expect("run zerocpd");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), stderr, domain)
}

#[test]
fn invalid_config_names_the_key_and_leaves_nothing() {
    let cases = [
        (
            "[[mempool]]\nsize = 64\ncount = 8\n[[mempool]]\nsize = 1024\ncount = 2\n\
             [[mempool]]\nsize = 0\ncount = 4\n",
            "mempool[2].size must be > 0",
        ),
        (
            "[heartbeat]\ninterval_ms = 100\ntimeout_ms = 100\n",
            "heartbeat.timeout_ms",
        ),
        ("[limits]\nmax_processes = 0\n", "limits.max_processes"),
        ("[limits]\nmax_prosesses = 4\n", "max_prosesses"),
        ("[access]\nsocket_mode = \"rw\"\n", "socket_mode"),
    ];
    for (text, key) in cases {
        let (ok, stderr, domain) = run_with_config(text);
        assert!(!ok, "config {text:?} was accepted");
        assert!(
            stderr.contains(key),
            "error for {text:?} does not name {key}: {stderr}"
        );
        assert!(stderr.contains("zerocpd: error:"), "{stderr}");
        domain.assert_nothing_left();
    }
}

#[test]
fn missing_config_file_is_named() {
    let domain = TestDomain::builder().prepare();
    let missing = domain.run_dir().join("nope.toml");
    let out = std::process::Command::new(support::ZEROCPD)
        .args(["--domain", domain.domain(), "--config"])
        .arg(&missing)
        .env("ZEROCP_RUN_DIR", domain.run_dir())
        .output()
        .expect("run zerocpd");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    domain.assert_nothing_left();
}

#[test]
fn domain_from_environment_when_no_flag() {
    let mut domain = TestDomain::builder().prepare();
    let mut command = std::process::Command::new(support::ZEROCPD);
    command
        .arg("--config")
        .arg(domain.config_path())
        .env("ZEROCP_RUN_DIR", domain.run_dir())
        .env("ZEROCP_DOMAIN", domain.domain());
    domain.spawn_command(command);
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["domain"], domain.domain());
    domain.stop();
}

/// A data segment (16 MiB) above the daemon's `RLIMIT_FSIZE` (8 MiB, above
/// the mgmt segment; the kernel checks the limit before it allocates, so
/// the 16 MiB are never used) fails at start, naming the segment and the limit,
/// instead of the daemon dying of SIGXFSZ or a client of SIGBUS later.
#[test]
fn shared_memory_above_the_file_size_limit_is_a_clear_error() {
    use std::os::unix::process::CommandExt;
    let domain = TestDomain::builder()
        .config_toml("[[mempool]]\nsize = 1048576\ncount = 16\n")
        .prepare();
    let mut command = domain.daemon_command("info");
    // SAFETY: between fork and exec the child only makes one raw system
    // call (setrlimit), which allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            let limit = rustix::process::Rlimit {
                current: Some(8 << 20),
                maximum: Some(8 << 20),
            };
            rustix::process::setrlimit(rustix::process::Resource::Fsize, limit)
                .map_err(std::io::Error::from)
        });
    }
    let out = command.stdout(Stdio::null()).output().expect("run zerocpd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let [_, _, data] = domain.segment_names();
    assert!(
        stderr.contains(data.as_str())
            && stderr.contains("EFBIG")
            && stderr.contains("RLIMIT_FSIZE"),
        "the error does not name {data}, EFBIG and RLIMIT_FSIZE: {stderr}"
    );
    domain.assert_nothing_left();
}

/// A bad command line is exit status 2 with a line naming what was wrong,
/// and starts nothing.
#[test]
fn bad_command_lines_are_named_and_exit_2() {
    let domain = TestDomain::builder().prepare();
    let cases: [(&str, &[&str], &str); 4] = [
        (support::ZEROCPD, &["--bogus"], "invalid option '--bogus'"),
        (
            support::ZEROCPD,
            &["--log-level", "loud"],
            "invalid log level \"loud\"",
        ),
        (support::ZEROCPCTL, &["stats"], "unknown command \"stats\""),
        (support::ZEROCPCTL, &[], "missing command"),
    ];
    for (program, args, expected) in cases {
        let out = std::process::Command::new(program)
            .args(args)
            .envs(domain.envs())
            .stdin(Stdio::null())
            .output()
            .expect("run the program");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stderr.contains("--help"), "{args:?}: {stderr}");
    }
    domain.assert_nothing_left();
}
