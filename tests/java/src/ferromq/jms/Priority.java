package ferromq.jms;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

/**
 * Message priority. Always: every JMSPriority 0-9 arrives as sent. With {@code strict=true}:
 * messages that waited in a queue come out highest priority first, FIFO within a priority;
 * FerroMQ always does this, ActiveMQ 5.17 only with {@code prioritizedMessages="true"} on the
 * destination policy (its default is FIFO).
 */
final class Priority {
    private Priority() {
    }

    private static final int[] PRIORITIES = {3, 9, 0, 5, 9, 1, 7, 4, 9, 2, 8, 6, 4, 0};

    static void run(Context ctx) throws Exception {
        boolean strict = ctx.flag("strict");
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("priority"));
        MessageProducer producer = session.createProducer(queue);
        Map<String, Integer> sentPriority = new HashMap<>();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < PRIORITIES.length; i++) {
            String body = "n" + i + "-p" + PRIORITIES[i];
            producer.send(session.createTextMessage(body), DeliveryMode.PERSISTENT, PRIORITIES[i],
                    0);
            sentPriority.put(body, PRIORITIES[i]);
            sent.add(body);
        }
        // The default priority is 4.
        producer.send(session.createTextMessage("default"));
        sentPriority.put("default", 4);
        sent.add("default");

        MessageConsumer consumer = session.createConsumer(queue);
        List<String> received = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            Message message = ctx.receive(consumer, "message " + (i + 1) + " of " + sent.size());
            String body = Context.body(message);
            Context.check(sentPriority.containsKey(body), "unexpected message %s", body);
            Context.expect("JMSPriority of " + body, sentPriority.get(body),
                    message.getJMSPriority());
            received.add(body);
        }
        if (strict) {
            List<String> expected = new ArrayList<>(sent);
            // List.sort is stable: equal priorities keep send order.
            expected.sort(Comparator.comparing((String body) -> -sentPriority.get(body)));
            Context.expect("delivery order (highest priority first, FIFO within one)", expected,
                    received);
            ctx.log("15 queued messages came out by priority: %s", received);
        } else {
            List<String> sortedReceived = new ArrayList<>(received);
            sortedReceived.sort(null);
            List<String> sortedSent = new ArrayList<>(sent);
            sortedSent.sort(null);
            Context.expect("messages received", sortedSent, sortedReceived);
            ctx.log("priorities 0-9 and the default 4 arrived as sent; order %s", received);
        }
    }
}
