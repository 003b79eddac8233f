//! Images of changing size, zero-copy: `cargo run --release -p zerocp --example slices`.
//!
//! A camera process (this executable again, with a role argument)
//! publishes RGB frames as a slice, `Publisher<[u8]>`, whose length changes
//! from frame to frame (the full 640×480 image, then regions of interest
//! down to a single pixel, and an empty frame), each with a user header
//! (`Frame`: frame id, exposure, width, height). The publisher declares the
//! longest frame, 640×480×3 bytes, and the daemon gives it chunks of the
//! pool that holds that; every frame is loaned at its own length and filled
//! in place. The example's main process subscribes, `Subscriber<[u8]>`, and
//! checks each frame: its length is width × height × 3 as its header says,
//! and every pixel is the camera's pattern. It then shows that a frame
//! longer than the maximum is refused, and that a subscriber expecting no
//! user header is refused by the daemon. It starts its own daemon (as
//! `demo` does: a private domain unless one serves `ZEROCP_DOMAIN`), exits
//! 0 and leaves nothing behind.

#[path = "common/private_daemon.rs"]
mod private_daemon;

use std::process::ExitCode;

use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_main, with_daemon};
use zerocp::{FullPolicy, Runtime, ServiceDescription, ZeroCopySafe};
use zerocp_os_linux::names::DomainName;

/// The largest frame: 640×480 RGB.
const MAX_BYTES: u32 = 640 * 480 * 3;
/// The frames the camera sends: width × height (0 × 0: an empty frame).
const FRAMES: [(u32, u32); 6] = [(640, 480), (320, 240), (64, 48), (1, 1), (0, 0), (640, 480)];

/// The user header of every frame.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
#[zerocp(type_name = "zerocp_examples::Frame")]
struct Frame {
    id: u64,
    exposure_us: u32,
    width: u32,
    height: u32,
    _pad: u32,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => match args.get(1).map(String::as_str) {
            Some("daemon") => private_daemon::run_daemon(args.get(2).cloned()),
            Some("main") => run(),
            Some("camera") => camera(),
            other => Err(format!("unknown role {other:?}").into()),
        },
        None => with_daemon("slices", run_main),
        Some(other) => Err(format!("unknown argument {other:?} (slices takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slices: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn service() -> Result<ServiceDescription, Error> {
    Ok(ServiceDescription::new("Examples", "Camera", "Image")?)
}

/// The byte at `i` of frame `id` (what the camera writes and main checks).
fn pixel(id: u64, i: usize) -> u8 {
    (i as u64).wrapping_mul(31).wrapping_add(id) as u8
}

/// `--role camera`: publishes [`FRAMES`], one slice each.
fn camera() -> Result<(), Error> {
    let rt = Runtime::init("slices-camera")?;
    let images = rt
        .publisher::<[u8]>(&service()?)
        .user_header::<Frame>()
        .max_slice_len(MAX_BYTES)
        .create()?;
    println!("ready");
    for (id, (width, height)) in (0u64..).zip(FRAMES) {
        let len = (width * height * 3) as usize;
        // Filled in place: the closure writes straight into shared memory.
        let mut image = images.loan_slice_uninit(len)?.write_with(|bytes| {
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = pixel(id, i);
            }
        });
        *image.user_header_mut() = Frame {
            id,
            exposure_us: 500 + 250 * id as u32,
            width,
            height,
            _pad: 0,
        };
        image.publish()?;
    }
    match images.loan_slice_uninit(MAX_BYTES as usize + 1) {
        Err(e) => println!("slices: camera: a larger frame is refused: {e}"),
        Ok(_) => return Err("a frame above max_slice_len was loaned".into()),
    }
    Ok(())
}

fn run() -> Result<(), Error> {
    let exe = &std::env::current_exe()?;
    let domain = &DomainName::from_env()?;
    let rt = Runtime::init("slices-main")?;
    // Block the camera rather than drop frames: it waits while two are queued.
    let images = rt
        .subscriber::<[u8]>(&service()?)
        .user_header::<Frame>()
        .queue_capacity(2)
        .full_policy(FullPolicy::BlockPublisher)
        .create()?;
    let mut camera = Proc::spawn("camera", &mut role(exe, domain, "camera", &[]))?;
    let lines = camera.lines()?;
    if next_line(&lines, &mut camera)? != "ready" {
        return Err("the camera did not start".into());
    }
    println!(
        "slices: a camera publishes {} frames of changing size as [u8] slices",
        FRAMES.len()
    );
    let mut received = 0;
    while received < FRAMES.len() {
        let Some(image) = images.take()? else {
            if !images.wait(Some(STEP_DEADLINE))? {
                return Err(format!("no frame for {STEP_DEADLINE:?}").into());
            }
            continue;
        };
        let frame = *image.user_header();
        let expected = (frame.width * frame.height * 3) as usize;
        if image.len() != expected || frame.id != received as u64 {
            return Err(format!("frame {frame:?} carries {} bytes", image.len()).into());
        }
        if let Some(i) = (0..image.len()).find(|&i| image[i] != pixel(frame.id, i)) {
            return Err(format!("frame {} differs at byte {i}", frame.id).into());
        }
        println!(
            "slices: frame {} {}x{} exposure {} µs: {} bytes in chunk {}",
            frame.id,
            frame.width,
            frame.height,
            frame.exposure_us,
            image.len(),
            image.chunk_index()
        );
        received += 1;
    }
    println!("{}", next_line(&lines, &mut camera)?);
    camera.wait_success()?;
    match rt.subscriber::<[u8]>(&service()?).create() {
        Err(e) if e.is_type_mismatch() => {
            println!("slices: a subscriber without the user header is refused: {e}")
        }
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("a subscriber without the user header was accepted".into()),
    }
    println!("slices: done: {received} frames, each of its own length");
    Ok(())
}
