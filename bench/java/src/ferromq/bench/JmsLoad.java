package ferromq.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;

import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * A JMS load generator for any OpenWire broker (Apache ActiveMQ 5.x, FerroMQ), built on the
 * genuine ActiveMQ Java client with its default settings, so that both brokers see exactly what a
 * plain JMS application sends them.
 *
 * <pre>
 *   java -cp CLASSPATH ferromq.bench.JmsLoad --url tcp://127.0.0.1:61616 \
 *       --destination queue://bench --producers 1 --consumers 1 --size 256 --count 200000 \
 *       [--warmup N] [--persistent] [--async-send] [--timeout SECONDS] [--label TEXT] \
 *       [--progress-every SECONDS]
 * </pre>
 *
 * <p>Every producer and every consumer has its own connection and session. Consumers use
 * {@code AUTO_ACKNOWLEDGE} and the client's default prefetch; they are subscribed before the
 * first message is sent. Producers send {@code BytesMessage}s of {@code --size} body bytes.
 * Without {@code --async-send} the client's defaults apply: persistent messages are sent
 * synchronously (each send waits for the broker's answer), non-persistent ones asynchronously.
 * {@code --async-send} sets {@code useAsyncSend}, which makes persistent sends asynchronous too.
 *
 * <p>The run has two phases. The warm-up messages (default none) are sent and received first and
 * are not measured. Then the measured messages are sent; throughput is the number of measured
 * messages divided by the time from releasing the producers to the last measured delivery.
 * Each message carries its send time ({@code System.nanoTime()} of this JVM, property
 * {@code benchSentNs}), and each consumer records receive time minus send time; percentiles come
 * from the sorted array of all samples.
 *
 * <p>Output: progress and a human-readable summary on stderr, one JSON line on stdout. Exit code
 * 0 when every message arrived exactly as often as expected (once per queue, once per consumer
 * for a topic), 1 when messages are missing or duplicated, an error occurred or the time limit
 * ran out, 2 for bad arguments.
 */
public final class JmsLoad {
    private static final String ID = "benchId";
    private static final String SENT_NS = "benchSentNs";

    // Arguments.
    private String url;
    private String destinationName = "queue://ferromq.bench";
    private int producers = 1;
    private int consumers = 1;
    private int size = 256;
    private int count = 10000;
    private int warmup;
    private boolean persistent;
    private boolean asyncSend;
    private long timeoutSeconds = 90;
    private String label = "";
    private long progressEverySeconds;

    // Shared state.
    private boolean topic;
    private int copies;
    private AtomicIntegerArray seen;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong warmReceived = new AtomicLong();
    private final AtomicLong measuredReceived = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong badBodies = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicLong errors = new AtomicLong();
    private final CountDownLatch warmDone = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);
    private final CountDownLatch measuredDone = new CountDownLatch(1);
    private volatile boolean stopping;
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile long measureStartNs;
    private volatile long measureEndNs;
    private long setupMs;
    private final AtomicLong slowSetupSteps = new AtomicLong();
    private long warmupMs;
    private long closeMs;
    private final List<Connection> connections = new ArrayList<>();
    private final List<ConsumerLoop> consumerLoops = new ArrayList<>();

    private JmsLoad() {
    }

    public static void main(String[] args) {
        JmsLoad load = new JmsLoad();
        try {
            load.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: JmsLoad --url URL [--destination queue://NAME|topic://NAME]"
                    + " [--producers P] [--consumers C] [--size BYTES] [--count N] [--warmup N]"
                    + " [--persistent] [--async-send] [--timeout SECONDS] [--label TEXT]"
                    + " [--progress-every SECONDS]");
            System.exit(2);
        }
        System.exit(load.run());
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--persistent":
                    persistent = true;
                    continue;
                case "--async-send":
                    asyncSend = true;
                    continue;
                default:
                    break;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--url": url = v; break;
                case "--destination": destinationName = v; break;
                case "--producers": producers = positive(a, v, 1); break;
                case "--consumers": consumers = positive(a, v, 1); break;
                case "--size": size = positive(a, v, 0); break;
                case "--count": count = positive(a, v, 1); break;
                case "--warmup": warmup = positive(a, v, 0); break;
                case "--timeout": timeoutSeconds = positive(a, v, 1); break;
                case "--label": label = v; break;
                case "--progress-every": progressEverySeconds = positive(a, v, 0); break;
                default: throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (url == null) {
            throw new IllegalArgumentException("--url is required");
        }
        if ((long) count + warmup > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("--count plus --warmup is too large");
        }
    }

    private static int positive(String name, String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " wants a number, not " + value);
        }
        if (n < min) {
            throw new IllegalArgumentException(name + " must be at least " + min);
        }
        return n;
    }

    private void fail(String what, Throwable e) {
        errors.incrementAndGet();
        String text = what + ": " + e;
        if (firstError.compareAndSet(null, text)) {
            System.err.println("error: " + text);
        }
    }

    private Connection connect(ActiveMQConnectionFactory factory, String role) throws JMSException {
        Connection c = timed(role + ": createConnection", factory::createConnection);
        synchronized (connections) {
            connections.add(c);
        }
        c.setExceptionListener(e -> fail(role + " connection", e));
        timed(role + ": start", () -> {
            c.start();
            return c;
        });
        return c;
    }

    /** A set-up step that may throw JMSException. */
    private interface Step<T> {
        T get() throws JMSException;
    }

    /** Runs one set-up step; a step that takes longer than a second is reported on stderr. */
    private <T> T timed(String what, Step<T> step) throws JMSException {
        long start = System.nanoTime();
        T result = step.get();
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (ms >= 1000) {
            slowSetupSteps.incrementAndGet();
            System.err.println("warning: slow set-up: " + what + " took " + ms + " ms");
        }
        return result;
    }

    private Destination destination(Session session) throws JMSException {
        String name = destinationName;
        if (name.startsWith("topic://")) {
            return session.createTopic(name.substring("topic://".length()));
        }
        if (name.startsWith("queue://")) {
            name = name.substring("queue://".length());
        }
        return session.createQueue(name);
    }

    private int run() {
        topic = destinationName.startsWith("topic://");
        copies = topic ? consumers : 1;
        seen = new AtomicIntegerArray(count + warmup);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);

        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url);
        if (asyncSend) {
            factory.setUseAsyncSend(true);
        }

        startWatchdog(deadline);
        List<Thread> threads = new ArrayList<>();
        long setupStartNs = System.nanoTime();
        try {
            for (int c = 0; c < consumers; c++) {
                String role = "consumer " + c;
                Connection conn = connect(factory, role);
                Session session = timed(role + ": createSession",
                        () -> conn.createSession(false, Session.AUTO_ACKNOWLEDGE));
                MessageConsumer consumer = timed(role + ": createConsumer",
                        () -> session.createConsumer(destination(session)));
                ConsumerLoop loop = new ConsumerLoop(c, consumer);
                consumerLoops.add(loop);
                threads.add(new Thread(loop, "consumer-" + c));
            }
            for (int p = 0; p < producers; p++) {
                String role = "producer " + p;
                Connection conn = connect(factory, role);
                Session session = timed(role + ": createSession",
                        () -> conn.createSession(false, Session.AUTO_ACKNOWLEDGE));
                MessageProducer producer = timed(role + ": createProducer",
                        () -> session.createProducer(destination(session)));
                producer.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
                threads.add(new Thread(new ProducerLoop(p, session, producer), "producer-" + p));
            }
        } catch (JMSException | RuntimeException e) {
            fail("setting up connections to " + url, e);
            stopping = true;
            boolean closedCleanly = closeAll();
            report(false, false, 0, (long) count * copies, System.nanoTime(), closedCleanly);
            return 1;
        }

        setupMs = (System.nanoTime() - setupStartNs) / 1_000_000;
        if (progressEverySeconds > 0) {
            Thread progress = new Thread(this::reportProgress, "progress");
            progress.setDaemon(true);
            progress.start();
        }
        for (Thread t : threads) {
            t.setDaemon(true);
            t.start();
        }

        boolean completed = false;
        try {
            if (await(warmDone, deadline)) {
                measureStartNs = System.nanoTime();
                warmupMs = (measureStartNs - setupStartNs) / 1_000_000 - setupMs;
                go.countDown();
                completed = await(measuredDone, deadline);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long endNs = completed ? measureEndNs : System.nanoTime();
        if (!completed && firstError.get() == null) {
            System.err.println("error: time limit of " + timeoutSeconds + " s reached ("
                    + (warmDone.getCount() > 0 ? "warm-up" : "measured phase") + ")");
        }
        stopping = true;
        go.countDown();
        for (Thread t : threads) {
            try {
                t.join(completed ? 2000 : 200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        boolean closedCleanly = closeAll();

        long received = measuredReceived.get();
        long expected = (long) count * copies;
        boolean ok = completed && received == expected && duplicates.get() == 0 && badBodies.get() == 0
                && errors.get() == 0;
        report(ok, completed, received, expected, endNs, closedCleanly);
        return ok ? 0 : 1;
    }

    /**
     * The measuring code stops at the deadline by itself, but set-up and closing call into the
     * client, which can block for ever on a broker that does not answer. Fifteen seconds after
     * the deadline this prints what there is and ends the process.
     */
    private void startWatchdog(long deadline) {
        Thread watchdog = new Thread(() -> {
            long waitNs = deadline + TimeUnit.SECONDS.toNanos(15) - System.nanoTime();
            try {
                if (waitNs > 0) {
                    TimeUnit.NANOSECONDS.sleep(waitNs);
                }
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("error: still running 15 s after the time limit of " + timeoutSeconds
                    + " s (set-up or closing blocked in the client); giving up");
            errors.incrementAndGet();
            stopping = true;
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            report(false, false, measuredReceived.get(), (long) count * copies, System.nanoTime(), false);
            Runtime.getRuntime().halt(1);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Waits for the latch until the deadline or the first error; true when the latch opened. */
    private boolean await(CountDownLatch latch, long deadline) throws InterruptedException {
        while (true) {
            if (firstError.get() != null) {
                return false;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (latch.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS)) {
                return true;
            }
        }
    }

    /** Closes every connection, giving all of them together at most 10 s. */
    private boolean closeAll() {
        long closeStartNs = System.nanoTime();
        Thread closer = new Thread(() -> {
            List<Connection> all;
            synchronized (connections) {
                all = new ArrayList<>(connections);
            }
            for (Connection c : all) {
                try {
                    c.close();
                } catch (JMSException | RuntimeException e) {
                    System.err.println("warning: closing a connection: " + e);
                }
            }
        }, "closer");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeMs = (System.nanoTime() - closeStartNs) / 1_000_000;
        if (closer.isAlive()) {
            System.err.println("warning: closing the connections took more than 10 s; gave up");
            return false;
        }
        return true;
    }

    private void reportProgress() {
        long start = System.nanoTime();
        long last = 0;
        while (!stopping) {
            try {
                Thread.sleep(progressEverySeconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            long r = measuredReceived.get();
            System.err.printf(Locale.ROOT, "progress %.0f s: %s, sent %d, warm-up received %d, received %d (+%d)%n",
                    (System.nanoTime() - start) / 1e9, go.getCount() > 0 ? "warm-up" : "measuring",
                    sent.get(), warmReceived.get(), r, r - last);
            last = r;
        }
    }

    private final class ProducerLoop implements Runnable {
        private final int index;
        private final Session session;
        private final MessageProducer producer;

        ProducerLoop(int index, Session session, MessageProducer producer) {
            this.index = index;
            this.session = session;
            this.producer = producer;
        }

        @Override
        public void run() {
            byte[] body = new byte[size];
            for (int i = 0; i < size; i++) {
                body[i] = (byte) ('a' + (i + index) % 26);
            }
            try {
                // Warm-up ids are count .. count+warmup-1, measured ids 0 .. count-1; each producer
                // sends a contiguous share of both.
                sendRange(body, count + share(warmup, index), count + share(warmup, index + 1), false);
                go.await();
                if (stopping) {
                    return;
                }
                sendRange(body, share(count, index), share(count, index + 1), true);
            } catch (JMSException | RuntimeException e) {
                if (!stopping) {
                    fail("producer " + index, e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void sendRange(byte[] body, int from, int to, boolean measured) throws JMSException {
            for (int id = from; id < to && !stopping; id++) {
                BytesMessage m = session.createBytesMessage();
                m.writeBytes(body);
                m.setIntProperty(ID, id);
                m.setLongProperty(SENT_NS, System.nanoTime());
                producer.send(m);
                if (measured) {
                    sent.incrementAndGet();
                }
            }
        }
    }

    private int share(int total, int index) {
        return (int) ((long) total * index / producers);
    }

    private final class ConsumerLoop implements Runnable {
        private final int index;
        private final MessageConsumer consumer;
        private long[] latencyUs = new long[1 << 16];
        private int samples;

        ConsumerLoop(int index, MessageConsumer consumer) {
            this.index = index;
            this.consumer = consumer;
        }

        @Override
        public void run() {
            long warmExpected = (long) warmup * copies;
            long measuredExpected = (long) count * copies;
            if (warmExpected == 0) {
                warmDone.countDown();
            }
            try {
                while (!stopping) {
                    Message m = consumer.receive(200);
                    if (m == null) {
                        continue;
                    }
                    long now = System.nanoTime();
                    int id = m.getIntProperty(ID);
                    long sentNs = m.getLongProperty(SENT_NS);
                    if (id < 0 || id >= seen.length()) {
                        throw new IllegalStateException("message with unexpected " + ID + " " + id);
                    }
                    if (!(m instanceof BytesMessage) || ((BytesMessage) m).getBodyLength() != size) {
                        if (badBodies.incrementAndGet() == 1) {
                            System.err.println("error: message " + id + " arrived with a different body: " + m);
                        }
                    }
                    if (seen.incrementAndGet(id) > copies) {
                        if (duplicates.incrementAndGet() == 1) {
                            System.err.println("error: message " + id + " arrived more often than expected"
                                    + " (JMSRedelivered=" + m.getJMSRedelivered() + ")");
                        }
                        continue;
                    }
                    if (id >= count) {
                        if (warmReceived.incrementAndGet() == warmExpected) {
                            warmDone.countDown();
                        }
                        continue;
                    }
                    record((now - sentNs) / 1000);
                    if (measuredReceived.incrementAndGet() == measuredExpected) {
                        measureEndNs = now;
                        measuredDone.countDown();
                    }
                }
            } catch (JMSException | RuntimeException e) {
                if (!stopping) {
                    fail("consumer " + index, e);
                }
            }
        }

        private synchronized void record(long us) {
            if (samples == latencyUs.length) {
                latencyUs = Arrays.copyOf(latencyUs, samples * 2);
            }
            latencyUs[samples++] = us;
        }
    }

    private void report(boolean ok, boolean completed, long received, long expected, long endNs,
            boolean closedCleanly) {
        if (reported.getAndSet(true)) {
            return;
        }
        long[] all = new long[0];
        StringBuilder perConsumer = new StringBuilder();
        for (ConsumerLoop c : consumerLoops) {
            synchronized (c) {
                int at = all.length;
                all = Arrays.copyOf(all, at + c.samples);
                System.arraycopy(c.latencyUs, 0, all, at, c.samples);
                perConsumer.append(perConsumer.length() == 0 ? "" : ",").append(c.samples);
            }
        }
        int n = all.length;
        Arrays.sort(all);
        double seconds = measureStartNs > 0 ? Math.max(endNs - measureStartNs, 1) / 1e9 : 0;
        double msgPerS = seconds > 0 ? received / seconds : 0;
        double mbPerS = msgPerS * size / 1e6;

        StringBuilder j = new StringBuilder(512);
        j.append('{');
        field(j, "label", label).append(',');
        field(j, "tool", "JmsLoad/activemq-client").append(',');
        field(j, "url", url).append(',');
        field(j, "destination", destinationName).append(',');
        j.append("\"producers\":").append(producers).append(',');
        j.append("\"consumers\":").append(consumers).append(',');
        j.append("\"size\":").append(size).append(',');
        j.append("\"count\":").append(count).append(',');
        j.append("\"warmup\":").append(warmup).append(',');
        j.append("\"persistent\":").append(persistent).append(',');
        j.append("\"async_send\":").append(asyncSend).append(',');
        j.append("\"completed\":").append(ok).append(',');
        j.append("\"sent\":").append(sent.get()).append(',');
        j.append("\"received\":").append(received).append(',');
        j.append("\"expected\":").append(expected).append(',');
        j.append("\"duplicates\":").append(duplicates.get()).append(',');
        j.append("\"bad_bodies\":").append(badBodies.get()).append(',');
        j.append("\"errors\":").append(errors.get()).append(',');
        j.append("\"per_consumer\":[").append(perConsumer).append("],");
        j.append("\"elapsed_s\":").append(String.format(Locale.ROOT, "%.3f", seconds)).append(',');
        j.append("\"msg_per_s\":").append(String.format(Locale.ROOT, "%.1f", msgPerS)).append(',');
        j.append("\"mb_per_s\":").append(String.format(Locale.ROOT, "%.2f", mbPerS)).append(',');
        j.append("\"latency_us\":{");
        j.append("\"samples\":").append(n).append(',');
        j.append("\"p50\":").append(percentile(all, 0.50)).append(',');
        j.append("\"p99\":").append(percentile(all, 0.99)).append(',');
        j.append("\"p999\":").append(percentile(all, 0.999)).append(',');
        j.append("\"max\":").append(n > 0 ? all[n - 1] : 0).append("},");
        j.append("\"setup_ms\":").append(setupMs).append(',');
        j.append("\"slow_setup_steps\":").append(slowSetupSteps.get()).append(',');
        j.append("\"warmup_ms\":").append(warmupMs).append(',');
        j.append("\"close_ms\":").append(closeMs).append(',');
        j.append("\"closed_cleanly\":").append(closedCleanly).append(',');
        j.append("\"client_cpu_ms\":").append(processCpuMs());
        if (firstError.get() != null) {
            j.append(',');
            field(j, "first_error", firstError.get());
        }
        j.append('}');
        System.out.println(j);
        System.out.flush();

        System.err.printf(Locale.ROOT,
                "%s%s: %d/%d received (%d sent, %d duplicates, %d errors) in %.2f s: %.0f msg/s, %.2f MB/s;"
                        + " latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
                label.isEmpty() ? "" : label + ": ", ok ? "ok" : (completed ? "FAILED" : "INCOMPLETE"),
                received, expected, sent.get(), duplicates.get(), errors.get(), seconds, msgPerS, mbPerS,
                percentile(all, 0.50) / 1000.0, percentile(all, 0.99) / 1000.0,
                percentile(all, 0.999) / 1000.0, (n > 0 ? all[n - 1] : 0) / 1000.0);
    }

    /** CPU time this JVM has used (all threads, user and system), or -1 when unknown. */
    private static long processCpuMs() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            long ns = ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
            return ns < 0 ? -1 : ns / 1_000_000;
        }
        return -1;
    }

    /** The smallest sample with at least the fraction q of all samples at or below it. */
    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
    }

    private static StringBuilder field(StringBuilder j, String name, String value) {
        j.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                j.append('\\').append(c);
            } else if (c < 0x20) {
                j.append(String.format("\\u%04x", (int) c));
            } else {
                j.append(c);
            }
        }
        return j.append('"');
    }
}
