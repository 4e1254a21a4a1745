package ferromq.jms;

import java.util.ArrayList;
import java.util.Arrays;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.apache.activemq.command.ActiveMQMessage;

/**
 * Time to live: a message whose JMSExpiration has passed is never delivered; a persistent one
 * goes to ActiveMQ.DLQ (ActiveMQ's default), a non-persistent one is dropped.
 */
final class Expiry {
    private Expiry() {
    }

    static final long TTL_MS = 300;

    static void run(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("ttl"));
        String tag = ctx.name("ttl-tag");
        MessageProducer producer = session.createProducer(queue);

        TextMessage expiringNp = session.createTextMessage("expired-non-persistent");
        expiringNp.setStringProperty("tag", tag);
        producer.send(expiringNp, DeliveryMode.NON_PERSISTENT, 4, TTL_MS);
        TextMessage expiringP = session.createTextMessage("expired-persistent");
        expiringP.setStringProperty("tag", tag);
        producer.send(expiringP, DeliveryMode.PERSISTENT, 4, TTL_MS);
        producer.send(session.createTextMessage("no-ttl"), DeliveryMode.PERSISTENT, 4, 0);
        TextMessage longLived = session.createTextMessage("long-ttl");
        producer.send(longLived, DeliveryMode.PERSISTENT, 4, 3_600_000);
        Context.check(expiringP.getJMSExpiration() > 0, "the client set no JMSExpiration");

        // Wait on the clock (not on the broker) until the short-lived ones are stale.
        Context.waitUntilClock(
                Math.max(expiringNp.getJMSExpiration(), expiringP.getJMSExpiration()) + 50);
        MessageConsumer consumer = session.createConsumer(queue);
        String marker = ctx.marker();
        producer.send(session.createTextMessage(marker));
        java.util.List<Message> got = ctx.receiveUntil(consumer, marker);
        Context.expect("delivered after the TTL passed", Arrays.asList("no-ttl", "long-ttl"),
                Context.bodies(got));
        Context.expect("JMSExpiration of the long-lived one", longLived.getJMSExpiration(),
                got.get(1).getJMSExpiration());

        // ActiveMQ dead-letters the expired persistent message (not the non-persistent one).
        MessageConsumer dlq = session.createConsumer(session.createQueue("ActiveMQ.DLQ"),
                "tag = '" + tag + "'");
        Message dead = ctx.receive(dlq, "the expired persistent message on ActiveMQ.DLQ");
        MessageTypes.checkText("dead-lettered", dead, "expired-persistent");
        Context.expect("originalDestination", queue,
                ((ActiveMQMessage) dead).getOriginalDestination());
        Context.expect("JMSExpiration on the DLQ (cleared)", 0L, dead.getJMSExpiration());
        TextMessage dlqMarker = session.createTextMessage(ctx.marker());
        dlqMarker.setStringProperty("tag", tag);
        session.createProducer(session.createQueue("ActiveMQ.DLQ")).send(dlqMarker);
        Context.expect("also on ActiveMQ.DLQ", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(dlq, dlqMarker.getText())));
        ctx.log("expired messages not delivered; the persistent one is on ActiveMQ.DLQ");
    }
}
