package ferromq.jms;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.Topic;
import javax.jms.TopicSubscriber;

/** Queues (each message to one consumer) and topics (to every subscriber), plain and durable. */
final class Destinations {
    private Destinations() {
    }

    // -- queue-and-topic ----------------------------------------------------------------------

    static void queueAndTopic(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session producing = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);

        // Queue: two consumers share the messages; each message goes to exactly one of them,
        // and each consumer sees its share in send order.
        Queue queue = producing.createQueue(ctx.name("queue"));
        int count = 20;
        BlockingQueue<int[]> deliveries = new LinkedBlockingQueue<>();
        List<Session> consuming = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            final int consumer = i;
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            session.createConsumer(queue).setMessageListener(message -> {
                try {
                    String body = Context.body(message);
                    deliveries.add(new int[] {consumer, body.startsWith("q-")
                            ? Integer.parseInt(body.substring(2)) : -1});
                } catch (javax.jms.JMSException | NumberFormatException e) {
                    deliveries.add(new int[] {consumer, -1});
                }
            });
            consuming.add(session);
        }
        MessageProducer toQueue = producing.createProducer(queue);
        for (int i = 0; i < count; i++) {
            toQueue.send(producing.createTextMessage("q-" + i));
        }
        List<List<Integer>> shares = new ArrayList<>();
        shares.add(new ArrayList<>());
        shares.add(new ArrayList<>());
        Set<Integer> seen = new HashSet<>();
        long deadline = System.currentTimeMillis() + Context.TIMEOUT_MS;
        while (seen.size() < count) {
            int[] delivery = deliveries.poll(Math.max(1, deadline - System.currentTimeMillis()),
                    TimeUnit.MILLISECONDS);
            Context.check(delivery != null, "only %d of %d queue messages arrived: %s", seen.size(),
                    count, shares);
            Context.check(delivery[1] >= 0, "a queue consumer got an unexpected message");
            Context.check(seen.add(delivery[1]), "queue message q-%d was delivered twice (%s)",
                    delivery[1], shares);
            shares.get(delivery[0]).add(delivery[1]);
        }
        for (Session session : consuming) {
            session.close();
        }
        for (List<Integer> share : shares) {
            for (int i = 1; i < share.size(); i++) {
                Context.check(share.get(i - 1) < share.get(i),
                        "a queue consumer got its share out of order: %s", share);
            }
        }
        // ActiveMQ dispatches round-robin across consumers with free prefetch.
        Context.check(!shares.get(0).isEmpty() && !shares.get(1).isEmpty(),
                "one queue consumer got everything: %s", shares);
        // All were acknowledged: nothing is left for a new consumer.
        MessageConsumer after = producing.createConsumer(queue);
        String marker = ctx.marker();
        toQueue.send(producing.createTextMessage(marker));
        Context.expect("queue after both consumers closed", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(after, marker)));
        ctx.log("queue: 20 messages split %d/%d between two consumers, none twice",
                shares.get(0).size(), shares.get(1).size());

        // Topic: every subscriber gets every message, in order; one that subscribes later
        // gets nothing sent before it subscribed.
        Topic topic = producing.createTopic(ctx.name("topic"));
        List<MessageConsumer> subscribers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            subscribers.add(connection.createSession(false, Session.AUTO_ACKNOWLEDGE)
                    .createConsumer(topic));
        }
        MessageProducer toTopic = producing.createProducer(topic);
        toTopic.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            toTopic.send(producing.createTextMessage("t-" + i));
            expected.add("t-" + i);
        }
        MessageConsumer late = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)
                .createConsumer(topic);
        String topicMarker = ctx.marker();
        toTopic.send(producing.createTextMessage(topicMarker));
        for (int i = 0; i < subscribers.size(); i++) {
            Context.expect("topic subscriber " + i,
                    expected, Context.bodies(ctx.receiveUntil(subscribers.get(i), topicMarker)));
        }
        Context.expect("late topic subscriber", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(late, topicMarker)));
        ctx.log("topic: both subscribers got all 10 in order; a late one got none of them");
    }

    // -- durable-offline, durable-restart -----------------------------------------------------

    /** A durable subscriber gets what was published while it was offline. */
    static void durableOffline(Context ctx) throws Exception {
        durable(ctx, false);
    }

    /** The same, with the broker restarted while the subscriber is offline. */
    static void durableRestart(Context ctx) throws Exception {
        durable(ctx, true);
    }

    private static void durable(Context ctx, boolean restart) throws Exception {
        String clientId = ctx.name("client");
        String topicName = ctx.name(restart ? "durable.restart" : "durable");

        Connection subscriber = ctx.connect(ctx.factory(), clientId);
        Session session = subscriber.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic topic = session.createTopic(topicName);
        TopicSubscriber durable = session.createDurableSubscriber(topic, "sub");
        Connection publisher = ctx.connect(ctx.factory());
        Session publishing = publisher.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = publishing.createProducer(topic);
        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
        producer.send(publishing.createTextMessage("online"));
        MessageTypes.checkText("while online", ctx.receive(durable, "online"), "online");
        subscriber.close();

        List<String> offline = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            producer.send(publishing.createTextMessage("offline-" + i));
            offline.add("offline-" + i);
        }
        publisher.close();
        if (restart) {
            ctx.restartBroker(120_000);
        }

        subscriber = ctx.connect(ctx.factory(), clientId);
        session = subscriber.createSession(false, Session.AUTO_ACKNOWLEDGE);
        durable = session.createDurableSubscriber(topic, "sub");
        List<Message> got = new ArrayList<>();
        for (int i = 0; i < offline.size(); i++) {
            got.add(ctx.receive(durable, "offline message " + i + " of " + offline.size()));
        }
        Context.expect("messages published while offline", offline, Context.bodies(got));
        for (Message message : got) {
            Context.expect("JMSRedelivered of a message never delivered before", false,
                    message.getJMSRedelivered());
        }
        // Still subscribed for new messages.
        publisher = ctx.connect(ctx.factory());
        publishing = publisher.createSession(false, Session.AUTO_ACKNOWLEDGE);
        producer = publishing.createProducer(topic);
        producer.send(publishing.createTextMessage("after"));
        MessageTypes.checkText("after reconnecting", ctx.receive(durable, "after"), "after");

        // Unsubscribing deletes the subscription and what it held: a new one with the same
        // name starts empty.
        durable.close();
        session.unsubscribe("sub");
        producer.send(publishing.createTextMessage("while-unsubscribed"));
        durable = session.createDurableSubscriber(topic, "sub");
        String marker = ctx.marker();
        producer.send(publishing.createTextMessage(marker));
        Context.expect("a new subscription after unsubscribe", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(durable, marker)));
        durable.close();
        session.unsubscribe("sub");
        ctx.log("durable subscription kept 3 messages while offline%s; unsubscribe dropped it",
                restart ? " and across a broker restart" : "");
    }
}
