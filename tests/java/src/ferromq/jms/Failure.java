package ferromq.jms;

/** A scenario's expectation did not hold; the message is the reason printed on the FAIL line. */
final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String reason) {
        super(reason);
    }
}
