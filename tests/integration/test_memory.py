"""No memory growth across warm invocations: the resident set of one bootstrap after 100 and
after 10,000 invocations (generations, rejections, policy answers) stays within 1 MB.

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


if __name__ == "__main__":
    run_tests("memory")
