package ferromq.jms;

/** One acceptance scenario: throws {@link Failure} (or anything) when the broker misbehaves. */
@FunctionalInterface
interface Scenario {
    void run(Context ctx) throws Exception;
}
