//! The subscriber processes: this binary re-executed with `--role subscriber`,
//! how the parent starts and reads them, and the subscriber's busy-poll loop.

use super::*;

/// `--role NAME --key value …`.
pub(crate) struct RoleArgs {
    pub(crate) name: String,
    pub(crate) opts: Vec<(String, String)>,
}

impl RoleArgs {
    pub(crate) fn parse(args: &[String]) -> Res<Self> {
        let name = args.get(1).ok_or("--role needs a name")?.clone();
        let mut opts = Vec::new();
        let mut rest = args[2..].iter();
        while let Some(key) = rest.next() {
            let key = key
                .strip_prefix("--")
                .ok_or_else(|| format!("role {name}: unexpected {key:?}"))?;
            let value = rest
                .next()
                .ok_or_else(|| format!("role {name}: --{key} needs a value"))?;
            opts.push((key.to_owned(), value.clone()));
        }
        Ok(Self { name, opts })
    }

    pub(crate) fn get(&self, key: &str) -> Res<&str> {
        self.opts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("role {}: --{key} missing", self.name))
    }

    pub(crate) fn parse_value<T: std::str::FromStr>(&self, key: &str) -> Res<T> {
        let text = self.get(key)?;
        text.parse()
            .map_err(|_| format!("role {}: --{key} {text:?} is invalid", self.name))
    }
}

/// A child process running this binary in a role; its stdout lines arrive
/// through a reader thread.
pub(crate) struct RoleChild {
    pub(crate) child: Child,
    pub(crate) lines: mpsc::Receiver<String>,
    pub(crate) done: bool,
}

pub(crate) fn spawn_role(role: &str, opts: &[(&str, String)]) -> Res<RoleChild> {
    let exe = std::env::current_exe().map_err(|e| format!("locating the binary: {e}"))?;
    let mut cmd = Command::new(&exe);
    cmd.args(["--role", role, "--parent", &std::process::id().to_string()]);
    for (key, value) in opts {
        cmd.arg(format!("--{key}")).arg(value);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {} --role {role}: {e}", exe.display()))?;
    let (tx, lines) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    Ok(RoleChild {
        child,
        lines,
        done: false,
    })
}

impl RoleChild {
    /// The child's next stdout line, which must start with `prefix`.
    pub(crate) fn expect_line(&mut self, prefix: &str) -> Res<String> {
        let pid = self.child.id();
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) if line.starts_with(prefix) => Ok(line),
            Ok(line) => Err(format!(
                "subscriber {pid}: expected {prefix:?}, got {line:?}"
            )),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "subscriber {pid}: no {prefix:?} within {DEADLINE:?}"
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                self.done = true;
                Err(format!(
                    "subscriber {pid}: exited ({status}) before printing {prefix:?}"
                ))
            }
        }
    }

    /// Waits for the child to exit successfully.
    pub(crate) fn finish(mut self) -> Res<()> {
        let pid = self.child.id();
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| format!("waiting for subscriber {pid}: {e}"))?
            {
                self.done = true;
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("subscriber {pid}: exited with {status}"))
                };
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "subscriber {pid}: did not exit within {DEADLINE:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for RoleChild {
    fn drop(&mut self) {
        if !self.done {
            // Error path: the child may be spinning.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Prints one line to the parent and flushes it.
pub(crate) fn tell_parent(line: &str) -> Res<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to the parent: {e}"))
}

/// A busy-wait that yields on a shared CPU and gives up after [`DEADLINE`]
/// (looking at the clock only every 65536 spins), as ZeroCP's `Spin`.
pub(crate) struct Spin {
    pub(crate) yield_cpu: bool,
    pub(crate) spins: u32,
    pub(crate) since: Option<Instant>,
}

impl Spin {
    #[inline(always)]
    pub(crate) fn new(yield_cpu: bool) -> Self {
        Self {
            yield_cpu,
            spins: 0,
            since: None,
        }
    }

    #[inline(always)]
    pub(crate) fn turn(&mut self) -> Res<()> {
        if self.yield_cpu {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
        self.spins = self.spins.wrapping_add(1);
        if self.spins.is_multiple_of(1 << 16) {
            return self.check();
        }
        Ok(())
    }

    #[cold]
    pub(crate) fn check(&mut self) -> Res<()> {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() > DEADLINE {
            return Err(format!("no sample within {DEADLINE:?}"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Subscriber side

/// `--role subscriber`: dies with the parent, pins itself, takes and drops
/// every sample until STOP, then reports how many it took.
pub(crate) fn subscriber_role(args: &RoleArgs) -> Res<()> {
    set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {e}"))?;
    let parent: i32 = args.parse_value("parent")?;
    // `getppid()` is `None` (0) when the parent is outside our PID namespace.
    if Pid::as_raw(getppid()) != parent {
        return Err(format!("parent {parent} exited before the child started"));
    }
    // A terminal's Ctrl-C reaches the whole process group: leave it to the
    // publisher, which ends the run after the current case. signal-hook
    // cannot set SIG_IGN; a handler that sets a flag nobody reads ignores
    // SIGINT just as well (ZeroCP's daemon ignores SIGXFSZ this way).
    // iceoryx2 may install a handler of its own here later, which ignores
    // it as well.
    signal_hook::flag::register(SIGINT, Arc::new(AtomicBool::new(false)))
        .map_err(|e| format!("ignoring SIGINT: {e}"))?;
    pin(args.parse_value("cpu")?)?;
    let yield_cpu = args.get("yield")? == "1";
    let name = args.get("service")?;
    let prefix = args.get("prefix")?;
    match args.parse_value::<usize>("size")? {
        64 => subscribe::<64>(name, prefix, yield_cpu),
        4096 => subscribe::<4096>(name, prefix, yield_cpu),
        other => Err(format!("unsupported payload size {other}")),
    }
}

pub(crate) fn subscribe<const N: usize>(name: &str, prefix: &str, yield_cpu: bool) -> Res<()> {
    let node = node(prefix)?;
    let service = node
        .service_builder(&service_name(name)?)
        .publish_subscribe::<[u8; N]>()
        .open()
        .map_err(|e| format!("opening service {name}: {e:?}"))?;
    let subscriber = service
        .subscriber_builder()
        .buffer_size(QUEUE_CAPACITY)
        .create()
        .map_err(|e| format!("creating subscriber: {e:?}"))?;
    tell_parent("ready")?;
    let mut received = 0u64;
    let mut spin = Spin::new(yield_cpu);
    loop {
        match subscriber.receive() {
            Ok(Some(sample)) => {
                received += 1;
                let seq = u64::from_ne_bytes(sample.payload()[..8].try_into().unwrap());
                drop(sample);
                if seq == STOP {
                    break;
                }
                spin = Spin::new(yield_cpu);
            }
            Ok(None) => spin.turn()?,
            Err(e) => return Err(format!("receive: {e:?}")),
        }
    }
    drop(subscriber);
    drop(service);
    drop(node);
    tell_parent(&format!("result received={received}"))
}

// ---------------------------------------------------------------------------
// Cleanup
