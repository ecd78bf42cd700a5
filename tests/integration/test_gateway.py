"""test_gateway.py - imagegen-gateway as API Gateway and the Lambda service, driven with a scripted function.

The function side is tests/integration/fake_function.py, a Runtime API client whose behaviour
each request's query string scripts; these tests check what a client and what a function see.
"""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import BUILD_DIR, FAKE_FUNCTION, SANITIZE, SOURCE_DIR, Stack, http_call, pid_alive, run_tests  # noqa: E402

SLOW = 3 if SANITIZE else 1  # timing allowances scale in the sanitizer build
TERRAFORM_RESPONSES = os.path.join(SOURCE_DIR, "terraform", "gateway_responses.tf")


def terraform_gateway_errors():
    """response type -> (status, code, message) as terraform/gateway_responses.tf defines them."""
    with open(TERRAFORM_RESPONSES) as f:
        text = f.read()
    found = {}
    for m in re.finditer(r'^\s*([A-Z_0-9]+)\s*=\s*\{\s*status\s*=\s*(\d+|null),\s*code\s*=\s*"([^"]*)",'
                         r'\s*message\s*=\s*"((?:[^"\\]|\\.)*)"\s*\}', text, re.M):
        status = None if m.group(2) == "null" else int(m.group(2))
        found.setdefault(m.group(1), (status, m.group(3), m.group(4)))
    return found


def event_of(resp):
    """The proxy event the fake function echoed."""
    assert resp.status == 200, resp
    return resp.json()["event"]


def gateway_error(test, r, status, code):
    """Checks an answer the gateway made itself (a gateway response): status, the API's error
    shape with API Gateway's request id, and x-amzn-ErrorType. Returns the error object."""
    test.assertEqual(r.status, status, r)
    test.assertEqual(r.headers["Content-Type"], "application/json")
    body = json.loads(r.body)
    test.assertEqual(list(body), ["error"], body)
    err = body["error"]
    test.assertEqual(sorted(err), ["code", "message", "requestId"], err)
    test.assertEqual(err["code"], code)
    test.assertTrue(err["message"].endswith("."), err)
    test.assertEqual(err["requestId"], r.headers["x-amzn-RequestId"])
    test.assertTrue(r.headers["x-amzn-ErrorType"])
    return err


