"""Bedrock in a region of its own, checked by an implementation we did not write.

bootstrap runs with the stack in us-east-1 (AWS_REGION, the bucket) and Bedrock in us-west-2
(IMAGEGEN_BEDROCK_REGION). A capture server of the test's own stands in for both services and
records every byte; botocore then signs the same requests itself: the Bedrock calls must carry
exactly botocore's signature for service "bedrock" in us-west-2, and the S3 uploads and
presigned URLs exactly botocore's for "s3" in us-east-1. Two calls of one request run at once.
"""
import base64
import datetime
import json
import os
import struct
import subprocess
import sys
import threading
import types
import unittest
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(__file__))
from runtime_stub import RuntimeStub, api_event  # noqa: E402

BUILD = os.environ.get("IMAGEGEN_BUILD_DIR", "build")
SOURCE = os.environ.get("IMAGEGEN_SOURCE_DIR", ".")
POLICY = os.path.join(SOURCE, "tests", "data", "policies", "passthrough")
AKID, SECRET = "AKIDREGIONTEST", "region-test-secret-value"
MODEL = "stability.stable-image-core-v1:1"


class _PinnedDatetime(datetime.datetime):
    pinned = None

    @classmethod
    def utcnow(cls):
        return cls.pinned


botocore.auth.datetime = types.SimpleNamespace(datetime=_PinnedDatetime)


def tiny_png(w, h):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Capture:
    """Answers Bedrock InvokeModel in the Stability shape and S3 PutObject with 200; records all."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        cap = self
        image = base64.b64encode(tiny_png(4, 3)).decode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with cap.lock:
                    cap.requests.append({"method": self.command, "path": self.path,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                return body

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                with cap.lock:
                    cap.in_flight += 1
                    cap.max_in_flight = max(cap.max_in_flight, cap.in_flight)
                self._record()
                threading.Event().wait(0.3)  # long enough for the other call to arrive
                with cap.lock:
                    cap.in_flight -= 1
                answer = json.dumps({"seeds": [5], "finish_reasons": [None], "images": [image]}).encode()
                self._send(200, answer, {"Content-Type": "application/json", "x-amzn-RequestId": "cap-1"})

            def do_PUT(self):
                self._record()
                self._send(200, b"", {"ETag": '"0123456789abcdef0123456789abcdef"'})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signed_headers(auth):
    return auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")


def botocore_authorization(req, signer_cls, service, region, host):
    """botocore's Authorization for the recorded request, signed at its own x-amz-date."""
    h = req["headers"]
    _PinnedDatetime.pinned = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ")
    signer = signer_cls(Credentials(AKID, SECRET), service, region)
    request = AWSRequest(method=req["method"], url="http://" + host + req["path"], data=req["body"] or None)
    for name in signed_headers(h["authorization"]):
        if name not in ("host", "x-amz-date"):
            request.headers[name] = h[name]
    signer.add_auth(request)
    return request.headers["Authorization"]


class BedrockRegionTest(unittest.TestCase):
    def setUp(self):
        self.cap = Capture()
        self.stub = RuntimeStub()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": self.stub.address,
            "IMAGEGEN_BUCKET": "imagegen-test",
            "IMAGEGEN_POLICY_DIR": POLICY,
            "AWS_REGION": "us-east-1",
            "IMAGEGEN_BEDROCK_REGION": "us-west-2",
            "AWS_ACCESS_KEY_ID": AKID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.cap.url,
            "AWS_ENDPOINT_URL_S3": self.cap.url,
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        self.proc = subprocess.Popen([os.path.abspath(os.path.join(BUILD, "bootstrap"))], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.stub.close()
        self.cap.close()

    def generate(self):
        calls = [{"body": {"prompt": "a lighthouse", "seed": s, "output_format": "png"}, "metadata": {"seed": str(s)}}
                 for s in (5, 6)]
        body = {"model": MODEL, "expected": 2, "key_prefix": "images/",
                "attempts": [{"model": MODEL, "images": "images", "error_field": "finish_reasons", "calls": calls}]}
        kind, _, raw = self.stub.invoke(api_event(method="POST", path="/generate-image", body=json.dumps(body),
                                                  headers={"content-type": "application/json"}))
        self.assertEqual(kind, "response")
        resp = json.loads(raw)
        return resp["statusCode"], json.loads(resp["body"])

    def test_bedrock_is_signed_for_its_region_and_s3_for_the_stack(self):
        status, res = self.generate()
        self.assertEqual(status, 200, res)
        self.assertEqual(len(res["images"]), 2, res)
        self.assertEqual({(i["width"], i["height"], i["format"]) for i in res["images"]}, {(4, 3, "png")})
        host = urllib.parse.urlsplit(self.cap.url).netloc
        invokes = [r for r in self.cap.requests if r["method"] == "POST"]
        puts = [r for r in self.cap.requests if r["method"] == "PUT"]
        self.assertEqual(len(invokes), 2)
        self.assertEqual(len(puts), 2)
        self.assertEqual(self.cap.max_in_flight, 2, "the two calls did not run at once")
        self.assertEqual(sorted(json.loads(r["body"])["seed"] for r in invokes), [5, 6])
        for r in invokes:
            self.assertEqual(r["path"], "/model/stability.stable-image-core-v1%3A1/invoke")
            self.assertIn("/us-west-2/bedrock/aws4_request", r["headers"]["authorization"])
            self.assertEqual(r["headers"]["authorization"],
                             botocore_authorization(r, SigV4Auth, "bedrock", "us-west-2", host))
        for r in puts:
            self.assertIn("/us-east-1/s3/aws4_request", r["headers"]["authorization"])
            self.assertEqual(r["headers"]["authorization"],
                             botocore_authorization(r, S3SigV4Auth, "s3", "us-east-1", host))
            self.assertIn(r["headers"]["x-amz-meta-seed"], ("5", "6"))
        for img in res["images"]:
            url = urllib.parse.urlsplit(img["url"])
            q = urllib.parse.parse_qs(url.query)
            self.assertIn("/us-east-1/s3/aws4_request", q["X-Amz-Credential"][0])
            _PinnedDatetime.pinned = datetime.datetime.strptime(q["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            signer = S3SigV4QueryAuth(Credentials(AKID, SECRET), "s3", "us-east-1", expires=int(q["X-Amz-Expires"][0]))
            request = AWSRequest(method="GET", url="http://" + host + url.path)
            signer.add_auth(request)
            expected = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)["X-Amz-Signature"][0]
            self.assertEqual(q["X-Amz-Signature"][0], expected)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    print("bedrock_region: %d passed, %d failed" % (result.testsRun - len(result.failures) - len(result.errors),
                                                    len(result.failures) + len(result.errors)))
    sys.exit(0 if result.wasSuccessful() else 1)
