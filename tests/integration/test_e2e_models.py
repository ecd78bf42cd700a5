"""The live catalogue end to end, with the shipped policy and the real bootstrap on the local
stack (Bedrock in us-west-2, the bucket in us-east-1): the Stability family's parallel calls and
seeds, output formats, every model's invalid parameters, filtered images, a retired model, and a
fallback chain."""
import hashlib
import os
import struct
import sys
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

JSON = {"Content-Type": "application/json"}
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read()


def jpeg_size(data):
    """The frame size of a baseline or progressive JPEG (SOF0..SOF2)."""
    i = 2
    while i + 9 < len(data):
        assert data[i] == 0xFF, i
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no frame header")


class StabilityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with('c.rate_limit.enabled = false\nc.fallback = { ["%s"] = { "%s" } }' % (ULTRA, CORE))
        cls.st = Stack(policy_dir=cls.policy, function_timeout=20, timeout=25).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def faults(self, doc):
        status, _ = self.st.bedrock_control("POST", "faults", doc)
        self.assertEqual(status, 200)

    def stats(self):
        return self.st.bedrock_control("GET", "stats")[1]

    def get(self, **query):
        return self.st.request("GET", "/generate-image?" + urllib.parse.urlencode(query), timeout=60)

    def test_three_images_are_three_parallel_calls_with_consecutive_seeds(self):
        self.faults({"latency_ms": 1000})
        try:
            r = self.get(prompt="three lanterns", model=CORE, numberOfImages=3, seed=5)
        finally:
            self.faults({"latency_ms": 0})
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["model"], CORE)
        self.assertEqual(sorted(i["seed"] for i in doc["images"]), [5, 6, 7])
        datas = [fetch(i["url"])[1] for i in doc["images"]]
        self.assertEqual(len({hashlib.sha256(d).hexdigest() for d in datas}), 3)
        s = self.stats()
        self.assertEqual(s["reached_model"], 3)
        self.assertEqual(s["max_in_flight"], 3)
        calls = s["calls"]
        self.assertEqual(len(calls), 3)
        # every call started before any of them ended: they overlapped
        self.assertLess(max(c["start_ms"] for c in calls), min(c["end_ms"] for c in calls))

    def test_jpeg_and_webp_are_stored_and_served_with_their_type(self):
        r = self.get(prompt="a jar of honey", outputFormat="jpeg", aspectRatio="16:9")
        self.assertEqual(r.status, 200, r.body)
        img = r.json()["images"][0]
        self.assertEqual((img["format"], img["contentType"]), ("jpeg", "image/jpeg"))
        self.assertRegex(img["key"], r"\.jpg$")
        ctype, data = fetch(img["url"])
        self.assertEqual(ctype, "image/jpeg")
        self.assertEqual(data[:3], b"\xff\xd8\xff")
        self.assertEqual(jpeg_size(data), (img["width"], img["height"]))
        self.assertEqual((img["width"], img["height"]), (1344, 768))
        r = self.get(prompt="a jar of honey", outputFormat="webp", model=ULTRA)
        self.assertEqual(r.status, 200, r.body)
        img = r.json()["images"][0]
        self.assertEqual((img["format"], img["contentType"]), ("webp", "image/webp"))
        self.assertRegex(img["key"], r"\.webp$")
        ctype, data = fetch(img["url"])
        self.assertEqual(ctype, "image/webp")
        self.assertEqual((data[:4], data[8:12]), (b"RIFF", b"WEBP"))

    def test_every_models_invalid_parameters_are_400s_that_name_them(self):
        models = self.st.request("GET", "/models").json()["models"]
        self.assertEqual({m["id"] for m in models}, {CORE, ULTRA, SD35})
        bad = [({"aspectRatio": "7:3"}, "aspectRatio", "16:9"),
               ({"outputFormat": "gif"}, "outputFormat", "png"),
               ({"seed": 4294967295}, "seed", "4294967294"),
               ({"seed": -1}, "seed", "4294967294"),
               ({"numberOfImages": 6}, "numberOfImages", "5"),
               ({"numberOfImages": 0}, "numberOfImages", "5"),
               ({"width": 1000, "height": 1001}, "width", "16:9"),
               ({"cfgScale": 7}, "cfgScale", "aspectRatio"),
               ({"quality": "premium"}, "quality", "aspectRatio"),
               ({"negativePrompt": ""}, "negativePrompt", None)]
        for m in models:
            for params, name, allowed in bad:
                body = dict(prompt="a kite", model=m["id"], **params)
                r = self.st.request("POST", "/generate-image", body, JSON)
                self.assertEqual(r.status, 400, (body, r.body))
                msg = r.json()["error"]["message"]
                self.assertIn(name, msg, (body, msg))
                if allowed is not None:
                    self.assertIn(allowed, msg, (body, msg))
        self.assertEqual(self.stats()["reached_model"], 0)

    def test_a_filtered_image_is_reported_missing(self):
        self.faults({"filter_output": {"next": 1}})
        r = self.get(prompt="three boats", numberOfImages=3, seed=40)
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(len(doc["images"]), 2)
        self.assertEqual(doc["filtered"], 1)
        self.assertEqual(len(doc["missing"]), 1)
        self.assertIn(doc["missing"][0]["seed"], (40, 41, 42))
        self.assertNotIn(doc["missing"][0]["seed"], [i["seed"] for i in doc["images"]])
        self.assertEqual(self.stats()["reached_model"], 3)

    def test_all_filtered_is_a_400_and_an_inference_error_a_502(self):
        self.faults({"filter_output": {"every": 1}})
        r = self.get(prompt="two boats", numberOfImages=2)
        self.faults({"filter_output": None})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["error"]["code"], "content_filtered")
        self.faults({"inference_error": {"next": 1}})
        r = self.get(prompt="one boat")
        self.assertEqual(r.status, 502, r.body)
        self.assertEqual(r.json()["error"]["code"], "upstream_error")

    def test_a_retired_model_is_one_call_and_a_502_naming_active_models(self):
        self.faults({"retired_models": [SD35]})
        try:
            r = self.get(prompt="a comet", model=SD35)
        finally:
            self.faults({"retired_models": []})
        self.assertEqual(r.status, 502, r.body)
        err = r.json()["error"]
        self.assertEqual(err["code"], "model_retired")
        self.assertIn(CORE, err["message"])
        self.assertEqual(self.stats()["reached_model"], 1)

    def test_a_legacy_model_without_access_is_model_unavailable(self):
        self.faults({"legacy_denied_models": [SD35]})
        try:
            r = self.get(prompt="a comet", model=SD35)
        finally:
            self.faults({"legacy_denied_models": []})
        self.assertEqual(r.status, 502, r.body)
        self.assertEqual(r.json()["error"]["code"], "model_unavailable")
        self.assertIn(CORE, r.json()["error"]["message"])

    def test_the_fallback_serves_and_says_so(self):
        self.faults({"retired_models": [ULTRA]})
        try:
            r = self.get(prompt="a comet", model=ULTRA, numberOfImages=2, seed=11)
        finally:
            self.faults({"retired_models": []})
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["model"], CORE)
        self.assertEqual([f["model"] for f in doc["fallbackFrom"]], [ULTRA])
        self.assertEqual(doc["fallbackFrom"][0]["code"], "model_retired")
        self.assertEqual(sorted(i["seed"] for i in doc["images"]), [11, 12])
        # one refused call per image of the retired model, then the fallback's
        self.assertEqual(self.stats()["reached_model"], 4)

    def test_still_throttled_after_retries_falls_back_too(self):
        self.faults({"throttle": {"next": 3}})  # AWS_MAX_ATTEMPTS is 3: the Ultra call gives up
        r = self.get(prompt="a comet", model=ULTRA)
        self.faults({"throttle": None})
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["model"], CORE)
        self.assertEqual(doc["fallbackFrom"][0]["code"], "throttled")
        self.assertEqual(self.stats()["reached_model"], 4)

    def test_without_a_fallback_throttled_stays_throttled(self):
        self.faults({"throttle": {"every": 1}})
        r = self.get(prompt="a comet", model=CORE)
        self.faults({"throttle": None})
        self.assertIn(r.status, (429, 503), r.body)
        self.assertEqual(r.json()["error"]["code"], "throttled")
        self.assertNotIn("fallbackFrom", r.json())

if __name__ == "__main__":
    run_tests("e2e-models")