class EventShape(unittest.TestCase):
    """The proxy event, field by field, as API Gateway (REST, payload 1.0) fills it."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION],
                       routes=["/generate-image", "/images/{id}", "/files/{path+}", "/", "/{proxy+}"],
                       env={"IMAGEGEN_TEST_MARKER": "passed-through", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_get_with_query_and_repeated_headers(self):
        before = int(time.time() * 1000)
        r = self.st.request("GET", "/generate-image?a=1&a=2&q=a%20b%2Bc&e=%C3%A9&flag",
                            headers={"X-Multi": "one", "User-Agent": "gw-test/1"})
        ev = event_of(r)
        self.assertEqual(ev["resource"], "/generate-image")
        self.assertEqual(ev["path"], "/generate-image")
        self.assertEqual(ev["httpMethod"], "GET")
        self.assertEqual(ev["queryStringParameters"], {"a": "2", "q": "a b+c", "e": "é", "flag": ""})
        self.assertEqual(ev["multiValueQueryStringParameters"], {"a": ["1", "2"], "q": ["a b+c"], "e": ["é"], "flag": [""]})
        self.assertIsNone(ev["pathParameters"])
        self.assertIsNone(ev["stageVariables"])
        self.assertIsNone(ev["body"])
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertEqual(ev["headers"]["User-Agent"], "gw-test/1")
        self.assertEqual(ev["multiValueHeaders"]["X-Multi"], ["one"])
        self.assertEqual(ev["headers"]["X-Forwarded-Proto"], "http")
        self.assertEqual(ev["headers"]["X-Forwarded-For"], "127.0.0.1")
        self.assertTrue(ev["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-"))

        ctx = ev["requestContext"]
        self.assertEqual(ctx["accountId"], "123456789012")
        self.assertRegex(ctx["apiId"], r"^[a-z0-9]{10}$")
        self.assertRegex(ctx["resourceId"], r"^[a-z0-9]{6}$")
        self.assertEqual(ctx["resourcePath"], "/generate-image")
        self.assertEqual(ctx["httpMethod"], "GET")
        self.assertEqual(ctx["requestId"], r.headers["x-amzn-RequestId"])
        self.assertRegex(ctx["requestId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(ctx["extendedRequestId"], r.headers["x-amz-apigw-id"])
        self.assertRegex(ctx["requestTime"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
        self.assertGreaterEqual(ctx["requestTimeEpoch"], before - 1000)
        self.assertLessEqual(ctx["requestTimeEpoch"], int(time.time() * 1000) + 1000)
        when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(ctx["requestTimeEpoch"] // 1000))
        self.assertEqual(ctx["requestTime"], when)
        self.assertEqual(ctx["path"], "/local/generate-image")
        self.assertEqual(ctx["protocol"], "HTTP/1.1")
        self.assertEqual(ctx["stage"], "local")
        self.assertEqual(ctx["domainName"], self.st.api_url[len("http://"):])
        ident = ctx["identity"]
        self.assertEqual(ident["sourceIp"], "127.0.0.1")
        self.assertEqual(ident["userAgent"], "gw-test/1")
        for field in ("apiKey", "apiKeyId", "accessKey", "accountId", "caller", "user", "userArn",
                      "cognitoIdentityId", "cognitoIdentityPoolId", "cognitoAuthenticationType",
                      "cognitoAuthenticationProvider"):
            self.assertIn(field, ident)
            self.assertIsNone(ident[field], field)

    def test_multi_value_headers_keep_every_value_in_order(self):
        # http.client sends repeated headers when given a list of tuples through putheader.
        import http.client
        port = int(self.st.api_url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.putrequest("GET", "/generate-image")
        conn.putheader("X-Dup", "first")
        conn.putheader("x-dup", "second")
        conn.putheader("X-Dup", "third")
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, body)
        ev = json.loads(body)["event"]
        self.assertEqual(ev["multiValueHeaders"]["X-Dup"], ["first", "second", "third"])
        self.assertEqual(ev["headers"]["X-Dup"], "third")
        self.assertNotIn("x-dup", ev["headers"])

    def test_no_query_means_null_maps(self):
        ev = event_of(self.st.request("GET", "/generate-image"))
        self.assertIsNone(ev["queryStringParameters"])
        self.assertIsNone(ev["multiValueQueryStringParameters"])

    def test_a_catch_all_route_takes_every_other_path(self):
        ev = event_of(self.st.request("DELETE", "/some/where/else"))
        self.assertEqual(ev["resource"], "/{proxy+}")
        self.assertEqual(ev["requestContext"]["resourcePath"], "/{proxy+}")
        self.assertEqual(ev["pathParameters"], {"proxy": "some/where/else"})
        self.assertEqual(ev["requestContext"]["path"], "/local/some/where/else")

    def test_route_templates_capture_parameters(self):
        ev = event_of(self.st.request("GET", "/images/42"))
        self.assertEqual(ev["resource"], "/images/{id}")
        self.assertEqual(ev["pathParameters"], {"id": "42"})
        ev = event_of(self.st.request("GET", "/files/a/b/c.png"))
        self.assertEqual(ev["resource"], "/files/{path+}")
        self.assertEqual(ev["pathParameters"], {"path": "a/b/c.png"})
        ev = event_of(self.st.request("GET", "/images/42/more"))
        self.assertEqual(ev["resource"], "/{proxy+}")
        ev = event_of(self.st.request("GET", "/"))
        self.assertEqual(ev["resource"], "/")
        self.assertIsNone(ev["pathParameters"])

    def test_json_body_is_a_string(self):
        ev = event_of(self.st.request("POST", "/generate-image", {"prompt": "a red coffee cup"}))
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertEqual(json.loads(ev["body"]), {"prompt": "a red coffee cup"})
        self.assertEqual(ev["headers"]["Content-Type"], "application/json")

    def test_bodies_are_text_unless_a_binary_media_type_says_otherwise(self):
        # As the deployed API (no binary media types): every body is a string, and bytes that are
        # not UTF-8 become U+FFFD, whatever the Content-Type.
        raw = bytes(range(1, 256)) * 3
        ev = event_of(self.st.request("POST", "/generate-image", raw, headers={"Content-Type": "image/png"}))
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertEqual(ev["body"], raw.decode("utf-8", "replace"))
        ev = event_of(self.st.request("POST", "/generate-image", "plain words", headers={"Content-Type": "text/plain; charset=utf-8"}))
        self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("plain words", False))
        ev = event_of(self.st.request("POST", "/generate-image", b"\xff\xfe", headers={"Content-Type": "text/plain"}))
        self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("\ufffd\ufffd", False))

    def test_binary_media_types_are_base64(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION],
                   gateway_args=["--binary-media-types", "image/png,application/*"]) as st:
            raw = bytes(range(256)) * 3
            for ct in ("image/png", "application/octet-stream; x=1"):
                ev = event_of(st.request("POST", "/generate-image", raw, headers={"Content-Type": ct}))
                self.assertIs(ev["isBase64Encoded"], True, ct)
                self.assertEqual(base64.b64decode(ev["body"]), raw)
            ev = event_of(st.request("POST", "/generate-image", b"\xff", headers={"Content-Type": "image/jpeg"}))
            self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("\ufffd", False))

    def test_function_sees_lambdas_environment(self):
        r = self.st.request("GET", "/generate-image")
        env = r.json()["env"]
        self.assertRegex(env["AWS_LAMBDA_RUNTIME_API"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "imagegen")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512")
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/imagegen")
        self.assertRegex(env["AWS_LAMBDA_LOG_STREAM_NAME"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertEqual(env["LANG"], "en_US.UTF-8")
        self.assertEqual(env["_HANDLER"], "bootstrap")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], os.path.realpath(os.getcwd()))
        self.assertEqual(env["LAMBDA_RUNTIME_DIR"], os.path.dirname(FAKE_FUNCTION))
        self.assertTrue(env["PATH"].startswith("/usr/local/bin:/usr/bin/:/bin:/opt/bin"))
        self.assertIn(os.path.dirname(FAKE_FUNCTION), env["LD_LIBRARY_PATH"])
        self.assertEqual(env["IMAGEGEN_TEST_MARKER"], "passed-through")
        self.assertEqual(env["AWS_ACCESS_KEY_ID"], "S3RVER")
        self.assertIsNone(env["HOME"])

    def test_invoke_headers_on_next(self):
        before = int(time.time() * 1000)
        r = self.st.request("GET", "/generate-image")
        lambda_id = r.json()["requestId"]
        self.st.report_for(lambda_id)  # what the function wrote comes before its REPORT
        seen = [o for _, o in self.st.function_json() if o.get("invocation") == lambda_id]
        self.assertEqual(len(seen), 1)
        inv = seen[0]
        self.assertEqual(inv["contentType"], "application/json")
        self.assertEqual(inv["arn"], "arn:aws:lambda:us-east-1:123456789012:function:imagegen")
        self.assertRegex(inv["trace"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")
        self.assertTrue(inv["trace"].startswith(r.headers["X-Amzn-Trace-Id"] + ";"))
        deadline = int(inv["deadline"])
        self.assertGreaterEqual(deadline, before + 28000)
        self.assertLessEqual(deadline, int(time.time() * 1000) + 29000 + 1000)


class Answers(unittest.TestCase):
    """What the client gets for each kind of function outcome."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION]).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def assertInternalError(self, r):
        gateway_error(self, r, 502, "bad_gateway")
        self.assertTrue(r.headers["x-amzn-RequestId"])
        self.assertTrue(r.headers["x-amz-apigw-id"])

    def test_function_error_is_502(self):
        self.assertInternalError(self.st.request("GET", "/generate-image?mode=error"))

    def test_malformed_answers_are_502(self):
        for kind in ("notjson", "nostatus", "badbody", "badstatus"):
            with self.subTest(kind=kind):
                r = self.st.request("GET", f"/generate-image?mode=malformed&kind={kind}")
                self.assertInternalError(r)
                api_id = r.headers["x-amzn-RequestId"]
                logged = self.st.wait_gateway_json(lambda o: o.get("requestId") == api_id and "Malformed" in o["message"])
                self.assertTrue(logged["error"])

    def test_headers_and_multi_value_headers_are_merged(self):
        r = self.st.request("GET", "/generate-image?mode=headers")
        self.assertEqual(r.status, 201)
        self.assertEqual(r.body, b"created")
        self.assertEqual(r.headers["Content-Type"], "text/plain")
        self.assertEqual(r.headers["X-Single"], "one")
        self.assertEqual(r.headers.get_all("X-Multi"), ["a", "b"])
        self.assertEqual(r.headers.get_all("X-Both"), ["from-multi"])
        self.assertEqual(r.headers["X-Num"], "7")
        self.assertRegex(r.headers["x-amzn-RequestId"], r"^[0-9a-f-]{36}$")

    def test_base64_answer_is_decoded(self):
        r = self.st.request("GET", "/generate-image?mode=binary")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        self.assertEqual(r.body, bytes(range(256)) * 4)

    def test_default_content_type_is_json(self):
        r = self.st.request("GET", "/generate-image")
        self.assertEqual(r.headers["Content-Type"], "application/json")

    def test_response_over_6mb_is_413_to_the_function_and_502_to_the_client(self):
        r = self.st.request("GET", "/generate-image?mode=big&size=6400000", timeout=120)
        self.assertInternalError(r)
        lambda_id = self.st.lambda_request_id(r.headers["x-amzn-RequestId"])
        # The function writes what its post got after the post: wait for that line.
        self.st.gateway.wait_for(r'"big_post".*"requestId": "%s"' % lambda_id)
        posted = [o for _, o in self.st.function_json() if o.get("requestId") == lambda_id and "big_post" in o]
        self.assertEqual(posted[0]["big_post"], [413, "RequestEntityTooLarge"])
        self.assertEqual(self.st.access_line(r.headers["x-amzn-RequestId"])["functionErrorType"],
                         "Function.ResponseSizeTooLarge")
        # Just under the limit passes whole.
        r = self.st.request("GET", "/generate-image?mode=big&size=6000000", timeout=120)
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), 6000000)

    def test_request_body_limits(self):
        r = self.st.request("POST", "/generate-image", b"x" * (10 * 1024 * 1024 + 1),
                            headers={"Content-Type": "application/octet-stream"}, timeout=120)
        gateway_error(self, r, 413, "payload_too_large")
        # A declared length far over the limit is answered before the body is read.
        port = int(self.st.api_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"POST /generate-image HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"z" * 65536)
            head = s.recv(65536)
        self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head)
        self.assertIn(b'{"error":{"code":"payload_too_large","message":"', head)
        r = self.st.request("POST", "/generate-image", b"y" * (1024 * 1024), headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 200)
        self.assertEqual(len(event_of(r)["body"]), 1024 * 1024)

    def test_runtime_api_status_codes_seen_by_the_function(self):
        r = self.st.request("GET", "/generate-image?mode=probe")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"probe": True})
        lambda_id = self.st.lambda_request_id(r.headers["x-amzn-RequestId"])
        self.st.gateway.wait_for(r'"probe": .*"requestId": "%s"' % lambda_id)
        probes = [o["probe"] for _, o in self.st.function_json() if o.get("requestId") == lambda_id and "probe" in o]
        self.assertEqual(probes, [{"wrong_id": [400, "InvalidRequestID"], "first_post": [202, "OK"],
                                   "second_post": [403, "InvalidStateTransition"],
                                   "error_after_response": [403, "InvalidStateTransition"]}])

    def test_runtime_api_direct_calls(self):
        self.st.request("GET", "/generate-image")  # the environments are idle in GET /next now
        api = self.st.gateway_json("execution environment started")[0]["runtimeApi"]
        base = f"http://{api}/2018-06-01/runtime"
        r = http_call(base + "/init/error", "POST", {"errorMessage": "late", "errorType": "Runtime.Late"},
                      headers={"Lambda-Runtime-Function-Error-Type": "Runtime.Late"})
        self.assertEqual((r.status, r.json()["errorType"]), (403, "InvalidStateTransition"))
        r = http_call(base + "/invocation/not-a-current-id/response", "POST", {"statusCode": 200})
        self.assertEqual((r.status, r.json()["errorType"]), (400, "InvalidRequestID"))
        r = http_call(base + "/invocation/not-a-current-id/error", "POST", {"errorMessage": "x"})
        self.assertEqual((r.status, r.json()["errorType"]), (400, "InvalidRequestID"))
        r = http_call(base + "/nothing/here")
        self.assertEqual(r.status, 404)

    def test_error_types_are_normalised_like_the_emulator(self):
        cases = {"Function.GoodName": "Function.GoodName", "Runtime.Fine": "Runtime.Fine",
                 "Unhandled": "Runtime.Unknown", "Function.bad1": "Function.Unknown", "Runtime.": "Runtime.Unknown"}
        for sent, expected in cases.items():
            with self.subTest(sent=sent):
                r = self.st.request("GET", f"/generate-image?mode=error&type={sent}")
                self.assertEqual(r.status, 502)
                self.assertEqual(self.st.access_line(r.headers["x-amzn-RequestId"])["functionErrorType"], expected)

    def test_start_end_report_wrap_the_functions_lines(self):
        r = self.st.request("GET", "/generate-image?mode=log&lines=3")
        lambda_id = r.json()["requestId"]
        report = self.st.report_for(lambda_id)
        lines = [t for e, t in self.st.env_lines(report["env"])]
        start = lines.index(f"START RequestId: {lambda_id} Version: $LATEST")
        end = lines.index(f"END RequestId: {lambda_id}")
        rep = [i for i, t in enumerate(lines) if t.startswith(f"REPORT RequestId: {lambda_id}\t")]
        self.assertEqual(len(rep), 1)
        self.assertLess(start, end)
        self.assertEqual(rep[0], end + 1)
        between = lines[start + 1:end]
        for i in range(3):
            self.assertIn(f"stdout line {i} of {lambda_id}", between)
            self.assertIn(f"stderr line {i} of {lambda_id}", between)
        self.assertRegex(lines[rep[0]], r"^REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                                        r"Memory Size: 512 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?$")
        self.assertGreater(report["max_memory_mb"], 0)
        self.assertGreaterEqual(report["billed_ms"], report["duration_ms"])

    def test_first_report_of_each_environment_is_a_cold_start(self):
        for _ in range(4):
            self.assertEqual(self.st.request("GET", "/generate-image").status, 200)
        by_env = {}
        for rep in self.st.reports():
            by_env.setdefault(rep["env"], []).append(rep)
        for env, reps in by_env.items():
            self.assertIsNotNone(reps[0]["init_ms"], env)
            self.assertTrue(all(r["init_ms"] is None for r in reps[1:]), env)


class Concurrency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_twenty_concurrent_requests_through_two_environments(self):
        results = [None] * 20
        delay = 0.2

        def one(i):
            results[i] = self.st.request("GET", f"/generate-image?mode=sleep&seconds={delay}&i={i}", timeout=60)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        self.assertTrue(all(r is not None and r.status == 200 for r in results), results)
        pids = {r.json()["pid"] for r in results}
        self.assertLessEqual(len(pids), 2)
        self.assertEqual({r.json()["event"]["queryStringParameters"]["i"] for r in results}, {str(i) for i in range(20)})
        # Two at a time: at least ten rounds of the function's sleep.
        self.assertGreaterEqual(elapsed, 10 * delay * 0.9)


class Throttling(unittest.TestCase):
    def test_full_queue_is_429(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1, queue_size=1) as st:
            out = {}

            def slow(name):
                out[name] = st.request("GET", "/generate-image?mode=sleep&seconds=1.5")

            a = threading.Thread(target=slow, args=("running",))
            a.start()
            st.gateway.wait_for(r"START RequestId")
            b = threading.Thread(target=slow, args=("queued",))
            b.start()
            time.sleep(0.3)
            r = st.request("GET", "/generate-image")
            gateway_error(self, r, 429, "throttled_by_gateway")
            self.assertEqual(r.headers["Retry-After"], "1")
            a.join()
            b.join()
            self.assertEqual(out["running"].status, 200)
            self.assertEqual(out["queued"].status, 200)


class Timeouts(unittest.TestCase):
    def test_slow_function_is_504_and_its_environment_is_replaced(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1, timeout=1) as st:
            self.assertEqual(st.request("GET", "/generate-image").status, 200)
            first_pid = st.env_pids()["env-1"]
            t0 = time.monotonic()
            r = st.request("GET", "/generate-image?mode=sleep&seconds=5")
            self.assertLess(time.monotonic() - t0, 1 + 1.5 * SLOW)
            gateway_error(self, r, 504, "gateway_timeout")
            lambda_id = st.lambda_request_id(r.headers["x-amzn-RequestId"])
            report = st.report_for(lambda_id)
            self.assertEqual(report["status"], "timeout")
            self.assertTrue(any(f"{lambda_id} Task timed out after 1.00 seconds" in t for _, t in st.env_lines()))
            st.gateway.wait_for(r'"message":"execution environment started","env":"env-2"', timeout=10)
            deadline = time.monotonic() + 5
            while pid_alive(first_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(pid_alive(first_pid))
            r = st.request("GET", "/generate-image")
            self.assertEqual(r.status, 200)
            report = st.report_for(r.json()["requestId"])
            self.assertEqual(report["env"], "env-2")
            self.assertIsNotNone(report["init_ms"])  # the replacement starts cold

    def test_function_timeout_shorter_than_the_integration_is_502(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1, timeout=5, function_timeout=1) as st:
            r = st.request("GET", "/generate-image?mode=sleep&seconds=4")
            gateway_error(self, r, 502, "bad_gateway")


class Crashes(unittest.TestCase):
    def test_worker_killed_mid_request_is_502_and_the_next_request_succeeds(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1) as st:
            mark = len(st.gateway.lines())
            out = {}
            t = threading.Thread(target=lambda: out.setdefault("r", st.request("GET", "/generate-image?mode=sleep&seconds=20")))
            t.start()
            m = st.gateway.wait_for(r"^\[(env-\d+)\] START RequestId: (\S+)", start=mark)
            pid = st.env_pids()[m.group(1)]
            os.kill(pid, signal.SIGKILL)
            t.join(15)
            gateway_error(self, out["r"], 502, "bad_gateway")
            report = st.report_for(m.group(2))
            self.assertEqual((report["status"], report["error_type"]), ("error", "Runtime.ExitError"))
            self.assertTrue(any("Runtime exited with error: signal: killed" in t for _, t in st.env_lines(m.group(1))))
            r = st.request("GET", "/generate-image")
            self.assertEqual(r.status, 200)
            self.assertNotEqual(r.json()["pid"], pid)
            self.assertIsNotNone(st.report_for(r.json()["requestId"])["init_ms"])

    def test_function_exiting_mid_request_is_502(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1) as st:
            r = st.request("GET", "/generate-image?mode=crash")
            self.assertEqual(r.status, 502)
            self.assertEqual(st.request("GET", "/generate-image").status, 200)


class InitFailures(unittest.TestCase):
    def check_failing_init(self, flag, error_type):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION, flag], concurrency=1) as st:
            t0 = time.monotonic()
            r = st.request("GET", "/generate-image")
            gateway_error(self, r, 502, "bad_gateway")
            self.assertLess(time.monotonic() - t0, 6 * SLOW)
            st.gateway.wait_for(r"^\[env-\d+\] INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\t"
                                r"Error Type: " + re.escape(error_type) + "$")
            time.sleep(2)
            # Backoff: a function that can never start is not restarted in a hot loop.
            self.assertLessEqual(len(st.env_pids()), 6)
            return st

    def test_init_error_is_502_and_logged(self):
        st = self.check_failing_init("--init-error", "Runtime.ScriptedInit")
        failure = st.wait_gateway_json(lambda o: o["message"] == "function init failed")
        self.assertEqual(failure["errorType"], "Runtime.ScriptedInit")
        self.assertEqual(failure["errorMessage"], "scripted init failure")

    def test_exit_before_next_is_502(self):
        self.check_failing_init("--exit-before-next", "Runtime.ExitError")


class ApiKeys(unittest.TestCase):
    SECRET = "secret-value-0123456789"

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION],
                       api_keys=[{"id": "k1", "value": cls.SECRET, "name": "tests"},
                                 {"id": "k2", "value": "another-value-9876543210", "name": "other"}]).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_missing_or_wrong_key_is_403(self):
        for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": self.SECRET + "x"}, {"x-api-key": ""}):
            with self.subTest(headers=headers):
                r = self.st.request("POST", "/generate-image", {"prompt": "x"}, headers=headers)
                err = gateway_error(self, r, 403, "forbidden")
                self.assertIn("x-api-key", err["message"])
                self.assertEqual(r.headers["x-amzn-ErrorType"], "ForbiddenException")

    def test_right_key_reaches_the_function_with_its_identity(self):
        r = self.st.request("GET", "/generate-image", headers={"X-API-Key": self.SECRET})
        ident = event_of(r)["requestContext"]["identity"]
        self.assertEqual((ident["apiKey"], ident["apiKeyId"]), (self.SECRET, "k1"))
        self.assertEqual(self.st.access_line(r.headers["x-amzn-RequestId"])["apiKeyId"], "k1")

    def test_public_resource_needs_no_key_and_others_do(self):
        r = self.st.request("GET", "/health")
        ev = event_of(r)
        self.assertEqual(ev["resource"], "/health")
        r = self.st.request("GET", "/models", headers={"x-api-key": self.SECRET})
        self.assertEqual(event_of(r)["resource"], "/models")  # the deployed API's resources by default
        self.assertIsNone(ev["requestContext"]["identity"]["apiKeyId"])
        gateway_error(self, self.st.request("GET", "/models"), 403, "forbidden")
        # The web page asks for the key itself: its routes need none.
        self.assertEqual(event_of(self.st.request("GET", "/"))["resource"], "/")
        self.assertEqual(event_of(self.st.request("GET", "/web/app.js"))["resource"], "/web/{file}")
        # A path with no route is refused as such, key or not: the route is checked first.
        for path in ("/not/a/route", "/index.html"):
            for headers in ({}, {"x-api-key": self.SECRET}):
                with self.subTest(path=path, headers=headers):
                    gateway_error(self, self.st.request("GET", path, headers=headers), 403,
                                  "missing_authentication_token")

    def test_options_needs_no_key(self):
        r = self.st.request("OPTIONS", "/generate-image")
        self.assertEqual(r.status, 200)
        self.assertIsNone(event_of(r)["requestContext"]["identity"]["apiKeyId"])

    def test_key_values_never_reach_the_log(self):
        self.st.request("GET", "/generate-image", headers={"x-api-key": self.SECRET})
        self.st.request("GET", "/generate-image", headers={"x-api-key": "wrong-guess"})
        text = self.st.gateway.text()
        self.assertNotIn(self.SECRET, text)
        self.assertNotIn("wrong-guess", text)

    def test_bad_key_file_is_refused(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump([{"id": "k1"}], f)
            f.flush()
            p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", "0", "--api-keys", f.name,
                                "--", FAKE_FUNCTION], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("entry 0 needs a non-empty \"id\" and \"value\"", p.stderr)


