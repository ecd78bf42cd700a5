"""The official openai npm client (pinned in tests/openai/package-lock.json) against the local
stack with the shipped policy: images.generate with response_format url (each image downloaded
and its size checked) and b64_json (decoded), n=2 under OpenAI model names, models.list, and our
400, 401 and 429 arriving as the client's BadRequestError, AuthenticationError and
RateLimitError. Keys are required, by their SHA-256 in config.lua; no key or hash may appear in
any line the stack writes."""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import SOURCE_DIR, Stack, run_tests  # noqa: E402

CLIENT_DIR = os.path.join(SOURCE_DIR, "tests", "openai")
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"

# The keys the clients hold; config.lua holds only their hashes.
KEY = "sk-imagegen-suite-8d1f5e0b7a"
TIGHT_KEY = "sk-imagegen-tight-2c9a41f3"
WRONG_KEY = "sk-imagegen-wrong-000000"


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


POLICY_PATCH = """
c.rate_limit.tiers.bulk = { rate = 100, burst = 1000 }
c.rate_limit.tiers.tight = { rate = 0.001, burst = 1 }
c.api_keys.required = true
c.api_keys.keys = {
  { id = "suite", sha256 = "%s", tier = "bulk" },
  { id = "tight", sha256 = "%s", tier = "tight" },
}
""" % (sha256(KEY), sha256(TIGHT_KEY))

ROUTES = ["GET /generate-image", "POST /generate-image", "OPTIONS /generate-image", "GET /models", "OPTIONS /models",
          "POST /v1/images/generations", "OPTIONS /v1/images/generations", "GET /v1/models", "OPTIONS /v1/models"]


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])


def jpeg_size(data):
    assert data[:3] == b"\xff\xd8\xff", data[:3]
    i = 2
    while i + 9 < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no JPEG frame header")


def webp_size(data):
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:12]
    kind = data[12:16]
    if kind == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    raise AssertionError("unknown WebP chunk %r" % kind)


SIZE_OF = {"png": png_size, "jpeg": jpeg_size, "webp": webp_size}


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read()


class OpenAIClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(CLIENT_DIR, "node_modules", "openai", "package.json")):
            raise RuntimeError(f"the openai client is missing: run `npm ci` in {CLIENT_DIR} (scripts/test does)")
        cls.node = shutil.which("node")
        cls.policy = policy_with(POLICY_PATCH)
        cls.st = Stack(policy_dir=cls.policy, routes=ROUTES, function_timeout=25, timeout=28).start()
        cls.base_url = cls.st.api_url + "/v1"

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def call(self, call, params=None, key=KEY):
        spec = {"baseURL": self.base_url, "apiKey": key, "call": call, "params": params or {}}
        p = subprocess.run([self.node, os.path.join(CLIENT_DIR, "call.mjs"), json.dumps(spec)], cwd=CLIENT_DIR,
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def generate(self, key=KEY, **params):
        return self.call("images.generate", params, key)

    def reached_model(self):
        return self.st.bedrock_control("GET", "stats")[1]["reached_model"]

    # ---- url ----

    def test_url_n2_under_an_openai_name_downloads_two_images_of_the_size_asked(self):
        r = self.generate(model="dall-e-2", prompt="two paper lanterns", n=2, size="1024x1024", response_format="url")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual(len(doc["data"]), 2)
        self.assertEqual((doc["size"], doc["output_format"]), ("1024x1024", "png"))
        self.assertIsInstance(doc["created"], int)
        self.assertEqual(doc["usage"]["images"], 2)
        datas = []
        for item in doc["data"]:
            self.assertNotIn("b64_json", item)
            ctype, data = fetch(item["url"])
            self.assertEqual(ctype, "image/png")
            self.assertEqual(png_size(data), (1024, 1024))
            datas.append(data)
        self.assertNotEqual(datas[0], datas[1])
        self.assertEqual(self.reached_model(), 2)

    def test_a_size_in_another_ratio_is_made_at_the_models_size_for_it(self):
        r = self.generate(model="gpt-image-1", prompt="a wide harbour", size="1536x1024", output_format="jpeg")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual((doc["size"], doc["output_format"]), ("1216x832", "jpeg"))
        ctype, data = fetch(doc["data"][0]["url"])
        self.assertEqual(ctype, "image/jpeg")
        self.assertEqual(jpeg_size(data), (1216, 832))
        decisions = [o for _, o in self.st.function_json() if o.get("outcome") == "generate"]
        self.assertIn((ULTRA, "gpt-image-1"), [(d.get("model"), d.get("openai_model")) for d in decisions])

    # ---- b64_json ----

    def test_b64_json_n2_decodes_to_two_images(self):
        r = self.generate(model="gpt-image-1-mini", prompt="two teacups", n=2, response_format="b64_json",
                          output_format="webp")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual(len(doc["data"]), 2)
        self.assertEqual((doc["size"], doc["output_format"]), ("1024x1024", "webp"))
        for item in doc["data"]:
            self.assertNotIn("url", item)
            data = base64.b64decode(item["b64_json"], validate=True)
            self.assertEqual(webp_size(data), (1024, 1024))
        self.assertEqual(self.reached_model(), 2)

    def test_b64_json_png_n1_decodes(self):
        r = self.generate(model="dall-e-3", prompt="a red kite", response_format="b64_json")
        self.assertTrue(r["ok"], r)
        data = base64.b64decode(r["result"]["data"][0]["b64_json"], validate=True)
        self.assertEqual(png_size(data), (1024, 1024))

    def test_b64_json_that_cannot_fit_is_a_bad_request_before_any_model_call(self):
        r = self.generate(prompt="two big pictures", n=2, response_format="b64_json")
        self.assertFalse(r["ok"], r)
        self.assertIn("BadRequestError", r["classes"])
        self.assertEqual((r["status"], r["code"], r["param"]), (400, "response_too_large", "n"))
        self.assertIn('response_format "url"', r["error"]["message"])
        self.assertEqual(self.reached_model(), 0)

    # ---- the client's error classes ----

    def test_bad_inputs_are_bad_requests_naming_the_parameter(self):
        cases = [({"n": 0}, "n"), ({"n": 100}, "n"), ({"size": "13x13"}, "size"),
                 ({"response_format": "png"}, "response_format"), ({"quality": "ultra"}, "quality"),
                 ({"background": "transparent"}, "background"), ({"model": "dall-e-4"}, "model")]
        for params, param in cases:
            r = self.generate(prompt="a kite", **params)
            self.assertFalse(r["ok"], (params, r))
            self.assertEqual(r["classes"], ["APIError", "BadRequestError"], (params, r))
            self.assertEqual((r["status"], r["param"]), (400, param), (params, r))
            self.assertEqual(r["type"], "invalid_request_error")
            self.assertRegex(r["headers"].get("x-request-id", ""), r"^[0-9a-f-]{36}$")
        self.assertEqual(self.reached_model(), 0)

    def test_a_wrong_key_is_an_authentication_error(self):
        r = self.generate(key=WRONG_KEY, prompt="a kite")
        self.assertFalse(r["ok"], r)
        self.assertEqual(r["classes"], ["APIError", "AuthenticationError"])
        self.assertEqual((r["status"], r["code"]), (401, "invalid_api_key"))
        self.assertEqual(r["headers"].get("www-authenticate"), "Bearer")
        r = self.call("models.list", key=WRONG_KEY)
        self.assertEqual(r["classes"], ["APIError", "AuthenticationError"])

    def test_no_key_is_401_when_keys_are_required(self):
        r = self.st.request("POST", "/v1/images/generations", {"prompt": "a kite"})
        self.assertEqual(r.status, 401, r.body)
        err = r.json()["error"]
        self.assertEqual((err["code"], err["type"]), ("invalid_api_key", "authentication_error"))
        self.assertEqual(set(err), {"message", "type", "param", "code"})
        r = self.st.request("GET", "/v1/models")
        self.assertEqual(r.status, 401, r.body)

    def test_an_empty_bucket_is_a_rate_limit_error_with_retry_after(self):
        r = self.generate(key=TIGHT_KEY, prompt="the first kite")
        self.assertTrue(r["ok"], r)
        r = self.generate(key=TIGHT_KEY, prompt="the second kite")
        self.assertFalse(r["ok"], r)
        self.assertEqual(r["classes"], ["APIError", "RateLimitError"])
        self.assertEqual((r["status"], r["code"]), (429, "rate_limit_exceeded"))
        self.assertGreaterEqual(int(r["headers"]["retry-after"]), 1)
        self.assertEqual(self.reached_model(), 1)

    # ---- models, keys in logs ----

    def test_models_list_shows_the_openai_names_and_the_models(self):
        r = self.call("models.list")
        self.assertTrue(r["ok"], r)
        by_id = {m["id"]: m for m in r["result"]}
        self.assertEqual(by_id["gpt-image-1"]["root"], ULTRA)
        self.assertEqual(by_id["dall-e-3"]["root"], SD35)
        self.assertEqual(by_id["dall-e-2"]["root"], CORE)
        self.assertTrue({CORE, SD35, ULTRA} <= set(by_id))
        self.assertTrue(all(m["object"] == "model" for m in r["result"]))

    def test_zz_no_key_or_hash_in_any_line_and_the_key_id_in_the_decision(self):
        # runs last (by name): every request above has been logged by then
        self.generate(prompt="one more kite")
        self.generate(key=WRONG_KEY, prompt="a kite")
        text = self.st.dump(tail=100000)
        for secret in (KEY, TIGHT_KEY, WRONG_KEY, sha256(KEY), sha256(TIGHT_KEY), sha256(WRONG_KEY)):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret[:20], text)
        decisions = [o for _, o in self.st.function_json() if o.get("message") == "policy decision"]
        self.assertTrue(any(d.get("key_id") == "suite" and d.get("outcome") == "generate" for d in decisions),
                        decisions[-5:])
        self.assertTrue(any(d.get("outcome") == "invalid_api_key" and "key_id" not in d for d in decisions))


if __name__ == "__main__":
    run_tests("test_openai_client")
