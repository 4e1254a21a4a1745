//! The core task's state and its main loop.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ferromq_journal::{Journal, Op};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::{interval, MissedTickBehavior};

use super::consumer::{owned_consumer, Consumer};
use super::flow::ParkedSend;
use super::paging::{PageIn, RecoveredFlags};
use super::queue::Space;
use super::transaction::Transaction;
use super::{AckReply, Command, ConnectionId, ConsumerId, CoreConfig, CoreError, Outbound};
use crate::message::now_millis;

/// Commands handled per wake-up before pending dispatch work runs; batching lets one dispatch
/// pass serve many sends and acks.
const COMMANDS_PER_PASS: usize = 256;
/// Journal operations nobody waits for (removals after acks, expiry) ride along with the next
/// write somebody does wait for, so they cost no fsync of their own; past this many, or at the
/// next clock tick, they are written anyway. Losing them in a crash only means redelivering
/// messages that were acknowledged without a receipt, which the recovery flags as redelivered.
const DEFERRED_OPS_LIMIT: usize = 1024;

/// A client connection as the core sees it.
#[derive(Debug)]
pub(crate) struct Connection {
    pub client_id: Option<String>,
    pub temp_prefix: String,
    pub peer: String,
    pub outbound: mpsc::Sender<Outbound>,
    /// Set by the core when `outbound` was full; the session answers with `Resume`.
    pub wake: Arc<AtomicBool>,
    pub paused: bool,
    pub consumers: Vec<ConsumerId>,
    pub transactions: HashMap<String, Transaction>,
    /// Keys of the temporary spaces this connection owns.
    pub temp_spaces: Vec<String>,
    /// Temporary topics this connection owns.
    pub temp_topics: Vec<crate::destination::Destination>,
    /// Sends held back by flow control; later sends of this connection queue behind them.
    pub parked_sends: usize,
}

#[derive(Debug)]
pub(crate) struct State {
    pub config: CoreConfig,
    pub journal: Option<Journal>,
    pub connections: HashMap<ConnectionId, Connection>,
    pub consumers: HashMap<ConsumerId, Consumer>,
    pub spaces: HashMap<String, Space>,
    /// Topic subscriptions (space keys) in creation order, matched against each publish.
    pub topic_subscriptions: Vec<String>,
    /// Consumers on wildcard queue names, attached to matching queues as they appear.
    pub wildcard_queue_consumers: Vec<ConsumerId>,
    /// Spaces whose dispatch should run at the end of this pass.
    pub dirty: BTreeSet<String>,
    /// Journal operations gathered during this pass that nobody waits for (acks, expiry).
    pub deferred_ops: Vec<Op>,
    pub parked: std::collections::VecDeque<ParkedSend>,
    /// Bytes held by all spaces.
    pub memory: usize,
    /// Memory was released this pass, so parked sends may fit now.
    pub memory_released: bool,
    pub next_seq: u64,
    pub next_connection: ConnectionId,
    pub next_consumer: ConsumerId,
    pub next_tag: u64,
    pub message_id_prefix: String,
    pub next_message_id: u64,
    pub shutting_down: bool,
    /// Messages published per topic, for the console.
    pub topic_publishes: HashMap<crate::destination::Destination, u64>,
    /// Temporary topics and their owning connections (temporary queues are spaces).
    pub temp_topics: HashMap<crate::destination::Destination, ConnectionId>,
    /// Highest sequence accepted per producer, to drop resends after a failover.
    pub producer_audit: HashMap<String, u64>,
    /// Producers in the audit, oldest first, so the audit stays bounded.
    pub producer_audit_order: std::collections::VecDeque<String>,
    /// Spaces with stored messages on disk only (see `paging`).
    pub paged_out: BTreeSet<String>,
    /// Reads of paged-out messages in flight.
    pub page_ins: JoinSet<PageIn>,
    pub next_ticket: u64,
    /// Which messages of the previous run come back flagged as redelivered.
    pub recovered_flags: RecoveredFlags,
}

