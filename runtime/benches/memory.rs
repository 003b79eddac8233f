//! `cargo bench -p zerocp --bench memory`: what ZeroCP holds in memory
//! and what grows with its configured maxima. Nothing is timed.
//!
//! A private `zerocpd` with the built-in defaults (an empty configuration
//! file: mempools 128 B×1024 … 4 MiB×4, 64 processes, 256 publishers, 1024
//! subscribers), read when it accepts connections (`started`), after
//! [`SETTLE`] (`idle`: past its first audit), with [`CLIENTS`] clients
//! registered and after they left. Client `i` publishes one `u64` on
//! `Bench/Memory/S<i>` and subscribes to `S<i+1>`. Markdown tables on stdout:
//!
//! - **zerocpd**: `VmRSS`, `RssAnon`, `RssFile`, `RssShmem` (`/proc/<pid>/status`, kB);
//! - **memory files**: the domain's segments, memory files without a path
//!   (`memfd:zerocp.<domain>.*`, nothing in `/dev/shm`) found through the
//!   daemon's descriptors: `size` is `st_size`, `allocated` `st_blocks × 512`
//!   (what the memory file holds: the daemon commits the payload part and
//!   the control part but for its port tables when it creates them, and a
//!   port slot's pages when it first hands that slot out), `in zerocpd` the
//!   `Rss` of its mappings (pages it touched);
//! - **per client**: status before `Runtime::init`, after it, with the ports
//!   and with all clients up, then its mappings of ZeroCP memory (`smaps`).
//!   `Rss` of a shared mapping is not memory the process costs (a page counts
//!   in every process mapping it, and a read fault maps up to 16 neighbouring
//!   pages already in memory); `RssAnon` is;
//! - **records** (`size_of`) and **segment sizes** for several `[limits]`
//!   (computed as the daemon does): what grows with the configured maxima;
//! - a second daemon with the **largest limits**, idle: its private memory
//!   and how much of its memory files it holds;
//! - **per port**: shared records of a publisher and a subscriber, and the
//!   private memory the daemon and a client spend per process and port.
//!
//! The daemon is the `zerocpd` binary beside the bench when built, else the
//! library in a child process (whose `RssFile` counts this bench's code):
//! build `zerocpd`, or set `ZEROCP_BENCH_ZEROCPD`. See `docs/performance.md`.

mod common {
    pub mod daemon;
    pub mod error;
    // Every benchmark compiles the shared modules it needs and uses a part
    // of them (this one: roles and children, no pinning or busy waits).
    #[allow(dead_code)]
    pub mod process;
}

use std::collections::{BTreeMap, BTreeSet};
use std::mem::size_of;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::daemon::{Daemon, PrivateDomain};
use common::error::{BenchError, Context};
use common::process::{DEADLINE, RoleArgs, RoleChild, child_start, spawn_role, tell_parent};
use zerocp::{Runtime, ServiceDescription};
use zerocp_core::port::{PublisherPort, SubscriberPort};
use zerocp_core::{chunk_header::ChunkHeader, freelist::FreeListHeader, group_control as gc};
use zerocp_core::{heartbeat::HeartbeatSlot, listener_port as lp, mempool::MempoolLayout, mgmt};
use zerocp_daemon::config::DaemonConfig;

/// Client processes: as many as the default `max_processes`.
const CLIENTS: usize = 64;
/// How long the daemon runs before a reading: past its first audit (1 s).
const SETTLE: Duration = Duration::from_millis(1500);
/// `[limits]` variants of the layout table (iceoryx classic's defaults too).
const VARIANTS: [&str; 5] = [
    "",
    "max_publishers = 16\nmax_subscribers = 64",
    "max_publishers = 512",
    "max_publishers = 1024\nmax_subscribers = 4096",
    "max_notifiers = 0\nmax_listeners = 0",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match RoleArgs::parse(&args) {
        Ok(Some(role)) if role.name == "daemon" => common::daemon::role_main(&role),
        Ok(Some(role)) if role.name == "memory-client" => client_main(&role),
        Ok(Some(role)) => Err(BenchError::Usage(format!("unknown role {:?}", role.name))),
        // `cargo bench` passes `--bench`.
        Ok(None) if args.iter().all(|a| a == "--bench") => orchestrate(),
        Ok(None) => Err(BenchError::Usage(format!("no options: {args:?}"))),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memory: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The fields of `/proc/<pid>/status` the tables show (kB).
const FIELDS: [&str; 4] = ["VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"];
/// Their values, in the order of [`FIELDS`].
type Status = [u64; 4];
/// `RssAnon` in a [`Status`]: the process's private memory.
const ANON: usize = 1;

fn status(pid: u32) -> Result<Status, BenchError> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).os(|| format!("reading {path}"))?;
    Ok(FIELDS.map(|key| kb_field(&text, key)))
}

