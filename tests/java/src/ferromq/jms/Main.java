package ferromq.jms;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one OpenWire acceptance scenario against a broker and prints one result line:
 * {@code PASS <scenario>: ...} or {@code FAIL <scenario>: <reason>}; exit code 0 or 1.
 *
 * <pre>
 *   java -cp CLASSPATH ferromq.jms.Main --list
 *   java -cp CLASSPATH ferromq.jms.Main SCENARIO url=tcp://127.0.0.1:61616 [key=value...]
 * </pre>
 *
 * Parameters: {@code url} (the broker's OpenWire address, always), {@code tag} (suffix for
 * destination names; random by default), {@code deadline-s} (the whole scenario's time limit,
 * default 120), and what a scenario reads itself (see tests/java/README.md). A scenario that
 * needs the broker restarted prints {@code @@RESTART} and waits for {@code @@RESTARTED} on stdin.
 */
public final class Main {
    private Main() {
    }

    private static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();

    static {
        SCENARIOS.put("message-types", MessageTypes::allTypes);
        SCENARIOS.put("large-bodies", MessageTypes::largeBodies);
        SCENARIOS.put("queue-and-topic", Destinations::queueAndTopic);
        SCENARIOS.put("durable-offline", Destinations::durableOffline);
        SCENARIOS.put("durable-restart", Destinations::durableRestart);
        SCENARIOS.put("tx-send", Transactions::send);
        SCENARIOS.put("tx-receive", Transactions::receive);
        SCENARIOS.put("client-ack-recover", Acknowledgement::clientAckRecover);
        SCENARIOS.put("individual-ack", Acknowledgement::individualAck);
        SCENARIOS.put("selectors", Selectors::run);
        SCENARIOS.put("request-reply", RequestReply::run);
        SCENARIOS.put("priority", Priority::run);
        SCENARIOS.put("time-to-live", Expiry::run);
        SCENARIOS.put("dead-letter", DeadLetter::run);
        SCENARIOS.put("prefetch-zero", PrefetchZero::run);
        SCENARIOS.put("queue-browser", Browsing::run);
        SCENARIOS.put("async-send", AsyncSend::run);
        SCENARIOS.put("inactivity", Inactivity::run);
        SCENARIOS.put("failover-restart", Failover::run);
        SCENARIOS.put("stomp-to-jms", CrossProtocol::stompToJms);
        SCENARIOS.put("jms-to-stomp", CrossProtocol::jmsToStomp);
    }

    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("--list") || args[0].equals("--help")) {
            for (String name : SCENARIOS.keySet()) {
                System.out.println(name);
            }
            System.exit(args.length == 0 ? 2 : 0);
        }
        String name = args[0];
        Scenario scenario = SCENARIOS.get(name);
        if (scenario == null) {
            System.out.println("FAIL " + name + ": unknown scenario (known: "
                    + SCENARIOS.keySet() + ")");
            System.exit(2);
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.out.println("FAIL " + name + ": argument " + args[i] + " is not key=value");
                System.exit(2);
            }
            params.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        Context ctx = new Context(name, params);
        long deadlineSeconds = Long.parseLong(ctx.param("deadline-s", "120"));
        startWatchdog(name, deadlineSeconds);

        long start = System.nanoTime();
        String failure = null;
        try {
            scenario.run(ctx);
        } catch (Failure f) {
            failure = f.getMessage();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            failure = "unexpected " + t;
        }
        if (failure == null) {
            ctx.log("closing the connections");
        }
        List<String> problems = ctx.closeAll();
        if (failure == null && !problems.isEmpty()) {
            failure = "connection problems: " + problems;
        } else if (!problems.isEmpty()) {
            System.out.println("  also: " + problems);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (failure == null) {
            System.out.println("PASS " + name + " (" + millis + " ms)");
        } else {
            System.out.println("FAIL " + name + ": " + failure + " (after " + millis + " ms)");
        }
        System.out.flush();
        // The client's transport threads are not daemons; do not wait for them.
        Runtime.getRuntime().halt(failure == null ? 0 : 1);
    }

    /** Fails the run (with a thread dump) if the scenario outlives its deadline. */
    private static void startWatchdog(String name, long seconds) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(seconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("  thread dump at the deadline:");
            ThreadInfo[] threads = ManagementFactory.getThreadMXBean().dumpAllThreads(false, false);
            for (ThreadInfo info : threads) {
                System.out.print("  " + info);
            }
            System.out.println("FAIL " + name + ": still running after the " + seconds
                    + " s deadline");
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
