"""Hostile servers on this machine for the client's bounds: one that trickles its answer, one that
floods, one that redirects, and TLS with a local certificate authority (made by the `openssl` CLI).

Each is a real HTTP server on a loopback address; `record` lists what each was asked, as
(path, Authorization header or None).
"""

import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

JSON = "application/json; charset=utf-8"
OTHER_HOST = "127.0.0.2"  # loopback too (127.0.0.0/8), but another host name for a redirect


@dataclass(frozen=True)
class Authority:
    """A local certificate authority and what it signed, as PEM files."""

    ca: Path  # the CA's certificate: what a client is told to trust (REQUESTS_CA_BUNDLE)
    cert: Path  # a server certificate it signed for 127.0.0.1, 127.0.0.2 and localhost
    key: Path
    self_signed: Path  # a certificate for 127.0.0.1 that no authority signed
    self_signed_key: Path

    def context(self, trusted: bool = True) -> ssl.SSLContext:
        """A server's TLS context: the authority's certificate, or the self-signed one."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if trusted:
            context.load_cert_chain(self.cert, self.key)
        else:
            context.load_cert_chain(self.self_signed, self.self_signed_key)
        return context


def authority(folder: Path) -> Authority:
    """A fresh certificate authority in `folder`, with a server certificate it signed."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=ticker test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "server.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        f"subjectAltName=IP:127.0.0.1,IP:{OTHER_HOST},DNS:localhost\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "30", "-extfile", "server.ext")
    openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1")
    return Authority(folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "self.pem",
                     folder / "self.key")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    record: list

    def handle_error(self, request, client_address):
        pass  # clients that give up mid-answer (the point of these servers) are no error


@contextmanager
def serving(answer, host: str = "127.0.0.1", context: ssl.SSLContext | None = None):
    """A server on `host` whose every GET is `answer(handler)`; yields (its root URL, its record)."""
    record: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            record.append((self.path, self.headers.get("Authorization")))
            answer(self)

        def log_message(self, *args):
            pass

    server = _Server((host, 0), Handler)
    server.record = record
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    scheme = "https" if context is not None else "http"
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}", record
    finally:
        server.shutdown()
        server.server_close()


def trickle(interval: float = 0.5, size: int = 200, headers_too: bool = False):
    """An answer that is 200 OK and then comes one byte each `interval` seconds: `size` bytes of a
    JSON list in all (or, with `headers_too`, its status line and headers already trickle)."""
    body = ("[" + " " * (size - 2) + "]").encode()

    def answer(handler):
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {JSON}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        try:
            if headers_too:
                for n in range(len(head)):
                    handler.wfile.write(head[n:n + 1])
                    handler.wfile.flush()
                    time.sleep(interval)
            else:
                handler.wfile.write(head)
            for n in range(len(body)):
                handler.wfile.write(body[n:n + 1])
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # the client gave up, as it should
        handler.close_connection = True

    return answer


def flood(megabytes: int = 200, declared: bool = False):
    """An answer of `megabytes` MB of JSON, chunked (or, `declared`, with its Content-Length)."""
    block = b" " * 2**16

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", JSON)
        total = megabytes * 2**20
        if declared:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for _ in range(total // len(block)):
                handler.wfile.write(block if declared else b"%x\r\n%s\r\n" % (len(block), block))
            if not declared:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped reading, as it should
        handler.close_connection = True

    return answer


def redirect(target: str, status: int = 302):
    """An answer sending every request to the same path under `target`."""
    def answer(handler):
        handler.send_response(status)
        handler.send_header("Location", target + handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def failing(status: int = 503):
    """An answer that is always `status`, as a server that is down behind its proxy."""
    def answer(handler):
        body = b"<html>Service Unavailable</html>"
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer
