package ferromq.jms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageEOFException;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TextMessage;

/**
 * Every JMS message type, with a property of every type and every settable JMS header, sent
 * over OpenWire and compared field by field on the way out; and large and compressed bodies.
 */
final class MessageTypes {
    private MessageTypes() {
    }

    /** Text with a NUL, 2- and 3-byte UTF-8 and a surrogate pair (OpenWire uses modified UTF-8). */
    static final String UNICODE = "h\u00e9llo \u2713 nul[\u0000] clef[\ud834\udd1e] \u65e5\u672c";
    /** The part of UNICODE that survives the client's property string encoding. */
    static final String BMP_TEXT = "h\u00e9llo \u2713 \u65e5\u672c \u00ff\u0100\uffee";
    static final byte[] BINARY = {0, 1, -1, 127, -128, 10, 13, 0};

    /** User properties every message carries, one of each type the client marshals. */
    static Map<String, Object> properties(int index) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("index", index);
        props.put("pBoolean", Boolean.TRUE);
        props.put("pBooleanFalse", Boolean.FALSE);
        props.put("pByte", (byte) -7);
        props.put("pShort", (short) -30000);
        props.put("pInt", Integer.MIN_VALUE);
        props.put("pLong", Long.MAX_VALUE - index);
        props.put("pFloat", 3.25f);
        props.put("pDouble", -2.5e100);
        props.put("pNaN", Double.NaN);
        // Not UNICODE: the 5.17 client itself garbles NUL and surrogate pairs in short string
        // properties (its marshaller writes modified UTF-8, its reader expects standard UTF-8),
        // whatever the broker does. Bodies and JMSCorrelationID carry the full UNICODE.
        props.put("pString", BMP_TEXT);
        props.put("pEmpty", "");
        // Strings over 8191 chars are marshalled with a 4-byte length (BIG_STRING_TYPE).
        props.put("pBigString", repeat(BMP_TEXT, 700));
        props.put("p.dotted_name$1", "v");
        return props;
    }

    static void setProperties(Message message, Map<String, Object> props) throws JMSException {
        for (Map.Entry<String, Object> entry : props.entrySet()) {
            message.setObjectProperty(entry.getKey(), entry.getValue());
        }
    }

    static void checkProperties(String what, Message message, Map<String, Object> props)
            throws JMSException, Failure {
        Set<String> names = new HashSet<>(Context.propertyNames(message));
        for (Map.Entry<String, Object> entry : props.entrySet()) {
            Context.check(names.contains(entry.getKey()), "%s: property %s missing from %s", what,
                    entry.getKey(), names);
            // equals() on boxed values compares the type too: an int that came back as a long
            // fails.
            Context.expect(what + ": property " + entry.getKey(), entry.getValue(),
                    message.getObjectProperty(entry.getKey()));
        }
        Context.check(!message.propertyExists("pMissing"), "%s: unexpected property pMissing",
                what);
    }

    static String repeat(String unit, int times) {
        StringBuilder out = new StringBuilder(unit.length() * times);
        for (int i = 0; i < times; i++) {
            out.append(unit);
        }
        return out.toString();
    }

    // -- message-types ------------------------------------------------------------------------

    static void allTypes(Context ctx) throws Exception {
        Connection connection = ctx.connect(ctx.factory());
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("types"));
        Destination[] replyTos = {session.createQueue(ctx.name("types.replies")),
            session.createTopic(ctx.name("types.events"))};
        MessageConsumer consumer = session.createConsumer(queue);
        MessageProducer producer = session.createProducer(queue);

        List<Message> sent = new ArrayList<>();
        sent.add(session.createTextMessage(UNICODE));
        sent.add(bytesMessage(session));
        sent.add(mapMessage(session));
        sent.add(session.createObjectMessage(
                new Payload("order-" + UNICODE, 1L << 40, Arrays.asList("a", "b", ""))));
        sent.add(streamMessage(session));
        sent.add(session.createMessage());
        sent.add(session.createTextMessage()); // a text message whose text is null
        sent.add(session.createTextMessage(""));

        long before = System.currentTimeMillis();
        for (int i = 0; i < sent.size(); i++) {
            Message message = sent.get(i);
            setProperties(message, properties(i));
            message.setJMSCorrelationID("corr-" + i + "-" + UNICODE);
            message.setJMSType("type-" + i);
            message.setJMSReplyTo(replyTos[i % 2]);
            message.setStringProperty("JMSXGroupID", "group-" + i);
            message.setIntProperty("JMSXGroupSeq", i + 1);
            int mode = i % 2 == 0 ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT;
            long ttl = i % 3 == 0 ? 0 : 3_600_000;
            producer.send(message, mode, i, ttl);
        }
        long after = System.currentTimeMillis();

        Map<Integer, Message> received = new LinkedHashMap<>();
        for (int n = 0; n < sent.size(); n++) {
            Message message = ctx.receive(consumer, "message " + (n + 1) + " of " + sent.size());
            Context.check(message.propertyExists("index"), "received a message without 'index': %s",
                    message);
            received.put(message.getIntProperty("index"), message);
        }
        Context.expect("indexes received", sent.size(), received.size());

        for (int i = 0; i < sent.size(); i++) {
            Message out = sent.get(i);
            Message in = received.get(i);
            String what = "message " + i + " (" + out.getClass().getSimpleName() + ")";
            checkHeaders(what, out, in, queue, replyTos[i % 2], i, before, after);
            checkProperties(what, in, properties(i));
            Context.expect(what + ": JMSXGroupID", "group-" + i,
                    in.getStringProperty("JMSXGroupID"));
            Context.expect(what + ": JMSXGroupSeq", i + 1, in.getIntProperty("JMSXGroupSeq"));
        }
        checkText("text", received.get(0), UNICODE);
        checkBytes(received.get(1));
        checkMap(received.get(2));
        Context.check(received.get(3) instanceof ObjectMessage,
                "message 3 is %s, not an ObjectMessage",
                received.get(3).getClass().getName());
        Context.expect("object body", new Payload("order-" + UNICODE, 1L << 40,
                Arrays.asList("a", "b", "")), ((ObjectMessage) received.get(3)).getObject());
        checkStream(received.get(4));
        Message plain = received.get(5);
        Context.check(!(plain instanceof TextMessage || plain instanceof BytesMessage
                || plain instanceof MapMessage || plain instanceof ObjectMessage
                || plain instanceof StreamMessage), "plain message came back as %s",
                plain.getClass().getName());
        checkText("null text", received.get(6), null);
        checkText("empty text", received.get(7), "");
        ctx.log("%d messages of 6 types round-tripped with %d properties each", sent.size(),
                properties(0).size());
    }

    private static void checkHeaders(String what, Message out, Message in, Queue queue,
            Destination replyTo, int index, long before, long after) throws JMSException, Failure {
        Context.expect(what + ": JMSMessageID", out.getJMSMessageID(), in.getJMSMessageID());
        Context.check(in.getJMSMessageID() != null && in.getJMSMessageID().startsWith("ID:"),
                "%s: JMSMessageID %s does not start with ID:", what, in.getJMSMessageID());
        Context.expect(what + ": JMSDestination", queue, in.getJMSDestination());
        Context.expect(what + ": JMSCorrelationID", "corr-" + index + "-" + UNICODE,
                in.getJMSCorrelationID());
        Context.expect(what + ": JMSType", "type-" + index, in.getJMSType());
        Context.expect(what + ": JMSReplyTo", replyTo, in.getJMSReplyTo());
        Context.expect(what + ": JMSDeliveryMode", out.getJMSDeliveryMode(),
                in.getJMSDeliveryMode());
        Context.expect(what + ": JMSPriority", index, in.getJMSPriority());
        Context.expect(what + ": JMSTimestamp", out.getJMSTimestamp(), in.getJMSTimestamp());
        Context.check(in.getJMSTimestamp() >= before && in.getJMSTimestamp() <= after,
                "%s: JMSTimestamp %d outside the send window [%d, %d]", what, in.getJMSTimestamp(),
                before, after);
        Context.expect(what + ": JMSExpiration", out.getJMSExpiration(), in.getJMSExpiration());
        if (index % 3 == 0) {
            Context.expect(what + ": JMSExpiration without a TTL", 0L, in.getJMSExpiration());
        } else {
            Context.check(in.getJMSExpiration() >= before + 3_600_000,
                    "%s: JMSExpiration %d is not send time + TTL", what, in.getJMSExpiration());
        }
        Context.expect(what + ": JMSRedelivered", false, in.getJMSRedelivered());
        Context.expect(what + ": JMSXDeliveryCount", 1, in.getIntProperty("JMSXDeliveryCount"));
    }

    static void checkText(String what, Message message, String expected)
            throws JMSException, Failure {
        Context.check(message instanceof TextMessage, "%s: got %s, not a TextMessage", what,
                message.getClass().getName());
        Context.expect(what + " body", expected, ((TextMessage) message).getText());
    }

    // -- bodies -------------------------------------------------------------------------------

    static BytesMessage bytesMessage(Session session) throws JMSException {
        BytesMessage message = session.createBytesMessage();
        message.writeBoolean(true);
        message.writeByte((byte) -2);
        message.writeShort((short) 0x7f00);
        message.writeChar('\u2713');
        message.writeInt(-123456);
        message.writeLong(Long.MIN_VALUE);
        message.writeFloat(-0.5f);
        message.writeDouble(Math.PI);
        message.writeUTF(UNICODE);
        message.writeBytes(BINARY);
        return message;
    }

    static void checkBytes(Message received) throws JMSException, Failure {
        Context.check(received instanceof BytesMessage, "message 1 is %s, not a BytesMessage",
                received.getClass().getName());
        BytesMessage message = (BytesMessage) received;
        Context.expect("bytes: readBoolean", true, message.readBoolean());
        Context.expect("bytes: readByte", (byte) -2, message.readByte());
        Context.expect("bytes: readShort", (short) 0x7f00, message.readShort());
        Context.expect("bytes: readChar", '\u2713', message.readChar());
        Context.expect("bytes: readInt", -123456, message.readInt());
        Context.expect("bytes: readLong", Long.MIN_VALUE, message.readLong());
        Context.expect("bytes: readFloat", -0.5f, message.readFloat());
        Context.expect("bytes: readDouble", Math.PI, message.readDouble());
        Context.expect("bytes: readUTF", UNICODE, message.readUTF());
        byte[] rest = new byte[BINARY.length + 1];
        Context.expect("bytes: length of the raw tail", BINARY.length, message.readBytes(rest));
        Context.expect("bytes: raw tail", BINARY, Arrays.copyOf(rest, BINARY.length));
        Context.expect("bytes: read past the end", -1, message.readBytes(rest));
    }

    static Map<String, Object> mapEntries() {
        Map<String, Object> entries = new LinkedHashMap<>();
        entries.put("boolean", Boolean.FALSE);
        entries.put("byte", (byte) 100);
        entries.put("short", (short) -1);
        entries.put("char", 'x');
        entries.put("int", 42);
        entries.put("long", -1L << 50);
        entries.put("float", 1.5f);
        entries.put("double", -0.25);
        entries.put("string", BMP_TEXT); // see properties(): UNICODE is garbled by the client
        entries.put("bigString", repeat("xyz", 4000));
        entries.put("bytes", BINARY);
        entries.put("null", null);
        return entries;
    }

    static MapMessage mapMessage(Session session) throws JMSException {
        MapMessage message = session.createMapMessage();
        for (Map.Entry<String, Object> entry : mapEntries().entrySet()) {
            message.setObject(entry.getKey(), entry.getValue());
        }
        return message;
    }

    static void checkMap(Message received) throws JMSException, Failure {
        Context.check(received instanceof MapMessage, "message 2 is %s, not a MapMessage",
                received.getClass().getName());
        MapMessage message = (MapMessage) received;
        Set<String> names = new HashSet<>(Collections.list(castNames(message.getMapNames())));
        Context.expect("map: names", mapEntries().keySet(), names);
        for (Map.Entry<String, Object> entry : mapEntries().entrySet()) {
            Context.expect("map: entry " + entry.getKey(), entry.getValue(),
                    message.getObject(entry.getKey()));
        }
    }

    @SuppressWarnings("unchecked")
    private static Enumeration<String> castNames(Enumeration<?> names) {
        return (Enumeration<String>) names;
    }

    static List<Object> streamItems() {
        return Arrays.asList(Boolean.TRUE, (byte) 1, (short) 2, 'c', 3, 4L, 5.5f, 6.25, UNICODE,
                BINARY, null, "after-null");
    }

    static StreamMessage streamMessage(Session session) throws JMSException {
        StreamMessage message = session.createStreamMessage();
        for (Object item : streamItems()) {
            message.writeObject(item);
        }
        return message;
    }

    static void checkStream(Message received) throws JMSException, Failure {
        Context.check(received instanceof StreamMessage, "message 4 is %s, not a StreamMessage",
                received.getClass().getName());
        StreamMessage message = (StreamMessage) received;
        int position = 0;
        for (Object item : streamItems()) {
            Context.expect("stream: item " + position, item, message.readObject());
            position++;
        }
        try {
            Object extra = message.readObject();
            throw new Failure("stream: an extra item after the last one: " + extra);
        } catch (MessageEOFException expected) {
            // the stream ends where it should
        }
    }

    // -- large-bodies -------------------------------------------------------------------------

    /**
     * 1 MiB text and bytes bodies, plainly and with {@code jms.useCompression=true} (the client
     * deflates bodies and sets the compressed flag; the broker must pass them through and a
     * consumer that does not compress must still read them).
     */
    static void largeBodies(Context ctx) throws Exception {
        Connection plain = ctx.connect(ctx.factory());
        Connection compressing = ctx.connect(ctx.factory("jms.useCompression=true"));
        Session receiving = plain.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = receiving.createQueue(ctx.name("large"));
        MessageConsumer consumer = receiving.createConsumer(queue);

        String text = repeat("The quick brown fox \u2713 jumps over the lazy dog. ", 20_000);
        byte[] bytes = new byte[1 << 20];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31 + (i >> 12));
        }
        Map<String, Object> mapBody = new LinkedHashMap<>();
        mapBody.put("text", text);
        mapBody.put("bytes", bytes);
        Payload object = new Payload(text.substring(0, 5000), 7, Collections.nCopies(1000, "item"));

        for (Connection connection : Arrays.asList(plain, compressing)) {
            String how = connection == plain ? "plain" : "compressed";
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(queue);
            producer.send(session.createTextMessage(text));
            BytesMessage bytesMessage = session.createBytesMessage();
            bytesMessage.writeBytes(bytes);
            producer.send(bytesMessage);
            MapMessage map = session.createMapMessage();
            for (Map.Entry<String, Object> entry : mapBody.entrySet()) {
                map.setObject(entry.getKey(), entry.getValue());
            }
            producer.send(map);
            producer.send(session.createObjectMessage(object));
            StreamMessage stream = session.createStreamMessage();
            stream.writeString(text);
            stream.writeBytes(bytes);
            producer.send(stream);

            checkText(how + " text", ctx.receive(consumer, how + " text"), text);
            Message in = ctx.receive(consumer, how + " bytes");
            Context.check(in instanceof BytesMessage, "%s bytes: got %s", how,
                    in.getClass().getName());
            Context.expect(how + " bytes: length", (long) bytes.length,
                    ((BytesMessage) in).getBodyLength());
            byte[] back = new byte[bytes.length];
            ((BytesMessage) in).readBytes(back);
            Context.expect(how + " bytes: body", bytes, back);
            in = ctx.receive(consumer, how + " map");
            Context.check(in instanceof MapMessage, "%s map: got %s", how, in.getClass().getName());
            Context.expect(how + " map: text", text, ((MapMessage) in).getString("text"));
            Context.expect(how + " map: bytes", bytes, ((MapMessage) in).getBytes("bytes"));
            in = ctx.receive(consumer, how + " object");
            Context.check(in instanceof ObjectMessage, "%s object: got %s", how,
                    in.getClass().getName());
            Context.expect(how + " object", object, ((ObjectMessage) in).getObject());
            in = ctx.receive(consumer, how + " stream");
            Context.check(in instanceof StreamMessage, "%s stream: got %s", how,
                    in.getClass().getName());
            Context.expect(how + " stream: text", text, ((StreamMessage) in).readString());
            Context.expect(how + " stream: bytes", bytes, ((StreamMessage) in).readObject());
            ctx.log("%s: 1 MiB text, bytes, map, object and stream bodies intact", how);
        }
    }
}