/// The number of the line `key N kB` of a `/proc` file; 0 if absent.
fn kb_field(text: &str, key: &str) -> u64 {
    let line = text.lines().find_map(|l| l.strip_prefix(key));
    line.and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `Bench/Memory/S<i>`.
fn service(i: usize) -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", "Memory", &format!("S{i}")).zerocp("ServiceDescription")
}

/// A client: registers, creates its two ports, publishes once, prints
/// `ready <pid>` and its [`Status`] before `init`, after it and with the
/// ports, and leaves when the stop file appears (or dies with the parent).
fn client_main(args: &RoleArgs) -> Result<(), BenchError> {
    child_start(args, rustix::process::Signal::KILL)?;
    let index: usize = args.parse_value("index")?;
    let stop = PathBuf::from(args.get("stop")?);
    let me = std::process::id();
    let mut line = format!("ready {me}");
    let mut note = |s: Status| s.iter().for_each(|kb| line += &format!(" {kb}"));
    note(status(me)?);
    let rt = Runtime::init(&format!("bench-memory-{index}")).zerocp("Runtime::init")?;
    note(status(me)?);
    let publisher = rt.publisher::<u64>(&service(index)?).create();
    let publisher = publisher.zerocp("creating the publisher")?;
    let next = service((index + 1) % CLIENTS)?;
    let _subscriber = rt.subscriber::<u64>(&next).create().zerocp("subscriber")?;
    let loan = publisher.loan_uninit().zerocp("loan_uninit")?;
    loan.write(index as u64).publish().zerocp("publish")?;
    note(status(me)?);
    tell_parent(&line)?;
    while !stop.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// A client's pid and its [`Status`] before `init`, after it, with ports.
type Client = (u32, [Status; 3]);

/// Starts the clients one at a time (the daemon keeps at most 8
/// unregistered connections per uid) and reads their `ready` lines.
fn start_clients(stop: &Path) -> Result<(Vec<RoleChild>, Vec<Client>), BenchError> {
    let (mut children, mut clients) = (Vec::new(), Vec::new());
    let stop = stop.display().to_string();
    for index in 0..CLIENTS {
        let opts = [("index", index.to_string()), ("stop", stop.clone())];
        let mut child = spawn_role("memory-client", &opts)?;
        let line = child.expect_line("ready ")?;
        children.push(child);
        let v: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
        let (Some(pid), 13) = (v.first().and_then(|p| u32::try_from(*p).ok()), v.len()) else {
            let role = "memory-client".into();
            return Err(BenchError::Peer { role, detail: line });
        };
        let stage = |i: usize| -> Status { std::array::from_fn(|f| v[1 + 4 * i + f]) };
        clients.push((pid, [stage(0), stage(1), stage(2)]));
    }
    Ok((children, clients))
}

/// A file's name after `zerocp.<domain>.`; `heartbeat.*` for every heartbeat.
fn kind(name: &str) -> String {
    let name = name.trim_end_matches(" (deleted)");
    let heartbeat = name.starts_with("heartbeat.");
    if heartbeat { "heartbeat.*" } else { name }.to_owned()
}

/// A memory file: kind, `st_size`, allocated (`st_blocks × 512`), bytes.
type File = (String, u64, u64);

/// The memory files `pid` holds descriptors of whose name starts with
/// `prefix` (`/memfd:zerocp.<domain>.`), once each.
fn memory_files(pid: u32, prefix: &str) -> Result<Vec<File>, BenchError> {
    let dir = format!("/proc/{pid}/fd");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).os(|| format!("listing {dir}"))? {
        let path = entry.os(|| format!("listing {dir}"))?.path();
        // A descriptor closed since the listing is no file of the daemon's.
        let (Ok(link), Ok(meta)) = (std::fs::read_link(&path), std::fs::metadata(&path)) else {
            continue;
        };
        if let Some(name) = link.to_str().and_then(|l| l.strip_prefix(prefix)) {
            let file = (kind(name), meta.size(), meta.blocks() * 512);
            files.insert(meta.ino(), file);
        }
    }
    Ok(files.into_values().collect())
}

