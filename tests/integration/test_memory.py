"""No memory growth across warm invocations, measured two ways in one bootstrap:
- what malloc holds (each "request complete" line's heapKb, less luaKb, the policy's Lua state,
  whose garbage comes and goes with its collector; and Lua's live data, the least luaKb between
  collections): exact, so a leak of a few hundred bytes per request shows over a run, while
  fragmentation does not count;
- the resident set and the open file descriptors, from /proc: what the container pays.
Three runs: 10,000 invocations of generations, rejections and policy answers; 2,500 of the edit
routes (support_edits.py: inline images and masks, OpenAI forms with and without a mask, an
upload fetched from S3, POST /uploads, and their refusals); 300 jobs (support_jobs.py: POST /jobs,
the worker's invocation, GET /jobs/{id} until done; one in five failed by the model; GET /images
after each) with dynalite as DynamoDB. Each compares the largest figure of the first fifth after
its warm-up with the largest of the last fifth: every kind of request comes in both, so the
largest answer held at the end of a request is the same, and growth between them is a leak (for
Lua, the least of each fifth). malloc's figure and Lua's live data may each grow by at most
256 kB. The resident set is reported, and held under 48 MB only: glibc's heap reuses freed
image-sized blocks in an order that depends on the requests before, so it reaches its plateau in
steps of a megabyte or more at times no test can predict (a leak shows in malloc's figure).

The sanitizer build keeps freed memory in quarantine on purpose, so neither figure means anything
there: that build checks leaks with LeakSanitizer at exit instead, and this test says so and runs
a short loop only."""
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


HEAP_GROWTH_KB = 256
LUA_GROWTH_KB = 256
# The resident set's ceiling: about three times the plateau of one environment (14-17 MB).
RSS_LIMIT_KB = 48 * 1024


def heap_figures(st, pid_env):
    """(C heap kB, Lua kB) of each invocation of one environment, in order, from its summary lines."""
    out = []
    for env, o in st.function_json(pid_env):
        if o.get("message") in ("request complete", "job invocation complete") and "heapKb" in o:
            out.append((o["heapKb"] - o["luaKb"], o["luaKb"]))
    return out


def fifths(values):
    """The first and the last fifth of values."""
    n = max(1, len(values) // 5)
    return values[:n], values[-n:]


class MemoryTest(unittest.TestCase):
    def check_heap(self, label, figures, skip):
        """Asserts that the C heap and the Lua state are no larger in the last fifth of figures[skip:]
        than in the first, beyond the bounds above."""
        first, last = fifths(figures[skip:])
        c_growth = max(c for c, _ in last) - max(c for c, _ in first)
        # Lua's collector lets garbage pile up to about twice the live data between cycles: the
        # least the state holds in a fifth (just after a cycle) is its live data
        lua_growth = min(lu for _, lu in last) - min(lu for _, lu in first)
        print("%s: malloc holds at most %d kB outside Lua in the first fifth of %d invocations, %d kB in the last "
              "(growth %d kB); Lua's live data %d kB, then %d kB (growth %d kB)"
              % (label, max(c for c, _ in first), len(figures) - skip, max(c for c, _ in last), c_growth,
                 min(lu for _, lu in first), min(lu for _, lu in last), lua_growth))
        if stack.SANITIZE:
            return
        self.assertGreater(max(c for c, _ in first), 0, "no heap figure: the C library gives none")
        self.assertLessEqual(c_growth, HEAP_GROWTH_KB, "malloc holds more and more")
        self.assertLessEqual(lua_growth, LUA_GROWTH_KB, "the policy's Lua state grows")

    def test_no_growth_over_ten_thousand_invocations(self):
        total = 300 if stack.SANITIZE else 10000
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
            figures = heap_figures(st, list(st.env_pids())[0])
            self.assertEqual(len(figures), total)
            self.check_heap("generations", figures, 100)
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(rss_kb(pid), RSS_LIMIT_KB, "the resident set passed its ceiling")

    def test_no_growth_over_edit_invocations(self):
        total, warm = (300, 50) if stack.SANITIZE else (2500, 500)
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
            figures = heap_figures(st, list(st.env_pids())[0])
            self.assertEqual(len(figures), total + 1)  # and the upload's POST /uploads before them
            self.check_heap("edits", figures[1:], warm)
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(rss_kb(pid), RSS_LIMIT_KB, "the resident set passed its ceiling")

    def test_no_growth_over_job_invocations(self):
        total, warm = (20, 5) if stack.SANITIZE else (300, 50)
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
            figures = heap_figures(st, list(st.env_pids())[0])
            # each job: POST /jobs, its worker's invocation, its polls and GET /images
            self.assertEqual(len(figures), total * 3 + polls)
            self.check_heap("jobs", figures, len(figures) * warm // total)
            if stack.SANITIZE:
                print("sanitizer build: RSS not compared (ASan quarantine); leaks are checked at exit")
            else:
                self.assertLessEqual(rss_kb(pid), RSS_LIMIT_KB, "the resident set passed its ceiling")


if __name__ == "__main__":
    run_tests("memory")
