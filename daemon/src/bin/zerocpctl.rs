//! `zerocpctl`: inspect a running ZeroCP domain.

fn main() {
    eprintln!("zerocpctl: not built yet");
    std::process::exit(1);
}
