//! Responses (types 30–34) and the marshalled Java `Throwable` they and `ConnectionError` carry.
//!
//! Every command with `response_required` gets exactly one of these, with `correlation_id` set
//! to the request's `command_id`. XA needs the typed ones: PREPARE expects an
//! `IntegerResponse`, RECOVER a `DataArrayResponse` of `XATransactionId`s.

use crate::command::{read_base, write_base, CommandBody, DataStructure};
use crate::error::WireError;
use crate::wire::{Reader, Writer};

/// A Java exception as OpenWire marshals it (`BaseDataStreamMarshaller.looseMarshalThrowable`).
///
/// The client re-creates `class_name` by reflection when it has a `(String)` constructor
/// (`javax.jms.*` names become `JMSException`s); otherwise it builds a plain `Throwable`.
/// `stack_trace` and `cause` are on the wire only when `StackTraceEnabled` was negotiated, which
/// this broker does not offer, so they are dropped on encode and empty on decode by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Throwable {
    pub class_name: Option<String>,
    pub message: Option<String>,
    pub stack_trace: Vec<StackTraceElement>,
    pub cause: Option<Box<Throwable>>,
}

/// One frame of a Java stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackTraceElement {
    pub class_name: Option<String>,
    pub method_name: Option<String>,
    pub file_name: Option<String>,
    pub line_number: i32,
}

impl Throwable {
    /// An exception of Java class `class_name` (e.g. `javax.jms.InvalidDestinationException`).
    pub fn new(class_name: impl Into<String>, message: impl Into<String>) -> Self {
        Throwable {
            class_name: Some(class_name.into()),
            message: Some(message.into()),
            ..Throwable::default()
        }
    }

    pub(crate) fn read_opt(r: &mut Reader<'_>) -> Result<Option<Throwable>, WireError> {
        if !r.bool()? {
            return Ok(None);
        }
        let class_name = r.opt_string()?;
        let message = r.opt_string()?;
        let mut t = Throwable {
            class_name,
            message,
            ..Throwable::default()
        };
        if r.stack_traces() {
            let offset = r.offset();
            let n = r.i16()?;
            let n = usize::try_from(n).map_err(|_| WireError::InvalidLength {
                what: "stack trace length",
                value: i64::from(n),
                offset,
            })?;
            // Each element takes at least three absent-string flags and a line number.
            t.stack_trace = Vec::with_capacity(n.min(r.remaining() / 7));
            for _ in 0..n {
                t.stack_trace.push(StackTraceElement {
                    class_name: r.opt_string()?,
                    method_name: r.opt_string()?,
                    file_name: r.opt_string()?,
                    line_number: r.i32()?,
                });
            }
            r.enter()?;
            t.cause = Throwable::read_opt(r)?.map(Box::new);
            r.leave();
        }
        Ok(Some(t))
    }

    pub(crate) fn write_opt(t: Option<&Throwable>, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.bool(t.is_some());
        let Some(t) = t else { return Ok(()) };
        w.opt_string(t.class_name.as_deref())?;
        w.opt_string(t.message.as_deref())?;
        if w.stack_traces() {
            let n = i16::try_from(t.stack_trace.len()).map_err(|_| WireError::TooLong {
                what: "stack trace",
                len: t.stack_trace.len(),
                max: i16::MAX as usize,
            })?;
            w.i16(n);
            for e in &t.stack_trace {
                w.opt_string(e.class_name.as_deref())?;
                w.opt_string(e.method_name.as_deref())?;
                w.opt_string(e.file_name.as_deref())?;
                w.i32(e.line_number);
            }
            Throwable::write_opt(t.cause.as_deref(), w)?;
        }
        Ok(())
    }
}

/// Success (type 30).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub command_id: i32,
    pub response_required: bool,
    /// The `command_id` of the request answered.
    pub correlation_id: i32,
}

impl Response {
    pub fn new(correlation_id: i32) -> Self {
        Response {
            correlation_id,
            ..Response::default()
        }
    }
}

/// Failure (type 31): the client throws `exception` from the call that sent the request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExceptionResponse {
    pub command_id: i32,
    pub response_required: bool,
    pub correlation_id: i32,
    pub exception: Option<Throwable>,
}

