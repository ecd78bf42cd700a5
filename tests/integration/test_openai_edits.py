#!/usr/bin/python3
"""test_openai_edits.py - the official openai npm client's images.edit (pinned in
tests/openai/package-lock.json, driven through tests/openai/call.mjs, which sends the files as
the client does: one multipart/form-data request) against the local stack with the shipped
policy (rate-limit tiers widened).

With a mask the edit is an inpaint whose area is the mask's transparency: the answer keeps
every pixel away from it byte-identical (Stability's default grow_mask, 5 pixels, widens the
area; bedrock-local applies it as the service does). Without a mask it is image-to-image on SD3.5
Large, which the shipped allowed_models holds. response_format url (the image downloaded) and
b64_json (decoded), n and size, and bad requests arriving as the client's BadRequestError with
`param` set, without a model call. Images decoded with Debian's python3-pil.

Prints "test_openai_edits: N passed, M failed".
"""
import base64
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import SOURCE_DIR, Stack, run_tests  # noqa: E402

CLIENT_DIR = os.path.join(SOURCE_DIR, "tests", "openai")
SD35 = "stability.sd3-5-large-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
POLICY_PATCH = """
c.rate_limit.tiers.anonymous = { rate = 100, burst = 1000 }
"""
HOLE = (30, 20, 70, 60)  # the mask's transparent box in a 128x96 picture
GROW = 5  # Stability's grow_mask default, which the OpenAI route leaves to the service


def noise(w, h, seed=1):
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))


def openai_mask(w, h, hole, mode="RGBA"):
    """OpenAI's mask: transparent where to edit, opaque elsewhere."""
    mask = Image.new(mode, (w, h), (255, 255, 255, 255))
    mask.paste((0, 0, 0, 0), hole)
    return mask


def near(x, y, box, grow):
    return box[0] - grow <= x < box[2] + grow and box[1] - grow <= y < box[3] + grow


