"""The warm loop of bootstrap under Valgrind memcheck, through the whole local stack: generations
(one and several images), refusals, policy answers and a model failure, then every input path of
the edits twice (support_edits.py: an inline image, an inline mask, an OpenAI form with a mask
made through libpng and one without, an upload fetched from S3 by its key, POST /uploads, and
the refusals: bad base64, a truncated PNG, a PNG whose header lies, a malformed form, a form
without a boundary, a token in a prompt, another owner's upload, an absent one), then jobs
through the worker's invocation (support_jobs.py: one that succeeds and one the model refuses,
each polled with GET /jobs/{id}, an unknown job, and GET /images over the records), then a clean
exit. The stack runs dynalite, so every stored image's record is written under memcheck too. Any memory error, or any definitely or indirectly lost block, fails the test.

Valgrind and AddressSanitizer cannot run together: in the sanitizer build this test says so and
checks nothing (that build runs the same paths under ASan and LeakSanitizer instead)."""
import glob
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402
from support_edits import edit_requests, upload  # noqa: E402
from support_jobs import JOB_FAILS, JOB_GOOD, UNKNOWN_JOB, job_round  # noqa: E402

JSON = {"Content-Type": "application/json"}


class ValgrindWarmLoopTest(unittest.TestCase):
    def test_warm_loop_is_clean_under_memcheck(self):
        if stack.SANITIZE:
            print("sanitizer build: Valgrind does not run beside ASan; ASan/LSan cover these paths here")
            return
        if not shutil.which("valgrind"):
            self.fail("valgrind is not installed (scripts/lib/deps.sh installs it)")
        logs = tempfile.mkdtemp(prefix="imagegen-valgrind-")
        bootstrap = os.path.join(stack.BUILD_DIR, "bootstrap")
        cmd = ["valgrind", "--tool=memcheck", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
               "--track-origins=no", "--log-file=" + os.path.join(logs, "vg.%p.log"), bootstrap]
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1, function=cmd, init_timeout=60, timeout=60,
                   function_timeout=60, dynamodb=True) as st:
            statuses = []
            for i in range(40):
                if i % 4 == 0:
                    r = st.request("POST", "/generate-image",
                                   {"prompt": "valgrind %d" % i, "width": 512, "height": 512,
                                    "numberOfImages": 1 + i % 3}, JSON, timeout=120)
                    statuses.append(r.status)
                    self.assertEqual(r.status, 200, r.body)
                else:
                    path = ["/health", "/models", "/generate-image?prompt=x&width=10abc", "/generate-image?prompt=x&outputFormat=gif"][i % 4]
                    r = st.request("GET", path, timeout=120)
                    self.assertLess(r.status, 500, (path, r.body))
            st.bedrock_control("POST", "faults", {"throttle": {"every": 1}})
            r = st.request("GET", "/generate-image?prompt=throttled&width=512&height=512", timeout=120)
            self.assertEqual(r.status, 429, r.body)
            st.bedrock_control("POST", "faults", {"throttle": None})
            # The edits: small images, each request twice (Valgrind is slow).
            good, bad = edit_requests(upload(st.api_url))
            for _ in range(2):
                for name, method, path, body, headers in good:
                    r = st.request(method, path, body, headers, timeout=120)
                    self.assertEqual(r.status, 200, (name, r.body[:300]))
                for name, method, path, body, headers in bad:
                    r = st.request(method, path, body, headers, timeout=120)
                    self.assertTrue(400 <= r.status < 500, (name, r.status, r.body[:300]))
            self.run_jobs(st)
        reports = glob.glob(os.path.join(logs, "vg.*.log"))
        texts = [open(p).read() for p in reports]
        # the bootstrap process (valgrind follows no children; one log per environment)
        mine = [t for t in texts if "bootstrap" in t]
        self.assertTrue(mine, "no Valgrind report: %s" % reports)
        for t in mine:
            self.assertIn("HEAP SUMMARY", t, t[-2000:])
            summary = re.search(r"ERROR SUMMARY: (\d+) errors", t)
            self.assertIsNotNone(summary, t[-2000:])
            self.assertEqual(summary.group(1), "0", t[-4000:])
            # The gateway stops its environment with SIGTERM while it waits in GET /next, so
            # memory still in use then is expected; nothing may be lost.
            for kind in ("definitely lost", "indirectly lost"):
                m = re.search(kind + r": ([\d,]+) bytes", t)
                self.assertIsNotNone(m, t[-2000:])
                self.assertEqual(m.group(1), "0", t[-4000:])
            usage = re.search(r"total heap usage: ([\d,]+) allocs", t)
            self.assertIsNotNone(usage, t[-2000:])
            self.assertGreater(int(usage.group(1).replace(",", "")), 10000, "too little work to judge")
            print(usage.group(0) + "; " + "; ".join(re.findall(r"(?:definitely|indirectly) lost: [\d,]+ bytes", t)))
        if os.environ.get("IMAGEGEN_KEEP_LOGS") != "1":
            shutil.rmtree(logs, ignore_errors=True)

    def run_jobs(self, st):
        """Jobs through the worker: one succeeded, one failed (the model refuses its prompt),
        an unknown job, and the caller's images."""
        host, port = st.api_url[len("http://"):].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        status, doc, _ = job_round(conn, JOB_GOOD, timeout=120, interval=0.2)
        self.assertEqual(status, "succeeded", doc)
        self.assertEqual(len(doc["result"]["images"]), 1, doc)
        self.assertEqual(st.bedrock_control("POST", "faults", {"block_words": ["dragon"]})[0], 200)
        status, doc, _ = job_round(conn, JOB_FAILS, timeout=120, interval=0.2)
        self.assertEqual((status, doc["error"]["code"]), ("failed", "content_filtered"), doc)
        self.assertEqual(st.bedrock_control("POST", "faults", {"block_words": []})[0], 200)
        r = st.request("GET", UNKNOWN_JOB, timeout=120)
        self.assertEqual(r.status, 404, r.body)
        r = st.request("GET", "/images?limit=3", timeout=120)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(r.json()["images"]), 3, r.body[:300])
        ran = [(o["status"], o["recorded"]) for _, o in st.function_json() if o.get("message") == "job finished"]
        self.assertEqual(ran, [("succeeded", True), ("failed", True)], "the worker's invocations")
        print("jobs through the worker: %s" % ran)
        conn.close()


if __name__ == "__main__":
    run_tests("valgrind-warm")
