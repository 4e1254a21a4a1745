//! Lets selectors read a message's JMS headers and user properties.

use ferromq_selector::{PropertySource, Value};

use crate::message::{Message, PropertyValue};

impl PropertySource for Message {
    fn get(&self, identifier: &str) -> Option<Value> {
        match identifier {
            "JMSPriority" => Some(Value::Long(i64::from(self.priority))),
            "JMSTimestamp" => Some(Value::Long(self.timestamp)),
            "JMSExpiration" => Some(Value::Long(self.expiration)),
            "JMSMessageID" => Some(Value::String(self.id.clone())),
            "JMSCorrelationID" => self.correlation_id.clone().map(Value::String),
            "JMSType" => self.message_type.clone().map(Value::String),
            "JMSDeliveryMode" => Some(Value::String(
                if self.persistent {
                    "PERSISTENT"
                } else {
                    "NON_PERSISTENT"
                }
                .to_owned(),
            )),
            "JMSDestination" => Some(Value::String(self.destination.name().to_owned())),
            "JMSReplyTo" => self
                .reply_to
                .as_ref()
                .map(|dest| Value::String(dest.name().to_owned())),
            name => self.property(name).map(to_selector_value),
        }
    }
}

fn to_selector_value(value: &PropertyValue) -> Value {
    match value {
        PropertyValue::Bool(v) => Value::Bool(*v),
        PropertyValue::Byte(v) => Value::Long(i64::from(*v)),
        PropertyValue::Short(v) => Value::Long(i64::from(*v)),
        PropertyValue::Int(v) => Value::Long(i64::from(*v)),
        PropertyValue::Long(v) => Value::Long(*v),
        PropertyValue::Float(v) => Value::Double(f64::from(*v)),
        PropertyValue::Double(v) => Value::Double(*v),
        PropertyValue::String(v) => Value::String(v.clone()),
    }
}
