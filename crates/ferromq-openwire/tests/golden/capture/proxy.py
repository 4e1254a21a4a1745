"""Recording TCP proxy: forwards one port to another and stores every OpenWire frame.

Frames are cut at their 4-byte big-endian size prefix (both peers use one). Each frame is
written to OUT/<seq>-<conn>-<dir>-<type>.bin, where dir is c2b or b2c.
"""
import os, socket, struct, sys, threading

listen_port, target_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
seq = [0]
lock = threading.Lock()

def pump(src, dst, conn, direction):
    buf = b""
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        dst.sendall(data)
        buf += data
        while len(buf) >= 4:
            size = struct.unpack(">i", buf[:4])[0]
            if len(buf) < 4 + size:
                break
            frame, buf = buf[:4 + size], buf[4 + size:]
            with lock:
                seq[0] += 1
                name = "%04d-c%d-%s-t%d.bin" % (seq[0], conn, direction, frame[4])
            with open(os.path.join(out, name), "wb") as f:
                f.write(frame)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(8)
print("READY", flush=True)
n = 0
while True:
    c, _ = srv.accept()
    n += 1
    b = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(c, b, n, "c2b"), daemon=True).start()
    threading.Thread(target=pump, args=(b, c, n, "b2c"), daemon=True).start()
