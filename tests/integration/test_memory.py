"""No memory growth across warm invocations: the resident set of one bootstrap after 100 and
after 10,000 invocations (generations, rejections, policy answers) stays within 1 MB; and after
500 and 2,500 invocations of the edit routes (support_edits.py: inline images and masks, OpenAI
forms with and without a mask, an upload fetched from S3, POST /uploads, and their refusals), and
its open file descriptors do not grow. The edits' answers differ in size with their kind (an
image-to-image answer is a 1-megapixel PNG, an upscale's 256x256), so they compare the largest of
the samples taken every 50 invocations in the first fifth after a warm-up of 500 with the largest
in the last fifth: a leak of one image per request would add megabytes, while the heap itself
settles within about 100 kB over the run. (That holds because bootstrap fixes glibc's mmap
threshold: with the default sliding one, image-sized buffers moved into the heap after a few
requests and the resident set climbed by up to 3 MB in steps that depended on request order.) And over 300 jobs
(support_jobs.py: POST /jobs, the worker's invocation, GET /jobs/{id} until done; one job in
five failed by the model; GET /images after each) with dynalite as DynamoDB, compared the same
way in samples taken every 10 jobs after a warm-up of 50, with the same 1 MB bound.

The sanitizer build keeps freed memory in quarantine on purpose, so RSS means nothing there:
that build checks leaks with LeakSanitizer at exit instead, and this test says so and runs a
short loop only."""
import http.client
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402
from support_edits import edit_requests, upload  # noqa: E402
from support_jobs import JOB_FAILS, JOB_GOOD, job_round  # noqa: E402


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class MemoryTest(unittest.TestCase):
    def test_rss_flat_over_ten_thousand_invocations(self):
        total = 1000 if stack.SANITIZE else 10000
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1) as st:
            pid = list(st.env_pids().values())[0]
            host, port = st.api_url[len("http://"):].split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            gen = json.dumps({"prompt": "memory probe", "width": 512, "height": 512, "seed": 5})
            requests = [
                ("POST", "/generate-image", gen),
                ("GET", "/health", None),
                ("GET", "/generate-image?prompt=x&width=10abc", None),
                ("POST", "/generate-image", "{broken"),
                ("GET", "/models", None),
                ("GET", "/generate-image?prompt=x&aspectRatio=7:3", None),
            ]
            rss = {}
            for i in range(1, total + 1):
                method, path, body = requests[0] if i % 25 == 0 else requests[1 + i % 5]
                headers = {"Content-Type": "application/json"} if body else {}
                conn.request(method, path, body, headers)
                r = conn.getresponse()
                r.read()
                self.assertLess(r.status, 500, (method, path))
                if i in (100, total):
                    time.sleep(0.2)
                    rss[i] = rss_kb(pid)
            conn.close()
            self.assertEqual(list(st.env_pids().values()), [pid], "the environment was replaced")
            growth = rss[total] - rss[100]
            print("bootstrap RSS after 100: %d kB, after %d: %d kB, growth %d kB" % (rss[100], total, rss[total], growth))
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(growth, 1024)

    def test_rss_and_fds_flat_over_edit_invocations(self):
        total, warm = (600, 100) if stack.SANITIZE else (2500, 500)
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1) as st:
            pid = list(st.env_pids().values())[0]
            good, bad = edit_requests(upload(st.api_url))
            host, port = st.api_url[len("http://"):].split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            samples = []  # (invocation, RSS kB, open fds)
            for i in range(1, total + 1):
                # one good edit in four, each kind in turn; the refusals between them
                kind, requests = ("good", good) if i % 4 == 0 else ("bad", bad)
                name, method, path, body, headers = requests[(i // 4 if kind == "good" else i) % len(requests)]
                conn.request(method, path, body, headers)
                r = conn.getresponse()
                r.read()
                if kind == "good":
                    self.assertEqual(r.status, 200, name)
                else:
                    self.assertTrue(400 <= r.status < 500, (name, r.status))
                if i >= warm and i % 50 == 0:
                    samples.append((i, rss_kb(pid), fd_count(pid)))
            conn.close()
            self.assertEqual(list(st.env_pids().values()), [pid], "the environment was replaced")
            fifth = len(samples) // 5
            first, last = samples[:fifth], samples[-fifth:]
            growth = max(r for _, r, _ in last) - max(r for _, r, _ in first)
            print("edits: bootstrap RSS at most %d kB in invocations %d-%d, %d kB in %d-%d: growth %d kB; "
                  "open fds at most %d, then %d" % (max(r for _, r, _ in first), first[0][0], first[-1][0],
                                                    max(r for _, r, _ in last), last[0][0], last[-1][0], growth,
                                                    max(f for _, _, f in first), max(f for _, _, f in last)))
            self.assertLessEqual(max(f for _, _, f in last), max(f for _, _, f in first), "file descriptors grew")
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(growth, 1024)

    def test_rss_and_fds_flat_over_job_invocations(self):
        total, warm = (60, 10) if stack.SANITIZE else (300, 50)
        policy = policy_with("c.rate_limit.enabled = false")
        with Stack(policy_dir=policy, concurrency=1, function_timeout=20, timeout=25) as st:
            self.assertIsNotNone(st.dynamodb_url, "the stack runs without DynamoDB: no jobs")
            pid = list(st.env_pids().values())[0]
            self.assertEqual(st.bedrock_control("POST", "faults", {"block_words": ["dragon"]})[0], 200)
            host, port = st.api_url[len("http://"):].split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            samples, polls = [], 0  # (job, RSS kB, open fds)
            for i in range(1, total + 1):
                want = "failed" if i % 5 == 0 else "succeeded"
                status, doc, n = job_round(conn, JOB_FAILS if want == "failed" else JOB_GOOD)
                polls += n
                self.assertEqual(status, want, doc)
                conn.request("GET", "/images?limit=5")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                if i >= warm and i % 10 == 0:
                    samples.append((i, rss_kb(pid), fd_count(pid)))
            conn.close()
            self.assertEqual(list(st.env_pids().values()), [pid], "the environment was replaced")
            ran = [o for _, o in st.function_json() if o.get("message") == "job finished"]
            self.assertEqual(len(ran), total, "every job ran once in the worker's invocation")
            fifth = max(1, len(samples) // 5)
            first, last = samples[:fifth], samples[-fifth:]
            growth = max(r for _, r, _ in last) - max(r for _, r, _ in first)
            print("jobs: %d jobs, %d polls; bootstrap RSS at most %d kB in jobs %d-%d, %d kB in %d-%d: growth %d kB; "
                  "open fds at most %d, then %d" % (total, polls, max(r for _, r, _ in first), first[0][0],
                                                    first[-1][0], max(r for _, r, _ in last), last[0][0],
                                                    last[-1][0], growth, max(f for _, _, f in first),
                                                    max(f for _, _, f in last)))
            self.assertLessEqual(max(f for _, _, f in last), max(f for _, _, f in first), "file descriptors grew")
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(growth, 1024)


if __name__ == "__main__":
    run_tests("memory")