/// Mappings of the domain's memory in `/proc/<pid>/smaps`:
/// (kind, perms) → [mappings, Size kB, Rss kB].
type Maps = BTreeMap<(String, String), [u64; 3]>;

fn mappings(pid: u32, prefix: &str) -> Result<Maps, BenchError> {
    let path = format!("/proc/{pid}/smaps");
    let text = std::fs::read_to_string(&path).os(|| format!("reading {path}"))?;
    let (mut maps, mut current) = (Maps::new(), None);
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        let slot = match first {
            "Size:" => 1,
            "Rss:" => 2,
            _ if first.ends_with(':') => continue,
            // A mapping's first line: range, perms, offset, device, inode, name.
            _ => {
                current = line.find(prefix).map(|at| {
                    let perms = line.split(' ').nth(1).unwrap_or("?").to_owned();
                    (kind(&line[at + prefix.len()..]), perms)
                });
                0
            }
        };
        if let Some(key) = &current {
            let kb = if slot == 0 { 1 } else { kb_field(line, first) };
            maps.entry(key.clone()).or_insert([0; 3])[slot] += kb;
        }
    }
    Ok(maps)
}

/// The daemon: the child of this process holding the domain's mgmt file.
fn find_daemon(prefix: &str) -> Result<u32, BenchError> {
    let me = std::process::id().to_string();
    let proc = std::fs::read_dir("/proc").os(|| "listing /proc".into())?;
    for pid in proc
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
    {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let parent = text.lines().find_map(|l| l.strip_prefix("PPid:"));
        let mgmt = |f: Vec<File>| f.iter().any(|(kind, ..)| kind == "mgmt");
        if parent.map(str::trim) == Some(&me) && memory_files(pid, prefix).is_ok_and(mgmt) {
            return Ok(pid);
        }
    }
    let detail = "no child of this process holds the domain's mgmt file";
    Err(BenchError::Daemon(detail.into()))
}

/// One reading of the daemon: label, status, files, mappings.
type Reading = (&'static str, Status, Vec<File>, Maps);

fn read_daemon(label: &'static str, pid: u32, prefix: &str) -> Result<Reading, BenchError> {
    let files = memory_files(pid, prefix)?;
    Ok((label, status(pid)?, files, mappings(pid, prefix)?))
}

/// The largest limits the daemon accepts for ports, and 4096 processes.
const LARGEST: &str = "[limits]\nmax_processes = 4096\nmax_publishers = 65536\n\
    max_subscribers = 65536\nmax_notifiers = 65536\nmax_listeners = 65536\n";

/// A daemon with the [`LARGEST`] limits, idle: its status and its memory
/// files.
fn read_largest() -> Result<(Status, Vec<File>), BenchError> {
    let domain = PrivateDomain::create("memory-largest")?;
    let prefix = format!("/memfd:zerocp.{}.", domain.domain);
    let daemon = Daemon::start(&domain, LARGEST)?;
    let pid = find_daemon(&prefix)?;
    std::thread::sleep(SETTLE);
    let reading = (status(pid)?, memory_files(pid, &prefix)?);
    daemon.stop()?;
    Ok(reading)
}

fn print_largest((status, files): &(Status, Vec<File>)) {
    println!(
        "\n## zerocpd idle with the largest limits (65 536 ports of each kind, 4096 processes)\n"
    );
    println!("| RssAnon (kB) | file | size | allocated |\n|---:|---|---:|---:|");
    for (name, size, allocated) in files {
        println!("| {} | {name} | {size} | {allocated} |", status[ANON]);
    }
}

fn orchestrate() -> Result<(), BenchError> {
    // First, while this process has a single thread (each domain sets the
    // environment; the one of the clients' daemon comes last).
    let largest = read_largest()?;
    let domain = PrivateDomain::create("memory")?;
    let prefix = format!("/memfd:zerocp.{}.", domain.domain);
    // An empty file: every key takes its built-in default.
    let daemon = Daemon::start(&domain, "")?;
    let pid = find_daemon(&prefix)?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).os(|| "reading its exe".into())?;
    println!("# zerocpd pid {pid}: {}, built-in defaults", exe.display());
    let mut readings = vec![read_daemon("started", pid, &prefix)?];
    std::thread::sleep(SETTLE);
    readings.push(read_daemon("idle", pid, &prefix)?);
    let stop = domain.run_dir().join("memory.stop");
    let (children, clients) = start_clients(&stop)?;
    std::thread::sleep(SETTLE);
    readings.push(read_daemon("64 clients", pid, &prefix)?);
    let mut up = Vec::new();
    for (client, _) in &clients {
        up.push((status(*client)?, mappings(*client, &prefix)?));
    }
    std::fs::write(&stop, b"").os(|| format!("writing {}", stop.display()))?;
    for child in children {
        child.finish()?;
    }
    std::fs::remove_file(&stop).os(|| format!("removing {}", stop.display()))?;
    // The daemon closes a heartbeat file when it reclaims its process.
    let deadline = Instant::now() + DEADLINE;
    while memory_files(pid, &prefix)?.len() > readings[1].2.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(SETTLE);
    readings.push(read_daemon("clients gone", pid, &prefix)?);
    daemon.stop()?;
    print_daemon(&readings);
    print_clients(&clients, &up);
    print_records();
    print_layouts()?;
    print_largest(&largest);
    print_per_port(&readings, &clients);
    Ok(())
}

