package ferromq.jms;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

import org.apache.activemq.ActiveMQConnection;
import org.apache.activemq.transport.TransportListener;

/**
 * {@code failover:(tcp://...)} across a broker restart: a producer keeps sending persistent
 * messages and a consumer keeps receiving while the broker is stopped and started again on the
 * same port. Afterwards every message has arrived; a message that arrived twice carries
 * JMSRedelivered the second time. The restart is done by the runner (see Context#restartBroker).
 */
final class Failover {
    private Failover() {
    }

    /** Counts transport interruptions and resumptions of one connection. */
    private static final class Watch implements TransportListener {
        final AtomicInteger interrupted = new AtomicInteger();
        final AtomicInteger resumed = new AtomicInteger();

        @Override
        public void onCommand(Object command) {
        }

        @Override
        public void onException(IOException error) {
        }

        @Override
        public void transportInterupted() { // sic: ActiveMQ's spelling
            interrupted.incrementAndGet();
        }

        @Override
        public void transportResumed() {
            resumed.incrementAndGet();
        }
    }

    static void run(Context ctx) throws Exception {
        int beforeRestart = Integer.parseInt(ctx.param("before", "100"));
        int afterRestart = Integer.parseInt(ctx.param("after", "100"));
        String url = "failover:(" + ctx.url() + ")?initialReconnectDelay=100&maxReconnectDelay=1000"
                + "&useExponentialBackOff=false&timeout=60000";
        ctx.log("connecting to %s", url);

        Connection consuming = ctx.connect(ctx.factoryFor(url));
        Connection producing = ctx.connect(ctx.factoryFor(url));
        Watch consumerWatch = new Watch();
        Watch producerWatch = new Watch();
        ((ActiveMQConnection) consuming).addTransportListener(consumerWatch);
        ((ActiveMQConnection) producing).addTransportListener(producerWatch);

        ctx.log("connected");
        Session consumerSession = consuming.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = consumerSession.createQueue(ctx.name("failover"));
        Map<Integer, List<Boolean>> deliveries = new HashMap<>();
        List<String> strays = new ArrayList<>();
        consumerSession.createConsumer(queue).setMessageListener(message -> {
            synchronized (deliveries) {
                try {
                    int n = message.getIntProperty("n");
                    deliveries.computeIfAbsent(n, k -> new ArrayList<>())
                            .add(message.getJMSRedelivered());
                } catch (Exception e) {
                    strays.add(String.valueOf(e));
                }
                deliveries.notifyAll();
            }
        });

        ctx.log("consuming");
        Session producerSession = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = producerSession.createProducer(queue);
        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
        CountDownLatch reachedRestartPoint = new CountDownLatch(1);
        AtomicBoolean restarted = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        // When the first send completed after the runner said the broker was back.
        AtomicReference<Long> firstSendAfterRestart = new AtomicReference<>();
        AtomicReference<Throwable> producerError = new AtomicReference<>();
        Thread sender = new Thread(() -> {
            try {
                int sinceRestart = 0;
                for (int n = 0; !restarted.get() || sinceRestart < afterRestart; n++) {
                    Message message = producerSession.createTextMessage("failover-" + n);
                    message.setIntProperty("n", n);
                    // A sync persistent send: during the outage it blocks until the failover
                    // transport has reconnected and resent it (bounded by timeout=60000).
                    long before = System.nanoTime();
                    producer.send(message);
                    long took = (System.nanoTime() - before) / 1_000_000;
                    if (took >= 1000) {
                        ctx.log("send of message %d took %d ms", n, took);
                    }
                    sent.incrementAndGet();
                    if (n + 1 == beforeRestart) {
                        reachedRestartPoint.countDown();
                    }
                    if (restarted.get()) {
                        sinceRestart++;
                        firstSendAfterRestart.compareAndSet(null, System.nanoTime());
                    }
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                producerError.set(t);
            } finally {
                reachedRestartPoint.countDown();
            }
        }, "failover-producer");
        sender.start();

        Context.check(reachedRestartPoint.await(Context.TIMEOUT_MS * 3, TimeUnit.MILLISECONDS),
                "the producer did not send %d messages", beforeRestart);
        Context.check(producerError.get() == null, "the producer failed before the restart: %s",
                producerError.get());
        ctx.log("%d sent; restarting the broker while sending", sent.get());
        ctx.restartBroker(120_000);
        long backAt = System.nanoTime();
        restarted.set(true);
        sender.join(120_000);
        Context.check(!sender.isAlive(), "the producer is still sending 120 s after the restart");
        Context.check(producerError.get() == null, "the producer failed: %s", producerError.get());
        long resumeMs = (firstSendAfterRestart.get() - backAt) / 1_000_000;
        Context.check(resumeMs <= Context.TIMEOUT_MS,
                "the producer's first send completed %d ms after the broker was back", resumeMs);
        int total = sent.get();
        ctx.log("%d sent in all, sending resumed %d ms after the restart; waiting for the consumer",
                total, resumeMs);

        long deadline = System.currentTimeMillis() + 60_000;
        synchronized (deliveries) {
            while (deliveries.size() < total && System.currentTimeMillis() < deadline) {
                deliveries.wait(Math.max(1, deadline - System.currentTimeMillis()));
            }
            TreeSet<Integer> missing = new TreeSet<>();
            for (int n = 0; n < total; n++) {
                if (!deliveries.containsKey(n)) {
                    missing.add(n);
                }
            }
            Context.check(missing.isEmpty(), "%d of %d messages lost across the restart: %s",
                    missing.size(), total, missing);
            Context.check(strays.isEmpty(), "the consumer got unexpected messages: %s", strays);
            int duplicates = 0;
            for (Map.Entry<Integer, List<Boolean>> entry : deliveries.entrySet()) {
                Context.check(entry.getKey() < total, "message %d was never sent", entry.getKey());
                List<Boolean> flags = entry.getValue();
                for (int i = 1; i < flags.size(); i++) {
                    duplicates++;
                    Context.check(flags.get(i), "message %d arrived %d times, a repeat without "
                            + "JMSRedelivered (flags %s)", entry.getKey(), flags.size(), flags);
                }
            }
            Context.check(
                    consumerWatch.interrupted.get() > 0 && producerWatch.interrupted.get() > 0,
                    "the restart did not interrupt the connections (consumer %d, producer %d)",
                    consumerWatch.interrupted.get(), producerWatch.interrupted.get());
            Context.check(consumerWatch.resumed.get() > 0 && producerWatch.resumed.get() > 0,
                    "the connections did not resume after the restart");
            ctx.log("all %d messages received across the restart, %d redelivered repeats", total,
                    duplicates);
        }
    }
}
