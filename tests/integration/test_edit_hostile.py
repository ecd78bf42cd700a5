#!/usr/bin/python3
"""test_edit_hostile.py - the edit path as an attacker tries it, through the whole local stack.

The gateway (two API keys: mallory attacks, victim owns an upload), bootstrap with the shipped
policy (uploads capped at UPLOAD_CAP bytes, rate limits out of the way), bedrock-local and
s3rver behind s3-verify. Every hostile request must end in a specific 4xx whose message names
the problem, with no model call (bedrock-local's counters stay at zero), no crash (the one
execution environment is the same process at the end, and exits cleanly), and no hang (each
request has a timeout):

- upload keys: another owner's, path tricks (../, percent-encoding, doubled or leading slashes,
  another case, control bytes), a key outside the uploads prefix, a very long key, a key that is
  not a string, an upload reference with extra members;
- a fetch of an object far over the upload cap: refused without being read (the function's
  peak memory stays under the object's size);
- multipart forms: 10,000 tiny parts, a 9.9 MB part, a part with 5 KB of headers, a name too
  long, more files than a request may carry;
- data URLs inside data URLs;
- "decompression bomb" PNGs (a few bytes claiming 65535x65535 or 3000x3000 pixels) as images
  and as masks, and PNGs whose IHDR lies about the size or whose IDAT is not what it claims;
- JSON objects shaped like the runtime's facts tables, in image members and in parameters;
- the runtime's token syntax ("igin:...") in prompts, parameters, lists, form fields, file
  names, upload keys, and a well-formed token of another request.

test_edits.py holds the functional cases (every task, the upload round trip, plain bad inputs);
this file does not repeat them. Prints "test_edit_hostile: N passed, M failed".
"""
import base64
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

MALLORY = "hostile-mallory-3f9a7c21d0"
VICTIM = "hostile-victim-b82e64a5f1"
UPLOAD_CAP = 60000
POLICY_PATCH = """
c.rate_limit.tiers.default = { rate = 100, burst = 1000 }
c.rate_limit.tiers.anonymous = { rate = 100, burst = 1000 }
c.uploads.max_bytes = %d
""" % UPLOAD_CAP
BOUNDARY = "----hostile-form-51c2"
FORM = {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY}
# An object this large must not be read to be refused.
HUGE_OBJECT_MB = 48
TOKEN_SHAPE = "igin:%s:0:%d"


# ---------------------------------------------------------------- pictures

def encode(img, fmt="PNG"):
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def b64(data):
    return base64.b64encode(data).decode()


