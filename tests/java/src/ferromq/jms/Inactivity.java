package ferromq.jms;

import javax.jms.Connection;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

import org.apache.activemq.ActiveMQConnection;

/**
 * The inactivity monitor: with {@code wireFormat.maxInactivityDuration=3000} the client drops a
 * connection on which nothing arrived for 3 s, so a connection idle for 10 s survives only if the
 * broker sends KeepAliveInfo (and accepts the client's). The checks start after
 * {@code maxInactivityDurationInitalDelay} (sic; default 10 s, as long as the idle time), so it
 * is shortened to 1 s: the idle time then spans three read checks on each side.
 */
final class Inactivity {
    private Inactivity() {
    }

    static void run(Context ctx) throws Exception {
        long idleMs = Long.parseLong(ctx.param("idle-ms", "10000"));
        Connection connection = ctx.connect(ctx.factory("wireFormat.maxInactivityDuration=3000"
                + "&wireFormat.maxInactivityDurationInitalDelay=1000"));
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("idle"));
        MessageConsumer consumer = session.createConsumer(queue);
        MessageProducer producer = session.createProducer(queue);
        producer.send(session.createTextMessage("before"));
        MessageTypes.checkText("before idling", ctx.receive(consumer, "before"), "before");

        // Idleness is the point here: nothing is sent for idle-ms.
        Thread.sleep(idleMs);

        ActiveMQConnection amq = (ActiveMQConnection) connection;
        Context.check(!amq.isTransportFailed() && !amq.isClosed(),
                "the connection failed while idle: %s", amq.getFirstFailureError());
        producer.send(session.createTextMessage("after"));
        MessageTypes.checkText("after idling", ctx.receive(consumer, "after"), "after");
        ctx.log("idle for %d ms with a 3000 ms inactivity limit; still connected", idleMs);
    }
}