/// `| a | b | … |`.
fn row<T: std::fmt::Display>(cells: impl IntoIterator<Item = T>) -> String {
    cells
        .into_iter()
        .fold("|".into(), |s, c| format!("{s} {c} |"))
}

fn print_daemon(readings: &[Reading]) {
    println!("\n## zerocpd: /proc/<pid>/status (kB)\n");
    println!("| state | VmRSS | RssAnon | RssFile | RssShmem |\n|---|---:|---:|---:|---:|");
    for (label, status, ..) in readings {
        println!("| {label} {}", row(status));
    }
    println!("\n## memory files of the domain (size, allocated: bytes; in zerocpd: kB)\n");
    println!("| state | file | files | size each | allocated | in zerocpd |");
    println!("|---|---|---:|---:|---:|---:|");
    for (label, _, files, maps) in readings {
        let mut kinds: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
        for (name, size, allocated) in files {
            let e = kinds.entry(name).or_insert([0; 3]);
            *e = [e[0] + 1, *size, e[2] + allocated];
        }
        for (name, [n, size, allocated]) in &kinds {
            let mapped = maps.iter().filter(|(k, _)| k.0 == *name);
            let rss: u64 = mapped.map(|(_, v)| v[2]).sum();
            println!("| {label} | {name} | {n} | {size} | {allocated} | {rss} |");
        }
        let total: u64 = files.iter().map(|f| f.2).sum();
        println!("| {label} | total | {} | | {total} | |", files.len());
    }
}

/// The median of `v`, and `median (min–max)`.
fn spread(mut v: Vec<u64>) -> (u64, String) {
    v.sort_unstable();
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let (lo, mid, hi) = (at(0), at(v.len() / 2), at(v.len().saturating_sub(1)));
    let text = format!("{mid} ({lo}–{hi})");
    (mid, if lo == hi { mid.to_string() } else { text })
}

fn print_clients(clients: &[Client], up: &[(Status, Maps)]) {
    println!("\n## per client: /proc/<pid>/status (kB, median (min–max) of {CLIENTS})\n");
    println!("| stage | VmRSS | RssAnon | RssFile | RssShmem |\n|---|---|---|---|---|");
    let stages = ["before init", "after init", "with 2 ports"];
    let mut rows: Vec<(&str, Vec<Status>)> = Vec::new();
    for (i, stage) in stages.into_iter().enumerate() {
        rows.push((stage, clients.iter().map(|c| c.1[i]).collect()));
    }
    rows.push(("all 64 clients up", up.iter().map(|u| u.0).collect()));
    for (stage, v) in rows {
        let cells = (0..FIELDS.len()).map(|f| spread(v.iter().map(|s| s[f]).collect()).1);
        println!("| {stage} {}", row(cells));
    }
    println!("\n## per client: mappings of ZeroCP memory (smaps, kB)\n");
    println!("| file | perms | mappings | Size | Rss, median (min–max) |\n|---|---|---:|---:|---|");
    let keys: BTreeSet<&(String, String)> = up.iter().flat_map(|u| u.1.keys()).collect();
    for key in keys {
        let of = |u: &(Status, Maps), i: usize| u.1.get(key).map_or(0, |v| v[i]);
        let col = |i| spread(up.iter().map(|u| of(u, i)).collect());
        let ((n, _), (size, _), (_, rss)) = (col(0), col(1), col(2));
        println!("| {} | {} | {n} | {size} | {rss} |", key.0, key.1);
    }
}

