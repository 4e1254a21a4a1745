//! `WireFormatInfo` (type 1): the first frame each side sends, and the typed view of its
//! options (`C/command/WireFormatInfo.java`).
//!
//! Unlike every other command it has no `commandId`/`responseRequired` prefix. The options are
//! a primitive map decoded eagerly (it is small and negotiation reads it at once). The getters
//! mirror the Java casts: a boolean option of the wrong type reads as false, a numeric option of
//! the wrong type is an error, as the Java client's `ClassCastException` would be.

use crate::command::type_id;
use crate::error::WireError;
use crate::primitive::{read_map_limited, write_map, PrimitiveMap, PrimitiveValue};
use crate::wire::{Marshal, Reader, Writer};

/// The magic that opens every `WireFormatInfo`.
pub const MAGIC: [u8; 8] = *b"ActiveMQ";

/// Java's `WireFormatInfo.MAX_PROPERTY_SIZE`: the most options a peer may send.
const MAX_PROPERTIES: usize = 4096;

/// Option names, spelled as on the wire (note `MaxInactivityDurationInitalDelay`).
pub mod property {
    pub const TIGHT_ENCODING_ENABLED: &str = "TightEncodingEnabled";
    pub const CACHE_ENABLED: &str = "CacheEnabled";
    pub const CACHE_SIZE: &str = "CacheSize";
    pub const SIZE_PREFIX_DISABLED: &str = "SizePrefixDisabled";
    pub const STACK_TRACE_ENABLED: &str = "StackTraceEnabled";
    pub const TCP_NO_DELAY_ENABLED: &str = "TcpNoDelayEnabled";
    pub const MAX_INACTIVITY_DURATION: &str = "MaxInactivityDuration";
    pub const MAX_INACTIVITY_DURATION_INITIAL_DELAY: &str = "MaxInactivityDurationInitalDelay";
    pub const MAX_FRAME_SIZE: &str = "MaxFrameSize";
    pub const MAX_FRAME_SIZE_ENABLED: &str = "MaxFrameSizeEnabled";
    pub const HOST: &str = "Host";
    pub const PROVIDER_NAME: &str = "ProviderName";
    pub const PROVIDER_VERSION: &str = "ProviderVersion";
    pub const PLATFORM_DETAILS: &str = "PlatformDetails";
}

/// The wire-format offer of one peer.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFormatInfo {
    /// Must be [`MAGIC`]; checked by negotiation, not by the decoder (as in Java).
    pub magic: [u8; 8],
    pub version: i32,
    /// `None` when the peer sent no map; every option then reads as false / 0.
    pub properties: Option<PrimitiveMap>,
}

impl Default for WireFormatInfo {
    fn default() -> Self {
        WireFormatInfo {
            magic: MAGIC,
            version: crate::MAX_VERSION,
            properties: None,
        }
    }
}

impl WireFormatInfo {
    pub fn has_valid_magic(&self) -> bool {
        self.magic == MAGIC
    }

    pub fn property(&self, name: &str) -> Option<&PrimitiveValue> {
        self.properties.as_ref()?.get(name)
    }

    /// Sets one option, creating the map if needed.
    pub fn set_property(&mut self, name: &str, value: PrimitiveValue) {
        self.properties
            .get_or_insert_with(PrimitiveMap::new)
            .insert(name.to_owned(), value);
    }

    /// `Boolean.TRUE == getProperty(name)`: true only for a BOOLEAN true.
    pub fn bool_property(&self, name: &str) -> bool {
        matches!(self.property(name), Some(PrimitiveValue::Bool(true)))
    }

    /// A LONG option; 0 when missing.
    ///
    /// # Errors
    /// [`WireError::PropertyType`] when present with another type.
    pub fn long_property(&self, name: &'static str) -> Result<i64, WireError> {
        match self.property(name) {
            None | Some(PrimitiveValue::Null) => Ok(0),
            Some(PrimitiveValue::Long(v)) => Ok(*v),
            Some(_) => Err(WireError::PropertyType {
                name,
                expected: "a LONG",
            }),
        }
    }

    /// An INTEGER option; 0 when missing.
    ///
    /// # Errors
    /// [`WireError::PropertyType`] when present with another type.
    pub fn int_property(&self, name: &'static str) -> Result<i32, WireError> {
        match self.property(name) {
            None | Some(PrimitiveValue::Null) => Ok(0),
            Some(PrimitiveValue::Int(v)) => Ok(*v),
            Some(_) => Err(WireError::PropertyType {
                name,
                expected: "an INTEGER",
            }),
        }
    }

