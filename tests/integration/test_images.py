"""Image records end to end on the local stack (dynalite as DynamoDB, the real bootstrap): every
stored image gets a record; GET /images/{id} turns it into a fresh URL for its owner only;
GET /images pages through the caller's images newest first with an opaque cursor; edits and jobs
get records too; a record that cannot be written does not fail the request that stored the image;
without a table the routes say so."""
import base64
import hashlib
import io
import os
import re
import sys
import time
import unittest
import urllib.parse
import urllib.request

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import SANITIZE, Stack, run_tests  # noqa: E402

ALICE, BOB, CAROL, DAVE = ("alice-key-0123456789abcdef", "bob-key-0123456789abcdef", "carol-key-0123456789abcdef",
                           "dave-key-0123456789abcdef")
KEYS = [{"id": "k-" + name, "value": value, "name": name}
        for name, value in (("alice", ALICE), ("bob", BOB), ("carol", CAROL), ("dave", DAVE))]
CORE = "stability.stable-image-core-v1:1"
TITAN = "amazon.titan-image-generator-v1"  # legacy, no end of life: a batch of 5 in one call
POLICY = ('c.rate_limit.enabled = false\nc.allowed_models = { "%s", "%s" }\nc.default_model = "%s"'
          % (CORE, TITAN, CORE))
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SLOW = 3 if SANITIZE else 1


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as f:
        return f.read()


def small_png(w=64, h=48):
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


class ImagesTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(policy_dir=policy_with(POLICY), function_timeout=20, timeout=25,
                       gateway_args=["--async-retry-delay", "0.2"], api_keys=KEYS).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def call(self, method, path, body=None, key=ALICE):
        h = {"x-api-key": key}
        if body is not None:
            h["Content-Type"] = "application/json"
        return self.st.request(method, path, body, headers=h)

    def generate(self, body, key=ALICE, path="/generate-image"):
        r = self.call("POST", path, body, key)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def page(self, key, limit=None, cursor=None):
        q = {}
        if limit is not None:
            q["limit"] = str(limit)
        if cursor is not None:
            q["next"] = cursor
        return self.call("GET", "/images" + ("?" + urllib.parse.urlencode(q) if q else ""), key=key)

    # ---- the listing ----

    def test_fifty_images_page_by_seven_newest_first_without_gaps_or_repeats(self):
        made = []  # ids in the order they were made, a request at a time
        for i in range(10):
            doc = self.generate({"prompt": "kite %d" % i, "model": TITAN, "numberOfImages": 5, "width": 512,
                                 "height": 512}, key=CAROL)
            ids = [im["id"] for im in doc["images"]]
            self.assertEqual(len(ids), 5)
            for im in doc["images"]:
                self.assertRegex(im["id"], UUID)
                self.assertIn(im["id"], im["key"])  # the id is the uuid of the S3 key
            made.append(ids)
        request_of = {image_id: n for n, ids in enumerate(made) for image_id in ids}

        listed, cursors, cursor = [], [], None
        while True:
            r = self.page(CAROL, 7, cursor)
            self.assertEqual(r.status, 200, r.body)
            doc = r.json()
            self.assertLessEqual(len(doc["images"]), 7)
            listed.extend(doc["images"])
            cursor = doc.get("next")
            if cursor is None:
                break
            self.assertRegex(cursor, r"^[A-Za-z0-9_.-]+$")
            cursors.append(cursor)
            self.assertLess(len(cursors), 10, "the listing does not end")
        ids = [im["id"] for im in listed]
        self.assertEqual(len(ids), 50)
        self.assertEqual(len(set(ids)), 50, "an image is listed twice")
        self.assertEqual(set(ids), set(request_of), "the listing and the images made differ")
        # Newest first: later requests before earlier ones, and times never rising.
        order = [request_of[i] for i in ids]
        self.assertEqual(order, sorted(order, reverse=True))
        times = [im["createdAt"] for im in listed]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(len(cursors), 7)  # 7 full pages, then one of 1
        for im in listed:
            self.assertEqual((im["model"], im["width"], im["height"], im["format"]), (TITAN, 512, 512, "png"))
        # A listed record's URL serves the image the generation stored.
        newest = listed[0]
        self.assertEqual(fetch(newest["url"])[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(hashlib.sha256(fetch(newest["url"])).hexdigest(),
                         hashlib.sha256(fetch(self.call("GET", "/images/" + newest["id"], key=CAROL).json()["url"]))
                         .hexdigest())
        # The default page is 20; another caller sees none of Carol's.
        self.assertEqual(len(self.page(CAROL).json()["images"]), 20)
        bobs = {im["id"] for im in self.page(BOB, 100).json()["images"]}
        self.assertFalse(bobs & set(ids))

        # Cursors: another caller's, an altered one, a forged one are 400 invalid_cursor.
        c = cursors[2]
        payload, tag = c.split(".")
        flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + tag
        forged = base64.urlsafe_b64encode(b'{"i":"00000000-0000-4000-8000-000000000000","t":"9999#x"}') \
            .decode().rstrip("=") + "." + tag
        for key, cur in ((BOB, c), (CAROL, flipped), (CAROL, forged), (CAROL, c + "A"), (CAROL, "not-a-cursor")):
            with self.subTest(cursor=cur[:20], key=key[:5]):
                r = self.page(key, 7, cur)
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(r.json()["error"]["code"], "invalid_cursor")
        for bad in ("0", "101", "x"):
            r = self.page(CAROL, bad)
            self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_parameter"), r.body)

    def test_a_caller_without_images_gets_an_empty_list(self):
        r = self.page(DAVE)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"images": []})

    # ---- one record ----

    def test_a_record_gives_a_fresh_url_to_its_owner_and_404_to_anyone_else(self):
        prompt = "a lighthouse at dusk"
        doc = self.generate({"prompt": prompt, "model": CORE, "aspectRatio": "16:9", "seed": 1234})
        image = doc["images"][0]
        r = self.call("GET", "/images/" + image["id"])
        self.assertEqual(r.status, 200, r.body)
        rec = r.json()
        self.assertEqual(rec["id"], image["id"])
        self.assertEqual((rec["model"], rec["width"], rec["height"], rec["format"], rec["seed"], rec["cached"]),
                         (CORE, image["width"], image["height"], "png", 1234, False))
        self.assertEqual(rec["promptSha256"], hashlib.sha256(prompt.encode()).hexdigest())
        self.assertNotIn("prompt", rec)
        self.assertEqual(rec["parameters"]["aspectRatio"], "16:9")
        self.assertEqual(rec["bytes"], len(fetch(image["url"])))
        self.assertEqual(fetch(rec["url"]), fetch(image["url"]))
        # The download link serves the same bytes, which a browser saves under the object's name.
        with urllib.request.urlopen(rec["downloadUrl"], timeout=30) as f:
            self.assertEqual(f.read(), fetch(image["url"]))
            self.assertEqual(f.headers["Content-Disposition"], 'attachment; filename="%s"' % image["key"].rsplit("/", 1)[1])
        self.assertRegex(rec["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(rec["recordExpiresAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        for key, path in ((BOB, "/images/" + image["id"]), (ALICE, "/images/0f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5f"),
                          (ALICE, "/images/not-an-id")):
            with self.subTest(path=path, key=key[:5]):
                r = self.call("GET", path, key=key)
                self.assertEqual(r.status, 404, r.body)
                self.assertEqual(r.json()["error"]["code"], "not_found")

    def test_an_edit_is_recorded_with_its_task(self):
        doc = self.generate({"task": "upscale-fast", "image": small_png()}, path="/edit-image")
        image = doc["images"][0]
        rec = self.call("GET", "/images/" + image["id"]).json()
        self.assertEqual(rec["task"], "upscale-fast")
        self.assertEqual((rec["width"], rec["height"]), (image["width"], image["height"]))
        self.assertEqual(fetch(rec["url"])[:8], b"\x89PNG\r\n\x1a\n")
        self.assertNotIn("promptSha256", rec)  # no prompt, no hash

    def test_a_jobs_images_are_recorded_by_its_worker(self):
        r = self.call("POST", "/jobs", {"prompt": "a harbour", "model": CORE, "numberOfImages": 2})
        self.assertEqual(r.status, 202, r.body)
        job_id, end = r.json()["id"], time.monotonic() + 30 * SLOW
        while True:
            job = self.call("GET", "/jobs/" + job_id).json()
            if job["status"] in ("succeeded", "failed") or time.monotonic() > end:
                break
            time.sleep(0.1)
        self.assertEqual(job["status"], "succeeded", job)
        ids = [im["id"] for im in job["result"]["images"]]
        self.assertEqual(len(ids), 2)
        for image_id in ids:
            rec = self.call("GET", "/images/" + image_id)
            self.assertEqual(rec.status, 200, rec.body)
            self.assertEqual(rec.json()["model"], CORE)
        listed = [im["id"] for im in self.page(ALICE, 100).json()["images"]]
        self.assertTrue(set(ids) <= set(listed))


class ImagesStoreDownTest(unittest.TestCase):
    def test_with_dynamodb_stopped_images_are_served_and_the_routes_answer_503(self):
        with Stack(function_timeout=20, timeout=25, policy_dir=policy_with("c.rate_limit.enabled = false")) as st:
            h = {"Content-Type": "application/json"}
            st.exit_codes["dynamodb"] = st.dynamodb.stop()
            pids = st.env_pids()
            r = st.request("POST", "/generate-image", {"prompt": "a quiet field"}, headers=h)
            self.assertEqual(r.status, 200, r.body)
            image = r.json()["images"][0]
            self.assertNotIn("id", image)  # no record, no id
            self.assertEqual(fetch(image["url"])[:8], b"\x89PNG\r\n\x1a\n")
            lines = [o for _, o in st.function_json() if o.get("message", "").startswith("an image record could not")]
            self.assertEqual(len(lines), 1, lines)
            emf = [o for _, o in st.function_json() if "ImageRecordsFailed" in o]
            self.assertEqual([o["ImageRecordsFailed"] for o in emf], [1])
            for path in ("/images", "/images/" + image["key"].rsplit("/", 1)[1].split(".")[0]):
                r = st.request("GET", path)
                self.assertEqual(r.status, 503, r.body)
                self.assertEqual(r.json()["error"]["code"], "images_unavailable")
            self.assertEqual(st.env_pids(), pids)  # no environment crashed or was replaced
            self.assertEqual(st.stop().get("gateway"), 0)


class ImagesWithoutTableTest(unittest.TestCase):
    def test_without_a_table_the_routes_say_so_and_generation_works(self):
        with Stack(dynamodb=False, function_timeout=20, timeout=25,
                   policy_dir=policy_with("c.rate_limit.enabled = false")) as st:
            for path in ("/images", "/images/0f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5f"):
                r = st.request("GET", path)
                self.assertEqual(r.status, 503, r.body)
                self.assertEqual(r.json()["error"]["code"], "images_unavailable")
                self.assertIn("IMAGEGEN_TABLE", r.json()["error"]["message"])
            r = st.request("POST", "/generate-image", {"prompt": "x"}, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r.body)
            self.assertNotIn("id", r.json()["images"][0])


if __name__ == "__main__":
    run_tests("test_images")
