//! Feeds arbitrary bytes to the control-plane decoder. It must never panic,
//! and whatever it accepts must re-encode to exactly the same bytes (the
//! encoding is canonical) and decode again to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocp_core::wire::{self, MAX_FRAME_SIZE};

fuzz_target!(|data: &[u8]| {
    let Ok((header, msg)) = wire::decode(data) else {
        return;
    };
    let mut buf = [0u8; MAX_FRAME_SIZE];
    let len = wire::encode(&msg, header.request_id, &mut buf)
        .expect("a decoded message always fits a MAX_FRAME_SIZE buffer");
    assert_eq!(&buf[..len], data, "re-encoding changed the frame");
    let (header2, msg2) = wire::decode(&buf[..len]).expect("re-encoded frame must decode");
    assert_eq!(header2, header);
    assert_eq!(msg2, msg);
});
