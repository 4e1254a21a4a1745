package ferromq.jms;

import java.util.ArrayList;

import javax.jms.Connection;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.activemq.RedeliveryPolicy;
import org.apache.activemq.command.ActiveMQMessage;

/**
 * A message rolled back more often than the client's RedeliveryPolicy allows
 * ({@code maximumRedeliveries=1}) is poison-acknowledged and the broker moves it to
 * ActiveMQ.DLQ, recording where it came from and why.
 */
final class DeadLetter {
    private DeadLetter() {
    }

    static void run(Context ctx) throws Exception {
        ActiveMQConnectionFactory factory = ctx.factory();
        RedeliveryPolicy policy = factory.getRedeliveryPolicy();
        policy.setMaximumRedeliveries(1);
        policy.setInitialRedeliveryDelay(0);
        policy.setRedeliveryDelay(0);
        Connection connection = ctx.connect(factory);
        Session plain = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = plain.createQueue(ctx.name("poison"));
        String tag = ctx.name("dlq-tag");
        MessageProducer producer = plain.createProducer(queue);
        TextMessage poison = plain.createTextMessage("poison");
        poison.setStringProperty("tag", tag);
        producer.send(poison);

        Session transacted = connection.createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer consumer = transacted.createConsumer(queue);
        for (int delivery = 1; delivery <= 2; delivery++) {
            Message message = ctx.receive(consumer,
                    "delivery " + delivery + " of the poison message");
            MessageTypes.checkText("delivery " + delivery, message, "poison");
            Context.expect("JMSXDeliveryCount", delivery,
                    message.getIntProperty("JMSXDeliveryCount"));
            Context.expect("JMSRedelivered", delivery > 1, message.getJMSRedelivered());
            transacted.rollback();
        }
        // One redelivery allowed and used: the second rollback poisons it.
        String marker = ctx.marker();
        producer.send(plain.createTextMessage(marker));
        Context.expect("delivered after the redelivery limit", new ArrayList<String>(),
                Context.bodies(ctx.receiveUntil(consumer, marker)));
        transacted.commit();

        Queue deadLetters = plain.createQueue("ActiveMQ.DLQ");
        MessageConsumer dlq = plain.createConsumer(deadLetters, "tag = '" + tag + "'");
        Message dead = ctx.receive(dlq, "the poison message on ActiveMQ.DLQ");
        MessageTypes.checkText("dead-lettered", dead, "poison");
        Context.expect("JMSMessageID on the DLQ", poison.getJMSMessageID(), dead.getJMSMessageID());
        Context.expect("JMSDestination", deadLetters, dead.getJMSDestination());
        Context.expect("originalDestination", queue,
                ((ActiveMQMessage) dead).getOriginalDestination());
        String cause = dead.getStringProperty("dlqDeliveryFailureCause");
        Context.check(cause != null && !cause.isEmpty(),
                "the DLQ copy has no dlqDeliveryFailureCause property (properties: %s)",
                Context.propertyNames(dead));
        ctx.log("poisoned after 1 redelivery; on ActiveMQ.DLQ with cause: %s", cause);
    }
}
