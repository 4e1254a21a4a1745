package ferromq.jms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.jms.Connection;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

import org.apache.activemq.ActiveMQSession;

/** CLIENT_ACKNOWLEDGE with recover(), and ActiveMQ's INDIVIDUAL_ACKNOWLEDGE. */
final class Acknowledgement {
    private Acknowledgement() {
    }

    // -- client-ack-recover -------------------------------------------------------------------

    static void clientAckRecover(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session plain = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = plain.createQueue(ctx.name("clientack"));
        MessageProducer producer = plain.createProducer(queue);
        for (String body : Arrays.asList("m1", "m2", "m3")) {
            producer.send(plain.createTextMessage(body));
        }

        Session session = connection.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(queue);
        List<Message> first = receive(ctx, consumer, 3, "first delivery");
        Context.expect("first delivery", Arrays.asList("m1", "m2", "m3"), Context.bodies(first));
        for (Message message : first) {
            Context.expect("JMSRedelivered on first delivery", false, message.getJMSRedelivered());
        }
        session.recover();
        List<Message> again = receive(ctx, consumer, 3, "redelivery after recover()");
        Context.expect("after recover()", Arrays.asList("m1", "m2", "m3"), Context.bodies(again));
        for (Message message : again) {
            Context.expect("JMSRedelivered after recover()", true, message.getJMSRedelivered());
            Context.expect("JMSXDeliveryCount after recover()", 2,
                    message.getIntProperty("JMSXDeliveryCount"));
        }
        // Acknowledging one message acknowledges everything the session received so far.
        again.get(2).acknowledge();

        producer.send(plain.createTextMessage("n1"));
        producer.send(plain.createTextMessage("n2"));
        Message n1 = ctx.receive(consumer, "n1");
        n1.acknowledge();
        Message n2 = ctx.receive(consumer, "n2");
        Context.expect("n1, n2", Arrays.asList("n1", "n2"), Context.bodies(Arrays.asList(n1, n2)));
        session.recover();
        Message n2again = ctx.receive(consumer, "n2 after recover()");
        MessageTypes.checkText("after the second recover()", n2again, "n2");
        Context.expect("n2 JMSRedelivered", true, n2again.getJMSRedelivered());
        n2again.acknowledge();

        consumer.close();
        MessageConsumer after = plain.createConsumer(queue);
        String marker = ctx.marker();
        producer.send(plain.createTextMessage(marker));
        Context.expect("queue after the acknowledgements", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(after, marker)));
        ctx.log("recover() redelivered the unacknowledged messages with JMSRedelivered");
    }

    private static List<Message> receive(Context ctx, MessageConsumer consumer, int count,
            String what)
            throws Exception {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(ctx.receive(consumer, what + ": message " + (i + 1) + " of " + count));
        }
        return out;
    }

    // -- individual-ack -----------------------------------------------------------------------

    static void individualAck(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, ActiveMQSession.INDIVIDUAL_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("individual"));
        MessageProducer producer = session.createProducer(queue);
        for (String body : Arrays.asList("i1", "i2", "i3", "i4")) {
            producer.send(session.createTextMessage(body));
        }
        MessageConsumer consumer = session.createConsumer(queue);
        List<Message> got = receive(ctx, consumer, 4, "individual-ack delivery");
        Context.expect("delivery", Arrays.asList("i1", "i2", "i3", "i4"), Context.bodies(got));
        // Only these two: acknowledging i4 must not acknowledge i1..i3 (unlike CLIENT_ACKNOWLEDGE).
        got.get(1).acknowledge();
        got.get(3).acknowledge();
        connection.close();

        Connection second = ctx.connect(ctx.factory());
        Session plain = second.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer after = plain.createConsumer(queue);
        String marker = ctx.marker();
        plain.createProducer(queue).send(plain.createTextMessage(marker));
        List<Message> left = ctx.receiveUntil(after, marker);
        Context.expect("left after acknowledging i2 and i4", Arrays.asList("i1", "i3"),
                Context.bodies(left));
        // No check of JMSRedelivered here: ActiveMQ 5.17 sends i1 and i3 to the next consumer
        // with JMSRedelivered=false after the connection closed (JMS allows either).
        ctx.log("only the individually acknowledged messages were consumed");
    }
}
