"""The product end to end on the local stack with the shipped policy and the real bootstrap:
what a client sees over plain HTTP."""
import concurrent.futures
import hashlib
import json
import os
import struct
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import Stack, pid_alive, run_tests  # noqa: E402

JSON = {"Content-Type": "application/json"}
DEFAULT_MODEL = "stability.stable-image-core-v1:1"
ACTIVE_MODELS = ("stability.sd3-5-large-v1:0", "stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1")
TITAN, TITAN2 = "amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2:0"


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with("c.rate_limit.enabled = false")
        cls.st = Stack(policy_dir=cls.policy, function_timeout=10, timeout=15).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def reached(self):
        return self.st.bedrock_control("GET", "stats")[1]["reached_model"]

    def test_the_seeds_example(self):
        # The README's first request: no settings, an active model.
        q = urllib.parse.quote("A beautiful sunset over mountains")
        r = self.st.request("GET", "/generate-image?prompt=" + q)
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(set(doc), {"images", "model", "requestId", "expiresAt"})
        self.assertEqual(doc["model"], DEFAULT_MODEL)
        self.assertEqual(len(doc["images"]), 1)
        img = doc["images"][0]
        # id: the image's record (the stack keeps them in its table), the uuid of its key
        self.assertEqual(set(img), {"url", "key", "width", "height", "seed", "format", "contentType", "id"})
        self.assertEqual((img["width"], img["height"], img["format"], img["contentType"]), (1024, 1024, "png", "image/png"))
        self.assertRegex(img["key"], r"^images/\d{4}/\d\d/\d\d/[0-9a-f-]{36}\.png$")
        self.assertEqual(img["key"][-40:-4], img["id"])
        self.assertEqual(png_size(fetch(img["url"])), (1024, 1024))
        self.assertEqual(r.headers["Content-Type"], "application/json")

    def test_logs_and_metrics_of_one_invocation(self):
        prompt = "an unmistakable prompt about owls"
        r = self.st.request("GET", "/generate-image?prompt=" + urllib.parse.quote(prompt) + "&width=512&height=512")
        self.assertEqual(r.status, 200, r.body)
        lid = self.st.lambda_request_id(r.headers["x-amzn-RequestId"])
        self.st.report_for(lid)
        deadline = time.time() + 10
        mine = []
        while time.time() < deadline:
            mine = [o for _, o in self.st.function_json() if o.get("requestId") == lid]
            if any("_aws" in o for o in mine) and any(o.get("message") == "request complete" for o in mine):
                break
            time.sleep(0.05)
        emf = [o for o in mine if "_aws" in o]
        self.assertEqual(len(emf), 1, mine)
        m = emf[0]
        self.assertEqual(m["Outcome"], "success")
        self.assertEqual(m["Images"], 1)
        for name in ("TotalLatency", "ModelLatency", "UploadLatency"):
            self.assertGreater(m[name], 0)
        declared = {d["Name"] for d in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
        self.assertTrue({"TotalLatency", "ModelLatency", "UploadLatency", "Images"} <= declared)
        self.assertEqual(m["_aws"]["CloudWatchMetrics"][0]["Dimensions"], [["Outcome"]])
        done = [o for o in mine if o.get("message") == "request complete"]
        self.assertEqual(len(done), 1)
        self.assertEqual((done[0]["level"], done[0]["status"], done[0]["outcome"]), ("INFO", 200, "success"))
        self.assertRegex(done[0]["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # prompts stay out of the logs unless IMAGEGEN_LOG_PROMPTS=1
        self.assertNotIn("owls", self.st.gateway.text())

    def test_same_seed_gives_byte_identical_images(self):
        body = {"prompt": "a quiet harbour", "seed": 1234, "width": 512, "height": 512}
        a = self.st.request("POST", "/generate-image", body, JSON).json()["images"][0]
        b = self.st.request("POST", "/generate-image", body, JSON).json()["images"][0]
        self.assertNotEqual(a["key"], b["key"])
        self.assertEqual(fetch(a["url"]), fetch(b["url"]))
        c = self.st.request("POST", "/generate-image", dict(body, seed=1235), JSON).json()["images"][0]
        self.assertNotEqual(fetch(a["url"]), fetch(c["url"]))

    def test_json_sent_the_way_curl_d_and_urllib_send_it(self):
        body = json.dumps({"prompt": "a paper boat", "width": 512, "height": 512, "seed": 9}).encode()
        for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}, {}):
            r = self.st.request("POST", "/generate-image", body, headers)
            self.assertEqual(r.status, 200, (headers, r.body))
            self.assertEqual(r.json()["images"][0]["seed"], 9)
        r = self.st.request("POST", "/generate-image", b"prompt=a+paper+boat",
                            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 415, r.body)
        self.assertIn("Content-Type must be application/json", r.json()["error"]["message"])

    def test_twenty_concurrent_requests_through_two_workers(self):
        def one(i):
            r = self.st.request("POST", "/generate-image", {"prompt": "tile %d" % i, "width": 512, "height": 512}, JSON,
                                timeout=120)
            return r.status, r.body

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(one, range(20)))
        self.assertEqual([s for s, _ in results], [200] * 20, [b[:200] for s, b in results if s != 200])
        self.assertEqual(len(self.st.env_pids()) >= 2, True)

    def test_invalid_requests_never_reach_the_model(self):
        before = self.reached()
        bad = [
            ("GET", "/generate-image?prompt=x&width=10abc", None, 400),
            ("GET", "/generate-image", None, 400),
            ("GET", "/generate-image?prompt=" + "x" * 10001, None, 400),
            ("GET", "/generate-image?prompt=a&width=1000&height=1001", None, 400),
            ("GET", "/generate-image?prompt=a&aspectRatio=7:3", None, 400),
            ("GET", "/generate-image?prompt=a&outputFormat=gif", None, 400),
            ("GET", "/generate-image?prompt=a&model=no.such-model", None, 400),
            ("POST", "/generate-image", b"{not json", 400),
            ("POST", "/generate-image", b"[1,2]", 400),
            ("POST", "/generate-image", {"prompt": 5}, 400),
            ("POST", "/generate-image", {"prompt": "a\u0000\u0001"}, None),
            ("POST", "/generate-image", {"prompt": "   "}, 400),
            ("POST", "/generate-image", {"prompt": "ok", "numberOfImages": 6}, 400),
            ("POST", "/generate-image", {"prompt": "ok", "cfgScale": 5}, 400),
            ("POST", "/generate-image", {"prompt": "ok", "seed": -1}, 400),
            # API Gateway answers methods and paths it does not declare itself (403), in our shape
            ("DELETE", "/generate-image", None, 403),
            ("GET", "/nope", None, 403),
        ]
        for method, path, body, want in bad:
            headers = JSON if body is not None else None
            r = self.st.request(method, path, body, headers)
            if want is None:
                self.assertIn(r.status, (200, 400), r.body)
                continue
            self.assertEqual(r.status, want, (method, path, r.body))
            err = r.json()["error"]
            self.assertTrue(err["code"] and err["message"] and err["requestId"], err)
        # "a\0\1" is sanitized to "a" and generated: exactly one call reached the model
        self.assertEqual(self.reached() - before, 1)

    def test_invalid_utf8_gets_one_answer_by_get_and_by_post(self):
        # API Gateway (no binary media types) turns bytes that are not UTF-8 into U+FFFD in the
        # query string and in the body alike: both paths reach the policy as U+FFFD, refused the same.
        before = self.reached()
        r_get = self.st.request("GET", "/generate-image?prompt=caf%e9%20au%20lait")
        r_post = self.st.request("POST", "/generate-image", b'{"prompt":"caf\xe9 au lait"}', JSON)
        for r in (r_get, r_post):
            self.assertEqual(r.status, 400, r.body)
            err = r.json()["error"]
            self.assertEqual(err["code"], "invalid_prompt", err)
            self.assertIn("U+FFFD", err["message"])
        self.assertEqual(self.reached(), before)

    def test_throttling_is_retried_and_succeeds(self):
        self.st.bedrock_control("POST", "faults", {"throttle": {"next": 2}})
        r = self.st.request("POST", "/generate-image", {"prompt": "retry me", "width": 512, "height": 512}, JSON)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.reached(), 3)

    def test_health_models_and_preflight(self):
        r = self.st.request("GET", "/health")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        r = self.st.request("GET", "/models")
        self.assertEqual(r.status, 200)
        models = {m["id"]: m for m in r.json()["models"]}
        self.assertEqual(r.json()["defaultModel"], DEFAULT_MODEL)
        self.assertEqual(set(models), set(ACTIVE_MODELS))
        for m in models.values():
            self.assertEqual((m["status"], m["endOfLife"]), ("active", None), m)
        r = self.st.request("OPTIONS", "/generate-image", None, {"Origin": "https://evil.example",
                                                                 "Access-Control-Request-Method": "POST"})
        self.assertIn(r.status, (204, 403))
        self.assertNotEqual(r.headers.get("Access-Control-Allow-Origin"), "https://evil.example")


