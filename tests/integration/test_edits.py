#!/usr/bin/python3
"""test_edits.py - editing images through the whole local stack, as a client does it.

The gateway, bootstrap with the shipped policy (rate-limit tiers widened, uploads capped at
UPLOAD_CAP bytes), bedrock-local and s3rver behind s3-verify. Every task GET /models lists is
run through POST /edit-image with a valid request; the answer's image is downloaded from its
presigned URL, decoded with Debian's python3-pil and checked against the geometry the docs
state (runtime/policy/README.md "Editing images", runtime/local/README.md "Edit models"). A
task that GET /models lists and this file has no case for fails the test by name.

Then: the upload round trip (POST /uploads, the form posted with curl -F, the edit by key,
another caller's key, the POST policy refusing a file too large, another Content-Type and another
key, nothing stored), and bad inputs, each a 400 or 413 naming the problem with no model call.

Callers are told apart by API key (the gateway requires x-api-key on /edit-image and /uploads):
their uploads live in different folders. Prints "test_edits: N passed, M failed".
"""
import base64
import calendar
import io
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

ALICE = "edits-alice-7c1d9e2f44"
BOB = "edits-bob-5a0b3c8e91"
UPLOAD_CAP = 60000
POLICY_PATCH = """
c.rate_limit.tiers.default = { rate = 100, burst = 1000 }
c.rate_limit.tiers.anonymous = { rate = 100, burst = 1000 }
c.uploads.max_bytes = %d
""" % UPLOAD_CAP

BACKGROUND = (10, 200, 30)
SUBJECT = (200, 0, 0)
SUBJECT_BOX = (40, 24, 88, 72)  # x0, y0, x1, y1 (exclusive) in a 128x96 scene
MASK_BOX = (20, 30, 70, 80)


# ---------------------------------------------------------------- pictures

def encode(img, fmt="PNG", **options):
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def b64(img, fmt="PNG", **options):
    return base64.b64encode(encode(img, fmt, **options)).decode()


def noise(w, h, seed=1):
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))


def scene(w=128, h=96, box=SUBJECT_BOX):
    """A solid background and a solid rectangle: bedrock-local's "subject"."""
    img = Image.new("RGB", (w, h), BACKGROUND)
    img.paste(SUBJECT, box)
    return img


def box_mask(w, h, box, inside=255, outside=0, mode="L"):
    mask = Image.new(mode, (w, h), outside)
    mask.paste(inside, box)
    return mask


def in_box(x, y, box, grow=0):
    return box[0] - grow <= x < box[2] + grow and box[1] - grow <= y < box[3] + grow


