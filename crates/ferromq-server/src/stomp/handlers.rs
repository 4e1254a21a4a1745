//! What each client frame does once connected.

use std::collections::VecDeque;

use ferromq_core::{AckKind, AckMode, ConsumerSpec, DestinationKind, Selector};
use ferromq_stomp::{Command, Frame, Version};

use super::connection::{Connection, Flow, StompFailure, Subscription};
use super::convert;
use super::MAX_PENDING_SENDS;

/// ActiveMQ's default prefetch sizes: queues, non-durable topics, durable topics.
const QUEUE_PREFETCH: u32 = 1000;
const TOPIC_PREFETCH: u32 = 32766;
const DURABLE_TOPIC_PREFETCH: u32 = 100;

/// `Err(None)` closes quietly, `Err(Some(failure))` reports it first.
type FrameResult = Result<Flow, Option<StompFailure>>;

impl Connection {
    pub(super) async fn handle_frame(&mut self, frame: Frame) -> FrameResult {
        if frame.command != Command::Send && self.drain_sends().await == Flow::Close {
            return Err(None);
        }
        let receipt = frame.get("receipt").map(str::to_owned);
        match frame.command {
            Command::Send => return self.on_send(frame).await,
            Command::Subscribe => self.on_subscribe(&frame).await?,
            Command::Unsubscribe => self.on_unsubscribe(&frame).await?,
            Command::Ack | Command::Nack => self.on_ack(&frame).await?,
            Command::Begin | Command::Commit | Command::Abort => {
                self.on_transaction(&frame).await?
            }
            Command::Disconnect => {
                // Let go of the client id before the receipt: a client that reconnects with
                // the same id right after the receipt must not find it still in use.
                let seen = self.seen_by_consumers();
                self.session.detach_after(seen).await;
                if let Some(receipt) = receipt {
                    self.queue_receipt(&receipt);
                }
                return Ok(Flow::Close);
            }
            Command::Connect | Command::Stomp => {
                return Err(Some(StompFailure::fatal("already connected", &frame)))
            }
            Command::Connected | Command::Message | Command::Receipt | Command::Error => {
                let message = format!(
                    "{} is a server frame; a client may not send it",
                    frame.command.as_str()
                );
                return Err(Some(StompFailure::fatal(message, &frame)));
            }
        }
        if let Some(receipt) = receipt {
            self.queue_receipt(&receipt);
        }
        Ok(Flow::Continue)
    }

    async fn on_send(&mut self, frame: Frame) -> FrameResult {
        let destination = required(&frame, "destination")?;
        let destination = convert::parse_destination(destination, &self.temp_prefix)
            .map_err(|message| Some(StompFailure::fatal(message, &frame)))?;
        let receipt = frame.get("receipt").map(str::to_owned);
        let transaction = frame.get("transaction").map(str::to_owned);
        let failure_receipt = receipt.clone();
        let message = convert::message_from_send(frame, destination, &self.temp_prefix).map_err(
            |message| {
                Some(StompFailure {
                    message,
                    receipt: failure_receipt,
                    fatal: true,
                })
            },
        )?;
        let answer = self
            .session
            .send(message, transaction)
            .await
            .map_err(|_| None)?;
        self.pending.push(receipt, answer);
        if self.pending.len() >= MAX_PENDING_SENDS {
            // Frames already buffered keep coming through here; wait so the bound holds.
            if self.drain_sends().await == Flow::Close {
                return Err(None);
            }
        }
        Ok(Flow::Continue)
    }