class WorkerFailureTest(unittest.TestCase):
    def test_worker_killed_mid_request_gives_502_and_the_next_request_succeeds(self):
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1, function_timeout=20, timeout=25,
                   bedrock_args=["--latency-ms", "3000"]) as st:
            import threading
            out = {}
            t = threading.Thread(target=lambda: out.update(r=st.request("GET", "/generate-image?prompt=slow")))
            t.start()
            time.sleep(1.0)
            pid = list(st.env_pids().values())[0]
            os.kill(pid, 9)
            t.join(30)
            self.assertEqual(out["r"].status, 502, out["r"].body)
            err = out["r"].json()["error"]  # API Gateway's integration failure, in the API's error shape
            self.assertEqual(err["code"], "bad_gateway", err)
            self.assertTrue(err["message"] and err["requestId"], err)
            st.bedrock_control("POST", "faults", {"latency_ms": 0})
            r = st.request("GET", "/generate-image?prompt=after")
            self.assertEqual(r.status, 200, r.body)
            self.assertFalse(pid_alive(pid))

    def test_model_slower_than_the_integration_timeout_gives_504_and_a_fresh_worker(self):
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1, function_timeout=4, timeout=4,
                   env={"IMAGEGEN_TIMEOUT_MARGIN_MS": "0", "IMAGEGEN_UPLOAD_RESERVE_MS": "0"},
                   bedrock_args=["--latency-ms", "8000"]) as st:
            r = st.request("GET", "/generate-image?prompt=slow")
            self.assertEqual(r.status, 504, r.body)
            st.bedrock_control("POST", "faults", {"latency_ms": 0})
            r = st.request("GET", "/generate-image?prompt=after")
            self.assertEqual(r.status, 200, r.body)


