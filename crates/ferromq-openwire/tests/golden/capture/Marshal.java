import java.io.*;
import java.util.*;
import org.apache.activemq.command.*;
import org.apache.activemq.openwire.OpenWireFormat;
import org.apache.activemq.util.ByteSequence;

/**
 * Marshals hand-built commands with the genuine ActiveMQ 5.17 OpenWireFormat (v12, loose, no
 * cache) and writes one frame per file. Covers what a client session does not produce on its
 * own: XA, every ack type, stack traces, broker-only responses and controls.
 */
public class Marshal {
    static File dir;

    static void write(OpenWireFormat wf, String name, Object cmd) throws IOException {
        ByteSequence seq = wf.marshal(cmd);
        try (FileOutputStream out = new FileOutputStream(new File(dir, name + ".bin"))) {
            out.write(seq.getData(), seq.getOffset(), seq.getLength());
        }
        // Prove the Java side reads back what it wrote.
        Object back = wf.unmarshal(seq);
        if (back != null && !back.getClass().equals(cmd.getClass())) throw new IllegalStateException(name);
    }

    static OpenWireFormat format(boolean stackTraces) {
        OpenWireFormat wf = new OpenWireFormat(12);
        wf.setTightEncodingEnabled(false);
        wf.setCacheEnabled(false);
        wf.setSizePrefixDisabled(false);
        wf.setStackTraceEnabled(stackTraces);
        return wf;
    }

