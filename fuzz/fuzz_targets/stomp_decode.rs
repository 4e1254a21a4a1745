//! Fuzz target: arbitrary bytes through the STOMP decoder under every version.
//!
//! The first input byte picks where to split the rest into two reads, so the incremental
//! (resume-scanning) path is fuzzed as well as whole-buffer decoding. Small limits are used so
//! that every limit check is reachable with short inputs. A panic or hang is a bug; errors are
//! expected outcomes.

#![no_main]

use bytes::BytesMut;
use ferromq_stomp::{Codec, Limits, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split_byte, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split_byte).min(rest.len());
    for version in Version::ALL {
        for limits in [
            Limits::default(),
            Limits {
                max_frame_size: 256,
                max_header_line: 32,
                max_headers: 4,
            },
        ] {
            let mut codec = Codec::new(limits);
            codec.set_version(version);
            let mut buf = BytesMut::new();
            'feed: for part in [&rest[..split], &rest[split..]] {
                buf.extend_from_slice(part);
                loop {
                    match codec.decode(&mut buf) {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => break 'feed,
                    }
                }
            }
        }
    }
});
