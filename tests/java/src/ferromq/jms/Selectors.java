package ferromq.jms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;

/**
 * JMS message selectors on properties and headers, on queues (non-matching messages stay for
 * other consumers) and topics.
 */
final class Selectors {
    private Selectors() {
    }

    /** One test message: body, JMSType, priority and user properties. */
    private static final class Sample {
        final String body;
        final String type;
        final int priority;
        final Map<String, Object> props = new LinkedHashMap<>();

        Sample(String body, String type, int priority, Object... keyValues) {
            this.body = body;
            this.type = type;
            this.priority = priority;
            for (int i = 0; i < keyValues.length; i += 2) {
                props.put((String) keyValues[i], keyValues[i + 1]);
            }
        }
    }

    private static final List<Sample> SAMPLES = Arrays.asList(
            new Sample("m0", "order", 4, "color", "red", "weight", 5, "name", "apple",
                    "region", "eu"),
            new Sample("m1", "invoice", 8, "color", "red", "weight", 20, "name", "abacus",
                    "region", "us"),
            new Sample("m2", "order", 9, "color", "blue", "weight", 15L, "name", "banana"),
            new Sample("m3", "order", 1, "color", "green", "weight", 11.5, "name", "ab_c",
                    "region", "asia"),
            new Sample("m4", "invoice", 4, "weight", 30, "name", "x", "region", "eu"),
            new Sample("m5", "order", 6, "color", "red", "weight", (short) 12, "name", "cherry",
                    "flag", true));

    /** selector, the samples it matches, and a marker that matches it too. */
    private static final Object[][] CASES = {
        {"color = 'red' AND weight > 10", Arrays.asList("m1", "m5"),
            new Sample(null, "x", 4, "color", "red", "weight", 99)},
        {"JMSType = 'order' AND JMSPriority >= 5", Arrays.asList("m2", "m5"),
            new Sample(null, "order", 9)},
        {"name LIKE 'ab%'", Arrays.asList("m1", "m3"), new Sample(null, "x", 4, "name", "abz")},
        {"name LIKE 'ab\\_%' ESCAPE '\\'", Arrays.asList("m3"),
            new Sample(null, "x", 4, "name", "ab_z")},
        {"region IN ('eu', 'us')", Arrays.asList("m0", "m1", "m4"),
            new Sample(null, "x", 4, "region", "us")},
        {"color IS NULL AND region IS NOT NULL", Arrays.asList("m4"),
            new Sample(null, "x", 4, "region", "mars")},
        {"weight BETWEEN 11 AND 20", Arrays.asList("m1", "m2", "m3", "m5"),
            new Sample(null, "x", 4, "weight", 11)},
        // Three-valued logic: for m4 color is NULL, so NOT (color = 'red') is unknown.
        {"NOT (color = 'red')", Arrays.asList("m2", "m3"),
            new Sample(null, "x", 4, "color", "pink")},
        {"flag = TRUE OR weight * 2 + 1 > 60", Arrays.asList("m4", "m5"),
            new Sample(null, "x", 4, "flag", true)},
        // All are persistent: JMS orders messages of different delivery modes independently,
        // and ActiveMQ does deliver a later persistent message before an earlier non-persistent
        // one, which would break the marker.
        {"JMSDeliveryMode = 'NON_PERSISTENT' OR JMSCorrelationID = 'corr-m2'", Arrays.asList("m2"),
            new Sample(null, "x", 4, "corr", "corr-m2")},
        {"JMSDeliveryMode = 'PERSISTENT' AND weight > 25", Arrays.asList("m4"),
            new Sample(null, "x", 4, "weight", 99)},
    };

    static void run(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = session.createProducer(null);
        int index = 0;
        for (Object[] testCase : CASES) {
            String selector = (String) testCase[0];
            @SuppressWarnings("unchecked")
            List<String> expected = (List<String>) testCase[1];
            Sample markerSample = (Sample) testCase[2];
            Queue queue = session.createQueue(ctx.name("sel." + index++));
            MessageConsumer selective = session.createConsumer(queue, selector);
            // The consumer waits with free prefetch, so each message is dispatched as it
            // arrives, in send order, whatever its priority.
            for (Sample sample : SAMPLES) {
                sendTo(session, producer, queue, sample, sample.body);
            }
            String marker = ctx.marker();
            sendTo(session, producer, queue, markerSample, marker);
            List<Message> got = ctx.receiveUntil(selective, marker);
            Context.expect("selector [" + selector + "]", expected, Context.bodies(got));
            selective.close();

            // What did not match is still there for a consumer without a selector. These
            // messages waited in the queue, so FerroMQ hands them out by priority and ActiveMQ
            // in send order: compare them sorted, and send the marker with the lowest priority.
            List<String> rest = new ArrayList<>();
            for (Sample sample : SAMPLES) {
                if (!expected.contains(sample.body)) {
                    rest.add(sample.body);
                }
            }
            MessageConsumer everything = session.createConsumer(queue);
            String restMarker = ctx.marker();
            producer.send(queue, session.createTextMessage(restMarker), DeliveryMode.PERSISTENT,
                    0, 0);
            List<String> left = Context.bodies(ctx.receiveUntil(everything, restMarker));
            Collections.sort(left);
            Context.expect("left on the queue by [" + selector + "]", rest, left);
            everything.close();
        }
        ctx.log("%d queue selectors matched exactly their messages", CASES.length);

        // On a topic each subscriber filters on its own.
        Topic topic = session.createTopic(ctx.name("sel.topic"));
        MessageConsumer red = session.createConsumer(topic, "color = 'red'");
        MessageConsumer heavy = session.createConsumer(topic, "weight >= 20");
        for (Sample sample : SAMPLES) {
            sendTo(session, producer, topic, sample, sample.body);
        }
        String marker = ctx.marker();
        sendTo(session, producer, topic, new Sample(null, "x", 4, "color", "red", "weight", 20),
                marker);
        Context.expect("topic subscriber [color = 'red']", Arrays.asList("m0", "m1", "m5"),
                Context.bodies(ctx.receiveUntil(red, marker)));
        Context.expect("topic subscriber [weight >= 20]", Arrays.asList("m1", "m4"),
                Context.bodies(ctx.receiveUntil(heavy, marker)));

        ctx.log("two topic subscribers with selectors each got their own matches");
    }

    private static void sendTo(Session session, MessageProducer producer, javax.jms.Destination to,
            Sample sample, String body) throws Exception {
        TextMessage message = session.createTextMessage(body);
        message.setJMSType(sample.type);
        // "corr" is not a property but the JMSCorrelationID (default: corr-<body>).
        message.setJMSCorrelationID((String) sample.props.getOrDefault("corr", "corr-" + body));
        for (Map.Entry<String, Object> entry : sample.props.entrySet()) {
            if (!entry.getKey().equals("corr")) {
                message.setObjectProperty(entry.getKey(), entry.getValue());
            }
        }
        producer.send(to, message, DeliveryMode.PERSISTENT, sample.priority, 0);
    }
}
