import java.io.*;
import java.nio.file.*;
import java.util.*;
import org.apache.activemq.command.*;
import org.apache.activemq.openwire.OpenWireFormat;
import org.apache.activemq.util.ByteSequence;

/**
 * Reads frames written by the Rust codec and checks them against the genuine ActiveMQ 5.17
 * OpenWireFormat (v12, loose, no cache, no stack traces): every frame must unmarshal, and
 * marshal back to the same bytes. WireFormatInfo (HashMap order) and commands carrying a
 * Throwable (Java re-creates unknown exception classes as java.lang.Throwable) are only
 * checked for unmarshalling.
 */
public class Verify {
    static String hex(byte[] b, int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, at - 8); i < Math.min(b.length, at + 16); i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
            if (i == at - 1) sb.append('|');
        }
        return sb.toString();
    }

    static int firstDiff(byte[] a, byte[] b) {
        int i = 0;
        while (i < a.length && i < b.length && a[i] == b[i]) i++;
        return i;
    }

    public static void main(String[] args) throws Exception {
        byte[] all = Files.readAllBytes(Paths.get(args[0]));
        OpenWireFormat wf = new OpenWireFormat(12);
        wf.setTightEncodingEnabled(false);
        wf.setCacheEnabled(false);
        wf.setStackTraceEnabled(false);
        int pos = 0, frames = 0, same = 0, skipped = 0;
        Map<String, Integer> types = new TreeMap<>();
        while (pos < all.length) {
            int size = ((all[pos] & 0xff) << 24) | ((all[pos + 1] & 0xff) << 16)
                | ((all[pos + 2] & 0xff) << 8) | (all[pos + 3] & 0xff);
            byte[] frame = Arrays.copyOfRange(all, pos, pos + 4 + size);
            pos += 4 + size;
            frames++;
            Object o = wf.unmarshal(new ByteSequence(frame));
            String name = o.getClass().getSimpleName();
            types.merge(name, 1, Integer::sum);
            int t = frame[4];
            boolean hasThrowable = (o instanceof ExceptionResponse)
                || (o instanceof ConnectionError)
                || (o instanceof MessageAck && ((MessageAck) o).getPoisonCause() != null);
            if (o instanceof WireFormatInfo) {
                // Forces the option map to be parsed, as negotiation does.
                ((WireFormatInfo) o).getProperties();
            }
            if (t == 1 || hasThrowable) {
                skipped++;
                continue;
            }
            ByteSequence again = wf.marshal(o);
            byte[] back = Arrays.copyOfRange(again.getData(), again.getOffset(),
                again.getOffset() + again.getLength());
            if (Arrays.equals(back, frame)) {
                same++;
            } else {
                int at = firstDiff(frame, back);
                System.out.println("DIFF frame " + frames + " " + name + " at byte " + at + " of "
                    + frame.length + "/" + back.length + ": ours " + hex(frame, at) + " java "
                    + hex(back, at));
            }
        }
        System.out.println(frames + " frames unmarshalled, " + same + " re-marshalled identically, "
            + skipped + " not compared; types " + types);
    }
}