    async fn on_subscribe(&mut self, frame: &Frame) -> Result<(), Option<StompFailure>> {
        let destination_text = required(frame, "destination")?;
        let id = match frame.get("id") {
            Some(id) => id.to_owned(),
            None if self.codec.version() == Version::V1_0 => destination_text.to_owned(),
            None => {
                return Err(Some(StompFailure::fatal(
                    "SUBSCRIBE needs an 'id' header",
                    frame,
                )))
            }
        };
        if self.subscriptions.contains_key(&id) {
            return Err(Some(StompFailure::fatal(
                format!("subscription id '{id}' is already in use"),
                frame,
            )));
        }
        let destination = convert::parse_destination(destination_text, &self.temp_prefix)
            .map_err(|message| Some(StompFailure::fatal(message, frame)))?;
        let ack = match frame.get("ack").unwrap_or("auto") {
            "auto" => AckMode::Auto,
            "client" => AckMode::Client,
            "client-individual" => AckMode::Individual,
            other => {
                let message =
                    format!("ack mode '{other}' is not one of auto, client, client-individual");
                return Err(Some(StompFailure::fatal(message, frame)));
            }
        };
        let selector = match frame.get("selector") {
            Some(text) if !text.trim().is_empty() => {
                Some(Selector::parse(text).map_err(|err| {
                    Some(StompFailure::fatal(
                        format!("invalid selector '{text}': {err}"),
                        frame,
                    ))
                })?)
            }
            _ => None,
        };
        let durable_name = frame
            .get("activemq.subscriptionName")
            .or_else(|| frame.get("durable-subscription-name"))
            .map(str::to_owned);
        let default_prefetch = match (destination.kind(), &durable_name) {
            (DestinationKind::Queue | DestinationKind::TempQueue, _) => QUEUE_PREFETCH,
            (_, Some(_)) => DURABLE_TOPIC_PREFETCH,
            (_, None) => TOPIC_PREFETCH,
        };
        let prefetch = match frame.get("activemq.prefetchSize") {
            Some(text) => text.trim().parse::<u32>().map_err(|_| {
                Some(StompFailure::fatal(
                    format!("activemq.prefetchSize '{text}' is not a number"),
                    frame,
                ))
            })?,
            None => default_prefetch,
        };
        // STOMP has no way to pull, so a prefetch of 0 would starve the consumer: take it as 1.
        let prefetch = prefetch.max(1);
        let spec = ConsumerSpec {
            destination,
            selector,
            ack_mode: ack,
            prefetch,
            exclusive: flag(frame, "activemq.exclusive"),
            durable_name,
            no_local: flag(frame, "activemq.noLocal"),
        };
        let receipt = frame.get("receipt").map(str::to_owned);
        let consumer = self
            .session
            .subscribe(spec)
            .await
            .map_err(|err| Some(StompFailure::from_core(&err, receipt)))?;
        self.consumers.insert(consumer, id.clone());
        self.subscriptions.insert(
            id,
            Subscription {
                consumer,
                ack,
                unacked: VecDeque::new(),
            },
        );
        Ok(())
    }

    async fn on_unsubscribe(&mut self, frame: &Frame) -> Result<(), Option<StompFailure>> {
        let id = frame.get("id").or_else(|| frame.get("destination"));
        let durable_name = frame
            .get("activemq.subscriptionName")
            .or_else(|| frame.get("durable-subscription-name"))
            .map(str::to_owned);
        let receipt = frame.get("receipt").map(str::to_owned);
        let found = id.and_then(|id| self.subscriptions.remove(id));
        match (&found, &durable_name) {
            (None, None) => {
                let message = format!("no subscription with id '{}'", id.unwrap_or(""));
                return Err(Some(StompFailure::fatal(message, frame)));
            }
            (Some(subscription), _) => {
                let seen = self.forget_consumer(subscription.consumer);
                self.session
                    .unsubscribe_after(subscription.consumer, seen)
                    .await
                    .map_err(|err| Some(StompFailure::from_core(&err, receipt.clone())))?;
            }
            (None, Some(_)) => {}
        }
        if let Some(name) = durable_name {
            self.session
                .remove_durable(name)
                .await
                .map_err(|err| Some(StompFailure::from_core(&err, receipt)))?;
        }
        Ok(())
    }

