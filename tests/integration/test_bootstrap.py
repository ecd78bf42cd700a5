"""bootstrap driven through a Runtime API of the test's own: init errors, the exit on a 500,
policy failures and runaway scripts, malformed events, and that the process lives on."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from runtime_stub import RuntimeStub, api_event  # noqa: E402

BUILD = os.environ.get("IMAGEGEN_BUILD_DIR", "build")
SOURCE = os.environ.get("IMAGEGEN_SOURCE_DIR", ".")
POLICIES = os.path.join(SOURCE, "tests", "data", "policies")


def start_bootstrap(stub, policy="basic", cwd=None, **env):
    e = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": stub.address,
        "IMAGEGEN_BUCKET": "imagegen-test",
        "IMAGEGEN_POLICY_DIR": os.path.join(POLICIES, policy),
        "IMAGEGEN_LUA_INSTRUCTIONS": "2000000",
        "IMAGEGEN_LUA_MEMORY_MB": "32",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBOOTSTRAPTEST",
        "AWS_SECRET_ACCESS_KEY": "bootstrap-test-secret-value",
        # nothing listens here; these tests never reach Bedrock or S3
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(env)
    return subprocess.Popen([os.path.abspath(os.path.join(BUILD, "bootstrap"))], env=e, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def proxy(result):
    kind, headers, body = result
    assert kind == "response", (kind, body)
    resp = json.loads(body)
    return resp["statusCode"], resp.get("headers", {}), json.loads(resp["body"]) if resp["body"] else None


class BootstrapTest(unittest.TestCase):
    def setUp(self):
        self.stub = RuntimeStub()
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            out, err = self.proc.communicate(timeout=10)
            self.output = out.decode(errors="replace") + err.decode(errors="replace")
            self.assertNotIn("bootstrap-test-secret-value", self.output)
            self.assertNotIn("ERROR: AddressSanitizer", self.output)
            self.assertNotIn("runtime error:", self.output)
        self.stub.close()

    def test_serves_and_lives_on_after_policy_failures(self):
        self.proc = start_bootstrap(self.stub)
        status, headers, body = proxy(self.stub.invoke(api_event(path="/health", query={"a": "1"})))
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["query"], {"a": "1"})
        for path in ("/error", "/bad-return", "/bad-header", "/loop", "/memory"):
            t = time.time()
            status, _, body = proxy(self.stub.invoke(api_event(path=path)))
            self.assertEqual(status, 500, path)
            self.assertEqual(body["error"]["code"], "policy_error", path)
            self.assertLess(time.time() - t, 15, path)
            # the next invocation works
            status, _, body = proxy(self.stub.invoke(api_event(path="/health")))
            self.assertEqual(status, 200, "after " + path)
        self.assertIsNone(self.proc.poll())

    def test_policy_error_is_logged_with_file_and_line(self):
        self.proc = start_bootstrap(self.stub)
        proxy(self.stub.invoke(api_event(path="/error")))
        proxy(self.stub.invoke(api_event(path="/health")))
        self.stub.next_status = 500
        self.proc.wait(timeout=10)
        out = self.proc.stdout.read().decode()
        self.assertRegex(out, r"init\.lua:\d+: deliberate failure")

    def test_malformed_events_get_a_400_json_error(self):
        self.proc = start_bootstrap(self.stub)
        for event in (b"not json", b"[1,2]", b"{}", json.dumps({"httpMethod": 7}).encode()):
            status, headers, body = proxy(self.stub.invoke(event))
            self.assertEqual(status, 400, event)
            self.assertIn("error", body)
            self.assertTrue(body["error"]["message"])
        status, _, _ = proxy(self.stub.invoke(api_event(path="/health")))
        self.assertEqual(status, 200)

    def test_bodies_reach_the_policy_decoded(self):
        self.proc = start_bootstrap(self.stub)
        status, _, body = proxy(self.stub.invoke(api_event(method="POST", path="/health", body='{"a":[1,2]}')))
        self.assertEqual(body["body"], {"a": [1, 2]})
        status, _, body = proxy(self.stub.invoke(api_event(method="POST", path="/health", body="eyJiIjp0cnVlfQ==", b64=True)))
        self.assertEqual(body["body"], {"b": True})
        status, _, body = proxy(self.stub.invoke(api_event(method="POST", path="/health", body="{oops")))
        self.assertIn("not valid JSON", body["body_error"])

    def test_exits_when_the_runtime_api_answers_500(self):
        self.proc = start_bootstrap(self.stub)
        proxy(self.stub.invoke(api_event(path="/health")))
        self.stub.next_status = 500
        self.assertIsNotNone(self.proc.wait(timeout=10))

    def test_broken_policy_fails_init_with_file_and_line(self):
        self.proc = start_bootstrap(self.stub, policy="broken")
        err = self.stub.wait_init_error()
        self.assertIsNotNone(err, "no /runtime/init/error")
        headers, body = err
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], "Runtime.PolicyLoadError")
        self.assertRegex(doc["errorMessage"], r"init\.lua:\d+")
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), "Runtime.PolicyLoadError")
        self.assertNotEqual(self.proc.wait(timeout=10), 0)

    def test_time_limit_ends_calls_that_instructions_cannot(self):
        self.proc = start_bootstrap(self.stub, policy="runaway", IMAGEGEN_LUA_TIME_MS="300",
                                    IMAGEGEN_LUA_MEMORY_MB="96", IMAGEGEN_LUA_INSTRUCTIONS="10000000")
        # A loop of long C calls: the clock ends it, the process lives on.
        status, _, body = proxy(self.stub.invoke(api_event(path="/gsub")))
        self.assertEqual((status, body["error"]["code"]), (500, "policy_error"))
        status, _, body = proxy(self.stub.invoke(api_event(path="/health")))
        self.assertEqual(status, 200)
        # One C call that never returns to the VM: the environment stops, saying why.
        rid = None
        try:
            self.stub.invoke(api_event(path="/backtrack"), timeout_s=8)
        except TimeoutError as e:
            rid = str(e)
        self.assertIsNotNone(rid, "the backtracking call came back")
        self.assertEqual(self.proc.wait(timeout=20), 70)
        out = self.proc.stdout.read().decode()
        self.assertIn("time limit of 300 ms exhausted (IMAGEGEN_LUA_TIME_MS", out)
        self.assertIn("a policy call ran past its time limit inside a C function", out)

    def test_finds_the_shipped_policy_from_a_checkout_without_settings(self):
        # No IMAGEGEN_POLICY_DIR, no LAMBDA_TASK_ROOT, and no ./policy where it runs: build/bootstrap
        # takes the source tree's runtime/policy, beside its build folder.
        with tempfile.TemporaryDirectory() as empty:
            self.proc = start_bootstrap(self.stub, cwd=empty, IMAGEGEN_POLICY_DIR="")
            status, _, body = proxy(self.stub.invoke(api_event(path="/models")))
        self.assertEqual(status, 200, body)
        self.assertIn(body["defaultModel"], [m["id"] for m in body["models"]])

    def test_a_policy_dir_that_was_set_is_the_only_one_tried(self):
        self.proc = start_bootstrap(self.stub, IMAGEGEN_POLICY_DIR="/nonexistent/policy")
        err = self.stub.wait_init_error()
        self.assertIsNotNone(err, "no /runtime/init/error")
        self.assertIn("/nonexistent/policy", json.loads(err[1])["errorMessage"])
        self.assertNotEqual(self.proc.wait(timeout=10), 0)

    def test_missing_bucket_fails_init_naming_the_variable(self):
        self.proc = start_bootstrap(self.stub, IMAGEGEN_BUCKET="")
        err = self.stub.wait_init_error()
        self.assertIsNotNone(err)
        self.assertIn("IMAGEGEN_BUCKET", json.loads(err[1])["errorMessage"])
        self.assertNotEqual(self.proc.wait(timeout=10), 0)

    def test_missing_credentials_fail_init(self):
        self.proc = start_bootstrap(self.stub, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="",
                                    AWS_SHARED_CREDENTIALS_FILE="/nonexistent", HOME="/nonexistent")
        err = self.stub.wait_init_error()
        self.assertIsNotNone(err)
        self.assertEqual(json.loads(err[1])["errorType"], "Runtime.MissingCredentials")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("bootstrap: %d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or not result.testsRun else 0)
