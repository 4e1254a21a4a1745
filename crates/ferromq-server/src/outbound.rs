//! When a connection writes what the core queued for it.

/// How many times a connection task lets the runtime's other ready tasks run before it
/// writes the deliveries the core queued for it.
///
/// On a busy broker the tasks ready at that moment are mostly other connections reading
/// sends and writing receipts: producers waiting for a receipt are what paces persistent
/// throughput, while a delivery written a few task switches later loses nothing, and the
/// deliveries routed meanwhile go out in the same write. On an idle runtime a yield returns
/// at once. Measured on the 2-CPU test VM (`ferromq bench`, broker and client on the same
/// CPUs, bench/RESULTS.md 2026-12-05): 8 persistent producers with a receipt per message and
/// 2 consumers, means of three runs, 12.1k → 14.1k and 13.2k → 14.8k msg/s, with less broker
/// CPU; non-persistent 1 producer / 1 consumer 110k → 115k msg/s; one producer and one
/// consumer at a time (no queueing) end-to-end p50 +10–25 µs. One yield gave about half the
/// gain, 8 no more than 4.
/// The OpenWire adapter does not yield: with the Java client the same workload measured
/// 3 % slower with it (5.67–5.68k against 5.82–5.86k msg/s), the JVM rather than the broker
/// being the bottleneck there.
pub(crate) const YIELDS_BEFORE_DELIVERY: u32 = 4;

/// Lets the other ready tasks of the runtime go first, [`YIELDS_BEFORE_DELIVERY`] times.
pub(crate) async fn let_others_go_first() {
    for _ in 0..YIELDS_BEFORE_DELIVERY {
        tokio::task::yield_now().await;
    }
}
