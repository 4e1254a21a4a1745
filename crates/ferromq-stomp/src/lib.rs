//! Sans-IO STOMP 1.0/1.1/1.2 codec shared by the FerroMQ broker and client.
//!
//! Bytes in, [`Frame`]s out, and back. This crate owns the wire format only: framing, header
//! escaping, version negotiation arithmetic and the size limits that protect a peer from its
//! counterpart. It does no I/O, spawns nothing and knows nothing about destinations or acks.
//!
//! ```
//! use bytes::BytesMut;
//! use ferromq_stomp::{Codec, Command, Frame, Item, Limits};
//!
//! let mut codec = Codec::new(Limits::default());
//! let mut wire = BytesMut::new();
//! codec.encode(&Frame::new(Command::Send).header("destination", "/queue/a").with_body("hi"), &mut wire);
//! let Ok(Some(Item::Frame(frame))) = codec.decode(&mut wire) else { panic!("one frame") };
//! assert_eq!(frame.get("destination"), Some("/queue/a"));
//! ```

mod codec;
mod command;
mod decode;
mod encode;
mod error;
mod escape;
mod frame;
mod version;

pub use codec::{Codec, Item, Limits};
pub use command::Command;
pub use error::StompError;
pub use frame::Frame;
pub use version::Version;
