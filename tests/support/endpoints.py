"""Real local endpoints for the alerts: an HTTP server for Apprise's json:// and an SMTP server
(aiosmtpd) for its mailto://, both on 127.0.0.1, recording what they receive."""

import asyncio
import email
import email.policy
import json
import logging
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP, AuthResult

DEADLINE = 20  # seconds any wait for a message may take

# aiosmtpd 1.4's own AUTH code logs a warning about its deprecated Session.login_data at each login.
logging.getLogger("mail.log").setLevel(logging.ERROR)


class _Inbox:
    """Messages as they arrive, and a wait for them with a deadline."""

    def __init__(self):
        self.received: list = []
        self._changed = threading.Condition()

    def _add(self, item) -> None:
        with self._changed:
            self.received.append(item)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = DEADLINE) -> list:
        """The first `count` messages, waiting for them; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} messages arrived, not {count}: {self.received}")
                self._changed.wait(left)
            return self.received[:count]


class Webhook(_Inbox):
    """An HTTP server recording each JSON body POSTed to it; `fail(500, ...)` answers the next
    requests with those statuses (recording nothing), as a broken endpoint would; `delay` is the
    seconds it takes to answer each."""

    def __init__(self):
        super().__init__()
        self.failures: deque[int] = deque()
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(hook.delay)
                status = hook.failures.popleft() if hook.failures else 200
                if status == 200:
                    hook._add({"path": self.path, **json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def fail(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class Mailbox(_Inbox):
    """An SMTP server that accepts one login (AUTH over plain SMTP, as on a local relay) and keeps
    each message as an `email.message.EmailMessage` (with `.logins`: the credentials it was sent with)."""

    def __init__(self, user: str = "ticker", password: str = "s3cret-pw"):
        super().__init__()
        self.user, self.password = user, password
        self.logins: list[tuple[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._server = None
        self.port = None

    def url(self, to: str = "me@example.org") -> str:
        return (f"mailto://{self.user}:{self.password}@127.0.0.1:{self.port}"
                f"?from=ticker@example.org&to={to}")

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == (self.user, self.password))

    async def handle_DATA(self, server, session, envelope):
        # SMTP carries CRLF line ends: the message as a reader's mail program shows it has "\n".
        content = envelope.content.replace(b"\r\n", b"\n")
        self._add(email.message_from_bytes(content, policy=email.policy.default))
        return "250 OK"

    def __enter__(self):
        factory = lambda: SMTP(self, authenticator=self._authenticate, auth_require_tls=False)  # noqa: E731
        self._server = self._loop.run_until_complete(self._loop.create_server(factory, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(DEADLINE)
        self._loop.call_soon_threadsafe(self._loop.stop)
