"""test_gateway_invoke.py - the gateway's Lambda Invoke API and its asynchronous queue, driven by
botocore's Lambda client and by ours (tests/tools/aws_json_cli), with the scripted function
(fake_function.py) as the function.

What Lambda does with an Event invocation: 202 and a request id at once; the payload reaches the
function as given; a failed attempt (function error, timeout, crash) is retried with the
configured waits, keeping the request id; an event past its maximum age is dropped; and Lambda's
refusals (signature, size, unknown function, JSON) with its statuses and error types.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import (ACCESS_KEY_ID, BUILD_DIR, FAKE_FUNCTION, REGION, SANITIZE, SECRET_ACCESS_KEY, Stack,  # noqa: E402
                   http_call, run_tests)

SLOW = 3 if SANITIZE else 1
RETRY_DELAY = 0.4  # the first retry's wait in these stacks (Lambda's is about a minute)
AWS_JSON_CLI = os.path.join(BUILD_DIR, "tests", "aws_json_cli")


def scripted(mode, **params):
    """An event the scripted function reads like a request's query string."""
    return {"queryStringParameters": dict(mode=mode, **params)}


def async_lines(st, request_id):
    """The gateway's "async invocation" lines of one event, in order."""
    return [o for o in st.gateway_json("async invocation") if o.get("requestId") == request_id]


def wait_final(st, request_id, timeout=20.0):
    """The event's last line: its success, or its drop. Returns every line of the event."""
    st.wait_gateway_json(lambda o: o.get("message") == "async invocation" and o.get("requestId") == request_id
                         and o.get("outcome") in ("success", "dropped"), timeout * SLOW)
    return async_lines(st, request_id)


def starts(st, request_id):
    """START lines of request_id: one per attempt that reached an environment, as (env, text)."""
    return [(e, t) for e, t in st.env_lines() if t.startswith("START RequestId: " + request_id)]


def wait_start(st, request_id, timeout=20.0):
    """Waits until an environment has started request_id."""
    deadline = time.monotonic() + timeout * SLOW
    while not starts(st, request_id):
        if time.monotonic() > deadline:
            raise AssertionError("no START for %s:\n%s" % (request_id, st.dump()))
        time.sleep(0.02)


def client_error(test, call, status, code):
    """Runs call, which must fail with this HTTP status and Lambda error code; returns the error."""
    with test.assertRaises(botocore.exceptions.ClientError) as caught:
        call()
    err = caught.exception.response
    test.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
    test.assertEqual(err["Error"]["Code"], code, err)
    return err


