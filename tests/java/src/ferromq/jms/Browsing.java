package ferromq.jms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;

import javax.jms.Connection;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.TextMessage;

/** QueueBrowser: sees what is queued, in order, with or without a selector; consumes nothing. */
final class Browsing {
    private Browsing() {
    }

    static List<String> browse(Session session, Queue queue, String selector) throws Exception {
        QueueBrowser browser = selector == null ? session.createBrowser(queue)
                : session.createBrowser(queue, selector);
        List<String> seen = new ArrayList<>();
        // The enumeration ends when the broker says the browse is complete; the runner's
        // deadline bounds a broker that never does.
        for (Enumeration<?> e = browser.getEnumeration(); e.hasMoreElements();) {
            seen.add(Context.body((Message) e.nextElement()));
        }
        browser.close();
        return seen;
    }

    static void run(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("browse"));

        Context.expect("browsing an empty queue", new ArrayList<String>(),
                browse(session, queue, null));

        MessageProducer producer = session.createProducer(queue);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            TextMessage message = session.createTextMessage("b" + i);
            message.setIntProperty("n", i);
            producer.send(message);
            all.add("b" + i);
        }
        Context.expect("browse", all, browse(session, queue, null));
        Context.expect("browse with selector n >= 3", Arrays.asList("b3", "b4"),
                browse(session, queue, "n >= 3"));
        Context.expect("browse again (nothing consumed)", all, browse(session, queue, null));

        MessageConsumer consumer = session.createConsumer(queue);
        Context.expect("consumed after browsing", all,
                ctx.receiveTexts(consumer, 5, "the browsed messages"));
        consumer.close();
        Context.expect("browse after consuming", new ArrayList<String>(),
                browse(session, queue, null));
        ctx.log("browsed 5 messages twice and with a selector without consuming them");
    }
}
