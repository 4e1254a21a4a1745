package ferromq.jms;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

/**
 * The OpenWire half of the STOMP/OpenWire mapping tests; the STOMP half lives in
 * tests/python/test_openwire_java.py and both halves agree on the messages below.
 *
 * <p>ActiveMQ's mapping: a STOMP SEND without content-length becomes a TextMessage, with
 * content-length a BytesMessage; STOMP headers become String properties; correlation-id, type,
 * reply-to, priority, persistent and expires become the JMS headers. Back to STOMP the same
 * headers come out, properties as text.
 */
final class CrossProtocol {
    private CrossProtocol() {
    }

    /** The body of the STOMP text message (no content-length). */
    static final String STOMP_TEXT = "from stomp \u2713 \u00e9";
    /** The body of the STOMP binary message (with content-length): a NUL and a non-UTF-8 byte. */
    static final byte[] STOMP_BYTES = {'b', 'i', 'n', 0, 'a', 'r', 'y', (byte) 0xff};

    /** Receives what the STOMP client sent to queue=...: a text and a bytes message. */
    static void stompToJms(Context ctx) throws Exception {
        String reply = ctx.param("reply");
        long expires = Long.parseLong(ctx.param("expires"));
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(session.createQueue(ctx.param("queue")));

        // Either order: one is persistent, the other not, and JMS orders them independently.
        Message first = ctx.receive(consumer, "the first of two STOMP messages");
        Message second = ctx.receive(consumer, "the second of two STOMP messages");
        boolean textFirst = "1".equals(first.getStringProperty("seq"));
        Message text = textFirst ? first : second;
        Message bytes = textFirst ? second : first;

        MessageTypes.checkText("STOMP SEND without content-length", text, STOMP_TEXT);
        Context.expect("JMSCorrelationID", "corr-stomp-1", text.getJMSCorrelationID());
        Context.expect("JMSType", "StompType", text.getJMSType());
        Context.expect("JMSReplyTo", session.createQueue(reply), text.getJMSReplyTo());
        Context.expect("JMSPriority", 7, text.getJMSPriority());
        Context.expect("JMSDeliveryMode", DeliveryMode.PERSISTENT, text.getJMSDeliveryMode());
        Context.expect("JMSExpiration", expires, text.getJMSExpiration());
        Context.expect("property color", "red", text.getObjectProperty("color"));
        Context.expect("property amount (a STOMP header is always text)", "42",
                text.getObjectProperty("amount"));
        Context.expect("property with a colon and non-ASCII", "a:b \u2713",
                text.getObjectProperty("odd"));
        Context.expect("property seq", "1", text.getObjectProperty("seq"));

        Context.check(bytes instanceof BytesMessage, "STOMP SEND with content-length became %s, "
                + "not a BytesMessage", bytes.getClass().getName());
        BytesMessage body = (BytesMessage) bytes;
        Context.expect("body length", (long) STOMP_BYTES.length, body.getBodyLength());
        byte[] back = new byte[STOMP_BYTES.length];
        body.readBytes(back);
        Context.expect("body", STOMP_BYTES, back);
        Context.expect("JMSDeliveryMode without a persistent header", DeliveryMode.NON_PERSISTENT,
                bytes.getJMSDeliveryMode());
        Context.expect("JMSPriority without a priority header", 4, bytes.getJMSPriority());
        Context.expect("property seq", "2", bytes.getObjectProperty("seq"));
        ctx.log("STOMP text and binary SENDs arrived as TextMessage and BytesMessage");
    }

    /** Sends to queue=... what the STOMP client then checks. */
    static void jmsToStomp(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.param("queue"));
        MessageProducer producer = session.createProducer(queue);

        TextMessage text = session.createTextMessage("from jms \u2713 \u00e9");
        text.setJMSCorrelationID("corr-jms-1");
        text.setJMSType("JmsType");
        text.setJMSReplyTo(session.createQueue(ctx.param("reply")));
        text.setStringProperty("color", "blue");
        text.setIntProperty("count", 42);
        text.setLongProperty("big", 1L << 40);
        text.setBooleanProperty("flag", true);
        text.setDoubleProperty("ratio", 1.5);
        producer.send(text, DeliveryMode.PERSISTENT, 6, 3_600_000);

        BytesMessage bytes = session.createBytesMessage();
        bytes.writeBytes(STOMP_BYTES);
        bytes.setStringProperty("seq", "2");
        producer.send(bytes, DeliveryMode.NON_PERSISTENT, 4, 0);
        // Printed for the STOMP side, which checks them.
        System.out.println("@@SENT text " + text.getJMSMessageID() + " " + text.getJMSExpiration());
        System.out.println("@@SENT bytes " + bytes.getJMSMessageID() + " 0");
        ctx.log("sent a TextMessage and a BytesMessage for the STOMP consumer");
    }
}