class EventInvocations(unittest.TestCase):
    """One stack: the scripted function in two environments, retries 0.4 s then 0.8 s apart."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.st = Stack(s3=False, bedrock=False, dynamodb=True, function=[FAKE_FUNCTION], concurrency=2,
                       function_timeout=2 * SLOW,
                       gateway_args=["--async-retry-delay", str(RETRY_DELAY)]).start()
        cls.lam = cls.st.lambda_client()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()
        cls.tmp.cleanup()

    def invoke(self, payload, function="imagegen"):
        r = self.lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode())
        self.assertEqual(r["StatusCode"], 202, r)
        self.assertEqual(r["Payload"].read(), b"")
        return r["ResponseMetadata"]["RequestId"]

    def recorded(self, request_id):
        """What the function printed for mode=record (waits for it)."""
        self.st.report_for(request_id, timeout=20 * SLOW)
        seen = [o for _, o in self.st.function_json() if o.get("recorded") is not None and o.get("requestId") == request_id]
        self.assertEqual(len(seen), 1, self.st.dump())
        return seen[0]

    def marker(self):
        """A path that does not exist yet, for once=PATH: the first attempt fails, the next succeed."""
        fd, path = tempfile.mkstemp(dir=self.tmp.name)
        os.close(fd)
        os.unlink(path)
        return path

    # ---- reaching the function ----

    def test_an_event_reaches_the_function_with_its_payload_intact(self):
        payload = dict(scripted("record"), job={"id": "j-1", "prompt": "ünïcødé ☕ \"quoted\"\n", "n": [1, 2.5, None]})
        request_id = self.invoke(payload)
        seen = self.recorded(request_id)
        self.assertEqual(seen["recorded"], payload)  # as given: no API Gateway shape around it
        self.assertEqual([o["outcome"] for o in wait_final(self.st, request_id)], ["success"])
        self.assertEqual(len(starts(self.st, request_id)), 1)

    def test_the_function_sees_the_invoke_api_and_the_table(self):
        seen = self.recorded(self.invoke(scripted("record")))
        self.assertEqual(seen["env"]["AWS_ENDPOINT_URL_LAMBDA"], self.st.lambda_url)
        self.assertRegex(self.st.lambda_url, r"^http://127\.0\.0\.1:\d+$")
        self.assertNotEqual(self.st.lambda_url, self.st.api_url)
        self.assertEqual(seen["env"]["AWS_ENDPOINT_URL_DYNAMODB"], self.st.dynamodb_url)
        self.assertEqual(seen["env"]["IMAGEGEN_TABLE"], self.st.table)

    def test_our_client_signs_an_event_the_gateway_accepts(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
                   AWS_REGION=REGION, AWS_ENDPOINT_URL_LAMBDA=self.st.lambda_url)
        for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
            env.pop(k, None)
        payload = dict(scripted("record"), via="aws_json_cli")
        lines = [json.dumps({"op": "invoke", "function": f, "payload": json.dumps(payload)})
                 for f in ("imagegen", "arn:aws:lambda:us-east-1:123456789012:function:imagegen:$LATEST")]
        p = subprocess.run([AWS_JSON_CLI], input="\n".join(lines) + "\n", capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        answers = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(answers), 2, p.stdout)
        for answer in answers:
            self.assertEqual((answer["err"], answer["status"]), ("ok", 202), answer)
            self.assertEqual(self.recorded(answer["request_id"])["recorded"], payload)

    def test_an_empty_payload_is_an_empty_object(self):
        r = self.lam.invoke(FunctionName="imagegen", InvocationType="Event")
        request_id = r["ResponseMetadata"]["RequestId"]
        self.assertEqual(r["StatusCode"], 202)
        self.assertEqual([o["outcome"] for o in wait_final(self.st, request_id)], ["success"])
        seen = [o for _, o in self.st.function_json() if o.get("invocation") == request_id]
        self.assertEqual(seen[0]["eventBytes"], 2)  # "{}"

    def test_the_api_is_served_beside_the_queue(self):
        request_id = self.invoke(scripted("sleep", seconds="0.3"))
        r = self.st.request("GET", "/generate-image?mode=echo")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["event"]["httpMethod"], "GET")
        self.assertEqual([o["outcome"] for o in wait_final(self.st, request_id)], ["success"])

    # ---- retries ----

    def test_a_function_error_is_retried_twice_then_dropped(self):
        request_id = self.invoke(scripted("error", type="Function.Scripted"))
        lines = wait_final(self.st, request_id)
        self.assertEqual([(o["attempt"], o["outcome"]) for o in lines],
                         [(1, "error"), (2, "error"), (3, "error"), (3, "dropped")])
        self.assertEqual({o.get("errorType") for o in lines[:3]}, {"Function.Scripted"})
        self.assertEqual([o.get("retryInS") for o in lines[:3]], [RETRY_DELAY, 2 * RETRY_DELAY, None])
        self.assertEqual(lines[3]["reason"], "RetriesExhausted")
        # Each retry waited at least its delay after the event was accepted (lower bounds only).
        self.assertGreaterEqual(lines[1]["ageMs"], RETRY_DELAY * 1000)
        self.assertGreaterEqual(lines[2]["ageMs"], 3 * RETRY_DELAY * 1000)
        # Three attempts of the same request id, as Lambda's retries keep it.
        self.assertEqual(len(starts(self.st, request_id)), 3)

    def test_a_retry_that_succeeds_ends_the_event(self):
        request_id = self.invoke(scripted("error", once=self.marker()))
        self.assertEqual([(o["attempt"], o["outcome"]) for o in wait_final(self.st, request_id)],
                         [(1, "error"), (2, "success")])

    def test_a_worker_killed_mid_event_is_retried(self):
        request_id = self.invoke(scripted("crash", signal="1", once=self.marker()))
        lines = wait_final(self.st, request_id)
        self.assertEqual([(o["attempt"], o["outcome"]) for o in lines], [(1, "error"), (2, "success")])
        self.assertEqual(lines[0]["errorType"], "Runtime.ExitError")
        envs = [e for e, _ in starts(self.st, request_id)]
        self.assertEqual(len(envs), 2)
        self.assertNotEqual(lines[0]["env"], lines[1]["env"])  # the killed environment was replaced

    def test_a_function_timeout_is_retried(self):
        request_id = self.invoke(scripted("sleep", seconds=str(30 * SLOW)))
        self.st.wait_gateway_json(lambda o: o.get("message") == "async invocation" and o.get("requestId") == request_id,
                                  20 * SLOW)
        first = async_lines(self.st, request_id)[0]
        self.assertEqual((first["attempt"], first["outcome"], first["errorType"]), (1, "error", "Sandbox.Timedout"))
        self.assertEqual(first["retryInS"], RETRY_DELAY)

    # ---- Lambda's refusals ----

    def test_a_bad_signature_is_refused(self):
        bad = self.st.lambda_client(secret="not-the-secret")
        err = client_error(self, lambda: bad.invoke(FunctionName="imagegen", InvocationType="Event",
                                                    Payload=json.dumps(scripted("record")).encode()),
                           403, "InvalidSignatureException")
        self.assertIn("The request signature we calculated does not match", err["Error"]["Message"])
        unsigned = http_call(self.st.lambda_url + "/2015-03-31/functions/imagegen/invocations", "POST", b"{}",
                             {"X-Amz-Invocation-Type": "Event"})
        self.assertEqual(unsigned.status, 403)
        self.assertEqual(unsigned.headers["x-amzn-ErrorType"], "MissingAuthenticationTokenException")
        self.assertEqual(unsigned.json(), {"message": "Missing Authentication Token"})
        refused = [self.st.wait_gateway_json(lambda o, t=t: o.get("message") == "lambda invoke" and o["status"] == 403
                                             and o.get("errorType") == t)
                   for t in ("InvalidSignatureException", "MissingAuthenticationTokenException")]
        queued = {o["requestId"] for o in self.st.gateway_json("async invocation")}
        self.assertFalse(queued & {o["requestId"] for o in refused})  # nothing refused was queued

    def test_a_payload_over_one_megabyte_is_refused(self):
        limit = 1024 * 1024
        err = client_error(self, lambda: self.lam.invoke(FunctionName="imagegen", InvocationType="Event",
                                                         Payload=b'"' + b"x" * (limit - 1) + b'"'),
                           413, "RequestEntityTooLargeException")
        self.assertEqual(err["Error"]["Message"],
                         "%d byte payload is too large for the Event invocation type (limit %d bytes)" % (limit + 1, limit))
        r = self.lam.invoke(FunctionName="imagegen", InvocationType="Event", Payload=b'"' + b"x" * (limit - 2) + b'"')
        self.assertEqual(r["StatusCode"], 202)  # exactly 1 MB is accepted
        request_id = r["ResponseMetadata"]["RequestId"]
        self.assertEqual([o["outcome"] for o in wait_final(self.st, request_id)], ["success"])

    def test_an_unknown_function_is_not_found(self):
        for name, arn in (("nope", "arn:aws:lambda:us-east-1:123456789012:function:nope"),
                          ("imagegen:prod", "arn:aws:lambda:us-east-1:123456789012:function:imagegen:prod"),
                          ("arn:aws:lambda:us-east-1:123456789012:function:other",
                           "arn:aws:lambda:us-east-1:123456789012:function:other")):
            err = client_error(self, lambda: self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}"),
                               404, "ResourceNotFoundException")
            self.assertEqual(err["Error"]["Message"], "Function not found: " + arn)
        for name in ("imagegen:$LATEST", "123456789012:function:imagegen"):
            r = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
            self.assertEqual(r["StatusCode"], 202, name)

    def test_dry_run_request_response_and_malformed_payloads(self):
        r = self.lam.invoke(FunctionName="imagegen", InvocationType="DryRun", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 204)
        self.assertFalse(async_lines(self.st, r["ResponseMetadata"]["RequestId"]))
        err = client_error(self, lambda: self.lam.invoke(FunctionName="imagegen", Payload=b"{}"),
                           400, "InvalidParameterValueException")
        self.assertIn("not served by the local gateway", err["Error"]["Message"])
        err = client_error(self, lambda: self.lam.invoke(FunctionName="imagegen", InvocationType="Event",
                                                         Payload=b"{not json"),
                           400, "InvalidRequestContentException")
        self.assertTrue(err["Error"]["Message"].startswith("Could not parse request body into json"))
        wrong = http_call(self.st.lambda_url + "/2015-03-31/functions/imagegen", "GET")
        self.assertEqual((wrong.status, wrong.headers["x-amzn-ErrorType"]), (404, "UnknownOperationException"))


class MaximumAge(unittest.TestCase):
    """Events older than --async-max-age are dropped, waiting for a retry or for an environment."""

    def test_an_event_waiting_for_its_retry_is_dropped_at_its_maximum_age(self):
        max_age = 3 * SLOW  # the first attempt runs at once; its retry would wait 30 s
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1,
                   gateway_args=["--async-retry-delay", "30", "--async-max-age", str(max_age)]) as st:
            r = st.lambda_client().invoke(FunctionName="imagegen", InvocationType="Event",
                                          Payload=json.dumps(scripted("error")).encode())
            request_id = r["ResponseMetadata"]["RequestId"]
            lines = wait_final(st, request_id)
            self.assertEqual([(o["attempt"], o["outcome"]) for o in lines], [(1, "error"), (1, "dropped")])
            self.assertEqual(lines[1]["reason"], "EventAgeExceeded")
            self.assertGreaterEqual(lines[1]["ageMs"], max_age * 1000)
            self.assertEqual(len(starts(st, request_id)), 1)  # the retry never ran

    def test_an_event_that_waited_too_long_for_an_environment_never_runs(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1,
                   gateway_args=["--async-max-age", str(1.0 * SLOW)]) as st:
            lam = st.lambda_client()
            busy = lam.invoke(FunctionName="imagegen", InvocationType="Event",
                              Payload=json.dumps(scripted("sleep", seconds=str(3 * SLOW))).encode())
            wait_start(st, busy["ResponseMetadata"]["RequestId"])  # the only environment is taken ...
            late = lam.invoke(FunctionName="imagegen", InvocationType="Event", Payload=b"{}")  # ... for longer than this may wait
            late_id = late["ResponseMetadata"]["RequestId"]
            lines = wait_final(st, late_id)
            self.assertEqual([(o["attempt"], o["outcome"], o.get("reason")) for o in lines],
                             [(0, "dropped", "EventAgeExceeded")])
            self.assertEqual(starts(st, late_id), [])
            busy_id = busy["ResponseMetadata"]["RequestId"]
            self.assertEqual([o["outcome"] for o in wait_final(st, busy_id)], ["success"])


class Options(unittest.TestCase):
    def test_no_retries_and_a_clean_stop_with_events_waiting(self):
        with Stack(s3=False, bedrock=False, function=[FAKE_FUNCTION], concurrency=1,
                   gateway_args=["--async-retries", "0"]) as st:
            lam = st.lambda_client()
            failed = lam.invoke(FunctionName="imagegen", InvocationType="Event",
                                Payload=json.dumps(scripted("error")).encode())["ResponseMetadata"]["RequestId"]
            self.assertEqual([(o["attempt"], o["outcome"]) for o in wait_final(st, failed)],
                             [(1, "error"), (1, "dropped")])
            # An event still running and one waiting when the gateway stops: dropped, said so, exit 0.
            running = lam.invoke(FunctionName="imagegen", InvocationType="Event",
                                 Payload=json.dumps(scripted("sleep", seconds="20")).encode())
            waiting = lam.invoke(FunctionName="imagegen", InvocationType="Event", Payload=b"{}")
            running_id = running["ResponseMetadata"]["RequestId"]
            wait_start(st, running_id)
            codes = st.stop()
            self.assertEqual(codes["gateway"], 0, st.gateway.text()[-3000:])
            dropped = {o["requestId"]: o.get("reason") for o in st.gateway_json("async invocation")
                       if o["outcome"] == "dropped"}
            self.assertEqual(dropped.get(running_id), "Shutdown")
            self.assertEqual(dropped.get(waiting["ResponseMetadata"]["RequestId"]), "Shutdown")

    def test_bad_values_are_refused(self):
        for args, words in ((["--async-retries", "3"], "--async-retries must be a whole number from 0 to 2"),
                            (["--async-max-age", "0"], "--async-max-age must be a number of seconds from 0.05 to 21600"),
                            (["--async-retry-delay", "-1"], "--async-retry-delay must be a number of seconds")):
            p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", "0"] + args + ["--", FAKE_FUNCTION],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(words, p.stderr)
        env = dict(os.environ, IMAGEGEN_ASYNC_RETRIES="9")
        p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", "0", "--", FAKE_FUNCTION],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("IMAGEGEN_ASYNC_RETRIES must be a whole number from 0 to 2", p.stderr)

    def test_the_usage_names_the_options(self):
        p = subprocess.run([os.path.join(BUILD_DIR, "imagegen-gateway"), "--help"], capture_output=True, text=True,
                           timeout=30)
        for word in ("--invoke-port", "--async-retries", "--async-retry-delay", "--async-max-age"):
            self.assertIn(word, p.stdout)


if __name__ == "__main__":
    run_tests("gateway-invoke")
