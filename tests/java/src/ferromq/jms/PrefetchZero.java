package ferromq.jms;

import java.util.ArrayList;

import javax.jms.Connection;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

/**
 * Consumers with {@code jms.prefetchPolicy.all=0}: nothing is pushed to them; each receive()
 * pulls one message (MessagePull), receiveNoWait() gets one only if the queue has one now, and an
 * idle prefetch-0 consumer holds nothing back from the others.
 */
final class PrefetchZero {
    private PrefetchZero() {
    }

    static void run(Context ctx) throws Exception {
        Connection pulling = ctx.connect(ctx.factory("jms.prefetchPolicy.all=0"));
        Session session = pulling.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("prefetch0"));
        MessageConsumer idle = session.createConsumer(queue);
        MessageConsumer active = pulling.createSession(false, Session.AUTO_ACKNOWLEDGE)
                .createConsumer(queue);

        Context.expect("receiveNoWait() on an empty queue", null, active.receiveNoWait());
        Context.expect("receive(300) on an empty queue", null, active.receive(300));

        Connection sending = ctx.connect(ctx.factory());
        Session sendSession = sending.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = sendSession.createProducer(queue);
        for (String body : new String[] {"m1", "m2", "m3"}) {
            producer.send(sendSession.createTextMessage(body));
        }
        // The idle consumer never pulled, so all three are available to the active one.
        MessageTypes.checkText("receive(timeout)", ctx.receive(active, "m1"), "m1");
        Message m2 = active.receiveNoWait();
        Context.check(m2 != null, "receiveNoWait() returned nothing although m2 was queued");
        MessageTypes.checkText("receiveNoWait()", m2, "m2");
        // receive() without a timeout: m3 is queued, so it returns (the runner's deadline
        // bounds it).
        MessageTypes.checkText("receive()", active.receive(), "m3");

        // A blocking receive() is answered by a message sent while it waits.
        Thread later = new Thread(() -> {
            try {
                Thread.sleep(300);
                producer.send(sendSession.createTextMessage("m4"));
            } catch (Exception e) {
                System.out.println("  sending m4 failed: " + e);
            }
        }, "late-sender");
        later.start();
        MessageTypes.checkText("receive() waiting for a new message", idle.receive(), "m4");
        later.join(Context.TIMEOUT_MS);

        Context.expect("receiveNoWait() after draining", null, active.receiveNoWait());
        Context.expect("receive(300) after draining", null, idle.receive(300));

        // Nothing was left dispatched-but-unconsumed: a new consumer sees only the marker.
        idle.close();
        active.close();
        MessageConsumer after = sendSession.createConsumer(queue);
        String marker = ctx.marker();
        producer.send(sendSession.createTextMessage(marker));
        Context.expect("queue after the pulls", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(after, marker)));
        ctx.log("receive(timeout), receiveNoWait() and receive() each pulled exactly one message");
    }
}
