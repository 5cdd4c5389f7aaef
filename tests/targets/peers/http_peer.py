#!/usr/bin/python3
"""A loopback HTTP(S) receiver for the webhook tests.

Prints its port on the first line of stdout, then serves until killed. Every request is
appended to --log as one JSON line (method, path, headers, body, client port, and in_flight:
how many requests the server was handling when it arrived, itself included). The path picks
the answer:
  /status/<code>[?retry_after=<value>]   that status (with Retry-After if asked)
  /hang                                  never answers (until the client gives up)
  /hang_marked                           a request whose body has "hang" in it never answers,
                                         others get 200 (which ones hang does not depend on
                                         when they arrive)
  /slow/<ms>                             answers 200 after <ms> milliseconds
  /close                                 answers 200 and closes the connection
  anything else                          200
"""
import argparse
import json
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
IN_FLIGHT = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        global IN_FLIGHT
        with LOCK:
            IN_FLIGHT += 1
        self.counted = True
        try:
            self.answer()
        finally:
            self.uncount()

    def uncount(self):
        # Before the answer goes out: a client that gets it may send its next request at once,
        # which must not find this one still counted.
        global IN_FLIGHT
        if self.counted:
            self.counted = False
            with LOCK:
                IN_FLIGHT -= 1

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        record = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "client_port": self.client_address[1],
            "time": time.time(),
        }
        parts = url.path.strip("/").split("/")
        hang = parts[0] == "hang" or (parts[0] == "hang_marked" and b"hang" in body)
        with LOCK, open(self.server.log_path, "a", encoding="utf-8") as log:
            record["in_flight"] = IN_FLIGHT
            log.write(json.dumps(record) + "\n")

        status, headers, close = 200, {}, False
        if hang:
            time.sleep(60)
            return
        if parts[0] == "status" and len(parts) > 1:
            status = int(parts[1])
            query = urllib.parse.parse_qs(url.query)
            if "retry_after" in query:
                headers["Retry-After"] = query["retry_after"][0]
        elif parts[0] == "slow" and len(parts) > 1:
            time.sleep(int(parts[1]) / 1000.0)
        elif parts[0] == "close":
            close = True
        payload = ("status %d\n" % status).encode()
        self.uncount()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed TLS handshakes are what some tests are about


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.log_path = args.log
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