class GatewayResponses(unittest.TestCase):
    """API Gateway's own errors, as the deployed API's gateway responses answer them: the API's
    error shape, API Gateway's request id, and the CORS headers of the one allowed origin."""
    KEY = "gateway-responses-key-0123456789"
    ORIGIN = "https://app.example"

    @classmethod
    def setUpClass(cls):
        # One environment, a queue of one and a 3 s integration timeout: every response can be provoked.
        cls.st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1, queue_size=1, timeout=3,
                       api_keys=[{"id": "k1", "value": cls.KEY, "name": "tests"}],
                       env={"IMAGEGEN_CORS_ORIGINS": cls.ORIGIN}).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def call(self, method, path, body=None, headers=None):
        h = {"x-api-key": self.KEY}
        h.update(headers or {})
        return self.st.request(method, path, body, h, timeout=60)

    def provoke(self):
        """response type -> the answer that provoked it."""
        got = {"MISSING_AUTHENTICATION_TOKEN": self.call("DELETE", "/generate-image"),
               "INVALID_API_KEY": self.st.request("GET", "/models", headers={"x-api-key": "wrong"}),
               "REQUEST_TOO_LARGE": self.call("POST", "/generate-image", b"x" * (10 * 1024 * 1024 + 1),
                                              {"Content-Type": "application/octet-stream"}),
               "INTEGRATION_FAILURE": self.call("GET", "/generate-image?mode=error")}
        # One invocation running (2 s, under the 3 s timeout: the two others must arrive while it runs, on a loaded
        # machine), then two more: one waits in the queue, the other is throttled.
        out = {}

        def one(name, query):
            out[name] = self.call("GET", "/generate-image" + query)

        running = threading.Thread(target=one, args=("running", "?mode=sleep&seconds=2"))
        mark = len(self.st.gateway.lines())
        running.start()
        self.st.gateway.wait_for(r"START RequestId", start=mark)
        others = [threading.Thread(target=one, args=(name, "")) for name in ("b", "c")]
        for t in others:
            t.start()
        for t in others + [running]:
            t.join()
        self.assertEqual(out["running"].status, 200)
        self.assertEqual(sorted((out["b"].status, out["c"].status)), [200, 429])
        got["THROTTLED"] = out["b"] if out["b"].status == 429 else out["c"]
        got["INTEGRATION_TIMEOUT"] = self.call("GET", "/generate-image?mode=sleep&seconds=6")
        return got

    def test_each_answers_as_the_terraform_gateway_response_defines_it(self):
        if not os.path.exists(TERRAFORM_RESPONSES):
            self.skipTest(f"{TERRAFORM_RESPONSES} is not there to compare with")
        defined = terraform_gateway_errors()
        with open(TERRAFORM_RESPONSES) as f:
            terraform = f.read()
        for kind, r in self.provoke().items():
            with self.subTest(response_type=kind):
                status, code, message = defined[kind]
                err = gateway_error(self, r, status, code)
                if kind == "MISSING_AUTHENTICATION_TOKEN":
                    # The same sentence; the list after it is the routes each serves (test below).
                    message, got = message.split(" serves ")[0], err["message"].split(" serves ")[0]
                    self.assertEqual(got, message)
                else:
                    self.assertEqual(err["message"], message)
                self.assertEqual(self.st.access_line(r.headers["x-amzn-RequestId"])["responseType"], kind)
                # The CORS headers a gateway response carries, with the same values as Terraform's.
                self.assertEqual(r.headers["Access-Control-Allow-Origin"], self.ORIGIN)
                for name in ("Access-Control-Allow-Headers", "Access-Control-Allow-Methods"):
                    self.assertIn(f'"gatewayresponse.header.{name}" = "\'{r.headers[name]}\'"', terraform)
                if kind == "THROTTLED":
                    self.assertEqual(r.headers["Retry-After"], "1")

    def test_no_route_for_the_method_and_path_never_reaches_the_function(self):
        for method, path in (("DELETE", "/generate-image"), ("PUT", "/models"), ("POST", "/health"), ("POST", "/"),
                             ("GET", "/nope"), ("GET", "/generate-image/more"), ("OPTIONS", "/nope")):
            with self.subTest(method=method, path=path):
                r = self.call(method, path)
                err = gateway_error(self, r, 403, "missing_authentication_token")
                # It names the routes served (the deployed API's by default), OPTIONS left out.
                self.assertTrue(err["message"].startswith("No route matches this method and path: the API serves GET "
                                                          "and POST /generate-image, POST /edit-image, POST /uploads, GET /models"), err)
                self.assertIn("GET /health", err["message"])
                self.assertNotIn("OPTIONS", err["message"])
                self.assertEqual(r.headers["x-amzn-ErrorType"], "MissingAuthenticationTokenException")
                self.assertNotIn("lambdaRequestId", self.st.access_line(r.headers["x-amzn-RequestId"]))
        # The deployed API's routes reach the function; OPTIONS (a CORS preflight) without a key.
        for method, path, headers in (("GET", "/generate-image", None), ("POST", "/generate-image", None),
                                      ("GET", "/models", None), ("OPTIONS", "/generate-image", {"x-api-key": ""}),
                                      ("OPTIONS", "/models", {"x-api-key": ""}), ("GET", "/health", {"x-api-key": ""})):
            with self.subTest(method=method, path=path):
                self.assertEqual(event_of(self.call(method, path, headers=headers))["httpMethod"], method)

    def test_the_origin_is_added_only_when_exactly_one_is_allowed(self):
        for origins, expected in (("https://a.example,https://b.example", None), ("*", "*"), ("", None)):
            with self.subTest(origins=origins):
                with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1,
                           env={"IMAGEGEN_CORS_ORIGINS": origins}) as st:
                    r = st.request("GET", "/nope")
                    gateway_error(self, r, 403, "missing_authentication_token")
                    self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), expected)
                    self.assertEqual(r.headers.get("Access-Control-Allow-Methods"), expected and "GET,POST,OPTIONS")


