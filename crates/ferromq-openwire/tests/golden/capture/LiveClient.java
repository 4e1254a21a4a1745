import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import javax.jms.*;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * Runs the genuine ActiveMQ 5.17 client (default settings) against the Rust
 * `mock_broker` example: handshake, sync sends with properties, compressed bodies, dispatch
 * back to a consumer, and an ExceptionResponse mapped to a JMS exception. Prints "LIVE OK".
 */
public class LiveClient {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        for (boolean compress : new boolean[] {false, true}) {
            ActiveMQConnectionFactory f = new ActiveMQConnectionFactory("tcp://" + args[0]);
            f.setUseCompression(compress);
            Connection c = f.createConnection();
            c.setClientID("live-" + compress);
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("live.q");
            MessageProducer p = s.createProducer(q);
            char[] big = new char[3000];
            Arrays.fill(big, 'b');
            String text = "h\u00e9llo \u4e2d \ud83d\ude00 \u0000 " + new String(big);
            TextMessage tm = s.createTextMessage(text);
            tm.setIntProperty("ip", 7);
            tm.setStringProperty("sp", "\u00e9");
            Map<String, Object> nested = new HashMap<>();
            nested.put("k", 1L);
            tm.setObjectProperty("mp", nested);
            p.send(tm);
            BytesMessage bm = s.createBytesMessage();
            bm.writeBytes(new String(big).getBytes("UTF-8"));
            p.send(bm);
            MapMessage mm = s.createMapMessage();
            mm.setString("k", new String(big));
            p.send(mm);
            MessageConsumer mc = s.createConsumer(q);
            TextMessage rt = (TextMessage) mc.receive(5000);
            check(rt != null && text.equals(rt.getText()), "text");
            check(rt.getIntProperty("ip") == 7 && "\u00e9".equals(rt.getStringProperty("sp")), "props");
            check(((Map<?, ?>) rt.getObjectProperty("mp")).get("k").equals(1L), "nested map");
            BytesMessage rb = (BytesMessage) mc.receive(5000);
            check(rb.getBodyLength() == 3000, "bytes");
            MapMessage rm = (MapMessage) mc.receive(5000);
            check(new String(big).equals(rm.getString("k")), "map");
            try {
                s.unsubscribe("nope");
                check(false, "unsubscribe should fail");
            } catch (InvalidDestinationException expected) {
                check(expected.getMessage().contains("mock"), "exception text");
            }
            c.close();
            System.out.println("LIVE OK compress=" + compress);
        }
    }
}
