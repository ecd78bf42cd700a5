"""The generation pipeline of bootstrap through the whole local stack (gateway, bedrock-local,
s3rver), with a policy that passes bodies through and echoes the runtime's result: every way
Bedrock and S3 can fail maps to an honest status, no URL is ever returned for an object that was
not stored, and the next request is healthy."""
import base64
import json
import os
import signal
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

POLICY = os.path.join(stack.SOURCE_DIR, "tests", "data", "policies", "passthrough")
TITAN = "amazon.titan-image-generator-v1"


def titan_body(prompt="a lighthouse at dusk", n=1, width=512, height=512, seed=7):
    return {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": prompt},
            "imageGenerationConfig": {"numberOfImages": n, "width": width, "height": height,
                                      "cfgScale": 8.0, "seed": seed, "quality": "standard"}}


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers, r.read()


class PipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack(policy_dir=POLICY, function_timeout=8, timeout=12,
                       env={"IMAGEGEN_UPLOAD_RESERVE_MS": "1000", "AWS_MAX_ATTEMPTS": "3"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def generate(self, **kw):
        r = self.st.request("POST", "/generate-image", kw, {"Content-Type": "application/json"})
        return r, r.json()

    def stats(self):
        return self.st.bedrock_control("GET", "stats")[1]

    def faults(self, doc):
        status, _ = self.st.bedrock_control("POST", "faults", doc)
        self.assertEqual(status, 200)

    def assert_healthy(self):
        self.faults({"throttle": None, "server_error": None, "model_timeout": None, "model_not_ready": None,
                     "truncate": None, "non_json": None, "reset": None, "latency_ms": 0})
        r, res = self.generate(body=titan_body())
        self.assertEqual(r.status, 200, res)

    def assert_failure(self, res, status, code):
        self.assertFalse(res["ok"], res)
        self.assertEqual(res["status"], status, res)
        self.assertEqual(res["code"], code, res)
        self.assertNotIn("images", res)
        self.assertTrue(res["message"])

    # ---- success ----

    def test_success_stores_and_presigns_real_pngs(self):
        r, res = self.generate(body=titan_body(n=2, width=768, height=1152), expected=2,
                               metadata={"seed": "7"})
        self.assertEqual(r.status, 200, res)
        self.assertTrue(res["ok"])
        self.assertEqual(res["model"], TITAN)
        self.assertEqual(res["context"], {"echo": "context"})
        self.assertEqual(len(res["images"]), 2)
        keys = set()
        for img in res["images"]:
            self.assertRegex(img["key"], r"^test/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.png$")
            keys.add(img["key"])
            self.assertEqual((img["width"], img["height"]), (768, 1152))
            self.assertEqual(img["content_type"], "image/png")
            status, headers, data = fetch(img["url"])
            self.assertEqual(status, 200)
            self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(len(data), img["bytes"])
        self.assertEqual(len(keys), 2)
        self.assertGreater(res["expires_at_epoch"], time.time() + 500)
        self.assertRegex(res["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.stats()["reached_model"], 1)

    def test_inline_images_come_back_in_the_answer_and_are_not_stored(self):
        # The policy's respond() echoes the result: where it put b64_ref, the runtime swapped in
        # the image's base64 after respond(), so the bytes never entered Lua.
        r, res = self.generate(body=titan_body(n=2), expected=2, deliver="inline")
        self.assertEqual(r.status, 200, res)
        self.assertEqual(len(res["images"]), 2)
        for img in res["images"]:
            self.assertNotIn("url", img)
            self.assertNotIn("key", img)
            data = base64.b64decode(img["b64_ref"], validate=True)
            self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(len(data), img["bytes"])
        self.assertNotIn("expires_at", res)
        r, res = self.generate(body=titan_body(), deliver="both")
        self.assertEqual(r.status, 200, res)
        img = res["images"][0]
        self.assertEqual(fetch(img["url"])[2], base64.b64decode(img["b64_ref"]))

    def test_an_inline_answer_too_large_for_lambda_is_refused(self):
        r, res = self.generate(body=titan_body(n=5, width=1024, height=1024), expected=5, deliver="inline")
        self.assertEqual(r.status, 400, res)
        self.assert_failure(res, 400, "response_too_large")
        self.assertIn("URLs", res["message"])

    def test_cache_key_reuses_stored_images(self):
        body = titan_body(seed=99)
        r1, res1 = self.generate(body=body, cache_key="abc123", key_prefix="cache/")
        self.assertEqual(r1.status, 200, res1)
        self.assertFalse(res1["cached"])
        r2, res2 = self.generate(body=body, cache_key="abc123", key_prefix="cache/")
        self.assertEqual(r2.status, 200, res2)
        self.assertTrue(res2["cached"])
        self.assertEqual(res1["images"][0]["key"], res2["images"][0]["key"])
        self.assertEqual((res2["images"][0]["width"], res2["images"][0]["height"]), (512, 512))
        self.assertEqual(self.stats()["reached_model"], 1)
        self.assertEqual(fetch(res1["images"][0]["url"])[2], fetch(res2["images"][0]["url"])[2])

    def test_throttling_is_retried_and_succeeds(self):
        self.faults({"throttle": {"next": 2}})
        r, res = self.generate(body=titan_body())
        self.assertEqual(r.status, 200, res)
        s = self.stats()
        self.assertEqual(s["reached_model"], 3)
        self.assertEqual(s["succeeded"], 1)

    # ---- Bedrock failures ----

    def test_validation_error_passes_bedrocks_message(self):
        r, res = self.generate(body=titan_body(width=1000, height=1000))
        self.assertEqual(r.status, 400)
        self.assert_failure(res, 400, "invalid_request")
        self.assertIn("width", res["message"].lower() + "")

    def test_content_filter(self):
        self.faults({"block_words": ["forbidden"]})
        r, res = self.generate(body=titan_body(prompt="a forbidden thing"))
        self.assert_failure(res, 400, "content_filtered")
        self.faults({"block_words": []})

    def test_access_denied_is_502_with_an_operator_hint(self):
        self.faults({"deny_models": [TITAN]})
        r, res = self.generate(body=titan_body())
        self.faults({"deny_models": []})
        self.assertEqual(r.status, 502)
        self.assert_failure(res, 502, "model_unavailable")
        deadline = time.time() + 10
        while time.time() < deadline:
            hints = [o for _, o in self.st.function_json() if "enable model access in the Bedrock console" in o.get("hint", "")]
            if hints:
                break
            time.sleep(0.05)
        self.assertTrue(hints, "no operator hint in the function's log")
        self.assert_healthy()

    def test_unknown_model_is_model_unavailable(self):
        r, res = self.generate(model="amazon.no-such-model-v9:0", body=titan_body())
        self.assert_failure(res, 502, "model_unavailable")

    def test_throttling_left_after_retries_is_429_with_retry_after(self):
        self.faults({"throttle": {"every": 1}})
        r, res = self.generate(body=titan_body())
        self.assertEqual(r.status, 429)
        self.assert_failure(res, 429, "throttled")
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assertEqual(self.stats()["reached_model"], 3)  # AWS_MAX_ATTEMPTS
        self.assert_healthy()

    def test_service_unavailable_is_503_with_retry_after(self):
        self.faults({"server_error": {"every": 1, "status": 503}})
        r, res = self.generate(body=titan_body())
        self.assert_failure(res, 503, "throttled")
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assert_healthy()

    def test_server_errors_after_retries_are_502(self):
        self.faults({"server_error": {"every": 1, "status": 500}})
        r, res = self.generate(body=titan_body())
        self.assert_failure(res, 502, "upstream_error")
        self.assertEqual(self.stats()["reached_model"], 3)
        self.assert_healthy()

    def test_model_timeout_is_504(self):
        self.faults({"model_timeout": {"every": 1}})
        r, res = self.generate(body=titan_body())
        self.assert_failure(res, 504, "timeout")
        self.assert_healthy()

    def test_unreadable_answers_are_502(self):
        for kind in ("truncate", "non_json"):
            self.faults({kind: {"every": 1}})
            r, res = self.generate(body=titan_body())
            self.assert_failure(res, 502, "upstream_error")
            self.faults({kind: None})
        self.assert_healthy()

    def test_connection_resets_are_retried_then_502(self):
        self.faults({"reset": {"every": 1}})
        r, res = self.generate(body=titan_body())
        self.assert_failure(res, 502, "upstream_error")
        # three attempts; curl may resend once on a fresh connection when a reused one was reset
        self.assertIn(self.stats()["reached_model"], (3, 4, 5, 6))
        self.assert_healthy()

    def test_slow_model_is_answered_504_before_the_deadline(self):
        self.faults({"latency_ms": 20000})
        t = time.time()
        r, res = self.generate(body=titan_body())
        took = time.time() - t
        self.assertEqual(r.status, 504, res)
        self.assert_failure(res, 504, "timeout")
        self.assertLess(took, 8.0, "answered after the function's 8 s deadline")
        self.assertGreater(took, 5.0, "gave up long before the deadline")
        self.assert_healthy()


class StorageFailureTest(unittest.TestCase):
    def test_no_url_for_an_object_that_was_not_stored(self):
        with Stack(policy_dir=POLICY, function_timeout=10, timeout=12) as st:
            st.s3.stop()
            r = st.request("POST", "/generate-image", {"body": titan_body()}, {"Content-Type": "application/json"})
            res = r.json()
            self.assertEqual(r.status, 502, res)
            self.assertEqual(res["code"], "storage_error")
            self.assertNotIn("images", res)
            self.assertNotIn("http://", json.dumps(res))
            r = st.request("GET", "/health")
            self.assertEqual(r.status, 200)


class StorageMidRunTest(unittest.TestCase):
    """S3 failing while a request is in flight: stopped during the model call, or hung."""

    def post(self, st, timeout=60.0):
        return st.request("POST", "/generate-image", {"body": titan_body()}, {"Content-Type": "application/json"},
                          timeout=timeout)

    def test_s3_stopped_during_the_model_call(self):
        with Stack(policy_dir=POLICY, function_timeout=10, timeout=12, bedrock_args=["--latency-ms", "1500"]) as st:
            import threading
            out = {}
            t = threading.Thread(target=lambda: out.update(r=self.post(st)))
            t.start()
            time.sleep(0.5)
            st.s3.stop()
            t.join(30)
            res = out["r"].json()
            self.assertEqual(out["r"].status, 502, res)
            self.assertEqual(res["code"], "storage_error")
            self.assertNotIn("images", res)
            self.assertEqual(st.bedrock_control("GET", "stats")[1]["succeeded"], 1)

    def test_hung_s3_is_answered_before_the_deadline_and_then_recovers(self):
        with Stack(policy_dir=POLICY, function_timeout=6, timeout=10,
                   env={"IMAGEGEN_UPLOAD_RESERVE_MS": "1000"}) as st:
            os.kill(st.s3.pid, signal.SIGSTOP)
            try:
                t = time.time()
                r = self.post(st)
                took = time.time() - t
                res = r.json()
                self.assertIn(r.status, (502, 504), res)
                self.assertIn(res["code"], ("timeout", "storage_error"))
                self.assertNotIn("images", res)
                self.assertLess(took, 6.0, "answered after the function's deadline")
            finally:
                os.kill(st.s3.pid, signal.SIGCONT)
            r = self.post(st)
            self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    run_tests("pipeline")
