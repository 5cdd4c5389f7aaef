#!/usr/bin/python3
"""A loopback SMTP server (aiosmtpd) for the email tests.

Prints its port on the first line of stdout, then serves until killed. Each accepted message
is written to --out/<n>.json with the envelope, whether the session used TLS, the
authenticated user, every header (as the parsed message has it) and the decoded text body.
  --cert/--key        offer STARTTLS with this certificate
  --require-starttls  refuse mail until STARTTLS
  --auth user:pass    require AUTH with these credentials
  --reject CODE       answer DATA with this SMTP code instead of accepting
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, out, reject):
        self.out = out
        self.reject = reject
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return "%d rejected by test peer" % self.reject
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth_user": (session.auth_data.login.decode()
                          if isinstance(session.auth_data, LoginPassword) else None),
            "headers": [[k, str(v)] for k, v in message.items()],
            "raw_headers": (envelope.original_content or envelope.content)
            .split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace"),
            "body": message.get_content(),
        }
        self.count += 1
        path = os.path.join(self.out, "%d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--reject", type=int, default=0)
    args = parser.parse_args()

    tls_context = None
    if args.cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = args.auth.split(":", 1)
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = Handler(args.out, args.reject)

    def factory():
        return SMTP(handler, hostname="peer.test", tls_context=tls_context,
                    require_starttls=args.require_starttls,
                    auth_required=bool(args.auth), auth_require_tls=True,
                    auth_exclude_mechanism=["LOGIN"],
                    authenticator=authenticator if args.auth else None)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=0))
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


if __name__ == "__main__":
    sys.exit(main())
