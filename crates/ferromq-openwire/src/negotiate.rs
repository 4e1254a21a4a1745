//! Wire-format negotiation: this broker's `WireFormatInfo` offer and the [`Negotiated`] result
//! of combining it with the peer's (`OpenWireFormat.renegotiateWireFormat`,
//! `InactivityMonitor.configuredOk`).
//!
//! The offer always says `TightEncodingEnabled=false`, `CacheEnabled=false` and
//! `SizePrefixDisabled=false`. Java combines those options with a logical AND on both sides, so
//! whatever the client proposes (the 5.17 default is tight + cache), both directions end up
//! loose, uncached and size-prefixed: the only encoding this crate implements.

use std::time::Duration;

use crate::codec::Config;
use crate::commands::WireFormatInfo;
use crate::error::WireError;
use crate::primitive::PrimitiveValue;
use crate::wire_format_property as property;
use crate::{MAX_VERSION, MIN_VERSION};

/// The settings both sides use after exchanging `WireFormatInfo`s.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    /// min(peer, 12); at least [`MIN_VERSION`].
    pub version: i32,
    /// Always false: this side offers false and Java ANDs the offers.
    pub tight_encoding_enabled: bool,
    /// Always false, as above: `cobj` fields are plain nested objects.
    pub cache_enabled: bool,
    /// Always false, as above: every frame has its 4-byte size prefix.
    pub size_prefix_disabled: bool,
    /// Whether throwables carry stack traces and causes (AND of both offers).
    pub stack_trace_enabled: bool,
    /// Whether the peer sets `TCP_NODELAY`; the broker should do the same on its socket.
    pub tcp_no_delay_enabled: bool,
    /// Largest frame either side may send (bytes after the prefix); `None` = no limit.
    pub max_frame_size: Option<u64>,
    /// Milliseconds of silence after which each side may drop the connection; 0 or less means
    /// the peer runs no inactivity monitor (and sends no keep-alives).
    pub max_inactivity_duration: i64,
    /// Milliseconds before the first inactivity check.
    pub max_inactivity_duration_initial_delay: i64,
    /// What the peer offered (host, provider version, ... for logging).
    pub peer: WireFormatInfo,
}

impl Negotiated {
    /// How often the peer checks that something arrived (its read check), if it does.
    pub fn read_check_interval(&self) -> Option<Duration> {
        u64::try_from(self.max_inactivity_duration)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }

    /// How long this side may stay silent before it must send something (a `KeepAliveInfo`):
    /// a third of the read check, like the Java write check.
    pub fn keep_alive_interval(&self) -> Option<Duration> {
        self.read_check_interval().map(|d| d / 3)
    }
}

/// The broker's offer, version `version`.
pub(crate) fn local_wire_format(config: &Config, version: i32) -> WireFormatInfo {
    let mut info = WireFormatInfo {
        version,
        ..WireFormatInfo::default()
    };
    let max_frame = i64::try_from(config.limits.max_frame_size).unwrap_or(i64::MAX);
    // The Java getters cast each option to one exact class (reference 2.1); these tags match.
    let options = [
        (
            property::TIGHT_ENCODING_ENABLED,
            PrimitiveValue::Bool(false),
        ),
        (property::CACHE_ENABLED, PrimitiveValue::Bool(false)),
        (property::CACHE_SIZE, PrimitiveValue::Int(0)),
        (property::SIZE_PREFIX_DISABLED, PrimitiveValue::Bool(false)),
        (
            property::STACK_TRACE_ENABLED,
            PrimitiveValue::Bool(config.stack_trace_enabled),
        ),
        (
            property::TCP_NO_DELAY_ENABLED,
            PrimitiveValue::Bool(config.tcp_no_delay_enabled),
        ),
        (
            property::MAX_INACTIVITY_DURATION,
            PrimitiveValue::Long(config.max_inactivity_duration),
        ),
        (
            property::MAX_INACTIVITY_DURATION_INITIAL_DELAY,
            PrimitiveValue::Long(config.max_inactivity_duration_initial_delay),
        ),
        (property::MAX_FRAME_SIZE, PrimitiveValue::Long(max_frame)),
        (property::MAX_FRAME_SIZE_ENABLED, PrimitiveValue::Bool(true)),
        (
            property::PROVIDER_NAME,
            PrimitiveValue::String(config.provider_name.clone()),
        ),
        (
            property::PROVIDER_VERSION,
            PrimitiveValue::String(config.provider_version.clone()),
        ),
    ];
    for (name, value) in options {
        info.set_property(name, value);
    }
    info
}

/// `OpenWireFormat.min`: the smaller positive value, where 0 or less means "no preference".
fn java_min(a: i64, b: i64) -> i64 {
    if (a < b && a > 0) || b <= 0 {
        a
    } else {
        b
    }
}