    async fn on_ack(&mut self, frame: &Frame) -> Result<(), Option<StompFailure>> {
        let (sub_id, tag) = self.resolve_ack(frame)?;
        let Some(subscription) = self.subscriptions.get_mut(&sub_id) else {
            return Err(Some(StompFailure::fatal("subscription went away", frame)));
        };
        let kind = match (frame.command, subscription.ack) {
            (Command::Nack, _) => AckKind::Nack,
            (_, AckMode::Client) => AckKind::Cumulative,
            (_, _) => AckKind::Individual,
        };
        let consumer = subscription.consumer;
        if kind.is_range() {
            subscription.unacked.retain(|(held, _)| *held > tag);
        } else {
            subscription.unacked.retain(|(held, _)| *held != tag);
        }
        let transaction = frame.get("transaction").map(str::to_owned);
        let receipt = frame.get("receipt").map(str::to_owned);
        // A receipt for an ACK promises the message will not come back, even after a crash.
        let confirm = receipt.is_some();
        let durable = self
            .session
            .ack(consumer, tag, kind, transaction, confirm)
            .await
            .map_err(|err| Some(StompFailure::from_core(&err, receipt.clone())))?;
        if let Some(durable) = durable {
            durable.await.map_err(|err| {
                Some(StompFailure::from_core(
                    &ferromq_core::CoreError::Store(err.to_string()),
                    receipt,
                ))
            })?;
        }
        Ok(())
    }

    /// Finds which delivery an ACK/NACK means: by the `id` header in STOMP 1.2, by
    /// `message-id` (and `subscription`) before.
    fn resolve_ack(&self, frame: &Frame) -> Result<(String, u64), Option<StompFailure>> {
        let unknown = |what: &str| {
            Some(StompFailure::fatal(
                format!("{} of an unknown message: {what}", frame.command.as_str()),
                frame,
            ))
        };
        if self.codec.version() == Version::V1_2 {
            let id = required(frame, "id")?;
            let parsed = id
                .split_once(':')
                .and_then(|(c, t)| Some((c.parse::<u64>().ok()?, t.parse::<u64>().ok()?)));
            let (consumer, tag) = parsed.ok_or_else(|| unknown(id))?;
            let sub_id = self.consumers.get(&consumer).ok_or_else(|| unknown(id))?;
            let held = self
                .subscriptions
                .get(sub_id)
                .is_some_and(|s| s.unacked.iter().any(|(t, _)| *t == tag));
            return if held {
                Ok((sub_id.clone(), tag))
            } else {
                Err(unknown(id))
            };
        }
        let message_id = required(frame, "message-id")?;
        let wanted_sub = frame.get("subscription");
        for (sub_id, subscription) in &self.subscriptions {
            if wanted_sub.is_some_and(|wanted| wanted != sub_id) {
                continue;
            }
            if let Some((tag, _)) = subscription.unacked.iter().find(|(_, id)| id == message_id) {
                return Ok((sub_id.clone(), *tag));
            }
        }
        Err(unknown(message_id))
    }

    async fn on_transaction(&mut self, frame: &Frame) -> Result<(), Option<StompFailure>> {
        let name = required(frame, "transaction")?.to_owned();
        let receipt = frame.get("receipt").map(str::to_owned);
        let to_failure =
            |err: ferromq_core::CoreError| Some(StompFailure::from_core(&err, receipt.clone()));
        match frame.command {
            Command::Begin => self.session.begin(name).await.map_err(to_failure),
            Command::Commit => {
                let durable = self.session.commit(name).await.map_err(to_failure)?;
                if let Some(durable) = durable {
                    durable.await.map_err(|err| {
                        to_failure(ferromq_core::CoreError::Store(err.to_string()))
                    })?;
                }
                Ok(())
            }
            _ => self.session.abort(name).await.map_err(to_failure),
        }
    }
}

fn required<'a>(frame: &'a Frame, header: &str) -> Result<&'a str, Option<StompFailure>> {
    frame.get(header).ok_or_else(|| {
        Some(StompFailure::fatal(
            format!("{} frame needs a '{header}' header", frame.command.as_str()),
            frame,
        ))
    })
}

fn flag(frame: &Frame, header: &str) -> bool {
    frame
        .get(header)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}