class Lifecycle(unittest.TestCase):
    def test_port_in_use_is_reported_and_nothing_starts(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", str(port), "--",
                                FAKE_FUNCTION], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"port {port} on 127.0.0.1 is already in use", p.stderr)
        self.assertNotIn("execution environment started", p.stdout)

    def test_bad_flags_are_refused(self):
        for args, sentence in ((["--concurrency", "0"], "--concurrency must be a whole number from 1 to 64"),
                               (["--timeout", "abc"], "--timeout must be a number of seconds"),
                               (["--route", "no-slash"], "must start with '/'"),
                               (["--route", "FETCH /x"], "must start with '/'"),
                               (["--cors-origins", "https://a.example\u0001"], "cannot be a header value"),
                               (["--bogus"], "unknown option"),
                               (["--function", "/nonexistent/bootstrap"], "is not an executable file")):
            with self.subTest(args=args):
                function = [] if "--function" in args else ["--", FAKE_FUNCTION]
                p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", "0"] + args + function,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(sentence, p.stderr)

    def test_sigterm_stops_everything_and_exits_0(self):
        st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=3).start()
        self.assertEqual(st.request("GET", "/generate-image").status, 200)
        pids = list(st.env_pids().values())
        self.assertEqual(len(pids), 3)
        codes = st.stop()
        self.assertEqual(codes["gateway"], 0, st.gateway.text()[-2000:])
        self.assertFalse(any(pid_alive(p) for p in pids))

    def test_sigterm_with_a_request_in_flight(self):
        st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1).start()
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", st.request("GET", "/generate-image?mode=sleep&seconds=30")))
        t.start()
        st.gateway.wait_for(r"START RequestId")
        pids = list(st.env_pids().values())
        t0 = time.monotonic()
        codes = st.stop()
        self.assertLess(time.monotonic() - t0, 5 * SLOW)
        t.join(10)
        self.assertEqual(codes["gateway"], 0)
        self.assertEqual(out["r"].status, 502)
        self.assertFalse(any(pid_alive(p) for p in pids))

    def test_killed_gateway_leaves_no_orphans(self):
        st = Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=2).start()
        pids = list(st.env_pids().values())
        os.kill(st.gateway.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [p for p in pids if pid_alive(p)]
        st.stop()
        self.assertEqual(alive, [])


if __name__ == "__main__":
    run_tests("gateway")
