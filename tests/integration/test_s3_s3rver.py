"""test_s3_s3rver.py - our S3 client against s3rver (a local S3): PutObject, HeadObject and
presigned GET URLs; metadata with CR/LF and non-ASCII travels encoded, never as extra headers."""

import http.client
import json
import os
import subprocess
import sys
import tempfile
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


def main():
    global SERVER
    if not os.path.exists(CLI):
        print("missing %s: build first" % CLI)
        print("s3 s3rver: 0 passed, 1 failed")
        return 1
    with S3rver(BUCKET) as server:
        SERVER = server
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(S3AgainstS3rver)
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed
    print("s3 s3rver: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