impl State {
    pub fn new(config: CoreConfig, journal: Option<Journal>) -> Self {
        let message_id_prefix = format!("ID:{}-{}", config.broker_name, now_millis());
        State {
            config,
            journal,
            connections: HashMap::new(),
            consumers: HashMap::new(),
            spaces: HashMap::new(),
            topic_subscriptions: Vec::new(),
            wildcard_queue_consumers: Vec::new(),
            dirty: BTreeSet::new(),
            deferred_ops: Vec::new(),
            parked: std::collections::VecDeque::new(),
            memory: 0,
            memory_released: false,
            next_seq: 1,
            next_connection: 1,
            next_consumer: 1,
            next_tag: 1,
            message_id_prefix,
            next_message_id: 1,
            shutting_down: false,
            topic_publishes: HashMap::new(),
            temp_topics: HashMap::new(),
            producer_audit: HashMap::new(),
            producer_audit_order: std::collections::VecDeque::new(),
            paged_out: BTreeSet::new(),
            page_ins: JoinSet::new(),
            next_ticket: 1,
            recovered_flags: RecoveredFlags::default(),
        }
    }

    /// The loop: take a batch of commands, then dispatch whatever they made ready.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut expiry = interval(self.config.expiry_check_period);
        expiry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shutdown_reply: Option<oneshot::Sender<()>> = None;
        loop {
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    if let Some(reply) = self.handle(command).await {
                        shutdown_reply = Some(reply);
                    }
                    for _ in 1..COMMANDS_PER_PASS {
                        let Ok(command) = commands.try_recv() else { break };
                        if let Some(reply) = self.handle(command).await {
                            shutdown_reply = Some(reply);
                        }
                    }
                }
                Some(page) = self.page_ins.join_next(), if !self.page_ins.is_empty() => {
                    match page {
                        Ok(page) => self.paged_in(page),
                        // Only a panic in the decoder could get here; the space stays marked
                        // as reading, so it is not hammered again.
                        Err(err) => tracing::error!(%err, "a page-in task failed"),
                    }
                }
                _ = expiry.tick() => {
                    self.expire_pending(now_millis());
                    self.flush_deferred_ops().await;
                    // The journal frees space after the acks that free it, so producers held
                    // by the store limit are looked at again on this clock too.
                    self.memory_released |= !self.parked.is_empty();
                }
            }
            self.end_of_pass().await;
            if shutdown_reply.is_some() {
                break;
            }
        }
        self.stop().await;
        if let Some(reply) = shutdown_reply {
            // The caller may have given up waiting; nothing to do about that.
            let _ = reply.send(());
        }
    }

    async fn handle(&mut self, command: Command) -> Option<oneshot::Sender<()>> {
        match command {
            Command::Connect {
                request,
                outbound,
                wake,
                reply,
            } => {
                let answer = self.connect(request, outbound, wake);
                let _ = reply.send(answer);
            }
            Command::Disconnect { conn, delivered } => self.disconnect(conn, &delivered),
            Command::Subscribe { conn, spec, reply } => {
                let answer = self.subscribe(conn, spec).await;
                let _ = reply.send(answer);
            }
            Command::Unsubscribe {
                conn,
                consumer,
                last_delivered,
                reply,
            } => {
                let _ = reply.send(self.unsubscribe(conn, consumer, last_delivered));
            }
            Command::RemoveDurable { conn, name, reply } => {
                let answer = self.remove_durable(conn, &name).await;
                let _ = reply.send(answer);
            }
            Command::Send {
                conn,
                message,
                transaction,
                reply,
            } => {
                self.send(conn, *message, transaction, reply).await;
            }
            Command::Ack {
                conn,
                consumer,
                from,
                tag,
                kind,
                transaction,
                reply,
            } => {
                let answer = self.ack(conn, consumer, (from, tag), kind, transaction);
                match reply {
                    Some(AckReply {
                        confirm,
                        answer: reply,
                    }) => {
                        let answer = match answer {
                            Ok(()) if confirm => self.append(Vec::new()).await,
                            Ok(()) => Ok(None),
                            Err(err) => Err(err),
                        };
                        let _ = reply.send(answer);
                    }
                    None => {
                        if let Err(err) = answer {
                            tracing::debug!(conn, consumer, tag, %err, "automatic ack refused");
                        }
                    }
                }
            }
            Command::Transaction {
                conn,
                name,
                action,
                rollback,
                reply,
            } => {
                let answer = self.transaction(conn, name, action, rollback).await;
                let _ = reply.send(answer);
            }
            Command::Pull {
                conn,
                consumer,
                wait,
            } => self.pull(conn, consumer, wait),
            Command::SetPrefetch {
                conn,
                consumer,
                prefetch,
            } => {
                if let Some(found) = owned_consumer(&mut self.consumers, conn, consumer) {
                    found.prefetch = prefetch;
                    let spaces = found.spaces.clone();
                    self.dirty.extend(spaces);
                }
            }
            Command::ProducerAdvisory {
                destination,
                producer,
                added,
            } => self.advise_producer(&destination, producer, added),
            Command::TempDestination {
                conn,
                destination,
                add,
                reply,
            } => {
                let _ = reply.send(self.temp_destination(conn, destination, add));
            }
            Command::CancelPull { conn, consumer } => self.cancel_pull(conn, consumer),
            Command::Resume { conn } => {
                if let Some(connection) = self.connections.get_mut(&conn) {
                    connection.paused = false;
                    let spaces: Vec<String> = connection
                        .consumers
                        .iter()
                        .filter_map(|id| self.consumers.get(id))
                        .flat_map(|consumer| consumer.spaces.iter().cloned())
                        .collect();
                    self.dirty.extend(spaces);
                }
            }
            Command::Admin(request) => self.admin(request),
            Command::Shutdown { reply } => {
                self.shutting_down = true;
                return Some(reply);
            }
        }
        None
    }

    /// Work deferred to the end of a pass: dispatch, parked sends, unwaited journal writes.
    async fn end_of_pass(&mut self) {
        if self.memory_released {
            self.memory_released = false;
            self.admit_parked().await;
        }
        while let Some(key) = self.dirty.pop_first() {
            self.dispatch(&key);
        }
        if !self.paged_out.is_empty() {
            self.request_page_ins().await;
        }
        if self.deferred_ops.len() >= DEFERRED_OPS_LIMIT {
            self.flush_deferred_ops().await;
        }
    }

    /// Writes the operations nobody waits for (removals after acks, expiry, dead-lettering).
    pub async fn flush_deferred_ops(&mut self) {
        // Nobody waits for these, so the durability future is dropped.
        if let Err(err) = self.append(Vec::new()).await {
            tracing::error!(%err, "journal refused acknowledgement records");
        }
    }

    /// Appends a batch somebody waits for and returns its durability future.
    pub async fn append(
        &mut self,
        ops: Vec<Op>,
    ) -> Result<Option<ferromq_journal::Durable>, CoreError> {
        if ops.is_empty() && self.deferred_ops.is_empty() {
            return Ok(None);
        }
        let Some(journal) = &self.journal else {
            self.deferred_ops.clear();
            return Ok(None);
        };
        // Removals gathered earlier in this pass go first so the journal sees events in order.
        let mut batch = std::mem::take(&mut self.deferred_ops);
        batch.extend(ops);
        journal
            .append(batch)
            .await
            .map(Some)
            .map_err(|err| CoreError::Store(err.to_string()))
    }

    async fn stop(&mut self) {
        for connection in self.connections.values() {
            let _ = connection.outbound.try_send(Outbound::Close {
                reason: "the broker is shutting down".into(),
            });
        }
        let parked = std::mem::take(&mut self.parked);
        for send in parked {
            let _ = send.reply.send(Err(CoreError::ShuttingDown));
        }
        self.remember_deliveries();
        self.flush_deferred_ops().await;
        if let Some(journal) = &self.journal {
            if let Err(err) = journal.close().await {
                tracing::error!(%err, "closing the journal failed");
            }
        }
    }

    /// A fresh sequence number: orders messages within a space and names them in the journal.
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// A broker-made message id for messages whose producer did not supply one.
    pub fn new_message_id(&mut self) -> String {
        let id = format!("{}:{}", self.message_id_prefix, self.next_message_id);
        self.next_message_id += 1;
        id
    }
}
