"""tls_front.py - HTTPS in front of the local stand-ins, so a cold start pays what it pays on AWS.

Bedrock and S3 are HTTPS on AWS, and a function's first connection to each pays for TLS: the
handshake, and loading the trusted CA certificates into the TLS library. bedrock-local and
s3rver speak plain HTTP, which hides that cost. A TlsFront terminates TLS on 127.0.0.1 and
forwards the bytes unchanged to one stand-in (the Host header and so the SigV4 signatures pass
through as they are). Its certificate is made once per run by the openssl command and trusted
the way each runtime is told to trust one on Lambda:

  C        SSL_CERT_FILE: a copy of the system CA bundle with the local certificate appended
           (the full bundle, so loading it costs what loading the real one costs);
  Node.js  NODE_EXTRA_CA_CERTS: the local certificate, added to Node's built-in roots.

Only the standard library and the openssl command are used.
"""
import os
import select
import socket
import ssl
import subprocess
import tempfile
import threading

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def system_bundle():
    """The system's CA bundle (Debian's or Amazon Linux's path)."""
    found = next((p for p in SYSTEM_BUNDLES if os.path.exists(p)), None)
    if found is None:
        raise RuntimeError(f"no system CA bundle at {' or '.join(SYSTEM_BUNDLES)} (Debian package ca-certificates)")
    return found


class Certificates:
    """A self-signed certificate for 127.0.0.1 and the two trust files the runtimes read."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="imagegen-bench-tls-")
        self.cert = os.path.join(self.dir, "local.pem")
        self.key = os.path.join(self.dir, "local.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert], check=True, capture_output=True)
        system = system_bundle()
        self.bundle = os.path.join(self.dir, "bundle.pem")
        with open(self.bundle, "wb") as out:
            for path in (system, self.cert):
                with open(path, "rb") as f:
                    out.write(f.read())
                out.write(b"\n")

    def env(self):
        """What a function's environment needs to trust the fronts."""
        return {"SSL_CERT_FILE": self.bundle, "NODE_EXTRA_CA_CERTS": self.cert}

    def remove(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


class TlsFront:
    """https://127.0.0.1:<port> forwarding every connection to http://127.0.0.1:<backend_port>."""

    def __init__(self, certs, backend_url):
        host_port = backend_url.split("://", 1)[1].rstrip("/")
        self.backend = (host_port.rsplit(":", 1)[0], int(host_port.rsplit(":", 1)[1]))
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certs.cert, certs.key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self._accept, name="tls-front", daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw):
        """One connection, both directions on this one thread: an SSL object must not be read
        and written from two threads at once."""
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            back = socket.create_connection(self.backend)
        except OSError:
            tls.close()
            return
        for s in (tls, back):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = {tls: back, back: tls}
        try:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, back], [], [], 600)[0]
                if not ready:
                    break
                for s in ready:
                    data = s.recv(256 * 1024)
                    if not data:
                        return
                    peer[s].sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            for s in (tls, back):
                try:
                    s.close()
                except (OSError, ssl.SSLError):
                    pass

    def close(self):
        self.closed = True
        self.sock.close()