def fit(w, h, pixels):
    """bedrock-local's size rule (runtime/local/README.md): w:h within `pixels`."""
    out_w = math.isqrt(pixels * w // h)
    return out_w, out_w * h // w


class OpenAIEditsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(CLIENT_DIR, "node_modules", "openai", "package.json")):
            raise RuntimeError(f"the openai client is missing: run `npm ci` in {CLIENT_DIR} (scripts/test does)")
        cls.node = shutil.which("node")
        cls.policy = policy_with(POLICY_PATCH)
        cls.st = Stack(policy_dir=cls.policy, function_timeout=25, timeout=28).start()
        cls.base_url = cls.st.api_url + "/v1"
        cls.tmp = tempfile.mkdtemp(prefix="imagegen-openai-edits-")
        cls.src = noise(128, 96, seed=21)
        cls.image = cls.save("image.png", cls.src)
        cls.mask = cls.save("mask.png", openai_mask(128, 96, HOLE))

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def save(cls, name, img, fmt="PNG"):
        path = os.path.join(cls.tmp, name)
        img.save(path, fmt)
        return path

    def setUp(self):
        self.st.bedrock_control("POST", "reset")

    def edit(self, types=None, **params):
        """images.edit with params (image and mask are file paths, sent as the client sends files, of
        the types given by path, else image/png); call.mjs's answer."""
        spec = {"baseURL": self.base_url, "apiKey": "sk-any-key-works-here", "call": "images.edit", "params": params,
                "types": types or {}}
        p = subprocess.run([self.node, os.path.join(CLIENT_DIR, "call.mjs"), json.dumps(spec)], cwd=CLIENT_DIR,
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def stats(self):
        return self.st.bedrock_control("GET", "stats")[1]

    def decoded(self, item, save=None):
        if "url" in item:
            self.assertNotIn("b64_json", item)
            with urllib.request.urlopen(item["url"], timeout=30) as r:
                data = r.read()
        else:
            self.assertNotIn("url", item)
            data = base64.b64decode(item["b64_json"], validate=True)
        if save:
            with open(os.path.join("/tmp", save), "wb") as f:
                f.write(data)
        img = Image.open(io.BytesIO(data))
        img.load()
        return img

    def assert_inpainted(self, out):
        self.assertEqual(out.size, self.src.size)
        got, want = out.convert("RGB").load(), self.src.load()
        kept_bad, changed, total = [], 0, 0
        for y in range(96):
            for x in range(128):
                if near(x, y, HOLE, 0):
                    total += 1
                    changed += got[x, y] != want[x, y]
                elif not near(x, y, HOLE, GROW) and got[x, y] != want[x, y]:
                    kept_bad.append((x, y))
        self.assertEqual(kept_bad[:5], [], "pixels where the mask is opaque (away from its edge) are unchanged")
        self.assertGreaterEqual(changed, 0.9 * total, "the transparent area is edited")

    def decision(self):
        """The policy's last decision log line."""
        lines = [o for _, o in self.st.function_json() if o.get("message") == "policy decision"]
        return lines[-1] if lines else {}

    # ---- with a mask: inpaint ----

    def test_with_a_mask_url_keeps_the_opaque_pixels(self):
        r = self.edit(image=self.image, mask=self.mask, prompt="a round window", response_format="url")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual((len(doc["data"]), doc["size"], doc["output_format"]), (1, "128x96", "png"))
        self.assertEqual(doc["usage"]["images"], 1)
        self.assert_inpainted(self.decoded(doc["data"][0], save="openai-edit-mask.png"))
        stats = self.stats()
        self.assertEqual([c["model"] for c in stats["calls"]], [INPAINT])

    def test_with_a_mask_b64_json_n2_and_the_exact_size(self):
        r = self.edit(image=self.image, mask=self.mask, prompt="a round window", response_format="b64_json", n=2,
                      size="128x96", output_format="webp")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual((len(doc["data"]), doc["size"], doc["output_format"]), (2, "128x96", "webp"))
        outs = [self.decoded(item) for item in doc["data"]]
        for out in outs:
            self.assertEqual(out.format, "WEBP")
            self.assertEqual(out.size, (128, 96))
        self.assertEqual(self.stats()["reached_model"], 2)
        # WebP is lossy by default: the bytes differ, but the two images are distinct draws
        self.assertNotEqual(outs[0].tobytes(), outs[1].tobytes())

    def test_a_jpeg_image_with_a_png_mask(self):
        jpeg = self.save("image.jpg", self.src, "JPEG")
        r = self.edit(types={jpeg: "image/jpeg"}, image=jpeg, mask=self.mask, prompt="a door")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["size"], "128x96")
        self.assertEqual([c["model"] for c in self.stats()["calls"]], [INPAINT])

    # ---- without a mask: image-to-image on SD3.5 Large ----

    def test_without_a_mask_image_to_image_url_and_b64_json(self):
        want = fit(128, 96, 1048576)
        r = self.edit(image=self.image, prompt="the same, as a mosaic", response_format="url")
        self.assertTrue(r["ok"], r)
        doc = r["result"]
        self.assertEqual(doc["size"], "%dx%d" % want)
        out = self.decoded(doc["data"][0], save="openai-edit-nomask.png")
        self.assertEqual(out.size, want)
        r = self.edit(image=self.image, prompt="the same, as a mosaic", response_format="b64_json", model=SD35)
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.decoded(r["result"]["data"][0]).size, want)
        self.assertEqual([c["model"] for c in self.stats()["calls"]], [SD35, SD35])
        self.assertEqual(self.decision().get("task"), "image-to-image")

    # ---- bad requests ----

    def test_bad_requests_are_bad_request_errors_naming_the_field(self):
        other = self.save("mask-small.png", openai_mask(64, 48, (0, 0, 8, 8)))
        opaque = self.save("mask-opaque.png", Image.new("RGB", (128, 96), (255, 255, 255)))
        text_file = os.path.join(self.tmp, "notes.txt")
        with open(text_file, "w") as f:
            f.write("not an image at all\n")
        cut = os.path.join(self.tmp, "cut.png")
        with open(self.image, "rb") as f, open(cut, "wb") as g:
            g.write(f.read()[:3000])
        cases = [
            ("a mask of another size", {"image": self.image, "mask": other, "prompt": "x"}, "mask", "64x48"),
            ("a mask without transparency", {"image": self.image, "mask": opaque, "prompt": "x"}, "mask", "alpha"),
            ("not an image", {"image": text_file, "prompt": "x"}, "image", "not a PNG"),
            ("a truncated PNG", {"image": cut, "mask": self.mask, "prompt": "x"}, "image", "truncated"),
            ("no prompt", {"image": self.image}, "prompt", "prompt"),
            ("a size the edit does not make", {"image": self.image, "mask": self.mask, "prompt": "x",
                                                "size": "1024x1024"}, "size", "128x96"),
            ("a text-to-image model", {"image": self.image, "mask": self.mask, "prompt": "x",
                                        "model": "stability.stable-image-core-v1:1"}, "model", "inpaint"),
            ("two images", {"image": [self.image, self.image], "mask": self.mask, "prompt": "x"}, "image", "one"),
            ("n too large", {"image": self.image, "mask": self.mask, "prompt": "x", "n": 9}, "n", "between 1 and 5"),
        ]
        for what, params, param, word in cases:
            with self.subTest(what):
                r = self.edit(**params)
                self.assertFalse(r["ok"], r)
                self.assertEqual(r["classes"], ["APIError", "BadRequestError"], r)
                self.assertEqual((r["status"], r["param"], r["type"]), (400, param, "invalid_request_error"), r)
                self.assertIn(word, r["error"]["message"], r)
                self.assertRegex(r["headers"].get("x-request-id", ""), r"^[0-9a-f-]{36}$")
        self.assertEqual(self.stats()["reached_model"], 0)


if __name__ == "__main__":
    run_tests("test_openai_edits")
