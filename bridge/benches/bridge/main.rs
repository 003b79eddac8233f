//! `cargo bench -p zerocp-zenoh --bench bridge`: what the bridge adds to
//! Zenoh, in one sitting on loopback.
//!
//! Two cases per payload (64 B, 4 KiB, 64 KiB, 1 MiB), alternated:
//!
//! | case | the ping's way | the pong's way |
//! |---|---|---|
//! | `zenoh` | a Zenoh put from this process to a peer process | the peer's put back |
//! | `zerocp-zenoh` | a ZeroCP publisher of domain A → bridge A → Zenoh → bridge B → a subscriber of domain B | the same way back |
//!
//! Both cases run two Zenoh peer sessions connected over 127.0.0.1 (the
//! bridges' in the second), express puts, congestion control `block`; the
//! echo side answers each ping with a sample of the same length carrying
//! the ping's number in its first 8 bytes. Every receiver sleeps until its
//! sample comes, as most applications do: the Zenoh echo answers in its
//! subscriber's callback, this process waits on a channel from its
//! callback; the ZeroCP echo and this process block in `Subscriber::wait`,
//! and so do the bridges' outbound threads. One line per case and payload
//! in the peer's format, `case payload median_ns p99_ns max_ns
//! msgs_per_s`: the times are half the round trip, and `msgs_per_s` is the
//! rate of round trips with `WINDOW` pings in flight (a pong lost fails
//! the run). The last lines compare the medians: the bridge's share on top
//! of Zenoh's own latency. The bridges' counters close the output.
//!
//! Rounds per payload: 2000 (≤ 4 KiB), 500 (64 KiB), 100 (1 MiB), scaled
//! by `ZEROCP_BENCH_SCALE`. Each run has two private domains with their own
//! daemons (children of this binary, `--role daemon`) and the real
//! `zerocp-zenoh` binaries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use zenoh::qos::CongestionControl;
use zenoh::{Session, Wait};
use zerocp::{Publisher, Runtime, ServiceDescription, Subscriber};

/// The payloads.
const SIZES: [usize; 4] = [64, 4096, 65_536, 1 << 20];
/// Pings in flight in the throughput run.
const WINDOW: usize = 16;
/// How long one reply may take before the run fails.
const REPLY: Duration = Duration::from_secs(10);
/// The daemons' pools: every slice port of the bench uses the 1 MiB pool
/// (a port uses the smallest pool its longest payload fits in), and with
/// `WINDOW` samples in flight each hop's queue holds up to that many; the
/// default pool's 8 chunks (4 per port under the default quota) would make
/// subscribers drop. The small pool is for the bridges' marks.
const DAEMON_CONFIG: &str = "[[mempool]]\nsize = 128\ncount = 64\n\n\
                             [[mempool]]\nsize = 1048576\ncount = 128\n";
const PING: &str = "bench/ping";
const PONG: &str = "bench/pong";

