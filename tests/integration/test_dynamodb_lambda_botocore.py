"""test_dynamodb_lambda_botocore.py - our DynamoDB and Lambda Invoke requests, checked by botocore.

Our C clients (driven through build/tests/aws_json_cli) send PutItem, UpdateItem, GetItem, Query,
DescribeTable and Event invocations (by name, by ARN with an alias, with a session token, in two
regions, under an endpoint with a base path) to a capture server of the test's own that records
every byte. Then, for each request:
  - botocore signs the same bytes itself (SigV4Auth, service "dynamodb" or "lambda", at our
    x-amz-date): its Authorization header must equal ours;
  - botocore's own client serializes the same operation: the method, the path (the ARN's ':'
    as %3A), X-Amz-Target, Content-Type, X-Amz-Invocation-Type and the body must be the same.
"""

import datetime
import json
import os
import subprocess
import sys
import threading
import types
import unittest
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

BUILD = os.environ.get("IMAGEGEN_BUILD_DIR", "build")
CLI = os.path.join(BUILD, "tests", "aws_json_cli")
AKID, SECRET = "AKIDJOBSTEST", "jobs-test-secret-value/+="
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//TOKEN+with/slashes=="
TABLE = "imagegen-jobs"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:imagegen-api:live"


class _PinnedDatetime(datetime.datetime):
    pinned = None

    @classmethod
    def utcnow(cls):
        return cls.pinned


class Capture:
    """Answers DynamoDB with {} (and its x-amz-crc32) and Lambda Invoke with 202; records all."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        cap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with cap.lock:
                    cap.requests.append({"method": self.command, "path": self.path, "body": body,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                if "x-amz-target" in {k.lower() for k in self.headers.keys()}:
                    answer = b"{}"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("x-amz-crc32", str(zlib.crc32(answer)))
                else:
                    answer = b""
                    self.send_response(202)
                self.send_header("x-amzn-RequestId", "capture-%d" % len(cap.requests))
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def host(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- what we send, and what botocore would send --------------------------------------------

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

COMMANDS = [
    ({"op": "put", "table": TABLE,
      "item": {"id": S("job-1"), "status": S("queued"), "prompt": S("caf\u00e9 \u2615 \"quoted\" \\ back"),
               "created": N(1767225600123), "params": {"M": {"w": N(1024), "tags": {"L": [S("a"), S("b")]}}}},
      "condition": "attribute_not_exists(#id)", "names": {"#id": "id"}},
     "PutItem",
     {"TableName": TABLE,
      "Item": {"id": S("job-1"), "status": S("queued"), "prompt": S("caf\u00e9 \u2615 \"quoted\" \\ back"),
               "created": N(1767225600123), "params": {"M": {"w": N(1024), "tags": {"L": [S("a"), S("b")]}}}},
      "ConditionExpression": "attribute_not_exists(#id)", "ExpressionAttributeNames": {"#id": "id"}}),
    ({"op": "update", "table": TABLE, "key": {"id": S("job-1")}, "update": "SET #s = :to",
      "condition": "#s = :from", "names": {"#s": "status"}, "values": {":from": S("queued"), ":to": S("running")},
      "return_values": "ALL_NEW"},
     "UpdateItem",
     {"TableName": TABLE, "Key": {"id": S("job-1")}, "UpdateExpression": "SET #s = :to",
      "ConditionExpression": "#s = :from", "ExpressionAttributeNames": {"#s": "status"},
      "ExpressionAttributeValues": {":from": S("queued"), ":to": S("running")}, "ReturnValues": "ALL_NEW"}),
    ({"op": "get", "table": TABLE, "key": {"id": S("job-1")}, "consistent_read": True},
     "GetItem", {"TableName": TABLE, "Key": {"id": S("job-1")}, "ConsistentRead": True}),
    ({"op": "query", "table": TABLE, "index": "by-owner", "key_condition": "#o = :o", "names": {"#o": "owner"},
      "values": {":o": S("key-1")}, "descending": True, "limit": 25,
      "exclusive_start_key": {"id": S("img-9"), "owner": S("key-1"), "created": N(9)}},
     "Query",
     {"TableName": TABLE, "IndexName": "by-owner", "KeyConditionExpression": "#o = :o",
      "ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": {":o": S("key-1")},
      "ScanIndexForward": False, "Limit": 25,
      "ExclusiveStartKey": {"id": S("img-9"), "owner": S("key-1"), "created": N(9)}}),
    ({"op": "call", "operation": "DescribeTable", "input": {"TableName": TABLE}},
     "DescribeTable", {"TableName": TABLE}),
    ({"op": "invoke", "function": "imagegen-api", "payload": json.dumps({"imagegen": "job", "id": "job-1"})},
     "Invoke", {"FunctionName": "imagegen-api", "InvocationType": "Event",
                "Payload": json.dumps({"imagegen": "job", "id": "job-1"}).encode()}),
    ({"op": "invoke", "function": FUNCTION_ARN, "payload": "{\"id\":\"caf\u00e9\"}"},
     "Invoke", {"FunctionName": FUNCTION_ARN, "InvocationType": "Event",
                "Payload": "{\"id\":\"caf\u00e9\"}".encode()}),
]


class _Raw:
    def __init__(self, data):
        self.data = data

    def stream(self, **kwargs):
        yield self.data


def botocore_request(service, region, endpoint, operation, params, token):
    """The request botocore's own client builds for operation (never sent)."""
    seen = []

    def before_send(request, **kwargs):
        seen.append(request)
        if service == "dynamodb":
            return AWSResponse(request.url, 200, {"x-amz-crc32": str(zlib.crc32(b"{}"))}, _Raw(b"{}"))
        return AWSResponse(request.url, 202, {}, _Raw(b""))

    client = botocore.session.get_session().create_client(
        service, region_name=region, endpoint_url=endpoint, aws_access_key_id=AKID, aws_secret_access_key=SECRET,
        aws_session_token=token, config=Config(retries={"max_attempts": 0}))
    client.meta.events.register("before-send", before_send)
    method = {"PutItem": "put_item", "UpdateItem": "update_item", "GetItem": "get_item", "Query": "query",
              "DescribeTable": "describe_table", "Invoke": "invoke"}[operation]
    getattr(client, method)(**params)
    return seen[0]