    /// A STRING option.
    pub fn string_property(&self, name: &str) -> Option<&str> {
        match self.property(name) {
            Some(PrimitiveValue::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn tight_encoding_enabled(&self) -> bool {
        self.bool_property(property::TIGHT_ENCODING_ENABLED)
    }

    pub fn cache_enabled(&self) -> bool {
        self.bool_property(property::CACHE_ENABLED)
    }

    pub fn size_prefix_disabled(&self) -> bool {
        self.bool_property(property::SIZE_PREFIX_DISABLED)
    }

    pub fn stack_trace_enabled(&self) -> bool {
        self.bool_property(property::STACK_TRACE_ENABLED)
    }

    pub fn tcp_no_delay_enabled(&self) -> bool {
        self.bool_property(property::TCP_NO_DELAY_ENABLED)
    }

    /// # Errors
    /// [`WireError::PropertyType`] if the option is not an INTEGER.
    pub fn cache_size(&self) -> Result<i32, WireError> {
        self.int_property(property::CACHE_SIZE)
    }

    /// Milliseconds; 0 or less disables inactivity checks.
    ///
    /// # Errors
    /// [`WireError::PropertyType`] if the option is not a LONG.
    pub fn max_inactivity_duration(&self) -> Result<i64, WireError> {
        self.long_property(property::MAX_INACTIVITY_DURATION)
    }

    /// Milliseconds before the first inactivity check.
    ///
    /// # Errors
    /// [`WireError::PropertyType`] if the option is not a LONG.
    pub fn max_inactivity_duration_initial_delay(&self) -> Result<i64, WireError> {
        self.long_property(property::MAX_INACTIVITY_DURATION_INITIAL_DELAY)
    }

    /// Bytes after the size prefix; 0 or less means no limit.
    ///
    /// # Errors
    /// [`WireError::PropertyType`] if the option is not a LONG.
    pub fn max_frame_size(&self) -> Result<i64, WireError> {
        self.long_property(property::MAX_FRAME_SIZE)
    }

    /// The host part of the URI the client connected to (absent over `failover:`).
    pub fn host(&self) -> Option<&str> {
        self.string_property(property::HOST)
    }

    pub fn provider_name(&self) -> Option<&str> {
        self.string_property(property::PROVIDER_NAME)
    }

    pub fn provider_version(&self) -> Option<&str> {
        self.string_property(property::PROVIDER_VERSION)
    }

    pub fn platform_details(&self) -> Option<&str> {
        self.string_property(property::PLATFORM_DETAILS)
    }
}

impl Marshal for WireFormatInfo {
    const NAME: &'static str = "WireFormatInfo";
    fn accepts(t: u8) -> bool {
        t == type_id::WIRE_FORMAT_INFO
    }
    fn read_body(_: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut magic = [0u8; 8];
        magic.copy_from_slice(r.take(8)?);
        let version = r.i32()?;
        // `marshalledProperties` is a byte sequence holding the map; parse it in place, bounded
        // by its own length so a bad count cannot run into the rest of the frame.
        let properties = if r.bool()? {
            let n = r.length("byte array length")?;
            let mut map = r.sub(n)?;
            let props = read_map_limited(&mut map, MAX_PROPERTIES)?;
            map.finish()?;
            props
        } else {
            None
        };
        Ok(WireFormatInfo {
            magic,
            version,
            properties,
        })
    }
    fn type_id(&self) -> u8 {
        type_id::WIRE_FORMAT_INFO
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.raw(&self.magic);
        w.i32(self.version);
        match &self.properties {
            None => w.bool(false),
            Some(map) => {
                // The map's length is only known once it is written.
                let mut body = bytes::BytesMut::new();
                write_map(&mut Writer::new(&mut body, w.stack_traces()), map)?;
                w.opt_bytes(Some(&body))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_follow_the_java_casts() {
        let mut w = WireFormatInfo::default();
        assert!(!w.tight_encoding_enabled());
        assert_eq!(w.max_frame_size().ok(), Some(0));
        w.set_property(property::TIGHT_ENCODING_ENABLED, PrimitiveValue::Bool(true));
        w.set_property(property::CACHE_ENABLED, PrimitiveValue::Int(1));
        w.set_property(property::MAX_FRAME_SIZE, PrimitiveValue::Int(5));
        w.set_property(property::HOST, PrimitiveValue::String("h".into()));
        assert!(w.tight_encoding_enabled());
        assert!(!w.cache_enabled(), "a non-BOOLEAN reads as false");
        assert!(matches!(
            w.max_frame_size(),
            Err(WireError::PropertyType { .. })
        ));
        assert_eq!(w.host(), Some("h"));
    }
}