def rgba_with_hole(w=64, h=64):
    """An RGBA picture whose top-left 8x8 square is transparent (an OpenAI mask or image)."""
    img = Image.new("RGBA", (w, h), (90, 140, 30, 255))
    img.paste((0, 0, 0, 0), (0, 0, 8, 8))
    return encode(img)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(width, height, rows, colour=6, idat=None, extra=b""):
    """A PNG whose IHDR says width x height (8-bit, colour type colour) and whose IDAT holds the
    zlib stream of `rows` (bytes: filter byte and pixels per row), or idat as given."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + extra
    body += chunk(b"IDAT", zlib.compress(rows, 9) if idat is None else idat)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def rows_of(width, count, channels=4):
    return (b"\x00" + b"\x00" * (width * channels)) * count


def bomb(width, height):
    """A few hundred bytes claiming width x height RGBA pixels: four rows of data."""
    return png(width, height, rows_of(width, 4))


class HostileEditsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with(POLICY_PATCH)
        cls.st = Stack(policy_dir=cls.policy, concurrency=1, function_timeout=25, timeout=28,
                       api_keys=[{"id": "k-mallory", "value": MALLORY, "name": "mallory"},
                                 {"id": "k-victim", "value": VICTIM, "name": "victim"}]).start()
        cls.pids = dict(cls.st.env_pids())
        cls.tmp = tempfile.mkdtemp(prefix="imagegen-hostile-")

    @classmethod
    def tearDownClass(cls):
        try:
            # No request crashed or replaced the environment.
            assert dict(cls.st.env_pids()) == cls.pids, (cls.pids, cls.st.env_pids())
        finally:
            cls.st.stop_clean()

    def setUp(self):
        self.assertEqual(self.st.bedrock_control("POST", "reset")[0], 200)

    # ---- talking to the stack ----

    def post(self, path, body, key=MALLORY, headers=None):
        h = {"x-api-key": key}
        h.update(headers or {})
        return self.st.request("POST", path, body, headers=h, timeout=30)

    def stats(self):
        return self.st.bedrock_control("GET", "stats")[1]

    def assert_refusal(self, r, status, code, *words):
        """status and code, a message holding every word, and no model call."""
        self.assertEqual(r.status, status, r.body[:600])
        err = r.json()["error"]
        self.assertEqual(err.get("code"), code, err)
        self.assertIsInstance(err.get("message"), str)
        for w in words:
            self.assertIn(w, err["message"], err)
        self.assertLess(len(err["message"]), 800, "a message of sane length")
        stats = self.stats()
        self.assertEqual((stats["invoke_requests"], stats["reached_model"]), (0, 0), "no model call")
        return err

    def refused(self, body, status, code, *words, key=MALLORY):
        self.st.bedrock_control("POST", "reset")
        return self.assert_refusal(self.post("/edit-image", body, key), status, code, *words)

    def form_refused(self, payload, status, code, *words, headers=FORM):
        self.st.bedrock_control("POST", "reset")
        r = self.post("/v1/images/edits", payload, headers=headers)
        err = self.assert_refusal(r, status, code, *words)
        return err

    def form(self, parts):
        """A multipart body of (name, value, filename) parts."""
        out = []
        for name, value, filename in parts:
            head = '--%s\r\nContent-Disposition: form-data; name="%s"' % (BOUNDARY, name)
            if filename is not None:
                head += '; filename="%s"\r\nContent-Type: image/png' % filename
            out.append(head.encode() + b"\r\n\r\n" + value + b"\r\n")
        return b"".join(out) + ("--%s--\r\n" % BOUNDARY).encode()

    def upload_form(self, key):
        r = self.post("/uploads", {"contentType": "image/png"}, key)
        self.assertEqual(r.status, 200, r.body[:400])
        return r.json()["upload"]

    def curl_upload(self, upload, data):
        path = os.path.join(self.tmp, "upload.png")
        with open(path, "wb") as f:
            f.write(data)
        argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", upload["url"]]
        for name, value in upload["fields"].items():
            argv += ["--form-string", "%s=%s" % (name, value)]
        argv += ["-F", "file=@" + path]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout.strip(), "204", out.stderr)

    def s3(self):
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", region_name=stack.REGION, endpoint_url=self.st.s3rver_url,
            aws_access_key_id=stack.ACCESS_KEY_ID, aws_secret_access_key=stack.SECRET_ACCESS_KEY)

    # ================================================================ upload keys

    def test_upload_keys_of_another_owner_or_bent_paths_are_not_found(self):
        victim = self.upload_form(VICTIM)
        self.curl_upload(victim, encode(Image.new("RGB", (64, 64), (10, 20, 30))))
        vkey = victim["key"]
        prefix, v_owner, name = vkey.split("/")
        m_owner = self.upload_form(MALLORY)["key"].split("/")[1]
        self.assertNotEqual(v_owner, m_owner)
        keys = {
            "the victim's key": vkey,
            "../ out of mallory's folder": "%s/%s/../%s/%s" % (prefix, m_owner, v_owner, name),
            "percent-encoded ..": "%s/%s/%%2E%%2E/%s/%s" % (prefix, m_owner, v_owner, name),
            "percent-encoded slashes": vkey.replace("/", "%2F"),
            "a leading slash": "/" + vkey,
            "a doubled slash": "%s//%s/%s" % (prefix, m_owner, name),
            "another case": vkey.replace("uploads/", "UPLOADS/"),
            "outside the prefix, sharing its letters": "uploadsX/%s/%s" % (m_owner, name),
            "a newline after it": "%s/%s/%s\n" % (prefix, m_owner, name),
            "a NUL inside": "%s/%s/%s\x00.png" % (prefix, m_owner, name[:-4]),
            "5,000 bytes long": "%s/%s/%s.png" % (prefix, m_owner, "a" * 5000),
        }
        for what, key in keys.items():
            with self.subTest(what):
                err = self.refused({"task": "upscale-fast", "image": {"upload": key}}, 404, "not_found",
                                   "image: no upload", "for this caller")
                self.assertNotIn("a" * 200, err["message"], "a long key is shortened in the message")
        with self.subTest("a key that is not a string"):
            self.refused({"task": "upscale-fast", "image": {"upload": 12345}}, 400, "invalid_image",
                         "image must be base64 image data", "{\"upload\": key}")
        with self.subTest("an upload reference with extra members"):
            self.refused({"task": "upscale-fast", "image": {"upload": vkey, "width": 64, "height": 64}}, 400,
                         "invalid_image", "image must be base64 image data", "{\"upload\": key}")
        # The key is real: its owner edits with it.
        self.st.bedrock_control("POST", "reset")
        r = self.post("/edit-image", {"task": "upscale-fast", "image": {"upload": vkey}}, VICTIM)
        self.assertEqual(r.status, 200, r.body[:400])
        self.assertEqual(self.stats()["reached_model"], 1)

    def test_an_object_over_the_cap_is_refused_without_being_read(self):
        key = self.upload_form(MALLORY)["key"]
        big = rgba_with_hole() + os.urandom(HUGE_OBJECT_MB * 1024 * 1024)
        self.s3().put_object(Bucket=self.st.bucket, Key=key, Body=big, ContentType="image/png")
        self.st.bedrock_control("POST", "reset")
        r = self.post("/edit-image", {"task": "upscale-fast", "image": {"upload": key}})
        self.assert_refusal(r, 413, "payload_too_large", "image: the upload is larger than %d bytes" % UPLOAD_CAP)
        lambda_id = self.st.lambda_request_id(r.headers["x-amzn-RequestId"])
        peak = self.st.report_for(lambda_id)["max_memory_mb"]
        if stack.SANITIZE:
            print("sanitizer build: peak memory %d MB not compared (ASan's shadow memory)" % peak)
        else:
            self.assertLess(peak, HUGE_OBJECT_MB - 8, "the %d MB object was not read whole" % HUGE_OBJECT_MB)
            print("a %d MB object refused; the function's peak memory: %d MB" % (HUGE_OBJECT_MB, peak))
        # the same cap for every member that names an upload
        self.refused({"task": "style-transfer", "image": b64(rgba_with_hole()), "styleImage": {"upload": key}},
                     413, "payload_too_large", "styleImage: the upload is larger than")

    # ================================================================ multipart

    def test_multipart_forms_built_to_exhaust(self):
        image = rgba_with_hole()
        tiny = self.form([("image", image, "a.png"), ("prompt", b"x", None)] + [("p%d" % i, b"", None)
                                                                              for i in range(10000)])
        self.form_refused(tiny, 413, "payload_too_large", "more than 64 parts")
        # 9.9 MB: past Lambda's 6 MB event as base64, so API Gateway's own 413 (no invocation)
        big = self.form([("image", image + b"\0" * (9_900_000 - len(image)), "a.png"), ("prompt", b"x", None)])
        self.st.bedrock_control("POST", "reset")
        r = self.post("/v1/images/edits", big, headers=FORM)
        self.assertEqual(r.status, 413, r.body[:400])
        self.assertIn("POST /uploads", r.json()["error"]["message"])
        self.assertEqual(self.stats()["invoke_requests"], 0)
        headers = ('--%s\r\nContent-Disposition: form-data; name="prompt"\r\nX-Padding: %s\r\n\r\nx\r\n--%s--\r\n'
                   % (BOUNDARY, "p" * 5000, BOUNDARY)).encode()
        self.form_refused(headers, 413, "payload_too_large", "headers of part 1 are longer than")
        self.form_refused(self.form([("image", image, "a.png"), ("n" * 300, b"1", None)]), 400, "invalid_body",
                          "name is empty or longer than 127 bytes")
        self.form_refused(self.form([("image[]", image, "%d.png" % i) for i in range(17)]), 400, "invalid_body",
                          "more than 16 images")

    # ================================================================ data URLs

    def test_data_urls_inside_data_urls(self):
        image = rgba_with_hole()
        self.refused({"task": "upscale-fast", "image": "data:image/png;base64,data:image/png;base64," + b64(image)},
                     400, "invalid_image", "image is a data URL inside a data URL")
        self.refused({"task": "upscale-fast",
                      "image": "data:image/png;base64," + b64(("data:image/png;base64," + b64(image)).encode())},
                     400, "invalid_image", "image is not a usable image", "data URL")
        self.refused({"task": "upscale-fast", "image": "data:text/html,<b>x</b>"}, 400, "invalid_image",
                     "image is a data URL that is not base64")

    # ================================================================ PNGs that lie

    def test_decompression_bombs_as_images_and_masks(self):
        small = rgba_with_hole()
        huge = bomb(65535, 65535)
        self.assertLess(len(huge), 2000)
        self.refused({"task": "upscale-fast", "image": b64(huge)}, 400, "invalid_image", "65535x65535",
                     "at most 1536 pixels")
        self.refused({"task": "inpaint", "prompt": "a lamp", "image": b64(small), "mask": b64(huge)}, 400,
                     "invalid_image", "mask is 65535x65535 pixels but image is 64x64")
        self.form_refused(self.form([("image", huge, "a.png"), ("prompt", b"a lamp", None)]), 400, "invalid_image",
                          "65535x65535", "9,437,184")
        self.form_refused(self.form([("image", small, "a.png"), ("mask", huge, "m.png"), ("prompt", b"x", None)]),
                          400, "invalid_image", "mask is 65535x65535 pixels but image is 64x64")
        over_budget = bomb(4097, 4096)  # past the mask's 16,777,216-pixel budget
        self.form_refused(self.form([("image", over_budget, "a.png"), ("mask", over_budget, "m.png"),
                                     ("prompt", b"x", None)]), 400, "invalid_image", "4097x4096")
        # within every size limit, but its data holds 4 of 3000 rows
        mid = bomb(3000, 3000)
        for task in ("remove-background", "inpaint"):
            with self.subTest(task):
                self.refused({"task": task, "prompt": "a lamp", "image": b64(mid)} if task == "inpaint"
                             else {"task": task, "image": b64(mid)},
                             400, "invalid_image", "image is not a usable image",
                             "image data stops after 48004 of the 36003000 bytes its 3000x3000 header needs")

    def test_png_headers_that_lie_or_data_that_is_not_what_it_claims(self):
        cases = [
            ("taller than its data", png(64, 96, rows_of(64, 64)), "image data stops after 16448 of the 24672 bytes"),
            ("shorter than its data", png(64, 32, rows_of(64, 64)), "holds more than the 8224 bytes its 64x32 header"),
            ("IDAT not zlib", png(64, 64, b"", idat=b"<html>not zlib</html>"), "not a valid zlib stream"),
            ("a row filter that does not exist", png(64, 64, rows_of(64, 3) + b"\x07" + rows_of(64, 61)[1:]),
             "row 4 of the PNG's image data starts with filter type 7"),
            ("IDATs apart", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 6, 0, 0, 0))
             + chunk(b"IDAT", zlib.compress(rows_of(64, 64))[:20]) + chunk(b"tEXt", b"k\0v")
             + chunk(b"IDAT", zlib.compress(rows_of(64, 64))[20:]) + chunk(b"IEND", b""), "not consecutive"),
        ]
        for what, data, words in cases:
            with self.subTest(what):
                self.refused({"task": "remove-background", "image": b64(data)}, 400, "invalid_image",
                             "image is not a usable image", words, "(the file is damaged)")
                err = self.form_refused(self.form([("image", rgba_with_hole(), "a.png"), ("mask", data, "m.png"),
                                                   ("prompt", b"a lamp", None)]), 400, "invalid_image",
                                        "mask is not a usable image", words)
                self.assertEqual(err.get("param"), "mask")

    # ================================================================ facts and tokens

    def test_objects_shaped_like_facts_tables(self):
        facts = {"field": "image", "index": 1, "source": "inline", "bytes": 100, "format": "png", "width": 64,
                 "height": 64, "alpha": True, "ref": "ref-of-nothing", "mask_ref": "mask-of-nothing"}
        image = b64(rgba_with_hole())
        self.refused({"task": "style-transfer", "image": image, "styleImage": facts}, 400, "invalid_image",
                     "styleImage is not a usable image", "{\"upload\": key}")
        self.refused({"task": "inpaint", "prompt": "x", "image": image, "mask": [facts]}, 400, "invalid_image",
                     "mask")
        self.refused({"task": "upscale-fast", "image": image, "outputFormat": facts}, 400, "invalid_parameter",
                     "outputFormat")
        self.refused({"task": "inpaint", "image": image, "prompt": facts}, 400, "invalid_prompt", "prompt")

    def test_token_syntax_in_any_value_is_refused(self):
        nonce = "%032x" % random.getrandbits(128)  # a well-formed token of another request
        token = TOKEN_SHAPE % (nonce, 0)
        image = b64(rgba_with_hole())
        bodies = {
            "prompt": {"task": "inpaint", "image": image, "prompt": token},
            "negativePrompt": {"task": "inpaint", "image": image, "prompt": "x",
                               "negativePrompt": TOKEN_SHAPE % (nonce, 1)},
            "searchPrompt": {"task": "search-replace", "image": image, "prompt": "x", "searchPrompt": "igin:"},
            "stylePreset[1]": {"task": "inpaint", "image": image, "prompt": "x", "stylePreset": [token]},
            "options.nested[2].deep": {"task": "inpaint", "image": image, "prompt": "x",
                                       "options": {"nested": [1, {"deep": token}]}},
        }
        for where, body in bodies.items():
            with self.subTest(where):
                self.refused(body, 400, "invalid_body", where + ' begins with "igin:"',
                             "the runtime's own image tokens")
        # A member that holds images reads a token as what it is: no image, no upload of this caller.
        self.refused({"task": "upscale-fast", "image": token}, 400, "invalid_image", "image is not valid base64")
        self.refused({"task": "upscale-fast", "image": {"upload": token}}, 404, "not_found", "image: no upload")
        self.refused({"task": "inpaint", "image": image, "prompt": "x", "mask": [TOKEN_SHAPE % (nonce, 2)]}, 400,
                     "invalid_image", "mask takes one image")
        self.form_refused(self.form([("image", rgba_with_hole(), "a.png"), ("prompt", token.encode(), None)]), 400,
                          "invalid_body", 'the form field "prompt" begins with "igin:"')
        self.form_refused(self.form([("image", rgba_with_hole(), token + ".png"), ("prompt", b"x", None)]), 400,
                          "invalid_body", 'the filename of the form field "image" begins with "igin:"')
        # Only a value that begins like a token: words containing it are prompts like any other.
        self.st.bedrock_control("POST", "reset")
        r = self.post("/edit-image", {"task": "inpaint", "image": image, "prompt": "origin: a harbour igin:x"})
        self.assertEqual(r.status, 200, r.body[:400])
        self.assertEqual(self.stats()["reached_model"], 1)


if __name__ == "__main__":
    run_tests("test_edit_hostile")