impl ExceptionResponse {
    /// Answers request `correlation_id` with a Java exception, e.g.
    /// `ExceptionResponse::new(7, "javax.jms.JMSException", "XA transactions are not supported")`.
    pub fn new(
        correlation_id: i32,
        class_name: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ExceptionResponse {
            correlation_id,
            exception: Some(Throwable::new(class_name, message)),
            ..ExceptionResponse::default()
        }
    }
}

/// A response carrying one data structure (type 32).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataResponse {
    pub command_id: i32,
    pub response_required: bool,
    pub correlation_id: i32,
    pub data: Option<Box<DataStructure>>,
}

/// A response carrying several data structures (type 33), e.g. XA RECOVER's prepared ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataArrayResponse {
    pub command_id: i32,
    pub response_required: bool,
    pub correlation_id: i32,
    pub data: Option<Vec<DataStructure>>,
}

/// A response carrying an int (type 34): XA PREPARE's vote (0 = XA_OK, 3 = XA_RDONLY).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegerResponse {
    pub command_id: i32,
    pub response_required: bool,
    pub correlation_id: i32,
    pub result: i32,
}

impl CommandBody for Response {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(Response {
            command_id,
            response_required,
            correlation_id: r.i32()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.i32(self.correlation_id);
        Ok(())
    }
}

impl CommandBody for ExceptionResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ExceptionResponse {
            command_id,
            response_required,
            correlation_id: r.i32()?,
            exception: Throwable::read_opt(r)?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.i32(self.correlation_id);
        Throwable::write_opt(self.exception.as_ref(), w)
    }
}

impl CommandBody for DataResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(DataResponse {
            command_id,
            response_required,
            correlation_id: r.i32()?,
            data: r.nested::<DataStructure>()?.map(Box::new),
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.i32(self.correlation_id);
        w.nested(self.data.as_deref())
    }
}

impl CommandBody for DataArrayResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(DataArrayResponse {
            command_id,
            response_required,
            correlation_id: r.i32()?,
            data: r.array_of()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.i32(self.correlation_id);
        w.array_of(self.data.as_deref())
    }
}

impl CommandBody for IntegerResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(IntegerResponse {
            command_id,
            response_required,
            correlation_id: r.i32()?,
            result: r.i32()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.i32(self.correlation_id);
        w.i32(self.result);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::{Bytes, BytesMut};

    #[test]
    fn exception_response_matches_the_reference_bytes() {
        // Reference 4.5: ExceptionResponse{commandId=4, corr=2, javax.jms.JMSException "no"}.
        let mut e = ExceptionResponse::new(2, "javax.jms.JMSException", "no");
        e.command_id = 4;
        let mut out = BytesMut::new();
        assert!(e.write(&mut Writer::new(&mut out, false)).is_ok());
        let mut want = vec![0, 0, 0, 4, 0, 0, 0, 0, 2, 1, 1, 0, 22];
        want.extend_from_slice(b"javax.jms.JMSException");
        want.extend_from_slice(&[1, 0, 2, b'n', b'o']);
        assert_eq!(&out[..], &want[..]);
    }

    #[test]
    fn stack_traces_only_with_the_flag() {
        let t = Throwable {
            stack_trace: vec![StackTraceElement {
                class_name: Some("A".into()),
                line_number: 3,
                ..StackTraceElement::default()
            }],
            cause: Some(Box::new(Throwable::new("B", "inner"))),
            ..Throwable::new("C", "outer")
        };
        for traced in [false, true] {
            let mut out = BytesMut::new();
            assert!(Throwable::write_opt(Some(&t), &mut Writer::new(&mut out, traced)).is_ok());
            let b: Bytes = out.freeze();
            let opts = ReadOptions {
                max_depth: 4,
                stack_traces: traced,
            };
            let mut r = Reader::new(&b, 0, opts);
            let back = Throwable::read_opt(&mut r).ok().flatten();
            assert!(r.finish().is_ok());
            let want = if traced {
                t.clone()
            } else {
                Throwable::new("C", "outer")
            };
            assert_eq!(back, Some(want));
        }
    }
}