class RateLimitTest(unittest.TestCase):
    def test_anonymous_burst_then_429_with_headers(self):
        policy = policy_with("c.rate_limit.tiers.anonymous = { rate = 0.01, burst = 2 }")
        # one environment: buckets live per container, so two would each allow a burst
        with Stack(policy_dir=policy, concurrency=1) as st:
            ok = [st.request("GET", "/generate-image?prompt=a&width=512&height=512") for _ in range(2)]
            self.assertEqual([r.status for r in ok], [200, 200], [r.body for r in ok])
            r = st.request("GET", "/generate-image?prompt=a&width=512&height=512")
            self.assertEqual(r.status, 429, r.body)
            self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
            self.assertEqual(r.headers["RateLimit-Limit"], "2")
            self.assertEqual(r.headers["RateLimit-Remaining"], "0")
            self.assertEqual(r.json()["error"]["code"], "rate_limited")


class TitanEndToEndTest(unittest.TestCase):
    """The first catalogue's flow, for accounts that still have Titan: configured, it keeps working."""

    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with('c.rate_limit.enabled = false\n'
                                 'c.allowed_models = { "%s", "%s" }\nc.default_model = "%s"' % (TITAN, TITAN2, TITAN))
        cls.st = Stack(policy_dir=cls.policy, function_timeout=10, timeout=15, bedrock_region="us-east-1").start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def test_post_with_every_parameter(self):
        body = {"prompt": "a red coffee cup on a wooden table", "negativePrompt": "blurry",
                "width": 768, "height": 1152, "cfgScale": 6.5, "seed": 42, "numberOfImages": 2,
                "quality": "premium", "model": "amazon.titan-image-generator-v2:0"}
        r = self.st.request("POST", "/generate-image", body, JSON)
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["model"], "amazon.titan-image-generator-v2:0")
        self.assertEqual(len(doc["images"]), 2)
        for img in doc["images"]:
            self.assertEqual(img["seed"], 42)
            self.assertEqual(png_size(fetch(img["url"])), (768, 1152))

    def test_five_images_in_one_call(self):
        r = self.st.request("POST", "/generate-image", {"prompt": "five kites", "numberOfImages": 5,
                                                         "width": 512, "height": 512}, JSON)
        self.assertEqual(r.status, 200, r.body)
        imgs = r.json()["images"]
        self.assertEqual(len(imgs), 5)
        datas = [fetch(i["url"]) for i in imgs]
        self.assertEqual(len({hashlib.sha256(d).hexdigest() for d in datas}), 5)
        self.assertEqual(len({i["key"] for i in imgs}), 5)

    def test_seed_range_ends_at_two_to_the_31_minus_one(self):
        r = self.st.request("GET", "/generate-image?prompt=edge&width=512&height=512&seed=2147483647")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["images"][0]["seed"], 2147483647)
        r = self.st.request("GET", "/generate-image?prompt=edge&width=512&height=512&seed=2147483648")
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("seed must be between 0 and 2147483647", r.json()["error"]["message"])

    def test_models_are_marked_legacy(self):
        r = self.st.request("GET", "/models")
        models = {m["id"]: m for m in r.json()["models"]}
        self.assertEqual(models[TITAN]["status"], "legacy")
        self.assertEqual((models[TITAN2]["status"], models[TITAN2]["endOfLife"]), ("legacy", "2026-06-30"))
        self.assertEqual(r.json()["defaultModel"], TITAN)


if __name__ == "__main__":
    run_tests("e2e")