type BenchResult<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("--role") => roles::run(&args[1..]),
        _ => bench(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench bridge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run: setup, every payload alternating the cases, teardown
/// (which prints the bridges' counters), also after a failure.
fn bench() -> BenchResult<()> {
    let scale = scale()?;
    let setup = Setup::start()?;
    let measured = measure_all(&setup, scale);
    let stopped = setup.stop();
    measured.and(stopped)
}

fn measure_all(setup: &Setup, scale: f64) -> BenchResult<()> {
    println!("case payload median_ns p99_ns max_ns msgs_per_s");
    let mut medians = Vec::new();
    for size in SIZES {
        let rounds = ((rounds_for(size) as f64 * scale) as usize).max(20);
        let zenoh = measure(&mut ZenohPing::new(&setup.session)?, size, rounds)?;
        let bridge = measure(&mut setup.zerocp_ping()?, size, rounds)?;
        println!("{}", zenoh.line("zenoh", size));
        println!("{}", bridge.line("zerocp-zenoh", size));
        medians.push((size, zenoh.median, bridge.median));
    }
    for (size, zenoh, bridge) in medians {
        let added = bridge as f64 / zenoh as f64 - 1.0;
        println!(
            "# {}: the bridge adds {:+.0} % to zenoh's median ({zenoh} → {bridge} ns)",
            label(size),
            added * 100.0
        );
    }
    Ok(())
}

fn rounds_for(size: usize) -> usize {
    match size {
        0..=4096 => 2000,
        4097..=65_536 => 500,
        _ => 100,
    }
}

fn scale() -> BenchResult<f64> {
    match std::env::var("ZEROCP_BENCH_SCALE") {
        Err(_) => Ok(1.0),
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or(format!(
                "ZEROCP_BENCH_SCALE={text:?} is not a positive number"
            )),
    }
}

/// One side of a ping-pong: sends pings, receives pongs by number.
trait Pinger {
    /// Sends ping `seq` of `size` bytes.
    fn ping(&mut self, seq: u64, size: usize) -> BenchResult<()>;
    /// The next pong's number, waiting up to `REPLY`.
    fn pong(&mut self) -> BenchResult<u64>;
}

/// Times and rates of one case and payload.
struct Measured {
    median: u64,
    p99: u64,
    max: u64,
    per_second: f64,
}

impl Measured {
    fn line(&self, case: &str, size: usize) -> String {
        format!(
            "{case} {} {} {} {} {:.0}",
            label(size),
            self.median,
            self.p99,
            self.max,
            self.per_second
        )
    }
}

/// Round trips one at a time (the latency), then `WINDOW` in flight (the
/// rate); each pong must answer a ping that is due and not answered yet
/// (with several in flight Zenoh may hand the echo's puts over in another
/// order).
fn measure(pinger: &mut dyn Pinger, size: usize, rounds: usize) -> BenchResult<Measured> {
    let warmup = rounds / 10 + 5;
    let mut halves = Vec::with_capacity(rounds);
    for seq in 0..(warmup + rounds) as u64 {
        let start = Instant::now();
        pinger.ping(seq, size)?;
        expect(
            pinger.pong().map_err(|e| format!("latency {seq}: {e}"))?,
            seq,
        )?;
        if seq >= warmup as u64 {
            halves.push(start.elapsed().as_nanos() as u64 / 2);
        }
    }
    halves.sort_unstable();
    let at = |q: f64| halves[((halves.len() - 1) as f64 * q) as usize];
    let first = (warmup + rounds) as u64;
    let end = first + rounds as u64;
    let mut answered = vec![false; rounds];
    let start = Instant::now();
    let mut next = first;
    while next < (first + WINDOW as u64).min(end) {
        pinger.ping(next, size)?;
        next += 1;
    }
    for _ in 0..rounds {
        let pong = pinger
            .pong()
            .map_err(|e| format!("window next {next}: {e}"))?;
        let slot = pong
            .checked_sub(first)
            .and_then(|i| answered.get_mut(i as usize))
            .filter(|done| !**done)
            .ok_or(format!("pong {pong}: not a ping in flight"))?;
        *slot = true;
        if next < end {
            pinger.ping(next, size)?;
            next += 1;
        }
    }
    Ok(Measured {
        median: at(0.5),
        p99: at(0.99),
        max: at(1.0),
        per_second: rounds as f64 / start.elapsed().as_secs_f64(),
    })
}

fn expect(got: u64, want: u64) -> BenchResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "pong {got} where {want} was due (a sample lost or reordered)"
        ))
    }
}

/// Plain Zenoh: this process's session puts pings, hears pongs.
struct ZenohPing {
    publisher: zenoh::pubsub::Publisher<'static>,
    pongs: Receiver<u64>,
    _subscriber: zenoh::pubsub::Subscriber<()>,
}

impl ZenohPing {
    fn new(session: &Session) -> BenchResult<Self> {
        let (tx, pongs) = channel();
        let subscriber = session
            .declare_subscriber(PONG)
            .callback(move |sample| {
                let _ = tx.send(seq_of(&sample.payload().to_bytes()));
            })
            .wait()
            .map_err(|e| e.to_string())?;
        let publisher = session
            .declare_publisher(PING)
            .congestion_control(CongestionControl::Block)
            .express(true)
            .wait()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            publisher,
            pongs,
            _subscriber: subscriber,
        })
    }
}

