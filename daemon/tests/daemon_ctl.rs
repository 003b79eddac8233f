//! zerocpctl against a real daemon: every command, human and JSON, and the
//! error when no daemon runs.

mod support;

use support::{MempoolJson, RawClient, TestDomain};

#[test]
fn no_daemon_names_the_socket_path() {
    let domain = TestDomain::builder().prepare();
    for command in [
        "status",
        "processes",
        "services",
        "mempools",
        "groups",
        "metrics",
    ] {
        let out = domain.ctl(&[command]);
        assert!(
            !out.status.success(),
            "{command} succeeded without a daemon"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let socket = domain.socket_path().display().to_string();
        assert!(stderr.contains(&socket), "{command}: {stderr}");
        assert!(stderr.contains("not running"), "{command}: {stderr}");
    }
    domain.assert_nothing_left();
}

#[test]
fn mempools_json_is_exactly_the_configured_pools() {
    let pools = [(1024, 3), (64, 10), (4096, 2)];
    let domain = TestDomain::builder().mempools(&pools).start();
    let text = domain.ctl_ok(&["mempools", "--json"]);
    assert_eq!(
        text.trim_end(),
        r#"{"schema":1,"mempools":[{"chunk_size":64,"chunk_count":10,"used":0,"min_free":10,"group":"default","#
            .to_owned()
            + r#""process_quota":5,"port_quota":5},"#
            + r#"{"chunk_size":1024,"chunk_count":3,"used":0,"min_free":3,"group":"default","#
            + r#""process_quota":1,"port_quota":1},"#
            + r#"{"chunk_size":4096,"chunk_count":2,"used":0,"min_free":2,"group":"default","#
            + r#""process_quota":1,"port_quota":1}]}"#
    );
    let parsed = domain.mempools();
    let expected: Vec<MempoolJson> = [(64, 10), (1024, 3), (4096, 2)]
        .iter()
        .map(|&(size, count)| MempoolJson {
            chunk_size: size,
            chunk_count: count,
            used: 0,
            min_free: count,
            group: "default".into(),
            process_quota: (count / 2).max(1),
            port_quota: (count / 2).max(1),
        })
        .collect();
    assert_eq!(parsed, expected);
    assert_eq!(domain.used_chunks(), 0);
    let human = domain.ctl_ok(&["mempools"]);
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 4, "{human}");
    assert!(
        lines[0].starts_with("GROUP") && lines[0].contains("CHUNK SIZE"),
        "{human}"
    );
    let columns: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        columns,
        ["default", "1024", "3", "0", "3", "1", "1"],
        "{human}"
    );
    domain.stop();
}

#[test]
fn status_processes_services_human_and_json() {
    // The raw client does not beat: a long timeout keeps it registered.
    let domain = TestDomain::builder().heartbeat_timeout_ms(120_000).start();
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["domain"], domain.domain());
    assert_eq!(status["daemon_pid"], domain.daemon_pid());
    assert_eq!(status["processes"], 0);
    assert!(status["mgmt_size"].as_u64().unwrap() > 0);
    let human = domain.ctl_ok(&["status"]);
    assert!(
        human.contains(&format!("daemon pid    {}", domain.daemon_pid())),
        "{human}"
    );

    // A registered raw client with a publisher and a subscriber of one service.
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("ctl-test");
    let publisher = client.create_publisher::<[u32; 4]>("Robot/Base/Pose", 0);
    let subscriber = client.create_subscriber::<[u32; 4]>("Robot/Base/Pose", 8);

    let processes = domain.ctl_json(&["processes"]);
    let list = processes["processes"].as_array().expect("array");
    assert_eq!(list.len(), 1, "{processes}");
    assert_eq!(list[0]["pid"], std::process::id());
    assert_eq!(list[0]["name"], "ctl-test");
    assert!(list[0]["heartbeat_age_ms"].is_u64());
    assert!(list[0]["state"].is_string());
    let human = domain.ctl_ok(&["processes"]);
    let header = human.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("PID") && header.contains("HEARTBEAT AGE"),
        "{human}"
    );
    assert!(human.contains("ctl-test"), "{human}");

    let services = domain.ctl_json(&["services"]);
    let list = services["services"].as_array().expect("array");
    assert_eq!(list.len(), 1, "{services}");
    let service = &list[0];
    assert_eq!(service["service"], "Robot/Base/Pose");
    assert_eq!(service["type_name"], "[u32; 4]");
    assert_eq!(service["payload_size"], 16);
    assert_eq!(service["publishers"][0]["port"], publisher);
    assert_eq!(service["publishers"][0]["pid"], std::process::id());
    assert_eq!(service["subscribers"][0]["port"], subscriber);
    assert_eq!(service["subscribers"][0]["queue_len"], 0);
    assert_eq!(service["subscribers"][0]["queue_capacity"], 8);
    assert_eq!(service["subscribers"][0]["dropped"], 0);
    let human = domain.ctl_ok(&["services"]);
    assert!(human.contains("Robot/Base/Pose"), "{human}");
    assert!(
        human.contains("subscriber") && human.contains("0/8"),
        "{human}"
    );

    let status = domain.ctl_json(&["status"]);
    assert_eq!(
        (status["processes"].as_u64(), status["publishers"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (status["subscribers"].as_u64(), status["services"].as_u64()),
        (Some(1), Some(1))
    );

    drop(client);
    assert!(domain.wait_until(support::DEADLINE, || domain.process_pids().is_empty()));
    let services = domain.ctl_json(&["services"]);
    assert_eq!(services["services"].as_array().map(Vec::len), Some(0));
    domain.stop();
}

#[test]
fn json_flag_works_before_the_command_and_domain_flag_overrides_env() {
    let domain = TestDomain::start();
    let out = std::process::Command::new(support::ZEROCPCTL)
        .args(["--json", "--domain", domain.domain(), "mempools"])
        .env("ZEROCP_RUN_DIR", domain.run_dir())
        .env("ZEROCP_DOMAIN", "some-other-domain")
        .output()
        .expect("run zerocpctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(json["mempools"].is_array());
    domain.stop();
}