/// The shared records a port, a chunk, a group or a process reserves.
fn print_records() {
    println!(
        "
## shared records (size_of, bytes)

| record | bytes | where, how many |
|---|---:|---|
| PublisherPort | {} | control part, × max_publishers |
| SubscriberPort | {} | control part, × max_subscribers |
| NotifierPort | {} | control part, × max_notifiers |
| ListenerPort | {} | control part, × max_listeners |
| GroupHeader | {} | control part, 1 |
| FreeListHeader | {} | control part, × mempools |
| link + refcount words | {} | control part, × chunks |
| ChunkHeader | {} | payload part, × chunks |
| MgmtHeader + 32 QuotaRecord | {} | mgmt, 1 per domain |
| HeartbeatSlot | {} | a page of its own, × registered processes |",
        size_of::<PublisherPort>(),
        size_of::<SubscriberPort>(),
        size_of::<lp::NotifierPort>(),
        size_of::<lp::ListenerPort>(),
        size_of::<gc::GroupHeader>(),
        size_of::<FreeListHeader>(),
        2 * size_of::<u32>(),
        size_of::<ChunkHeader>(),
        size_of::<mgmt::MgmtHeader>() + 32 * size_of::<mgmt::quota::QuotaRecord>(),
        size_of::<HeartbeatSlot>(),
    );
}

fn print_layouts() -> Result<(), BenchError> {
    println!("\n## segment sizes vs configured [limits] (bytes; default mempools)\n");
    println!(
        "| publishers / subscribers | notifiers / listeners | control | \
         control committed at start | payload | mgmt |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let page = zerocp_os_linux::mmap::page_size() as u64;
    for limits in VARIANTS {
        let config = DaemonConfig::from_toml_str(&format!("[limits]\n{limits}\n"));
        let config = config.zerocp("parsing the configuration")?;
        let mgmt = mgmt::MgmtLayout::compute(&config.mgmt_config().zerocp("mgmt config")?);
        let group = config.group_configs().zerocp("group config")?[0];
        let control = gc::GroupControlLayout::compute(&group).zerocp("control layout")?;
        let payload = MempoolLayout::compute(group.mempools()).zerocp("payload layout")?;
        let (p, s) = (group.max_publishers(), group.max_subscribers());
        let (n, l) = (group.max_notifiers(), group.max_listeners());
        let (c, d) = (control.total_size(), payload.total_bytes());
        let start = committed_at_start(&control, page);
        let m = mgmt.zerocp("mgmt layout")?.total_size();
        println!("| {p} / {s} | {n} / {l} | {c} | {start} | {d} | {m} |");
    }
    Ok(())
}

/// The bytes the daemon commits in a fresh control part: the pages of
/// everything but the port tables.
fn committed_at_start(control: &gc::GroupControlLayout, page: u64) -> u64 {
    let (ports, end) = control.ports_range();
    let head = ports.div_ceil(page);
    let total = control.total_size().div_ceil(page);
    (head + total - (end / page).max(head)) * page
}

fn print_per_port(readings: &[Reading], clients: &[Client]) {
    let pair = size_of::<PublisherPort>() + size_of::<SubscriberPort>();
    let page = zerocp_os_linux::mmap::page_size();
    let daemon = readings[2].1[ANON].saturating_sub(readings[1].1[ANON]) * 1024;
    let daemon = daemon / CLIENTS as u64;
    let grew = |c: &Client, from: usize| c.1[from + 1][ANON].saturating_sub(c.1[from][ANON]);
    let client = |from| spread(clients.iter().map(|c| grew(c, from) * 1024).collect()).0;
    let (init, ports) = (client(0), client(1));
    println!(
        "
## per port and per process (bytes; iceoryx2, measured apart: ~4.4 KB per service)

| cost | bytes |
|---|---:|
| shared records of 1 publisher + 1 subscriber (committed per slot used) | {pair} |
| heartbeat file, per registered process | {page} |
| zerocpd RssAnon growth per client process (1 publisher + 1 subscriber) | {daemon} |
| client RssAnon growth by Runtime::init (median) | {init} |
| client RssAnon growth by its 2 ports and 1 sample (median) | {ports} |"
    );
}