impl Pinger for ZenohPing {
    fn ping(&mut self, seq: u64, size: usize) -> BenchResult<()> {
        let mut bytes = vec![0u8; size];
        bytes[..8].copy_from_slice(&seq.to_le_bytes());
        self.publisher.put(bytes).wait().map_err(|e| e.to_string())
    }

    fn pong(&mut self) -> BenchResult<u64> {
        self.pongs
            .recv_timeout(REPLY)
            .map_err(|e| format!("no zenoh pong: {e}"))
    }
}

/// Through the bridges: a ZeroCP publisher and subscriber of domain A.
struct ZerocpPing {
    publisher: Publisher<[u8]>,
    subscriber: Subscriber<[u8]>,
}

impl Pinger for ZerocpPing {
    fn ping(&mut self, seq: u64, size: usize) -> BenchResult<()> {
        let loan = self
            .publisher
            .loan_slice_uninit(size)
            .map_err(|e| e.to_string())?;
        let sample = loan.write_with(|bytes| {
            bytes.fill(0);
            bytes[..8].copy_from_slice(&seq.to_le_bytes());
        });
        sample.publish().map_err(|e| e.to_string())
    }

    fn pong(&mut self) -> BenchResult<u64> {
        let deadline = Instant::now() + REPLY;
        loop {
            if let Some(sample) = self.subscriber.take().map_err(|e| e.to_string())? {
                return Ok(seq_of(&sample));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no pong through the bridges".into());
            }
            self.subscriber
                .wait(Some(left))
                .map_err(|e| e.to_string())?;
        }
    }
}

fn seq_of(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map_or(u64::MAX, u64::from_le_bytes)
}

fn label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{}MiB", s >> 20),
        s if s >= 1024 => format!("{}KiB", s >> 10),
        s => format!("{s}B"),
    }
}

fn ping_service() -> ServiceDescription {
    ServiceDescription::new("Bench", "Bridge", "Ping").expect("a valid name")
}

fn pong_service() -> ServiceDescription {
    ServiceDescription::new("Bench", "Bridge", "Pong").expect("a valid name")
}

/// The processes of a run: two daemons, the Zenoh echo peer, two bridges
/// and the ZeroCP echo; this process's Zenoh session and ZeroCP runtime.
struct Setup {
    base: PathBuf,
    children: Vec<Child>,
    session: Session,
    runtime: Runtime,
}

impl Setup {
    fn start() -> BenchResult<Self> {
        let pid = std::process::id();
        let base = std::env::temp_dir().join(format!("zerocp-bench-bridge-{pid}"));
        let (a, b) = (format!("bba{pid}"), format!("bbb{pid}"));
        let mut children = Vec::new();
        let run = base.join("run");
        std::fs::create_dir_all(&run).map_err(|e| e.to_string())?;
        // SAFETY: called first in `main`'s bench, before this process
        // starts any thread, so nothing reads the environment meanwhile.
        unsafe { std::env::set_var("ZEROCP_RUN_DIR", &run) };
        let config = base.join("zerocpd.toml");
        std::fs::write(&config, DAEMON_CONFIG).map_err(|e| e.to_string())?;
        let config = config.display().to_string();
        for domain in [&a, &b] {
            children.push(roles::spawn(&base, domain, &["daemon", domain, &config])?);
            wait_for_socket(&run.join(format!("{domain}.sock")))?;
        }
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect::<BenchResult<_>>()?;
        let mut echo = roles::spawn(&base, &b, &["zenoh-echo", &ports[0].to_string()])?;
        roles::ready(&mut echo)?;
        children.push(echo);
        children.push(bridge(
            &base,
            &a,
            &bridge_config(ports[1], None, [PING, PONG]),
        )?);
        let b_config = bridge_config(ports[2], Some(ports[1]), [PONG, PING]);
        children.push(bridge(&base, &b, &b_config)?);
        let mut zerocp_echo = roles::spawn(&base, &b, &["zerocp-echo"])?;
        roles::ready(&mut zerocp_echo)?;
        children.push(zerocp_echo);
        let session = zenoh_session(None, Some(ports[0]))?;
        let runtime = roles::runtime(&a, "bench-bridge-ping")?;
        Ok(Self {
            base,
            children,
            session,
            runtime,
        })
    }

