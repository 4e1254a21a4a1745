import org.apache.activemq.broker.BrokerService;

/** Runs a throw-away in-memory ActiveMQ 5.17 broker that offers loose encoding only. */
public class Broker {
    public static void main(String[] args) throws Exception {
        BrokerService broker = new BrokerService();
        broker.setBrokerName("golden");
        broker.setPersistent(false);
        broker.setUseJmx(false);
        broker.setAdvisorySupport(true);
        broker.addConnector("tcp://127.0.0.1:" + args[0]
            + "?wireFormat.tightEncodingEnabled=false&wireFormat.cacheEnabled=false"
            + "&wireFormat.stackTraceEnabled=false&wireFormat.maxFrameSize=104857600");
        broker.start();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.parseLong(args[1]));
        broker.stop();
    }
}
