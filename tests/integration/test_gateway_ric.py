"""test_gateway_ric.py - AWS's Node.js runtime interface client (npm aws-lambda-ric) served by imagegen-gateway.

The RIC is a Runtime API client we did not write: if its handler context (request id, deadline,
ARN, trace id, log stream) comes out right and its results reach the client as API Gateway
would send them, the gateway's Runtime API speaks the protocol, not just our reading of it.
tests/ric pins the package in package-lock.json; `npm ci` there builds its native part once
(about a minute) and the result is kept in tests/ric/node_modules.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import SOURCE_DIR, Stack, run_tests  # noqa: E402

RIC_DIR = os.path.join(SOURCE_DIR, "tests", "ric")
RIC_BIN = os.path.join(RIC_DIR, "node_modules", ".bin", "aws-lambda-ric")


def ensure_ric():
    """npm ci in tests/ric unless node_modules is newer than the lock file (one install at a time)."""
    if not shutil.which("npm") or not shutil.which("node"):
        raise RuntimeError("node and npm are needed (scripts/lib/deps.sh installs them)")
    lock = os.path.join(RIC_DIR, "package-lock.json")
    stamp = os.path.join(RIC_DIR, "node_modules", ".package-lock.json")
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "imagegen-ric-npm.lock"), "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        fresh = os.path.exists(RIC_BIN) and os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock)
        if fresh:
            return
        t0 = time.monotonic()
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RIC_DIR,
                           capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError("npm ci in tests/ric failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])
        print(f"aws-lambda-ric installed in {time.monotonic() - t0:.0f} s", flush=True)


class NodeRuntimeInterfaceClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_ric()
        cls.st = Stack(s3=False, bedrock=False, function=[RIC_BIN, "handler.handler"], task_root=RIC_DIR,
                       concurrency=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_handler_result_reaches_the_client(self):
        t0 = int(time.time() * 1000)
        r = self.st.request("POST", "/generate-image?size=1024x1024", {"prompt": "a red coffee cup"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["X-Handler"], "node")
        self.assertEqual(r.headers.get_all("Set-Cookie"), ["a=1", "b=2"])
        body = r.json()
        self.assertEqual(body["path"], "/generate-image")
        self.assertEqual(body["resource"], "/generate-image")
        self.assertEqual(body["method"], "POST")
        self.assertEqual(body["query"], {"size": "1024x1024"})
        self.assertEqual(json.loads(body["body"]), {"prompt": "a red coffee cup"})
        # The context the RIC built from the Runtime API's headers and Lambda's variables.
        self.assertEqual(body["requestId"], self.st.lambda_request_id(r.headers["x-amzn-RequestId"]))
        self.assertEqual(body["functionName"], "imagegen")
        self.assertEqual(body["functionVersion"], "$LATEST")
        self.assertEqual(str(body["memoryLimitInMB"]), "512")
        self.assertEqual(body["invokedFunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:imagegen")
        self.assertRegex(body["logStreamName"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        self.assertGreater(body["remainingMs"], 25000)
        self.assertLessEqual(body["remainingMs"], 29000)
        self.assertTrue(body["traceId"].startswith(r.headers["X-Amzn-Trace-Id"] + ";Parent="))
        report = self.st.report_for(body["requestId"])
        self.assertGreater(report["max_memory_mb"], 10)
        self.assertLess(t0, int(time.time() * 1000))

    def test_thrown_error_is_502(self):
        r = self.st.request("GET", "/generate-image?mode=throw")
        self.assertEqual(r.status, 502)
        self.assertEqual(json.loads(r.body)["error"]["code"], "bad_gateway")
        line = self.st.access_line(r.headers["x-amzn-RequestId"])
        self.assertEqual(line["status"], 502)
        self.assertTrue(line["functionErrorType"].startswith("Runtime.") or line["functionErrorType"].startswith("Function."))

    def test_binary_answer(self):
        r = self.st.request("GET", "/generate-image?mode=binary")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "image/png")
        self.assertEqual(r.body, b"\x89PNG\r\n\x1a\n")

    def test_concurrent_invocations_and_logs(self):
        results = [None] * 10

        def one(i):
            results[i] = self.st.request("GET", f"/generate-image?mode=sleep&ms=100&i={i}")

        threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(all(r.status == 200 for r in results), results)
        self.assertLessEqual(len({r.json()["pid"] for r in results}), 2)
        for r in results:
            lambda_id = r.json()["requestId"]
            report = self.st.report_for(lambda_id)
            lines = [t for _, t in self.st.env_lines(report["env"])]
            start = lines.index(f"START RequestId: {lambda_id} Version: $LATEST")
            end = lines.index(f"END RequestId: {lambda_id}")
            # The RIC's console.log line for this request sits between its START and END.
            self.assertTrue(any(lambda_id in t and "handling GET /generate-image" in t for t in lines[start + 1:end]))
        colds = [rep for rep in self.st.reports() if rep["init_ms"] is not None]
        self.assertEqual(len({rep["env"] for rep in colds}), len(colds))  # one cold start per environment


if __name__ == "__main__":
    run_tests("gateway-ric")