    fn zerocp_ping(&self) -> BenchResult<ZerocpPing> {
        let publisher = self
            .runtime
            .publisher::<[u8]>(&ping_service())
            .max_slice_len(1 << 20)
            .create()
            .map_err(|e| e.to_string())?;
        let subscriber = self
            .runtime
            .subscriber::<[u8]>(&pong_service())
            .queue_capacity(WINDOW as u32 * 2)
            .create()
            .map_err(|e| e.to_string())?;
        // The bridges route the new ports before the first ping counts.
        let mut ping = ZerocpPing {
            publisher,
            subscriber,
        };
        settle(&mut ping)?;
        Ok(ping)
    }

    /// Stops every child with SIGTERM, newest first, and removes the files.
    fn stop(mut self) -> BenchResult<()> {
        let _ = self.session.close().wait();
        while let Some(mut child) = self.children.pop() {
            let pid = rustix::process::Pid::from_raw(child.id() as i32).ok_or("a pid")?;
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            child.wait().map_err(|e| e.to_string())?;
        }
        std::fs::remove_dir_all(&self.base).map_err(|e| e.to_string())
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Pings until one comes back: the routes through both bridges are up.
fn settle(ping: &mut ZerocpPing) -> BenchResult<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        ping.ping(u64::MAX - 1, 64)?;
        let answered = ping.subscriber.wait(Some(Duration::from_millis(200)));
        if answered.map_err(|e| e.to_string())? {
            // Drain every answer to the settling pings.
            std::thread::sleep(Duration::from_millis(200));
            while ping.subscriber.take().map_err(|e| e.to_string())?.is_some() {}
            return Ok(());
        }
    }
    Err("the bridges did not connect within 30 s".into())
}

fn bridge_config(listen: u16, connect: Option<u16>, [out, into]: [&str; 2]) -> String {
    let route = |key: &str| {
        let event = key.rsplit('/').next().unwrap_or(key);
        let event = format!("{}{}", event[..1].to_uppercase(), &event[1..]);
        format!(
            "service = \"Bench/Bridge/{event}\"\ntype = {{ name = \"u8\", size = 1, align = 1 }}\n\
             max_slice_len = 1048576\ncongestion = \"block\"\n"
        )
    };
    let connect = connect.map_or(String::new(), |p| {
        format!("connect = [\"tcp/127.0.0.1:{p}\"]")
    });
    format!(
        "[zenoh]\nlisten = [\"tcp/127.0.0.1:{listen}\"]\n{connect}\n\
         [[outbound]]\n{}\n[[inbound]]\n{}",
        route(out),
        route(into)
    )
}

fn bridge(base: &Path, domain: &str, config: &str) -> BenchResult<Child> {
    let path = base.join(format!("{domain}.toml"));
    std::fs::write(&path, config).map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_zerocp-zenoh"))
        .arg("--config")
        .arg(&path)
        .envs(roles::envs(base, domain))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("zerocp-zenoh: {e}"))?;
    roles::ready_line(&mut child, "bridging")?;
    Ok(child)
}

fn zenoh_session(listen: Option<u16>, connect: Option<u16>) -> BenchResult<Session> {
    let mut config = zenoh::Config::default();
    let endpoints =
        |port: Option<u16>| port.map_or("[]".to_string(), |p| format!("[\"tcp/127.0.0.1:{p}\"]"));
    for (key, value) in [
        ("mode", "\"peer\"".to_string()),
        ("listen/endpoints", endpoints(listen)),
        ("connect/endpoints", endpoints(connect)),
        ("scouting/multicast/enabled", "false".to_string()),
    ] {
        config
            .insert_json5(key, &value)
            .map_err(|e| format!("{key}: {e}"))?;
    }
    zenoh::open(config).wait().map_err(|e| e.to_string())
}

fn wait_for_socket(socket: &Path) -> BenchResult<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while zerocp_os_linux::seqpacket::SeqpacketConn::connect(socket).is_err() {
        if Instant::now() >= deadline {
            return Err(format!("no daemon at {}", socket.display()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn free_port() -> BenchResult<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

mod roles;
