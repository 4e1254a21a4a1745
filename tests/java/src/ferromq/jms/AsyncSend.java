package ferromq.jms;

import java.util.Arrays;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

/**
 * {@code jms.useAsyncSend=true}: persistent sends without waiting for a Response. With a
 * producer window ({@code jms.producerWindowSize}) the client also stops once that many bytes
 * are unacknowledged until the broker sends ProducerAcks, so a broker that never does stalls
 * this scenario.
 */
final class AsyncSend {
    private AsyncSend() {
    }

    static void run(Context ctx) throws Exception {
        int count = Integer.parseInt(ctx.param("count", "2000"));
        Connection sending = ctx.connect(
                ctx.factory("jms.useAsyncSend=true&jms.producerWindowSize=65536"));
        Connection receiving = ctx.connect(ctx.factory());
        Session session = sending.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(ctx.name("async"));
        MessageConsumer consumer = receiving.createSession(false, Session.AUTO_ACKNOWLEDGE)
                .createConsumer(queue);
        MessageProducer producer = session.createProducer(queue);
        byte[] payload = new byte[1024];
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Arrays.fill(payload, (byte) i);
            BytesMessage message = session.createBytesMessage();
            message.setIntProperty("n", i);
            message.writeBytes(payload);
            // All persistent: JMS orders messages of one producer only within a delivery mode.
            producer.send(message, DeliveryMode.PERSISTENT, 4, 0);
        }
        long sentMs = (System.nanoTime() - start) / 1_000_000;
        for (int i = 0; i < count; i++) {
            Message message = ctx.receive(consumer, "async message " + i + " of " + count);
            Context.expect("message order", i, message.getIntProperty("n"));
            byte[] body = new byte[payload.length + 1];
            int length = ((BytesMessage) message).readBytes(body);
            Context.check(length == payload.length && body[0] == (byte) i
                    && body[length - 1] == (byte) i,
                    "message %d: body of %d bytes is not the one sent", i, length);
        }
        long totalMs = (System.nanoTime() - start) / 1_000_000;
        ctx.log("%d async persistent 1 KiB sends through a 64 KiB producer window: "
                + "sent in %d ms, all received in %d ms",
                count, sentMs, totalMs);
    }
}