    public static void main(String[] args) throws Exception {
        dir = new File(args[0]);
        dir.mkdirs();
        OpenWireFormat wf = format(false);
        ConnectionId conn = new ConnectionId("ID:golden-1");
        SessionId sess = new SessionId(conn, 3);
        ConsumerId cons = new ConsumerId(sess, 5);
        ProducerId prod = new ProducerId(sess, 6);
        ActiveMQQueue q = new ActiveMQQueue("golden.q");
        MessageId first = new MessageId(prod, 1);
        first.setBrokerSequenceId(101);
        MessageId last = new MessageId(prod, 4);
        last.setBrokerSequenceId(104);

        XATransactionId xid = new XATransactionId();
        xid.setFormatId(0x1234);
        xid.setGlobalTransactionId(new byte[] {1, 2, 3});
        xid.setBranchQualifier(new byte[] {4, 5});
        byte[] xaTypes = {TransactionInfo.BEGIN, TransactionInfo.END, TransactionInfo.PREPARE,
            TransactionInfo.COMMIT_TWO_PHASE, TransactionInfo.ROLLBACK, TransactionInfo.FORGET};
        for (byte type : xaTypes) {
            TransactionInfo ti = new TransactionInfo(conn, xid, type);
            ti.setCommandId(10 + type);
            ti.setResponseRequired(type != TransactionInfo.BEGIN);
            write(wf, "xa_transaction_info_" + type, ti);
        }
        TransactionInfo recover = new TransactionInfo(conn, null, TransactionInfo.RECOVER);
        recover.setCommandId(20);
        recover.setResponseRequired(true);
        write(wf, "xa_recover", recover);

        for (byte type = 0; type <= 6; type++) {
            MessageAck ack = new MessageAck();
            ack.setCommandId(30 + type);
            ack.setAckType(type);
            ack.setConsumerId(cons);
            ack.setDestination(q);
            ack.setFirstMessageId(type == MessageAck.INDIVIDUAL_ACK_TYPE ? null : first);
            ack.setLastMessageId(last);
            ack.setMessageCount(type == MessageAck.INDIVIDUAL_ACK_TYPE ? 1 : 4);
            if (type == MessageAck.POISON_ACK_TYPE) {
                ack.setPoisonCause(new Throwable("Delivery[2] exceeds redelivery policy limit"));
            }
            if (type == MessageAck.STANDARD_ACK_TYPE) {
                ack.setTransactionId(new LocalTransactionId(conn, 9));
            }
            write(wf, "message_ack_" + type, ack);
        }

        ExceptionResponse er = new ExceptionResponse(new javax.jms.JMSException("no"));
        er.setCommandId(4);
        er.setCorrelationId(2);
        write(wf, "exception_response", er);

        OpenWireFormat traced = format(true);
        Exception cause = new IllegalStateException("root cause");
        cause.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("org.example.Inner", "run", "Inner.java", 12)});
        Exception top = new java.io.IOException("outer", cause);
        top.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("org.example.Outer", "call", "Outer.java", 34),
            new StackTraceElement("org.example.Main", "main", null, -2)});
        ExceptionResponse traceResp = new ExceptionResponse(top);
        traceResp.setCommandId(5);
        traceResp.setCorrelationId(3);
        write(traced, "exception_response_stack_trace", traceResp);

        ConnectionError ce = new ConnectionError();
        ce.setCommandId(6);
        ce.setConnectionId(conn);
        ce.setException(new SecurityException("not allowed"));
        write(wf, "connection_error", ce);

        IntegerResponse ir = new IntegerResponse(3);
        ir.setCorrelationId(15);
        write(wf, "integer_response", ir);
        DataArrayResponse dar = new DataArrayResponse(new DataStructure[] {xid});
        dar.setCorrelationId(20);
        write(wf, "data_array_response", dar);
        DataResponse dr = new DataResponse(q);
        dr.setCorrelationId(21);
        write(wf, "data_response", dr);

        ConsumerControl cc = new ConsumerControl();
        cc.setConsumerId(cons);
        cc.setDestination(q);
        cc.setPrefetch(10);
        cc.setStart(true);
        write(wf, "consumer_control", cc);
        ConnectionControl conc = new ConnectionControl();
        conc.setFaultTolerant(true);
        conc.setConnectedBrokers("tcp://a:61616,tcp://b:61616");
        conc.setReconnectTo("tcp://b:61616");
        conc.setRebalanceConnection(true);
        conc.setToken(new byte[] {7, 7});
        write(wf, "connection_control", conc);
        write(wf, "control_command", new ControlCommand());
        write(wf, "flush_command", new FlushCommand());
        write(wf, "keep_alive_info", new KeepAliveInfo());
        write(wf, "shutdown_info", new ShutdownInfo());

        BrokerInfo peer = new BrokerInfo();
        peer.setBrokerId(new BrokerId("ID:peer"));
        peer.setBrokerName("peer");
        BrokerInfo bi = new BrokerInfo();
        bi.setBrokerId(new BrokerId("ID:golden-broker"));
        bi.setBrokerName("golden");
        bi.setBrokerURL("tcp://127.0.0.1:61616");
        bi.setPeerBrokerInfos(new BrokerInfo[] {peer});
        bi.setFaultTolerantConfiguration(true);
        bi.setConnectionId(77);
        bi.setNetworkProperties("a=b");
        write(wf, "broker_info", bi);

        MessagePull pull = new MessagePull();
        pull.setConsumerId(cons);
        pull.setDestination(q);
        pull.setTimeout(-1);
        pull.setCorrelationId("corr");
        pull.setMessageId(first);
        write(wf, "message_pull", pull);

        ActiveMQBlobMessage blob = new ActiveMQBlobMessage();
        blob.setMessageId(first);
        blob.setProducerId(prod);
        blob.setDestination(q);
        blob.setRemoteBlobUrl("http://example/blob");
        blob.setMimeType("application/octet-stream");
        blob.setDeletedByBroker(true);
        write(wf, "blob_message", blob);

        ActiveMQTextMessage xa = new ActiveMQTextMessage();
        xa.setText("in xa");
        xa.setMessageId(last);
        xa.setProducerId(prod);
        xa.setDestination(new ActiveMQTempTopic("ID:golden-1:1"));
        xa.setTransactionId(xid);
        xa.setOriginalDestination(new ActiveMQTopic("orig.t"));
        xa.setOriginalTransactionId(new LocalTransactionId(conn, 2));
        xa.setTargetConsumerId(cons);
        xa.setBrokerPath(new BrokerId[] {new BrokerId("b1"), new BrokerId("b2")});
        xa.setCluster(new BrokerId[] {new BrokerId("c1")});
        xa.setUserID("user");
        xa.setDroppable(true);
        xa.setRecievedByDFBridge(true);
        xa.setJMSXGroupFirstForConsumer(true);
        xa.setArrival(5);
        xa.setBrokerInTime(6);
        xa.setBrokerOutTime(7);
        xa.setDataStructure(new RemoveInfo(cons));
        write(wf, "text_message_all_fields", xa);

        DestinationInfo di = new DestinationInfo(conn, DestinationInfo.REMOVE_OPERATION_TYPE,
            new ActiveMQTempQueue("ID:golden-1:2"));
        di.setBrokerPath(new BrokerId[] {new BrokerId("b1")});
        di.setTimeout(1000);
        write(wf, "destination_info", di);

        ProducerAck pa = new ProducerAck(prod, 1234);
        write(wf, "producer_ack", pa);
        RemoveInfo rs = new RemoveInfo(sess);
        rs.setLastDeliveredSequenceId(-1);
        write(wf, "remove_info_session", rs);
        write(wf, "null", null);
    }
}
