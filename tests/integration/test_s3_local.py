"""test_s3_local.py - the local stack's S3 (runtime/local/s3/s3-local.js) reads what it acknowledged.

s3rver 3.7.1 answers PutObject before the object's bytes are on disk. slow_writes.js delays
s3rver's file writes by 300 ms, which turns that rare race into a certainty: s3rver alone then
serves a short object right after the 200 (checked first, so the test shows it provokes the
race), and s3-local.js must not. Both are driven by our own S3 client (build/tests/s3_cli)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support_s3rver import S3rver, build_dir  # noqa: E402

BUCKET = "imagegen-consistency"
CLI = os.path.join(build_dir(), "tests", "s3_cli")
SLOW = "--require " + os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow_writes.js")
DATA = bytes(range(256)) * 800  # 200 kB, several WriteStream chunks


def cli(server, *args):
    proc = subprocess.run([CLI, *args], env=server.env(), capture_output=True, timeout=60)
    out = proc.stdout.decode("utf-8")
    if proc.returncode != 0:
        raise AssertionError("s3_cli %s failed (%d): %s %s" % (args[0], proc.returncode, out,
                                                                proc.stderr.decode("utf-8", "replace")))
    return json.loads(out)


def put_then_read(server, key, data):
    """PutObject, then at once HeadObject and a presigned GET: (length HEAD saw, bytes GET got)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        cli(server, "put", BUCKET, "--type", "image/png", key, f.name)
    head = cli(server, "head", BUCKET, key)
    url = cli(server, "presign", BUCKET, key, "300")["url"]
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    return head["content_length"], body


class S3LocalReadAfterWrite(unittest.TestCase):
    def test_plain_s3rver_shows_the_race_under_slow_writes(self):
        with S3rver(BUCKET, plain=True, node_options=SLOW) as server:
            length, body = put_then_read(server, "race/plain.png", DATA)
        self.assertTrue(length < len(DATA) or body != DATA,
                        "s3rver alone served the whole object at once: slow_writes.js no longer "
                        "provokes the race (did s3rver change?), so the next test proves nothing")

    def test_s3_local_serves_every_byte_after_the_200(self):
        with S3rver(BUCKET, node_options=SLOW) as server:
            for i in range(3):
                length, body = put_then_read(server, "race/%d.png" % i, DATA[: len(DATA) - i * 1000])
                self.assertEqual(length, len(DATA) - i * 1000)
                self.assertEqual(body, DATA[: len(DATA) - i * 1000])

    def test_a_write_that_does_not_finish_is_a_500_not_a_200(self):
        os.environ["IMAGEGEN_S3_WRITE_WAIT_MS"] = "100"
        try:
            with S3rver(BUCKET, node_options=SLOW) as server:
                with tempfile.NamedTemporaryFile() as f:
                    f.write(DATA)
                    f.flush()
                    env = dict(server.env(), AWS_MAX_ATTEMPTS="1")
                    proc = subprocess.run([CLI, "put", BUCKET, "--type", "image/png", "race/late.png", f.name],
                                          env=env, capture_output=True, timeout=60)
        finally:
            del os.environ["IMAGEGEN_S3_WRITE_WAIT_MS"]
        out = json.loads(proc.stdout.decode())
        self.assertEqual(proc.returncode, 1, out)
        self.assertEqual((out["results"][0]["status"], out["results"][0]["code"]), (500, "InternalError"), out)

    def test_s3_local_overwrites_and_parallel_puts(self):
        with S3rver(BUCKET) as server:
            for size in (5000, 100, 70000, 1):
                length, body = put_then_read(server, "over/same.png", DATA[:size])
                self.assertEqual((length, body), (size, DATA[:size]))
            files = []
            try:
                args = []
                for i in range(6):
                    f = tempfile.NamedTemporaryFile(delete=False)
                    f.write(DATA[: 10000 + i])
                    f.close()
                    files.append(f.name)
                    args += ["par/%d.png" % i, f.name]
                out = cli(server, "put", BUCKET, "--type", "image/png", *args)
                self.assertEqual(out["err"], "ok", out)
            finally:
                for name in files:
                    os.unlink(name)
            for i in range(6):
                self.assertEqual(cli(server, "head", BUCKET, "par/%d.png" % i)["content_length"], 10000 + i)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("s3-local: %d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