def signed_headers(auth):
    return auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")


def botocore_authorization(req, service, region, host, token):
    """botocore's Authorization for the recorded request, signed at its own x-amz-date."""
    h = req["headers"]
    _PinnedDatetime.pinned = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ")
    saved = botocore.auth.datetime
    botocore.auth.datetime = types.SimpleNamespace(datetime=_PinnedDatetime)
    try:
        signer = SigV4Auth(Credentials(AKID, SECRET, token), service, region)
        request = AWSRequest(method=req["method"], url="http://" + host + req["path"], data=req["body"] or None)
        for name in signed_headers(h["authorization"]):
            if name not in ("host", "x-amz-date", "x-amz-security-token"):
                request.headers[name] = h[name]
        signer.add_auth(request)
        return request.headers["Authorization"]
    finally:
        botocore.auth.datetime = saved


class BotocoreAgreesWithOurRequests(unittest.TestCase):
    def setUp(self):
        self.cap = Capture()

    def tearDown(self):
        self.cap.close()

    def run_cli(self, region, token, lambda_base=""):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy")}
        env.update({"AWS_REGION": region, "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                    "AWS_ENDPOINT_URL_DYNAMODB": self.cap.url, "AWS_ENDPOINT_URL_LAMBDA": self.cap.url + lambda_base})
        if token:
            env["AWS_SESSION_TOKEN"] = token
        stdin = "".join(json.dumps(c) + "\n" for c, _, _ in COMMANDS)
        proc = subprocess.run([CLI], input=stdin.encode(), env=env, capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode("utf-8", "replace"))
        answers = [json.loads(line) for line in proc.stdout.decode().splitlines()]
        self.assertEqual([a["err"] for a in answers], ["ok"] * len(COMMANDS), answers)
        self.assertEqual([a["status"] for a in answers], [200] * 5 + [202] * 2)
        self.assertEqual(len(self.cap.requests), len(COMMANDS))
        return self.cap.requests

    def check(self, region, token, lambda_base=""):
        requests = self.run_cli(region, token, lambda_base)
        for (cmd, operation, params), ours in zip(COMMANDS, requests):
            service = "lambda" if operation == "Invoke" else "dynamodb"
            with self.subTest(operation=operation, region=region, token=bool(token)):
                auth = ours["headers"]["authorization"]
                self.assertIn("/%s/%s/aws4_request" % (region, service), auth)
                self.assertEqual(auth, botocore_authorization(ours, service, region, self.cap.host, token))
                endpoint = self.cap.url + (lambda_base if service == "lambda" else "")
                theirs = botocore_request(service, region, endpoint, operation, params, token)
                self.assertEqual(ours["method"], theirs.method)
                self.assertEqual(ours["path"], urllib.parse.urlsplit(theirs.url).path)
                for name in ("X-Amz-Target", "Content-Type", "X-Amz-Invocation-Type"):
                    value = theirs.headers.get(name)
                    if isinstance(value, bytes):
                        value = value.decode()
                    self.assertEqual(ours["headers"].get(name.lower()), value, name)
                body = theirs.body if isinstance(theirs.body, bytes) else (theirs.body or b"")
                if isinstance(body, str):
                    body = body.encode()
                if service == "dynamodb":
                    self.assertEqual(json.loads(ours["body"]), json.loads(body))
                else:
                    self.assertEqual(ours["body"], body)
                if token:
                    self.assertEqual(ours["headers"]["x-amz-security-token"], token)

    def test_us_east_1_without_a_session_token(self):
        self.check("us-east-1", None)

    def test_another_region_with_a_session_token(self):
        self.check("eu-west-2", TOKEN)

    def test_lambda_under_an_endpoint_with_a_base_path(self):
        requests = self.run_cli("ap-southeast-2", None, lambda_base="/local/lambda")
        invokes = [r for r in requests if "x-amz-target" not in r["headers"]]
        self.assertEqual([r["path"] for r in invokes],
                         ["/local/lambda/2015-03-31/functions/imagegen-api/invocations",
                          "/local/lambda/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
                          "%3Afunction%3Aimagegen-api%3Alive/invocations"])
        for r in invokes:
            self.assertEqual(r["headers"]["authorization"],
                             botocore_authorization(r, "lambda", "ap-southeast-2", self.cap.host, None))


if __name__ == "__main__":
    if not os.path.exists(CLI):
        raise SystemExit("%s is missing: build the tests/tools targets first" % CLI)
    result = unittest.main(exit=False, verbosity=2).result
    # A failing subTest is reported once per subtest; count the test methods that failed.
    failed = len({getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors})
    print("dynamodb_lambda_botocore: %d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(0 if result.wasSuccessful() else 1)
