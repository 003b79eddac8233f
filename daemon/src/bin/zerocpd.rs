//! `zerocpd`: the ZeroCP daemon.

fn main() {
    eprintln!("zerocpd: not built yet");
    std::process::exit(1);
}
