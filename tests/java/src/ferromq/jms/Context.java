package ferromq.jms;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.TextMessage;

import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * What a scenario gets: the broker's address, its parameters, unique names, bounded receive
 * helpers, checks, and the restart hand-shake with whoever runs it.
 *
 * <p>Every wait here has a deadline ({@link #TIMEOUT_MS} unless said otherwise), so a broker that
 * never answers makes the scenario fail instead of hang. Connections opened through {@link
 * #connect} are closed at the end; an exception any of them reported to its ExceptionListener
 * fails the scenario, because the client only reports what it cannot recover from.
 */
final class Context {
    /** Bound for one expected message; generous for a loaded 2-core machine. */
    static final long TIMEOUT_MS = 10_000;

    /** The line a scenario prints when it needs the broker restarted now. */
    static final String RESTART_REQUEST = "@@RESTART";
    /** The line it then waits for on stdin. */
    static final String RESTART_DONE = "@@RESTARTED";

    final String scenario;
    private final Map<String, String> params;
    private final String tag;
    private final List<Connection> connections = new ArrayList<>();
    private final List<String> connectionErrors = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger markers = new AtomicInteger();
    private final long started = System.nanoTime();
    private BlockingQueue<String> stdinLines;

    Context(String scenario, Map<String, String> params) {
        this.scenario = scenario;
        this.params = params;
        this.tag = params.getOrDefault("tag", UUID.randomUUID().toString().substring(0, 12));
    }

    // -- parameters ---------------------------------------------------------------------------

    String param(String key) throws Failure {
        String value = params.get(key);
        if (value == null || value.isEmpty()) {
            throw new Failure("scenario needs the parameter " + key + "=...");
        }
        return value;
    }

    String param(String key, String fallback) {
        String value = params.get(key);
        return value == null || value.isEmpty() ? fallback : value;
    }

    boolean flag(String key) {
        return Boolean.parseBoolean(param(key, "false"));
    }

    /** The broker's OpenWire address, {@code tcp://HOST:PORT}. */
    String url() throws Failure {
        return param("url");
    }

    /** {@code base} with ActiveMQ URI options appended ({@code a=b&c=d}). */
    static String withOptions(String base, String options) {
        if (options == null || options.isEmpty()) {
            return base;
        }
        return base + (base.contains("?") ? "&" : "?") + options;
    }

    /** A destination name no other scenario or earlier run uses. */
    String name(String prefix) {
        return "jms." + prefix + "." + tag;
    }

    /** A text body that ends a {@link #receiveUntil}; unique within the run. */
    String marker() {
        return "marker-" + markers.incrementAndGet() + "-" + tag;
    }

    // -- connections --------------------------------------------------------------------------

    ActiveMQConnectionFactory factory() throws Failure {
        return factoryFor(url());
    }

    /** A factory for the broker URL plus {@code options} (e.g. {@code jms.useAsyncSend=true}). */
    ActiveMQConnectionFactory factory(String options) throws Failure {
        return factoryFor(withOptions(url(), options));
    }

    ActiveMQConnectionFactory factoryFor(String brokerUrl) {
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl);
        // ObjectMessage bodies are only deserialized from trusted packages (ActiveMQ 5.12.2+).
        factory.setTrustedPackages(Arrays.asList("ferromq.jms", "java.lang", "java.util"));
        return factory;
    }

    /** Opens and starts a connection that is closed when the scenario ends. */
    Connection connect(ActiveMQConnectionFactory factory) throws JMSException, Failure {
        return connect(factory, null);
    }

    Connection connect(ActiveMQConnectionFactory factory, String clientId)
            throws JMSException, Failure {
        long begin = System.nanoTime();
        Connection connection = factory.createConnection();
        int index = connections.size();
        connection.setExceptionListener(
                e -> connectionErrors.add("connection " + index + ": " + e));
        if (clientId != null) {
            connection.setClientID(clientId);
        }
        connection.start(); // sends ConnectionInfo and waits for the broker's Response
        connections.add(connection);
        long millis = (System.nanoTime() - begin) / 1_000_000;
        // The client itself waits without a limit; the broker answers at once.
        check(millis <= TIMEOUT_MS, "connecting took %d ms (more than %d)", millis, TIMEOUT_MS);
        return connection;
    }

    /** Closes every connection (newest first); returns problems met on the way. */
    List<String> closeAll() {
        List<String> problems = new ArrayList<>();
        for (int i = connections.size() - 1; i >= 0; i--) {
            try {
                connections.get(i).close();
            } catch (JMSException | RuntimeException e) {
                problems.add("closing connection " + i + " failed: " + e);
            }
        }
        connections.clear();
        problems.addAll(connectionErrors);
        return problems;
    }

    // -- receiving ----------------------------------------------------------------------------

    /** The next message, or a Failure naming {@code what} after {@link #TIMEOUT_MS}. */
    Message receive(MessageConsumer consumer, String what) throws JMSException, Failure {
        Message message = consumer.receive(TIMEOUT_MS);
        if (message == null) {
            throw new Failure("no message within " + TIMEOUT_MS + " ms: expected " + what);
        }
        return message;
    }

    /** Receives {@code count} messages and returns their text bodies. */
    List<String> receiveTexts(MessageConsumer consumer, int count, String what)
            throws JMSException, Failure {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Message message = consumer.receive(TIMEOUT_MS);
            if (message == null) {
                throw new Failure("got " + bodies + " but no more within " + TIMEOUT_MS
                        + " ms: expected " + count + " messages (" + what + ")");
            }
            bodies.add(body(message));
        }
        return bodies;
    }

    /**
     * Receives up to the text message {@code marker} and returns what came before it. This is
     * how a scenario proves something was not delivered without sleeping: the marker was sent
     * after it, on the same destination.
     */
    List<Message> receiveUntil(MessageConsumer consumer, String marker)
            throws JMSException, Failure {
        List<Message> before = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            Message message = left > 0 ? consumer.receive(left) : null;
            if (message == null) {
                throw new Failure("marker " + marker + " not received within " + TIMEOUT_MS
                        + " ms; before it: " + bodies(before));
            }
            if (message instanceof TextMessage
                    && marker.equals(((TextMessage) message).getText())) {
                return before;
            }
            before.add(message);
        }
    }

    /** A short description of a message body for reasons and logs. */
    static String body(Message message) throws JMSException {
        if (message instanceof TextMessage) {
            return ((TextMessage) message).getText();
        }
        return message == null ? "null" : message.getClass().getSimpleName();
    }

    /** The names of a message's properties. */
    static List<String> propertyNames(Message message) throws JMSException {
        List<String> names = new ArrayList<>();
        for (java.util.Enumeration<?> e = message.getPropertyNames(); e.hasMoreElements();) {
            names.add((String) e.nextElement());
        }
        return names;
    }

    static List<String> bodies(List<Message> messages) throws JMSException {
        List<String> out = new ArrayList<>();
        for (Message message : messages) {
            out.add(body(message));
        }
        return out;
    }

    // -- checks and output --------------------------------------------------------------------

    static void check(boolean condition, String format, Object... args) throws Failure {
        if (!condition) {
            throw new Failure(String.format(format, args));
        }
    }

    static void expect(String what, Object expected, Object actual) throws Failure {
        if (!Objects.deepEquals(expected, actual)) {
            throw new Failure(what + ": expected " + show(expected) + ", got " + show(actual));
        }
    }

    private static String show(Object value) {
        if (value instanceof byte[]) {
            return Arrays.toString((byte[]) value);
        }
        if (value instanceof String && ((String) value).length() > 200) {
            String text = (String) value;
            return "\"" + text.substring(0, 200) + "...\" (" + text.length() + " chars)";
        }
        return value == null ? "null"
                : value + " (" + value.getClass().getSimpleName() + ")";
    }

    void log(String format, Object... args) {
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println(String.format("  %6d ms %s: ", millis, scenario)
                + String.format(format, args));
        System.out.flush();
    }

    /** Waits on the clock (not on the broker) until {@code epochMillis} has passed. */
    static void waitUntilClock(long epochMillis) throws InterruptedException {
        long left;
        while ((left = epochMillis - System.currentTimeMillis()) > 0) {
            Thread.sleep(left);
        }
    }

    // -- broker restart hand-shake -------------------------------------------------------------

    /**
     * Asks the runner to restart the broker (on the same ports) and waits until it says it has.
     * The runner reads {@value #RESTART_REQUEST} on stdout and answers {@value #RESTART_DONE}
     * on stdin; by hand, restart the broker and type the line.
     */
    void restartBroker(long timeoutMs) throws Failure, InterruptedException {
        synchronized (this) {
            if (stdinLines == null) {
                stdinLines = new LinkedBlockingQueue<>();
                Thread reader = new Thread(this::readStdin, "stdin-reader");
                reader.setDaemon(true);
                reader.start();
            }
        }
        System.out.println(RESTART_REQUEST);
        System.out.flush();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String line = stdinLines.poll(Math.max(1, deadline - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new Failure("the runner did not restart the broker within " + timeoutMs
                        + " ms");
            }
            if (line.trim().equals(RESTART_DONE)) {
                log("broker restarted");
                return;
            }
            if (line.trim().startsWith("@@RESTART-FAILED")) {
                throw new Failure("the runner could not restart the broker: " + line.trim());
            }
        }
    }

    private void readStdin() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                stdinLines.add(line);
            }
        } catch (java.io.IOException e) {
            stdinLines.add("@@RESTART-FAILED stdin: " + e);
        }
        stdinLines.add("@@RESTART-FAILED stdin closed");
    }
}
