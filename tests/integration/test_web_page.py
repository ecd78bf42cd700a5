#!/usr/bin/python3
"""test_web_page.py - the web page (runtime/web) in a real browser against the local stack.

The gateway (API keys required, as Terraform deploys it), bootstrap with the shipped policy and
its page files, dynalite (jobs, image records and the shared rate limit), bedrock-local and
s3rver behind s3-verify. First the page's wire: GET / and its files with their types, ETag and
304, the Content-Security-Policy, no key needed, and 404 in the JSON error shape for unknown or
hostile names. Then tests/web/page.js drives Debian's chromium through playwright-core: it loads
the page, escapes the key dialog and then enters the key it asks for, generates an image through a
job and sees it rendered, reaches Generate with Tab and sees the focus outline,
provokes an invalid size and sees the message naming it, a filtered prompt and a retired model (with
the models to use instead, one click away), removes the background of an upload, inpaints an area
painted on it with the mouse,
finds the new images in the gallery and scrolls it to the end over the cursor, sees a slowed job's
progress line and stops waiting for it, runs axe-core
(no serious or critical violation), and with a key whose tier allows one generation sees the
rate limit's countdown; no console error may appear but the 400, 403 and 429 it provokes.
Screenshots (desktop and phone width) go to the directory the test prints.

Prints "test_web_page: N passed, M failed".
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import BUILD_DIR, SOURCE_DIR, Stack, run_tests  # noqa: E402

WEB_DIR = os.path.join(SOURCE_DIR, "runtime", "web")
PAGE_JS = os.path.join(SOURCE_DIR, "tests", "web", "page.js")
CHROMIUM = os.environ.get("IMAGEGEN_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.path.join(BUILD_DIR, "test-web-page")
KEY = "web-main-4e1f0a9c3b77"
TINY = "web-tiny-91d2c5e8a013"
# The shared counter (dynamodb backend) makes the tiny tier's single request per window exact
# whichever execution environment serves it.
POLICY_PATCH = """
c.rate_limit.backend = "dynamodb"
c.rate_limit.tiers.default = { rate = 100, burst = 1000 }
c.rate_limit.tiers.anonymous = { rate = 100, burst = 1000 }
c.rate_limit.tiers.tiny = { rate = 0.02, burst = 1, window = 50 }
c.rate_limit.keys = { ["k-tiny"] = "tiny" }
"""
# Images made before the browser comes, so that the gallery has more than one page (12).
SEEDED_REQUESTS, SEEDED_PER_REQUEST = 3, 5


def scene_png(path):
    img = Image.new("RGB", (128, 96), (10, 200, 30))
    img.paste((200, 0, 0), (40, 24, 88, 72))
    img.save(path, "PNG")


class WebPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack(policy_dir=policy_with(POLICY_PATCH), env={"IMAGEGEN_WEB_DIR": WEB_DIR},
                       api_keys=[{"id": "k-web", "value": KEY, "name": "web"},
                                 {"id": "k-tiny", "value": TINY, "name": "tiny"}]).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def get(self, path, headers=None):
        return self.st.request("GET", path, headers=headers or {})

    # ---- the wire ----

    def test_page_and_files_need_no_key_with_types_and_validators(self):
        for path, ctype, cache in (("/", "text/html; charset=utf-8", "no-cache"),
                                   ("/web/app.js", "text/javascript; charset=utf-8", "no-cache"),
                                   ("/web/app.css", "text/css; charset=utf-8", "no-cache")):
            r = self.get(path)
            self.assertEqual(r.status, 200, (path, r.body[:200]))
            self.assertEqual(r.headers["Content-Type"], ctype, path)
            self.assertEqual(r.headers["Cache-Control"], cache, path)
            self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff", path)
            name = "index.html" if path == "/" else path.rsplit("/", 1)[1]
            with open(os.path.join(WEB_DIR, name), "rb") as f:
                data = f.read()
            self.assertEqual(r.body, data, path)
            self.assertEqual(r.headers["ETag"], '"%s"' % hashlib.sha256(data).hexdigest()[:20], path)
            again = self.get(path, {"If-None-Match": r.headers["ETag"]})
            self.assertEqual(again.status, 304, path)
            self.assertEqual(again.body, b"", path)
            self.assertEqual(self.get(path, {"If-None-Match": '"0000"'}).status, 200, path)

    def test_csp_is_strict_and_allows_only_the_bucket(self):
        csp = self.get("/").headers["Content-Security-Policy"]
        bucket = re.escape(self.st.s3_url)
        self.assertRegex(csp, r"^default-src 'none'; script-src 'self'; style-src 'self'; ")
        self.assertRegex(csp, r"img-src 'self' blob: data: %s;" % bucket)
        self.assertRegex(csp, r"connect-src 'self' %s;" % bucket)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe", csp)
        html = self.get("/").body.decode()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)", "inline script")
        self.assertNotRegex(html, r"\bstyle=|https?://", "inline style or a third-party URL")

    def test_unknown_and_hostile_names_are_404_json(self):
        for path in ("/web/nope.js", "/web/..%2Fpolicy%2Fconfig.lua", "/web/.env", "/web/config.lua",
                     "/web/index.HTML", "/index.html", "/web/", "/web/%2e%2e"):
            r = self.get(path)
            self.assertIn(r.status, (403, 404), path)  # 403: a route the gateway does not have
            self.assertEqual(r.headers["Content-Type"], "application/json", path)
            self.assertIn(r.json()["error"]["code"], ("not_found", "missing_authentication_token"), path)
        r = self.get("/web/nope.js")
        self.assertEqual((r.status, r.json()["error"]["code"]), (404, "not_found"))
        self.assertIn('no page file "nope.js"', r.json()["error"]["message"])

    def test_the_api_still_needs_the_key(self):
        r = self.get("/models")
        self.assertEqual((r.status, r.json()["error"]["code"]), (403, "forbidden"))

    # ---- the browser ----

    def test_browser(self):
        if not os.path.exists(CHROMIUM):
            self.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/lib/deps.sh)")
        for _ in range(SEEDED_REQUESTS):
            r = self.st.request("POST", "/generate-image", {"prompt": "a lighthouse at dusk",
                                                            "numberOfImages": SEEDED_PER_REQUEST},
                                headers={"x-api-key": KEY})
            self.assertEqual(r.status, 200, r.body[:300])
        # The filtered prompt and the retired model the page must explain.
        status, _ = self.st.bedrock_control("POST", "faults", {"block_words": ["dragon"],
                                                               "retired_models": ["stability.sd3-5-large-v1:0"]})
        self.assertEqual(status, 200)
        shutil.rmtree(SHOTS, ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix="imagegen-web-")
        try:
            png = os.path.join(tmp, "scene.png")
            scene_png(png)
            env = dict(os.environ, IMAGEGEN_CHROMIUM=CHROMIUM,
                       IMAGEGEN_WEB_IMAGES=str(SEEDED_REQUESTS * SEEDED_PER_REQUEST + 3),
                       NODE_PATH=os.path.join(SOURCE_DIR, "node_modules"))
            run = subprocess.run(["node", PAGE_JS, self.st.api_url + "/", KEY, TINY, png, SHOTS, self.st.bedrock_url],
                                 env=env, cwd=SOURCE_DIR, capture_output=True, text=True, timeout=240)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        lines = [l for l in run.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, "page.js said nothing:\n" + run.stdout[-2000:] + run.stderr[-3000:])
        verdict = json.loads(lines[-1])
        for c in verdict.get("checks", []):
            print(("  ok    " if c["ok"] else "  FAIL  ") + c["name"] + ("" if c["ok"] else "  " + json.dumps(c["detail"])))
        print("screenshots: " + SHOTS + " (" + ", ".join(verdict.get("screenshots", [])) + ")")
        for where, found in (verdict.get("axe") or {}).items():
            minor = [f"{v['id']} ({v['impact']})" for v in found]
            print(f"axe {where}: " + (", ".join(minor) if minor else "no violations"))
        self.assertEqual(verdict.get("failures"), [], run.stderr[-3000:])
        self.assertTrue(verdict["ok"])
        self.assertGreaterEqual(len(verdict["checks"]), 25)
        self.assertEqual(run.returncode, 0)
        for name in ("desktop-playground.png", "desktop-gallery.png", "phone-playground.png", "phone-gallery.png"):
            with Image.open(os.path.join(SHOTS, name)) as shot:
                self.assertGreater(shot.size[0], 300, name)


if __name__ == "__main__":
    run_tests("test_web_page")