/// Combines this side's offer with the peer's, as both Java peers do.
pub(crate) fn negotiate(config: &Config, peer: &WireFormatInfo) -> Result<Negotiated, WireError> {
    if !peer.has_valid_magic() {
        return Err(WireError::InvalidMagic);
    }
    if peer.version < MIN_VERSION {
        return Err(WireError::UnsupportedVersion {
            version: peer.version,
            min: MIN_VERSION,
            max: MAX_VERSION,
        });
    }
    let ours = local_wire_format(config, MAX_VERSION);
    let max_frame = java_min(ours.max_frame_size()?, peer.max_frame_size()?);
    Ok(Negotiated {
        version: peer.version.min(MAX_VERSION),
        tight_encoding_enabled: ours.tight_encoding_enabled() && peer.tight_encoding_enabled(),
        cache_enabled: ours.cache_enabled() && peer.cache_enabled(),
        size_prefix_disabled: ours.size_prefix_disabled() && peer.size_prefix_disabled(),
        stack_trace_enabled: ours.stack_trace_enabled() && peer.stack_trace_enabled(),
        tcp_no_delay_enabled: ours.tcp_no_delay_enabled() && peer.tcp_no_delay_enabled(),
        max_frame_size: u64::try_from(max_frame).ok().filter(|&n| n > 0),
        max_inactivity_duration: ours
            .max_inactivity_duration()?
            .min(peer.max_inactivity_duration()?),
        max_inactivity_duration_initial_delay: ours
            .max_inactivity_duration_initial_delay()?
            .min(peer.max_inactivity_duration_initial_delay()?),
        peer: peer.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a default-configured 5.17 client offers over `tcp://` (reference 2.1).
    fn client_5_17() -> WireFormatInfo {
        let mut w = WireFormatInfo::default();
        let options = [
            (property::TIGHT_ENCODING_ENABLED, PrimitiveValue::Bool(true)),
            (property::CACHE_ENABLED, PrimitiveValue::Bool(true)),
            (property::CACHE_SIZE, PrimitiveValue::Int(1024)),
            (property::SIZE_PREFIX_DISABLED, PrimitiveValue::Bool(false)),
            (property::STACK_TRACE_ENABLED, PrimitiveValue::Bool(true)),
            (property::TCP_NO_DELAY_ENABLED, PrimitiveValue::Bool(true)),
            (
                property::MAX_INACTIVITY_DURATION,
                PrimitiveValue::Long(30_000),
            ),
            (
                property::MAX_INACTIVITY_DURATION_INITIAL_DELAY,
                PrimitiveValue::Long(10_000),
            ),
            (property::MAX_FRAME_SIZE, PrimitiveValue::Long(i64::MAX)),
        ];
        for (k, v) in options {
            w.set_property(k, v);
        }
        w
    }

    #[test]
    fn default_client_ends_up_loose_and_uncached() {
        let n = negotiate(&Config::default(), &client_5_17());
        let n = n.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.version, 12);
        assert!(!n.tight_encoding_enabled && !n.cache_enabled && !n.size_prefix_disabled);
        assert!(!n.stack_trace_enabled, "the broker offers no stack traces");
        assert!(n.tcp_no_delay_enabled);
        assert_eq!(n.max_frame_size, Some(100 * 1024 * 1024));
        assert_eq!(n.keep_alive_interval(), Some(Duration::from_secs(10)));
    }

    #[test]
    fn older_versions_and_bad_magic_are_refused_or_lowered() {
        let mut peer = client_5_17();
        peer.version = 11;
        assert_eq!(
            negotiate(&Config::default(), &peer).ok().map(|n| n.version),
            Some(11)
        );
        peer.version = 9;
        assert!(matches!(
            negotiate(&Config::default(), &peer),
            Err(WireError::UnsupportedVersion { version: 9, .. })
        ));
        peer.version = 13;
        assert_eq!(
            negotiate(&Config::default(), &peer).ok().map(|n| n.version),
            Some(12)
        );
        peer.magic = *b"ActiveMX";
        assert!(matches!(
            negotiate(&Config::default(), &peer),
            Err(WireError::InvalidMagic)
        ));
    }

    #[test]
    fn zero_means_no_preference_for_frames_but_disables_inactivity() {
        let mut peer = client_5_17();
        peer.set_property(property::MAX_FRAME_SIZE, PrimitiveValue::Long(0));
        peer.set_property(property::MAX_INACTIVITY_DURATION, PrimitiveValue::Long(0));
        let n = negotiate(&Config::default(), &peer).ok();
        assert_eq!(
            n.as_ref().and_then(|n| n.max_frame_size),
            Some(100 * 1024 * 1024)
        );
        assert_eq!(n.and_then(|n| n.keep_alive_interval()), None);
    }

    #[test]
    fn wrongly_typed_numbers_fail_like_the_java_cast() {
        let mut peer = client_5_17();
        peer.set_property(property::MAX_FRAME_SIZE, PrimitiveValue::Int(5));
        assert!(matches!(
            negotiate(&Config::default(), &peer),
            Err(WireError::PropertyType { .. })
        ));
    }
}
