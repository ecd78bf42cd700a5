"""Global rate limits (rate_limit.backend "dynamodb") on the local stack: two execution
environments (the gateway's --concurrency 2) count against one limit kept in dynalite, so 2N
concurrent requests against a limit of N give exactly N successes and N 429s; a failure on the
service side gives its count back; with DynamoDB
stopped mid-run the configured on_store_error holds (open: served uncounted; closed: 503
rate_limit_unavailable), logged, and no environment crashes."""
import hashlib
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

N = 5
WINDOW = 600
BODY = {"prompt": "a lighthouse at dusk", "model": "stability.stable-image-core-v1:1"}
KEYS = [{"id": "k-%d" % i, "value": "key-%d-0123456789abcdef" % i, "name": "k%d" % i} for i in range(5)]


def policy(on_store_error):
    return policy_with(
        'c.rate_limit.enabled = true\n'
        'c.rate_limit.backend = "dynamodb"\n'
        'c.rate_limit.on_store_error = "%s"\n'
        'c.rate_limit.tiers.default = { rate = 1, burst = %d, window = %d }\n' % (on_store_error, N, WINDOW))


def stack(on_store_error):
    return Stack(policy_dir=policy(on_store_error), concurrency=2, function_timeout=20, timeout=25,
                 api_keys=KEYS, env={"IMAGEGEN_RATE_LIMIT": "on"})


def client_hash(client):
    """How the counter's key names a client: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]


def clear_of_window_end(margin=20.0):
    """Waits until the current window has at least `margin` seconds left, so that one burst of
    requests is counted in one window (fixed windows start at multiples of WINDOW, epoch)."""
    left = WINDOW - time.time() % WINDOW
    if left < margin:
        time.sleep(left + 0.5)


def post(st, key, results=None, index=None):
    r = st.request("POST", "/generate-image", BODY, headers={"x-api-key": key["value"]})
    if results is not None:
        results[index] = r
    return r


class GlobalLimitTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.st = stack("open").start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def test_two_environments_share_one_limit(self):
        key = KEYS[0]
        self.assertEqual(self.st.bedrock_control("POST", "reset")[0], 200)
        clear_of_window_end()
        results = [None] * (2 * N)
        start = threading.Barrier(2 * N)

        def one(i):
            start.wait()
            post(self.st, key, results, i)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2 * N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] * N + [429] * N, [(r.status, r.body[:200]) for r in results])
        ok = [r for r in results if r.status == 200]
        refused = [r for r in results if r.status == 429]
        # each success took one of the window's N: remaining N-1 .. 0, each once
        self.assertEqual(sorted(int(r.headers["RateLimit-Remaining"]) for r in ok), list(range(N)))
        for r in ok + refused:
            self.assertEqual(r.headers["RateLimit-Limit"], str(N))
            self.assertLessEqual(int(r.headers["RateLimit-Reset"]), WINDOW)
        for r in refused:
            error = r.json()["error"]
            self.assertEqual(error["code"], "rate_limited")
            self.assertRegex(error["message"], r"^rate limit reached for this API key; try again in \d+ seconds?$")
            self.assertEqual(r.headers["RateLimit-Remaining"], "0")
            retry = int(r.headers["Retry-After"])
            self.assertTrue(1 <= retry <= WINDOW, retry)
            self.assertEqual(r.headers["RateLimit-Reset"], r.headers["Retry-After"])
        # both environments served: the limit held across them, not within one
        served = {env for env, o in self.st.function_json() if o.get("message") == "request complete"}
        self.assertEqual(served, {"env-1", "env-2"})
        # Bedrock was called only for the N that were counted
        self.assertEqual(self.st.bedrock_control("GET", "stats")[1]["invoke_requests"], N)

    def test_the_count_is_kept_in_the_table(self):
        key = KEYS[1]
        clear_of_window_end()
        self.assertEqual(post(self.st, key).status, 200)
        self.assertEqual(post(self.st, key).status, 200)
        window = int(time.time()) // WINDOW * WINDOW
        item = self.st.dynamodb_client().get_item(
            TableName=self.st.table, Key={"pk": {"S": "rl#%s#%d" % (client_hash("key:k-1"), window)}, "sk": {"S": "rl"}},
            ConsistentRead=True)["Item"]
        self.assertEqual(item["n"], {"N": "2"})
        self.assertEqual(int(item["expires_at"]["N"]), window + WINDOW + 60)

    def test_an_upload_form_counts_one_request_and_says_so(self):
        key = KEYS[4]
        clear_of_window_end()
        r = self.st.request("POST", "/uploads", {"contentType": "image/png"}, headers={"x-api-key": key["value"]})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers["RateLimit-Limit"], str(N))
        self.assertLess(int(r.headers["RateLimit-Remaining"]), N)

    def test_a_failure_on_the_service_side_gives_its_count_back(self):
        key = KEYS[3]
        clear_of_window_end(60)
        self.assertEqual(self.st.bedrock_control("POST", "faults", {"server_error": {"every": 1}})[0], 200)
        try:
            for _ in range(N + 1):  # more failures than the limit: each was given back
                r = post(self.st, key)
                self.assertEqual(r.status, 502, r.body)
                self.assertEqual(r.headers["RateLimit-Remaining"], str(N))
        finally:
            self.st.bedrock_control("POST", "reset")
        served = [post(self.st, key).status for _ in range(N)]
        self.assertEqual(served, [200] * N)
        self.assertEqual(post(self.st, key).status, 429)
        window = int(time.time()) // WINDOW * WINDOW
        item = self.st.dynamodb_client().get_item(
            TableName=self.st.table, Key={"pk": {"S": "rl#%s#%d" % (client_hash("key:k-3"), window)}, "sk": {"S": "rl"}},
            ConsistentRead=True)["Item"]
        self.assertEqual(item["n"], {"N": str(N)})


class StoreStoppedTest(unittest.TestCase):
    def check_stopped(self, on_store_error, status, code):
        with stack(on_store_error) as st:
            key = KEYS[2]
            r = post(st, key)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.headers["RateLimit-Limit"], str(N))
            pids = st.env_pids()
            st.exit_codes["dynamodb"] = st.dynamodb.stop()
            for _ in range(2):
                r = post(st, key)
                self.assertEqual(r.status, status, r.body)
                self.assertIsNone(r.headers.get("RateLimit-Remaining"))
                if code:
                    self.assertEqual(r.json()["error"]["code"], code)
            warned = [o for _, o in st.function_json()
                      if o.get("message") == "rate limit store unavailable; failing " + on_store_error]
            self.assertTrue(warned, st.gateway.text()[-3000:])
            self.assertEqual(warned[0]["level"], "WARN")
            self.assertEqual(warned[0]["failures"], 1)
            self.assertEqual(st.env_pids(), pids)  # no environment crashed or was replaced
            self.assertEqual(st.stop().get("gateway"), 0)

    def test_open_serves_uncounted(self):
        self.check_stopped("open", 200, None)

    def test_closed_answers_503(self):
        self.check_stopped("closed", 503, "rate_limit_unavailable")


if __name__ == "__main__":
    run_tests("global_limits")
