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

/** Local transactions (transacted sessions): commit and rollback of sends and of receives. */
final class Transactions {
    private Transactions() {
    }

    // -- tx-send ------------------------------------------------------------------------------

    static void send(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session transacted = connection.createSession(true, Session.SESSION_TRANSACTED);
        Session plain = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = plain.createQueue(ctx.name("txsend"));
        MessageConsumer consumer = plain.createConsumer(queue);
        MessageProducer inTx = transacted.createProducer(queue);
        MessageProducer outsideTx = plain.createProducer(queue);

        inTx.send(transacted.createTextMessage("a1"));
        inTx.send(transacted.createTextMessage("a2"));
        String marker = ctx.marker();
        outsideTx.send(plain.createTextMessage(marker));
        Context.expect("visible before commit", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(consumer, marker)));
        transacted.commit();
        Context.expect("after commit", Arrays.asList("a1", "a2"),
                ctx.receiveTexts(consumer, 2, "the committed sends"));

        inTx.send(transacted.createTextMessage("b1"));
        inTx.send(transacted.createTextMessage("b2"));
        transacted.rollback();
        inTx.send(transacted.createTextMessage("c1"));
        transacted.commit();
        marker = ctx.marker();
        outsideTx.send(plain.createTextMessage(marker));
        Context.expect("after rollback then commit", Arrays.asList("c1"),
                Context.bodies(ctx.receiveUntil(consumer, marker)));
        ctx.log("committed sends delivered, rolled-back sends never");
    }

    // -- tx-receive ---------------------------------------------------------------------------

    static void receive(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session plain = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = plain.createQueue(ctx.name("txrecv"));
        Queue replies = plain.createQueue(ctx.name("txrecv.out"));
        MessageProducer producer = plain.createProducer(queue);
        producer.send(plain.createTextMessage("m1"));
        producer.send(plain.createTextMessage("m2"));

        Session transacted = connection.createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer consumer = transacted.createConsumer(queue);
        List<Message> first = new ArrayList<>();
        first.add(ctx.receive(consumer, "m1"));
        first.add(ctx.receive(consumer, "m2"));
        Context.expect("first delivery", Arrays.asList("m1", "m2"), Context.bodies(first));
        for (Message message : first) {
            Context.expect("JMSRedelivered on first delivery", false, message.getJMSRedelivered());
        }
        transacted.rollback();

        List<Message> again = new ArrayList<>();
        again.add(ctx.receive(consumer, "m1 again after rollback"));
        again.add(ctx.receive(consumer, "m2 again after rollback"));
        Context.expect("after rollback", Arrays.asList("m1", "m2"), Context.bodies(again));
        for (Message message : again) {
            Context.expect("JMSRedelivered after rollback", true, message.getJMSRedelivered());
            Context.expect("JMSXDeliveryCount after rollback", 2,
                    message.getIntProperty("JMSXDeliveryCount"));
        }
        transacted.commit();

        // Consume-and-produce in one transaction: rolled back, neither happened; committed, both.
        producer.send(plain.createTextMessage("m3"));
        MessageProducer forward = transacted.createProducer(replies);
        MessageConsumer repliesConsumer = plain.createConsumer(replies);
        Message m3 = ctx.receive(consumer, "m3");
        MessageTypes.checkText("m3", m3, "m3");
        forward.send(transacted.createTextMessage("reply-to-m3"));
        transacted.rollback();
        String marker = ctx.marker();
        plain.createProducer(replies).send(plain.createTextMessage(marker));
        Context.expect("replies after the rollback", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(repliesConsumer, marker)));
        m3 = ctx.receive(consumer, "m3 after rollback");
        MessageTypes.checkText("m3 after rollback", m3, "m3");
        Context.expect("m3 JMSRedelivered", true, m3.getJMSRedelivered());
        forward.send(transacted.createTextMessage("reply-to-m3"));
        transacted.commit();
        MessageTypes.checkText("reply after commit", ctx.receive(repliesConsumer, "reply-to-m3"),
                "reply-to-m3");

        // Everything committed is gone from the queue.
        consumer.close();
        MessageConsumer after = plain.createConsumer(queue);
        marker = ctx.marker();
        producer.send(plain.createTextMessage(marker));
        Context.expect("queue after the commits", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(after, marker)));
        ctx.log("rolled-back receives redelivered (JMSRedelivered, delivery count 2); "
                + "commits consumed");
    }
}