def fit(w, h, pixels):
    """bedrock-local's size rule (runtime/local/README.md): w:h within `pixels`."""
    out_w = math.isqrt(pixels * w // h)
    return out_w, out_w * h // w


def rgb(img):
    return img.convert("RGB").load()


class EditsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with(POLICY_PATCH)
        cls.st = Stack(policy_dir=cls.policy, function_timeout=25, timeout=28,
                       api_keys=[{"id": "k-alice", "value": ALICE, "name": "alice"},
                                 {"id": "k-bob", "value": BOB, "name": "bob"}]).start()
        cls.tmp = tempfile.mkdtemp(prefix="imagegen-edits-")
        cls.catalogue = cls.st.request("GET", "/models", headers={"x-api-key": ALICE}).json()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.assertEqual(self.st.bedrock_control("POST", "reset")[0], 200)

    # ---- talking to the stack ----

    def post(self, path, body, key=ALICE, headers=None):
        h = {"x-api-key": key}
        h.update(headers or {})
        return self.st.request("POST", path, body, headers=h)

    def edit(self, body, key=ALICE):
        return self.post("/edit-image", body, key)

    def stats(self):
        return self.st.bedrock_control("GET", "stats")[1]

    def download(self, url):
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.headers.get("Content-Type"), r.read()

    def edited(self, body, key=ALICE, save=None):
        """POST /edit-image that must succeed: (answer, first image decoded)."""
        r = self.edit(body, key)
        self.assertEqual(r.status, 200, (body.get("task"), r.body[:600]))
        doc = r.json()
        self.assertEqual(doc["task"], body["task"])
        self.assertEqual(len(doc["images"]), body.get("numberOfImages", 1))
        item = doc["images"][0]
        ctype, data = self.download(item["url"])
        self.assertEqual(ctype, item["contentType"])
        img = Image.open(io.BytesIO(data))
        img.load()
        self.assertEqual(img.format.lower(), item["format"])
        self.assertEqual(img.size, (item["width"], item["height"]), "the answer reports the image's real size")
        self.assertTrue(item["key"].startswith("images/"), item["key"])
        if save:
            with open(os.path.join("/tmp", save), "wb") as f:
                f.write(data)
        return doc, img

    def refused(self, body, status, code, *words, key=ALICE):
        """POST /edit-image that must be refused with status/code, its message holding every word,
        and no model call."""
        self.st.bedrock_control("POST", "reset")
        r = self.edit(body, key)
        return self.assert_refusal(r, status, code, *words)

    def assert_refusal(self, r, status, code, *words):
        self.assertEqual(r.status, status, r.body[:600])
        err = r.json()["error"]
        self.assertEqual(err["code"], code, err)
        for w in words:
            self.assertIn(w, err["message"], err)
        stats = self.stats()
        self.assertEqual((stats["invoke_requests"], stats["reached_model"]), (0, 0), "no model call")
        return err

    def assert_kept(self, out, src, edited, what):
        """Pixels where edited(x, y) is false are byte-identical to src; most edited ones differ."""
        got, want = rgb(out), rgb(src)
        w, h = src.size
        kept_bad, changed, total = [], 0, 0
        for y in range(h):
            for x in range(w):
                if edited(x, y):
                    total += 1
                    changed += got[x, y] != want[x, y]
                elif got[x, y] != want[x, y]:
                    kept_bad.append((x, y))
        self.assertEqual(kept_bad[:5], [], f"{what}: pixels outside the edited area are byte-identical")
        self.assertTrue(total > 0 and changed >= 0.9 * total, f"{what}: edited pixels changed ({changed} of {total})")

    # ---- uploads ----

    def form(self, content_type="image/png", key=ALICE):
        r = self.post("/uploads", {"contentType": content_type}, key)
        self.assertEqual(r.status, 200, r.body[:400])
        return r.json()

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def curl_upload(self, upload, path, **override):
        """The README's upload: curl -F every field in order, then file=@path. Returns (status, body)."""
        fields = dict(upload["fields"])
        fields.update(override)
        argv = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", upload["url"]]
        for name, value in fields.items():
            argv += ["-F", f"{name}={value}"]
        argv += ["-F", f"file=@{path}"]
        p = subprocess.run(argv, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        body, _, status = p.stdout.rpartition(b"\n")
        return int(status), body.decode("utf-8", "replace")

    def uploaded(self, img_bytes, content_type="image/png", key=ALICE, name="up.png"):
        """An upload of img_bytes through the presigned form; its key."""
        doc = self.form(content_type, key)
        status, body = self.curl_upload(doc["upload"], self.write(name, img_bytes))
        self.assertEqual(status, 204, body)
        return doc["upload"]["key"]

    def stored(self):
        """Every object key s3rver holds in the bucket (from its directory)."""
        root = os.path.join(self.st.tmp, "s3", self.st.bucket)
        keys = set()
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.endswith("._S3rver_object"):
                    rel = os.path.relpath(os.path.join(dirpath, f[:-len("._S3rver_object")]), root)
                    keys.add(rel)
        return keys

    # ================================================================ every task

    def task_cases(self):
        """task name -> (body, check(answer, image)) of a valid request on model `model`."""
        noisy = noise(128, 96, seed=2)
        sc = scene()
        mask = box_mask(128, 96, MASK_BOX)
        w, h = noisy.size

        def same_size(src):
            return lambda doc, out: self.assertEqual(out.size, src.size)

        def masked(src):
            def check(doc, out):
                self.assertEqual(out.size, src.size)
                self.assert_kept(out, src, lambda x, y: in_box(x, y, MASK_BOX), "outside the mask")
            return check

        def outpainted(doc, out):
            self.assertEqual(out.size, (8 + w + 16, 4 + h + 12), "grown by left+right, up+down")
            got, want = rgb(out), rgb(noisy)
            bad = [(x, y) for y in range(h) for x in range(w) if got[x + 8, y + 4] != want[x, y]]
            self.assertEqual(bad[:5], [], "the original is unchanged at (left, up)")
            border = [got[x, 0] for x in range(out.size[0])]
            self.assertNotEqual(border, [want[0, 0]] * len(border), "the new border is filled")

        def fast(doc, out):
            self.assertEqual(out.size, (4 * w, 4 * h), "exactly 4x")
            got, want = rgb(out), rgb(noisy)
            bad = [(x, y) for y in range(0, 4 * h, 3) for x in range(0, 4 * w, 3) if got[x, y] != want[x // 4, y // 4]]
            self.assertEqual(bad[:5], [], "each input pixel became a 4x4 block")

        def to_size(size):
            return lambda doc, out: self.assertEqual(out.size, size)

        def cut_out(doc, out):
            self.assertEqual((out.mode, out.size), ("RGBA", sc.size))
            alpha = out.getchannel("A")
            lo, hi = alpha.getextrema()
            self.assertEqual((lo, hi), (0, 255), "transparent and opaque pixels")
            for (x, y) in ((0, 0), (127, 95), (39, 50)):
                self.assertEqual(alpha.getpixel((x, y)), 0, f"background ({x}, {y}) transparent")
            for (x, y) in ((40, 24), (87, 71), (60, 50)):
                self.assertEqual(out.getpixel((x, y)), SUBJECT + (255,), f"subject ({x}, {y}) opaque, its colour")

        def background_kept(doc, out):
            self.assertEqual(out.size, sc.size)
            self.assert_kept(out, sc, lambda x, y: in_box(x, y, SUBJECT_BOX, grow=5), "the background")

        return {
            "image-to-image": ({"image": b64(noisy), "prompt": "a quilt", "strength": 0.6},
                               to_size(fit(w, h, 1048576))),
            "inpaint": ({"image": b64(noisy), "mask": b64(mask), "prompt": "a window", "growMask": 0}, masked(noisy)),
            "outpaint": ({"image": b64(noisy), "left": 8, "right": 16, "up": 4, "down": 12, "prompt": "more"},
                         outpainted),
            "erase": ({"image": b64(noisy), "mask": b64(mask), "growMask": 0}, masked(noisy)),
            "search-replace": ({"image": b64(sc), "prompt": "a blue box", "searchPrompt": "red box"}, background_kept),
            "search-recolor": ({"image": b64(sc), "prompt": "gold", "selectPrompt": "the box"}, background_kept),
            "remove-background": ({"image": b64(sc)}, cut_out),
            "upscale-fast": ({"image": b64(noisy)}, fast),
            "upscale-conservative": ({"image": b64(sc), "prompt": "crisp"}, to_size(fit(128, 96, 4194304))),
            "upscale-creative": ({"image": b64(sc), "prompt": "crisp", "creativity": 0.2},
                                 to_size(fit(128, 96, 4194304))),
            "style-guide": ({"image": b64(noisy), "prompt": "a harbour", "aspectRatio": "16:9"}, to_size((1344, 768))),
            "style-transfer": ({"image": b64(sc), "styleImage": b64(noisy), "prompt": "a box"},
                               to_size(fit(128, 96, 1048576))),
            "sketch": ({"image": b64(sc), "prompt": "a house", "controlStrength": 0.5}, same_size(sc)),
            "structure": ({"image": b64(sc), "prompt": "a house"}, same_size(sc)),
        }

    def test_every_task_of_get_models_makes_an_image_of_the_documented_geometry(self):
        cases = self.task_cases()
        listed = [t["task"] for t in self.catalogue["tasks"]]
        self.assertEqual(len(listed), len(set(listed)))
        uncovered = [t for t in listed if t not in cases]
        self.assertEqual(uncovered, [], "GET /models lists tasks this test has no case for: add one")
        self.assertEqual(sorted(set(cases) - set(listed)), [], "cases of tasks the shipped policy does not offer")
        calls = 0
        for entry in self.catalogue["tasks"]:
            task = entry["task"]
            self.assertEqual(entry["defaultModel"], entry["models"][0]["id"])
            for model in entry["models"]:
                with self.subTest(task=task, model=model["id"]):
                    body, check = cases[task]
                    body = dict(body, task=task, model=model["id"])
                    doc, out = self.edited(body, save=f"edit-{task}.png")
                    self.assertEqual(doc["model"], model.get("invokedAs", model["id"]))
                    check(doc, out)
                    calls += 1
        stats = self.stats()
        self.assertEqual(stats["reached_model"], calls)
        self.assertEqual(sorted({c["model"] for c in stats["calls"]}),
                         sorted({m.get("invokedAs", m["id"]) for e in self.catalogue["tasks"] for m in e["models"]}))

    def test_a_task_without_model_runs_on_its_default_and_formats_in_and_out(self):
        src = noise(40, 32, seed=5)
        doc, out = self.edited({"task": "upscale-fast", "image": b64(src), "outputFormat": "webp"})
        self.assertEqual((doc["model"], out.format, out.size),
                         ("us.stability.stable-fast-upscale-v1:0", "WEBP", (160, 128)))
        self.assertEqual(doc["images"][0]["contentType"], "image/webp")
        # WebP in (lossless: the blocks can be compared), and base64 wrapped in lines as `base64` writes it
        for image in (b64(src, "WEBP", lossless=True), base64.encodebytes(encode(src)).decode()):
            doc, out = self.edited({"task": "upscale-fast", "image": image})
            got, want = rgb(out), rgb(src)
            self.assertTrue(all(got[x, y] == want[x // 4, y // 4] for y in range(128) for x in range(160)))
        doc, out = self.edited({"task": "erase", "image": "data:image/jpeg;base64," + b64(noise(96, 64), "JPEG"),
                                "mask": b64(box_mask(96, 64, (0, 0, 10, 10))), "outputFormat": "jpeg",
                                "numberOfImages": 2, "seed": 11})
        self.assertEqual((out.format, out.size), ("JPEG", (96, 64)))
        self.assertEqual([i["seed"] for i in doc["images"]], [11, 12])

    def test_inpaint_by_alpha_edits_the_transparent_pixels(self):
        src = noise(128, 96, seed=3)
        rgba = src.convert("RGBA")
        rgba.putalpha(box_mask(128, 96, MASK_BOX, inside=0, outside=255))
        doc, out = self.edited({"task": "inpaint", "image": b64(rgba), "prompt": "a door", "growMask": 0},
                               save="edit-inpaint-alpha.png")
        self.assertEqual(out.size, (128, 96))
        self.assert_kept(out, src, lambda x, y: in_box(x, y, MASK_BOX), "transparent pixels are the mask")
        # an opaque image and no mask: nothing says where to edit
        self.refused({"task": "inpaint", "image": b64(src), "prompt": "a door"}, 400, "invalid_image", "mask")

    def test_inpaint_grow_mask_default_widens_the_edit(self):
        # inpaint's default growMask (5) widens the edited area by 5 pixels each way
        src = noise(128, 96, seed=4)
        doc, out = self.edited({"task": "inpaint", "image": b64(src), "mask": b64(box_mask(128, 96, MASK_BOX)),
                                "prompt": "a door"})
        self.assert_kept(out, src, lambda x, y: in_box(x, y, MASK_BOX, grow=5), "growMask 5 by default")

    # ================================================================ uploads

    def test_upload_round_trip_edit_by_key(self):
        doc = self.form("image/png")
        self.assertEqual(set(doc), {"upload", "maxBytes"})
        self.assertEqual(doc["maxBytes"], UPLOAD_CAP)
        up = doc["upload"]
        self.assertEqual(set(up), {"url", "fields", "key", "expiresAt"})
        self.assertRegex(up["key"], r"^uploads/[0-9a-f]{16}/[0-9a-f-]{36}\.png$")
        self.assertEqual(up["fields"]["key"], up["key"])
        self.assertEqual(up["fields"]["Content-Type"], "image/png")
        self.assertTrue(up["url"].startswith(self.st.s3_url), up["url"])
        expires = calendar.timegm(time.strptime(up["expiresAt"][:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertRegex(up["expiresAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", "whole seconds, as every expiresAt")
        self.assertTrue(0 < expires - time.time() <= 900 + 5, up["expiresAt"])
        src = noise(80, 64, seed=6)
        status, body = self.curl_upload(up, self.write("round.png", encode(src)))
        self.assertEqual(status, 204, body)
        self.assertIn(up["key"], self.stored())

        out_doc, out = self.edited({"task": "upscale-fast", "image": {"upload": up["key"]}}, save="edit-upload.png")
        self.assertEqual(out.size, (320, 256))
        got, want = rgb(out), rgb(src)
        self.assertTrue(all(got[x, y] == want[x // 4, y // 4] for y in range(0, 256, 5) for x in range(0, 320, 5)))
        # the same key again works (uploads are not consumed), and JPEG/WebP forms get their extension
        self.edited({"task": "upscale-creative", "image": {"upload": up["key"]}, "prompt": "sharp"})
        self.assertRegex(self.form("image/jpeg")["upload"]["key"], r"\.jpg$")
        self.assertRegex(self.form("image/webp")["upload"]["key"], r"\.webp$")

    def test_another_callers_key_is_not_found(self):
        key = self.uploaded(encode(noise(64, 64, seed=7)), key=ALICE)
        self.assertNotEqual(key.split("/")[1], self.form(key=BOB)["upload"]["key"].split("/")[1],
                            "each caller has its own folder")
        err = self.refused({"task": "upscale-fast", "image": {"upload": key}}, 404, "not_found", "image: no upload",
                           key[:30], key=BOB)
        # the same answer for a key in one's own folder that holds nothing: keys cannot be probed
        own = self.form(key=BOB)["upload"]["key"]
        self.refused({"task": "upscale-fast", "image": {"upload": own}}, 404, "not_found", "image: no upload", key=BOB)
        self.assertNotIn("k-alice", err["message"])
        # and the owner still can
        self.edited({"task": "upscale-fast", "image": {"upload": key}}, key=ALICE)

    def test_a_mask_given_as_an_upload(self):
        src = noise(128, 96, seed=8)
        mask_key = self.uploaded(encode(box_mask(128, 96, MASK_BOX)), name="mask.png")
        doc, out = self.edited({"task": "inpaint", "image": b64(src), "mask": {"upload": mask_key},
                                "prompt": "a lamp", "growMask": 0}, save="edit-mask-upload.png")
        self.assert_kept(out, src, lambda x, y: in_box(x, y, MASK_BOX), "an uploaded mask")
        # both uploaded
        img_key = self.uploaded(encode(src), name="img.png")
        doc, out = self.edited({"task": "erase", "image": {"upload": img_key}, "mask": {"upload": mask_key},
                                "growMask": 0})
        self.assert_kept(out, src, lambda x, y: in_box(x, y, MASK_BOX), "both uploaded")
        # an uploaded mask of another size is refused after the fetch, without a model call
        small_key = self.uploaded(encode(box_mask(64, 48, (0, 0, 8, 8))), name="small.png")
        self.refused({"task": "inpaint", "image": {"upload": img_key}, "mask": {"upload": small_key}, "prompt": "x"},
                     400, "invalid_image", "64x48", "128x96")

    def test_the_post_policy_refuses_and_nothing_is_stored(self):
        before = self.stored()
        # a file over maxBytes
        big = encode(noise(160, 160, seed=9))
        self.assertGreater(len(big), UPLOAD_CAP)
        up = self.form()["upload"]
        status, body = self.curl_upload(up, self.write("big.png", big))
        self.assertEqual(status, 400, body)
        self.assertIn("<Code>EntityTooLarge</Code>", body)
        self.assertIn(f"<MaxSizeAllowed>{UPLOAD_CAP}</MaxSizeAllowed>", body)
        self.refused({"task": "upscale-fast", "image": {"upload": up["key"]}}, 404, "not_found", "image")
        # another Content-Type than the form's
        small = encode(noise(64, 48, seed=10))
        up = self.form()["upload"]
        status, body = self.curl_upload(up, self.write("small.png", small), **{"Content-Type": "text/html"})
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>AccessDenied</Code>", body)
        self.assertIn("Content-Type", body)
        self.refused({"task": "upscale-fast", "image": {"upload": up["key"]}}, 404, "not_found", "image")
        # another key, even in the caller's own folder
        up = self.form()["upload"]
        other = re.sub(r"/[0-9a-f-]{36}\.", "/00000000-0000-4000-8000-000000000000.", up["key"])
        status, body = self.curl_upload(up, self.write("small.png", small), key=other)
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>AccessDenied</Code>", body)
        self.assertIn("$key", body)
        for k in (up["key"], other):
            self.refused({"task": "upscale-fast", "image": {"upload": k}}, 404, "not_found", "image")
        self.assertEqual(self.stored(), before, "nothing was stored")

    # ================================================================ bad inputs

    def test_bad_inline_inputs_name_the_problem_and_call_no_model(self):
        png = encode(noise(96, 64, seed=12))
        cases = [
            ("not an image", {"task": "upscale-fast", "image": base64.b64encode(b"just some text, no image").decode()},
             400, "invalid_image", ["image is not a usable image"]),
            ("not base64", {"task": "upscale-fast", "image": "@@@@"}, 400, "invalid_image", ["image", "base64"]),
            ("a truncated PNG", {"task": "upscale-fast", "image": base64.b64encode(png[:len(png) // 2]).decode()},
             400, "invalid_image", ["image is not a usable image", "truncated"]),
            ("a mask of another size", {"task": "inpaint", "image": b64(noise(96, 64)), "prompt": "p",
                                        "mask": b64(box_mask(64, 64, (0, 0, 8, 8)))},
             400, "invalid_image", ["mask", "64x64", "96x64"]),
            ("an image over upscale-fast's side", {"task": "upscale-fast", "image": b64(noise(1600, 64))},
             400, "invalid_image", ["image", "1600x64", "1536"]),
            ("an image under the side minimum", {"task": "erase", "image": b64(noise(40, 40)),
                                                 "mask": b64(box_mask(40, 40, (0, 0, 4, 4)))},
             400, "invalid_image", ["image", "40x40", "64"]),
            ("a missing required image", {"task": "upscale-fast"}, 400, "invalid_image", ["image is required"]),
            ("a missing style image", {"task": "style-transfer", "image": b64(noise(96, 64))},
             400, "invalid_image", ["styleImage is required"]),
            ("a missing required prompt", {"task": "search-replace", "image": b64(scene()), "prompt": "x"},
             400, "invalid_prompt", ["searchPrompt is required"]),
            ("no task", {"image": b64(noise(64, 64))}, 400, "invalid_parameter", ["task is required"]),
            ("an unknown task", {"task": "inpainting", "image": b64(noise(64, 64))},
             400, "unknown_task", ['"inpainting"', "did you mean inpaint"]),
            ("a model that does not serve the task", {"task": "upscale-fast", "image": b64(noise(64, 64)),
                                                      "model": "stability.stable-image-core-v1:1"},
             400, "unknown_model", ["upscale-fast"]),
            ("an object shaped like facts", {"task": "upscale-fast", "image": {
                "field": "image", "index": 1, "source": "inline", "bytes": 100, "format": "png", "width": 64,
                "height": 64, "alpha": False, "ref": "igin:0123456789abcdef0123456789abcdef:0:0"}},
             400, "invalid_image", ["image is not a usable image", "upload"]),
            ("a list where one image goes", {"task": "upscale-fast", "image": [b64(noise(64, 64))] * 2},
             400, "invalid_image", ["image takes one image"]),
            ("a list of one where one image goes", {"task": "style-transfer", "image": b64(noise(96, 64)),
                                                    "styleImage": [b64(noise(96, 64))]},
             400, "invalid_image", ["styleImage takes one image"]),
            ("an outpaint growing nothing", {"task": "outpaint", "image": b64(noise(96, 64))},
             400, "invalid_parameter", ["left", "right", "up", "down"]),
            ("an upload key outside the uploads folder", {"task": "upscale-fast", "image": {"upload": "images/x.png"}},
             404, "not_found", ["image"]),
            ("a GIF", {"task": "upscale-fast", "image": base64.b64encode(
                encode(Image.new("RGB", (64, 64)), "GIF")).decode()}, 400, "invalid_image", ["image"]),
        ]
        for what, body, status, code, words in cases:
            with self.subTest(what):
                self.refused(body, status, code, *words)

    def test_inline_images_over_the_inline_limit_are_413_saying_to_upload(self):
        big = noise(1240, 1220, seed=13)
        data = encode(big, compress_level=1)
        self.assertTrue(4500000 < len(data) < 4700000, len(data))
        self.refused({"task": "remove-background", "image": base64.b64encode(data).decode()},
                     413, "payload_too_large", "4,500,000", "POST /uploads")

    # ================================================================ the OpenAI form, malformed

    def test_multipart_without_boundary_or_with_an_oversized_part(self):
        png = encode(box_mask(64, 64, (0, 0, 8, 8), mode="RGBA", inside=(0, 0, 0, 0), outside=(9, 9, 9, 255)))
        boundary = "----imagegen-edits-7f3a"

        def form(parts):
            out = b""
            for name, value, filename in parts:
                out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"".encode()
                if filename:
                    out += f"; filename=\"{filename}\"\r\nContent-Type: image/png".encode()
                out += b"\r\n\r\n" + value + b"\r\n"
            return out + f"--{boundary}--\r\n".encode()

        body = form([("image", png, "a.png"), ("prompt", b"a lamp", None)])
        cases = [
            ("no boundary", body, "multipart/form-data", 400, ["boundary"]),
            ("another boundary", body, "multipart/form-data; boundary=nope", 400, []),
            ("a text field over 64 KiB", form([("image", png, "a.png"), ("prompt", b"a" * 70000, None)]),
             "multipart/form-data; boundary=" + boundary, 413, ["prompt", "65536"]),
        ]
        for what, payload, ctype, status, words in cases:
            with self.subTest(what):
                self.st.bedrock_control("POST", "reset")
                r = self.st.request("POST", "/v1/images/edits", payload, headers={"Content-Type": ctype})
                self.assertEqual(r.status, status, r.body[:400])
                err = r.json()["error"]
                self.assertTrue(err.get("message"), err)
                self.assertEqual(err.get("code"), "payload_too_large" if status == 413 else "invalid_body", err)
                for w in words:
                    self.assertIn(w, err["message"], err)
                stats = self.stats()
                self.assertEqual((stats["invoke_requests"], stats["reached_model"]), (0, 0), "no model call")
        # the well-formed form works
        self.st.bedrock_control("POST", "reset")
        r = self.st.request("POST", "/v1/images/edits", body,
                            headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(r.status, 200, r.body[:400])
        self.assertEqual(self.stats()["reached_model"], 1)


if __name__ == "__main__":
    run_tests("test_edits")
