package ferromq.jms;

import javax.jms.Connection;
import javax.jms.Destination;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;

/**
 * Request/reply over temporary destinations between two connections: the requester's
 * temporary queue (and topic) receives the service's replies, correlated by message id; once the
 * requester's connection is gone, so is its temporary queue.
 */
final class RequestReply {
    private RequestReply() {
    }

    static void run(Context ctx) throws Exception {
        Connection service = ctx.connect(ctx.factory());
        Session serviceSession = service.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue requests = serviceSession.createQueue(ctx.name("service"));
        MessageConsumer incoming = serviceSession.createConsumer(requests);
        MessageProducer replier = serviceSession.createProducer(null);

        Connection requester = ctx.connect(ctx.factory());
        Session session = requester.createSession(false, Session.AUTO_ACKNOWLEDGE);
        TemporaryQueue replyQueue = session.createTemporaryQueue();
        TemporaryTopic replyTopic = session.createTemporaryTopic();
        MessageConsumer queueReplies = session.createConsumer(replyQueue);
        MessageConsumer topicReplies = session.createConsumer(replyTopic);
        MessageProducer requestProducer = session.createProducer(requests);

        for (int i = 0; i < 3; i++) {
            boolean viaTopic = i == 1;
            Destination replyTo = viaTopic ? replyTopic : replyQueue;
            TextMessage request = session.createTextMessage("request-" + i);
            request.setJMSReplyTo(replyTo);
            requestProducer.send(request);

            Message got = ctx.receive(incoming, "request-" + i + " at the service");
            MessageTypes.checkText("request at the service", got, "request-" + i);
            Context.expect("JMSReplyTo at the service", replyTo, got.getJMSReplyTo());
            TextMessage reply = serviceSession.createTextMessage("reply-" + i);
            reply.setJMSCorrelationID(got.getJMSMessageID());
            replier.send(got.getJMSReplyTo(), reply);

            Message answer = ctx.receive(viaTopic ? topicReplies : queueReplies, "reply-" + i);
            MessageTypes.checkText("reply", answer, "reply-" + i);
            Context.expect("reply JMSCorrelationID", request.getJMSMessageID(),
                    answer.getJMSCorrelationID());
            Context.expect("reply JMSDestination", replyTo, answer.getJMSDestination());
        }
        ctx.log("3 requests answered through a temporary queue and a temporary topic");

        // A temporary queue lives as long as the connection that made it. The service learns
        // of its deletion through the ActiveMQ.Advisory.TempQueue advisory, and its client
        // then refuses to send there.
        requester.close();
        long deadline = System.currentTimeMillis() + Context.TIMEOUT_MS;
        while (true) {
            try {
                replier.send(replyQueue, serviceSession.createTextMessage("too late"));
            } catch (InvalidDestinationException expected) {
                ctx.log("after the requester left: %s", expected.getMessage());
                break;
            } catch (JMSException other) {
                throw new Failure("sending to the deleted temporary queue failed with " + other
                        + " instead of InvalidDestinationException");
            }
            Context.check(System.currentTimeMillis() < deadline,
                    "sends to the temporary queue of a closed connection still succeed after %d ms",
                    Context.TIMEOUT_MS);
            Thread.sleep(50);
        }
    }
}
