"""A loopback HTTP/1.1 receiver that records the raw bytes of every connection, so a test can
see exactly what eventrouter put on the wire (a smuggled second request, an injected header),
not what an HTTP library would make of it. It answers each request it can frame with 200."""
import socket
import threading


class RawRecorder:
    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.connections = []  # one bytearray per accepted connection
        self.lines = []  # the request line of every request framed, in order
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def raw(self):
        with self.lock:
            return b"".join(bytes(c) for c in self.connections)

    def request_lines(self):
        with self.lock:
            return list(self.lines)

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            buffer = bytearray()
            with self.lock:
                self.connections.append(buffer)
            threading.Thread(target=self._serve, args=(conn, buffer), daemon=True).start()

    def _serve(self, conn, record):
        pending = b""
        conn.settimeout(30)
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                with self.lock:
                    record.extend(chunk)
                pending += chunk
                while b"\r\n\r\n" in pending:
                    head, rest = pending.split(b"\r\n\r\n", 1)
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value.strip() or 0)
                    if len(rest) < length:
                        break
                    with self.lock:
                        self.lines.append(head.split(b"\r\n")[0].decode("latin-1"))
                    pending = rest[length:]
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.server.close()
