package ferromq.jms;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The body of the ObjectMessages: a small Serializable class of the test's own package. */
final class Payload implements Serializable {
    private static final long serialVersionUID = 20240601L;

    final String name;
    final long amount;
    final ArrayList<String> items;

    Payload(String name, long amount, List<String> items) {
        this.name = name;
        this.amount = amount;
        this.items = new ArrayList<>(items);
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof Payload)) {
            return false;
        }
        Payload that = (Payload) other;
        return name.equals(that.name) && amount == that.amount && items.equals(that.items);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, amount, items);
    }

    @Override
    public String toString() {
        return "Payload(" + name + ", " + amount + ", " + items + ")";
    }
}
