import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import javax.jms.*;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.activemq.ActiveMQSession;
import org.apache.activemq.RedeliveryPolicy;
import org.apache.activemq.command.ActiveMQQueue;

/**
 * Drives the genuine ActiveMQ 5.17 client through a scripted session so that a recording proxy
 * can capture real frames in both directions. Default client settings unless noted.
 */
public class Client {
    static void log(String s) { System.out.println("STEP " + s); System.out.flush(); }

    public static void main(String[] args) throws Exception {
        String port = args[0];
        ActiveMQConnectionFactory f = new ActiveMQConnectionFactory("tcp://127.0.0.1:" + port);
        RedeliveryPolicy rp = new RedeliveryPolicy();
        rp.setMaximumRedeliveries(1);
        rp.setInitialRedeliveryDelay(0);
        rp.setRedeliveryDelay(0);
        f.setRedeliveryPolicy(rp);
        Connection c = f.createConnection();
        c.setClientID("golden-client");
        c.start();
        log("connected");

        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("golden.q");
        MessageProducer p = s.createProducer(q);
        TemporaryQueue tq = s.createTemporaryQueue();

        TextMessage tm = s.createTextMessage("h\u00e9llo \u4e2d \ud83d\ude00 \u0000!");
        tm.setStringProperty("sp", "v\u00e9");
        tm.setIntProperty("ip", 7);
        tm.setLongProperty("lp", 8L);
        tm.setBooleanProperty("bp", true);
        tm.setDoubleProperty("dp", 1.5);
        tm.setFloatProperty("fp", 2.5f);
        tm.setByteProperty("yp", (byte) -3);
        tm.setShortProperty("hp", (short) 4);
        Map<String, Object> nested = new HashMap<>();
        nested.put("k", "v");
        nested.put("n", 1);
        tm.setObjectProperty("mp", nested);
        tm.setObjectProperty("lsp", Arrays.asList("a", 2, 3L, false));
        char[] big = new char[9000];
        Arrays.fill(big, 'x');
        tm.setStringProperty("bigp", new String(big));
        tm.setStringProperty("JMSXGroupID", "g1");
        tm.setJMSCorrelationID("corr-1");
        tm.setJMSType("golden-type");
        tm.setJMSReplyTo(tq);
        p.send(tm, DeliveryMode.PERSISTENT, 7, 60000);
        log("text sent");

        BytesMessage bm = s.createBytesMessage();
        bm.writeInt(42);
        bm.writeUTF("x");
        bm.writeBytes(new byte[] {1, 2, 3});
        p.send(bm);
        MapMessage mm = s.createMapMessage();
        mm.setBoolean("b", true);
        mm.setByte("y", (byte) 1);
        mm.setChar("c", 'Z');
        mm.setShort("h", (short) -2);
        mm.setInt("i", 1);
        mm.setLong("l", -1L);
        mm.setFloat("f", 0.25f);
        mm.setDouble("d", -0.5);
        mm.setString("s", "str");
        mm.setBytes("a", new byte[] {9, 8});
        mm.setObject("m", nested);
        mm.setObject("li", Arrays.asList(1, "two"));
        mm.setString("n", null);
        p.send(mm);
        p.send(s.createObjectMessage("serialized string"));
        StreamMessage sm = s.createStreamMessage();
        sm.writeBoolean(true);
        sm.writeChar('q');
        sm.writeString("st");
        sm.writeBytes(new byte[] {5});
        sm.writeLong(99L);
        p.send(sm);
        p.send(s.createMessage());
        p.send(s.createTextMessage("non-persistent"), DeliveryMode.NON_PERSISTENT, 4, 0);
        log("all kinds sent");

        MessageConsumer mc = s.createConsumer(q);
        for (int i = 0; i < 7; i++) {
            Message m = mc.receive(5000);
            log("received " + (m == null ? null : m.getClass().getSimpleName()));
        }
        mc.close();

        Session ca = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        p.send(s.createTextMessage("ca1"));
        p.send(s.createTextMessage("ca2"));
        MessageConsumer cac = ca.createConsumer(q);
        cac.receive(5000);
        Message m2 = cac.receive(5000);
        m2.acknowledge();
        ca.close();
        log("client ack done");

        Session ia = c.createSession(false, ActiveMQSession.INDIVIDUAL_ACKNOWLEDGE);
        p.send(s.createTextMessage("ia1"));
        MessageConsumer iac = ia.createConsumer(q);
        iac.receive(5000).acknowledge();
        ia.close();
        log("individual ack done");

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        MessageProducer tp = tx.createProducer(q);
        tp.send(tx.createTextMessage("tx1"));
        tx.commit();
        MessageConsumer tc = tx.createConsumer(q);
        tc.receive(5000);
        tx.rollback();
        tc.receive(5000);
        tx.rollback();
        Message again = tc.receive(1000);
        log("after rollbacks: " + again);
        tx.commit();
        tx.close();
        log("transactions done");

        tq.delete();
        log("temp queue deleted");

        Topic t = s.createTopic("golden.t");
        TopicSubscriber ds = s.createDurableSubscriber(t, "golden-sub", "ip > 3", false);
        ds.close();
        s.unsubscribe("golden-sub");
        try {
            s.unsubscribe("no-such-sub");
        } catch (JMSException e) {
            log("unsubscribe refused: " + e);
        }

        Queue pq = s.createQueue("golden.pull?consumer.prefetchSize=0");
        MessageConsumer pc = s.createConsumer(pq);
        log("pull nowait: " + pc.receiveNoWait());
        MessageProducer anon = s.createProducer(null);
        anon.send(new ActiveMQQueue("golden.pull"), s.createTextMessage("pulled"));
        anon.close();
        log("pull: " + pc.receive(2000));
        pc.close();

        QueueBrowser qb = s.createBrowser(q);
        Enumeration<?> en = qb.getEnumeration();
        while (en.hasMoreElements()) en.nextElement();
        qb.close();
        log("browse done");
        p.close();
        s.close();
        c.close();
        log("connection 1 closed");

        ActiveMQConnectionFactory cf = new ActiveMQConnectionFactory(
            "failover:(tcp://127.0.0.1:" + port + ")");
        cf.setUseCompression(true);
        cf.setProducerWindowSize(4096);
        Connection c2 = cf.createConnection();
        c2.start();
        Session s2 = c2.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue zq = s2.createQueue("golden.z");
        MessageProducer zp = s2.createProducer(zq);
        zp.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        char[] rep = new char[2000];
        Arrays.fill(rep, 'z');
        zp.send(s2.createTextMessage(new String(rep)));
        BytesMessage zb = s2.createBytesMessage();
        zb.writeBytes(new String(rep).getBytes("UTF-8"));
        zp.send(zb);
        MapMessage zm = s2.createMapMessage();
        zm.setString("k", new String(rep));
        zp.send(zm);
        MessageConsumer zc = s2.createConsumer(zq);
        for (int i = 0; i < 3; i++) {
            log("compressed received " + zc.receive(5000).getClass().getSimpleName());
        }
        c2.close();
        log("connection 2 closed");

        ActiveMQConnectionFactory kf = new ActiveMQConnectionFactory(
            "tcp://127.0.0.1:" + port + "?wireFormat.maxInactivityDuration=1500&wireFormat.maxInactivityDurationInitalDelay=200");
        Connection c3 = kf.createConnection();
        c3.start();
        Thread.sleep(2500);
        c3.close();
        log("keepalive connection closed");
    }
}
