"""test_s3_s3rver.py - our S3 client against s3rver (a local S3): PutObject, HeadObject, GetObject
under a size cap and presigned GET URLs; metadata with CR/LF and non-ASCII travels encoded, never
as extra headers."""

import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support_s3rver import S3rver, build_dir  # noqa: E402

BUCKET = "imagegen-test"
CLI = os.path.join(build_dir(), "tests", "s3_cli")
SERVER = None


def cli(*args, expect_ok=True):
    proc = subprocess.run([CLI, *args], env=SERVER.env(), capture_output=True, timeout=60)
    out = proc.stdout.decode("utf-8")
    if expect_ok and proc.returncode != 0:
        raise AssertionError("s3_cli %s failed (%d): %s %s" % (args[0], proc.returncode, out,
                                                                proc.stderr.decode("utf-8", "replace")))
    return proc.returncode, json.loads(out) if out.strip() else None


def put(key, data, *extra):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        path = f.name
    try:
        return cli("put", BUCKET, *extra, key, path)
    finally:
        os.unlink(path)


def presign(key, expires="300", *now):
    rc, out = cli("presign", BUCKET, key, expires, *now)
    return out["url"]


def raw_get(url, method="GET"):
    """Status, raw header lines (bytes) and body, read with http.client so that nothing is
    normalized away."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(method, u.path + ("?" + u.query if u.query else ""))
    resp = conn.getresponse()
    body = resp.read()
    lines = [(k, v) for k, v in resp.getheaders()]
    conn.close()
    return resp.status, lines, body


class S3AgainstS3rver(unittest.TestCase):
    def test_put_then_presigned_get_returns_the_same_bytes(self):
        data = os.urandom(300 * 1024)
        rc, out = put("gen/2026/random.png", data, "--type", "image/png")
        self.assertEqual(out["err"], "ok")
        self.assertEqual(out["results"][0]["status"], 200)
        self.assertEqual(out["results"][0]["attempts"], 1)
        url = presign("gen/2026/random.png")
        self.assertTrue(url.startswith(SERVER.url + "/" + BUCKET + "/gen/2026/random.png?X-Amz-Algorithm="))
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), data)

    def test_keys_with_spaces_plus_and_unicode(self):
        key = "dir with space/caf\u00e9 + \u2615/x=1&y.png"
        data = b"\x89PNG\r\n\x1a\n" + os.urandom(1000)
        rc, out = put(key, data, "--type", "image/png")
        self.assertEqual(out["err"], "ok", out)
        with urllib.request.urlopen(presign(key), timeout=30) as r:
            self.assertEqual(r.read(), data)
        rc, head = cli("head", BUCKET, key)
        self.assertEqual(head["content_length"], len(data))

    def test_head_reports_size_type_and_etag(self):
        data = b"x" * 4321
        rc, out = put("head/me.jpg", data, "--type", "image/jpeg", "--cache", "private, max-age=60")
        etag = out["results"][0]["etag"]
        self.assertTrue(etag.startswith('"') and len(etag) > 2)
        rc, head = cli("head", BUCKET, "head/me.jpg")
        self.assertEqual(head["err"], "ok")
        self.assertEqual(head["status"], 200)
        self.assertEqual(head["content_length"], 4321)
        self.assertEqual(head["content_type"], "image/jpeg")
        self.assertEqual(head["etag"], etag)
        status, headers, _ = raw_get(presign("head/me.jpg"), "HEAD")
        self.assertEqual(status, 200)
        self.assertIn(("Cache-Control", "private, max-age=60"), headers)

    def test_head_of_a_large_object(self):
        data = os.urandom(3 * 1024 * 1024)
        rc, out = put("big/3mb.png", data, "--type", "image/png")
        self.assertEqual(out["err"], "ok")
        rc, head = cli("head", BUCKET, "big/3mb.png")
        self.assertEqual(head["err"], "ok", head)
        self.assertEqual(head["content_length"], len(data))

    def test_head_of_a_missing_key_is_not_found(self):
        rc, head = cli("head", BUCKET, "no/such/key.png", expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertEqual(head["err"], "aws")
        self.assertEqual(head["status"], 404)
        self.assertEqual(head["code"], "NotFound")
        self.assertEqual(head["attempts"], 1)

    def test_get_object_returns_the_bytes_and_type_within_the_cap(self):
        data = b"\x89PNG\r\n\x1a\n" + os.urandom(200 * 1024)
        put("uploads/u1/get me.png", data, "--type", "image/png")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "got")
            rc, out = cli("get", BUCKET, "uploads/u1/get me.png", str(len(data)), path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), data)
        self.assertEqual((out["err"], out["status"], out["attempts"]), ("ok", 200, 1))
        self.assertEqual((out["content_length"], out["bytes"]), (len(data), len(data)))
        self.assertEqual(out["content_type"], "image/png")
        self.assertTrue(out["etag"].startswith('"'), out)

    def test_get_object_over_the_cap_is_refused_by_its_length(self):
        data = os.urandom(3 * 1024 * 1024)
        put("uploads/u1/too big.png", data, "--type", "image/png")
        for cap in (len(data) - 1, 1024 * 1024, 1):
            with self.subTest(cap=cap):
                rc, out = cli("get", BUCKET, "uploads/u1/too big.png", str(cap), expect_ok=False)
                self.assertEqual(rc, 1)
                self.assertEqual((out["err"], out["bytes"], out["attempts"]), ("too_large", 0, 1))
                self.assertEqual(out["message"], 'the object "uploads/u1/too big.png" is %d bytes, over the limit of '
                                                 '%d bytes' % (len(data), cap))

    def test_get_object_of_a_missing_key_is_no_such_key(self):
        rc, out = cli("get", BUCKET, "uploads/nobody/none.png", "1000", expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertEqual((out["err"], out["status"], out["code"]), ("aws", 404, "NoSuchKey"))
        self.assertEqual(out["attempts"], 1)
        rc, out = cli("get", BUCKET, "bad\x7fkey", "1000", expect_ok=False)
        self.assertEqual((out["err"], out["attempts"]), ("bad_key", 0))

    def test_metadata_with_crlf_and_non_ascii_round_trips_encoded(self):
        evil = "a red fox\r\nX-Injected: yes\r\n\r\n<html>"
        unicode = "caf\u00e9 \u2615 \u65e5\u672c"
        rc, out = put("meta/evil.png", b"\x89PNG-data", "--type", "image/png",
                      "--meta", "prompt=" + evil, "--meta", "note=" + unicode, "--meta", "plain=just text")
        self.assertEqual(out["err"], "ok", out)
        # On the wire, as any client sees it: no injected header, every value plain ASCII.
        status, headers, body = raw_get(presign("meta/evil.png"))
        self.assertEqual(status, 200)
        self.assertEqual(body, b"\x89PNG-data")
        names = [k.lower() for k, _ in headers]
        self.assertNotIn("x-injected", names)
        values = dict((k.lower(), v) for k, v in headers)
        self.assertTrue(values["x-amz-meta-prompt"].startswith("=?UTF-8?B?"), values["x-amz-meta-prompt"])
        self.assertTrue(values["x-amz-meta-note"].startswith("=?UTF-8?B?"), values["x-amz-meta-note"])
        self.assertEqual(values["x-amz-meta-plain"], "just text")
        for k, v in headers:
            self.assertTrue(all(0x20 <= ord(c) < 0x7f for c in v), (k, v))
        # Our HeadObject decodes them back to the exact text.
        rc, head = cli("head", BUCKET, "meta/evil.png")
        self.assertEqual(head["metadata"], {"prompt": evil, "note": unicode, "plain": "just text"})

    def test_parallel_puts(self):
        blobs = [os.urandom(50000 + i) for i in range(6)]
        paths = []
        try:
            args = []
            for i, b in enumerate(blobs):
                with tempfile.NamedTemporaryFile(delete=False) as f:
                    f.write(b)
                    paths.append(f.name)
                args += ["par/%d.png" % i, f.name]
            rc, out = cli("put", BUCKET, "--type", "image/png", *args)
        finally:
            for p in paths:
                os.unlink(p)
        self.assertEqual(out["err"], "ok")
        self.assertEqual(len(out["results"]), 6)
        for i, b in enumerate(blobs):
            with urllib.request.urlopen(presign("par/%d.png" % i), timeout=30) as r:
                self.assertEqual(r.read(), b)

    def test_expired_presigned_url_is_refused(self):
        put("exp/x.png", b"data", "--type", "image/png")
        import time
        url = presign("exp/x.png", "10", str(int(time.time()) - 100))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url, timeout=30)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"Request has expired", cm.exception.read())

    def test_missing_bucket_reports_s3_error_code(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"data")
            f.flush()
            rc, out = cli("put", "no-such-bucket", "k.png", f.name, expect_ok=False)
        self.assertEqual(rc, 1)
        r = out["results"][0]
        self.assertEqual(r["err"], "aws")
        self.assertEqual(r["status"], 404)
        self.assertEqual(r["code"], "NoSuchBucket")
        self.assertEqual(r["message"], "The specified bucket does not exist")
        self.assertEqual(r["stop"], "not retryable")

    def test_bad_key_is_refused_before_sending(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"data")
            f.flush()
            rc, out = cli("put", BUCKET, "bad\x01key", f.name, expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertEqual(out["results"][0]["err"], "bad_key")
        self.assertEqual(out["results"][0]["attempts"], 0)
        self.assertIn("U+0001", out["results"][0]["message"])


class CountingProxy:
    """A forward HTTP proxy on 127.0.0.1 that counts what passes through it."""

    def __init__(self):
        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def forward(self):
                outer.requests += 1
                u = urllib.parse.urlsplit(self.path)  # a proxy gets the absolute URI
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                conn.request(self.command, u.path + ("?" + u.query if u.query else ""), body=body or None,
                             headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_POST = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ProxyOnlyWhenAsked(unittest.TestCase):
    """HTTP_PROXY and friends reroute our AWS calls only with IMAGEGEN_USE_PROXY=1."""

    def put(self, **env):
        full = SERVER.env()
        for k in ("NO_PROXY", "no_proxy", "IMAGEGEN_USE_PROXY"):
            full.pop(k, None)
        full.update(env)
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"through a proxy, or not")
            f.flush()
            proc = subprocess.run([CLI, "put", BUCKET, "proxy/obj.png", f.name], env=full, capture_output=True,
                                  timeout=60)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def test_proxy_variables_count_only_when_asked(self):
        proxy = CountingProxy()
        try:
            rc, out, err = self.put(HTTP_PROXY=proxy.url, http_proxy=proxy.url)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(proxy.requests, 0, "a stray HTTP_PROXY rerouted a signed call")
            rc, out, err = self.put(HTTP_PROXY=proxy.url, http_proxy=proxy.url, IMAGEGEN_USE_PROXY="1")
            self.assertEqual(rc, 0, out + err)
            self.assertGreaterEqual(proxy.requests, 1, "IMAGEGEN_USE_PROXY=1 did not use HTTP_PROXY")
        finally:
            proxy.close()

    def test_a_bad_value_is_refused_naming_the_variable(self):
        rc, out, err = self.put(IMAGEGEN_USE_PROXY="yes")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("IMAGEGEN_USE_PROXY must be 1", out + err)


def main():
    global SERVER
    if not os.path.exists(CLI):
        print("missing %s: build first" % CLI)
        print("s3 s3rver: 0 passed, 1 failed")
        return 1
    with S3rver(BUCKET) as server:
        SERVER = server
        suite = unittest.TestSuite([unittest.defaultTestLoader.loadTestsFromTestCase(c)
                                    for c in (S3AgainstS3rver, ProxyOnlyWhenAsked)])
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed
    print("s3 s3rver: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
