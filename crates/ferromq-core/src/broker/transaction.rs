//! Local transactions: sends are held until commit, acks are applied at commit, and a rollback
//! (explicit, or the connection going away) drops the sends and redelivers the acked messages.

use ferromq_journal::Durable;

use super::state::State;
use super::{AckKind, ConnectionId, ConsumerId, CoreError, RollbackMode, TransactionAction};
use crate::message::Message;

/// An acknowledgement made inside a transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TransactionAck {
    pub consumer: ConsumerId,
    pub tag: u64,
    pub kind: AckKind,
}

/// What an open transaction has gathered.
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    pub sends: Vec<Message>,
    pub acks: Vec<TransactionAck>,
}

impl State {
    pub async fn transaction(
        &mut self,
        conn: ConnectionId,
        name: String,
        action: TransactionAction,
        mode: RollbackMode,
    ) -> Result<Option<Durable>, CoreError> {
        let connection = self
            .connections
            .get_mut(&conn)
            .ok_or(CoreError::ShuttingDown)?;
        match action {
            TransactionAction::Begin => {
                if connection.transactions.contains_key(&name) {
                    // A failover client replays BEGIN; ActiveMQ treats it as a no-op.
                    if mode == RollbackMode::KeepWithConsumer {
                        return Ok(None);
                    }
                    return Err(CoreError::TransactionExists(name));
                }
                connection.transactions.insert(name, Transaction::default());
                Ok(None)
            }
            TransactionAction::Commit => {
                let open = connection
                    .transactions
                    .remove(&name)
                    .ok_or(CoreError::UnknownTransaction(name))?;
                for ack in open.acks {
                    self.settle(ack.consumer, ack.tag, ack.kind);
                }
                let mut ops = Vec::new();
                for message in open.sends {
                    // Destinations were checked when each send joined the transaction; one that
                    // became invalid since (a temporary queue deleted) is logged, not fatal.
                    if let Err(err) = self.route(message, &mut ops) {
                        tracing::warn!(conn, %err, "transactional send dropped at commit");
                    }
                }
                self.append(ops).await
            }
            TransactionAction::Abort => {
                if !connection.transactions.contains_key(&name) {
                    return Err(CoreError::UnknownTransaction(name));
                }
                self.rollback(conn, &name, mode);
                Ok(None)
            }
        }
    }

    /// Discards a transaction's sends; its acked deliveries go back for redelivery or stay
    /// with their consumer, unacknowledged, depending on the protocol.
    pub fn rollback(&mut self, conn: ConnectionId, name: &str, mode: RollbackMode) {
        let Some(open) = self
            .connections
            .get_mut(&conn)
            .and_then(|c| c.transactions.remove(name))
        else {
            return;
        };
        for ack in open.acks {
            match mode {
                RollbackMode::Redeliver => self.settle(ack.consumer, ack.tag, AckKind::Nack),
                RollbackMode::KeepWithConsumer => {
                    if let Some(consumer) = self.consumers.get_mut(&ack.consumer) {
                        if let Some(held) = consumer.in_flight.get_mut(&ack.tag) {
                            held.in_transaction = false;
                        }
                        consumer.set_released(ack.tag, false);
                    }
                }
            }
        }
    }
}
