"""Jobs end to end on the local stack (dynalite as DynamoDB, the gateway's Invoke API as Lambda's
asynchronous queue, the real bootstrap as API and worker): POST /jobs, polling GET /jobs/{id},
edits as jobs (inline images and uploads, kept in S3 for the worker), idempotency, owners, a
worker killed mid-job, DynamoDB stopped, and the routes without a table."""
import base64
import os
import re
import secrets
import signal
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from policy_copy import policy_with  # noqa: E402
from stack import SANITIZE, Stack, http_call, run_tests  # noqa: E402
from support_edits import png, upload  # noqa: E402

ALICE, BOB = "alice-key-0123456789abcdef", "bob-key-0123456789abcdef"
CORE = "stability.stable-image-core-v1:1"
BODY = {"prompt": "a lighthouse at dusk", "model": CORE}
SLOW = 3 if SANITIZE else 1


class JobsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.policy = policy_with("c.rate_limit.enabled = false")
        # A request may take 2.5 s (as API Gateway's 29 s, scaled down); a job the function's 20 s.
        cls.st = Stack(policy_dir=cls.policy, function_timeout=20, timeout=25,
                       env={"IMAGEGEN_REQUEST_BUDGET_MS": "2500", "IMAGEGEN_UPLOAD_RESERVE_MS": "500"},
                       gateway_args=["--async-retry-delay", "0.2"],
                       api_keys=[{"id": "k-alice", "value": ALICE, "name": "alice"},
                                 {"id": "k-bob", "value": BOB, "name": "bob"}]).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def setUp(self):
        self.assertEqual(self.st.bedrock_control("POST", "reset")[0], 200)

    def post_job(self, body=None, key=ALICE, headers=None):
        h = {"x-api-key": key, "Content-Type": "application/json"}
        h.update(headers or {})
        return self.st.request("POST", "/jobs", BODY if body is None else body, headers=h)

    def get_job(self, job_id, key=ALICE):
        return self.st.request("GET", "/jobs/" + job_id, headers={"x-api-key": key})

    def poll(self, job_id, until=("succeeded", "failed"), key=ALICE, timeout=30.0):
        """The job's answers until its status is one of `until`; the last one."""
        end = time.monotonic() + timeout * SLOW
        while True:
            r = self.get_job(job_id, key)
            self.assertEqual(r.status, 200, r.body)
            if r.json()["status"] in until or time.monotonic() > end:
                return r.json()
            time.sleep(0.1)

    def wait_job_line(self, message, job_id, timeout=10.0):
        """The environment that wrote the function's line `message` about job_id."""
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            for env, o in self.st.function_json():
                if o.get("message") == message and o.get("jobId") == job_id:
                    return env
            time.sleep(0.05)
        self.fail(f"no {message!r} line for job {job_id}")

    # ---- the round trip ----

    def test_a_job_is_queued_then_succeeds_with_urls_that_serve_the_images(self):
        r = self.post_job(dict(BODY, numberOfImages=2))
        self.assertEqual(r.status, 202, r.body)
        created = r.json()
        self.assertEqual(set(created), {"id", "status", "statusUrl"})
        self.assertEqual(created["status"], "queued")
        self.assertRegex(created["id"], r"^[0-9a-f]{32}$")
        self.assertEqual(created["statusUrl"], self.st.api_url + "/jobs/" + created["id"])
        done = self.poll(created["id"])
        self.assertEqual(done["status"], "succeeded", done)
        self.assertNotIn("error", done)
        images = done["result"]["images"]
        self.assertEqual(len(images), 2)
        self.assertEqual(done["result"]["model"], CORE)
        for im in images:
            self.assertEqual(im["format"], "png")
            self.assertIsInstance(im["seed"], int)
            with urllib.request.urlopen(im["url"], timeout=30) as f:
                self.assertEqual(f.read()[:8], b"\x89PNG\r\n\x1a\n")
        # Each poll presigns afresh; the keys stay.
        again = self.get_job(created["id"]).json()
        self.assertEqual([i["key"] for i in again["result"]["images"]], [i["key"] for i in images])
        # The worker ran under the function's deadline, in an invocation of its own.
        ran = [o for _, o in self.st.function_json() if o.get("message") == "job finished" and o.get("jobId") == created["id"]]
        self.assertEqual([(o["status"], o["recorded"]) for o in ran], [("succeeded", True)])

    def test_a_failed_generation_is_a_failed_job_with_its_code(self):
        self.assertEqual(self.st.bedrock_control("POST", "faults", {"block_words": ["dragon"]})[0], 200)
        r = self.post_job(dict(BODY, prompt="a dragon over the sea"))
        self.assertEqual(r.status, 202, r.body)
        done = self.poll(r.json()["id"])
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(set(done["error"]), {"code", "message"})
        self.assertEqual(done["error"]["code"], "content_filtered")
        self.assertNotIn("result", done)

    def test_a_model_slower_than_the_request_budget_times_out_synchronously_but_not_as_a_job(self):
        self.assertEqual(self.st.bedrock_control("POST", "faults", {"latency_ms": 3500})[0], 200)
        sync = self.st.request("POST", "/generate-image", BODY,
                               headers={"x-api-key": ALICE, "Content-Type": "application/json"})
        self.assertEqual(sync.status, 504, sync.body)
        self.assertEqual(sync.json()["error"]["code"], "timeout")  # the function's answer, not the gateway's
        r = self.post_job()
        self.assertEqual(r.status, 202, r.body)
        done = self.poll(r.json()["id"])
        self.assertEqual(done["status"], "succeeded", done)
        self.assertEqual(len(done["result"]["images"]), 1)

    # ---- idempotency and owners ----

    def test_an_idempotency_key_returns_the_first_job(self):
        key = {"Idempotency-Key": "order-" + secrets.token_hex(8)}
        first = self.post_job(headers=key)
        second = self.post_job(headers=key)
        self.assertEqual((first.status, second.status), (202, 202), (first.body, second.body))
        self.assertEqual(first.json()["id"], second.json()["id"])
        other = self.post_job(headers={"Idempotency-Key": "order-" + secrets.token_hex(8)})
        self.assertNotEqual(other.json()["id"], first.json()["id"])
        # The same key is Bob's own: another job.
        bobs = self.post_job(key=BOB, headers=key)
        self.assertEqual(bobs.status, 202)
        self.assertNotEqual(bobs.json()["id"], first.json()["id"])
        self.assertEqual(self.poll(first.json()["id"])["status"], "succeeded")
        # Only one job ran for Alice's two requests.
        ran = [o for _, o in self.st.function_json() if o.get("message") == "job running"
               and o.get("jobId") == first.json()["id"]]
        self.assertEqual(len(ran), 1)
        bad = self.post_job(headers={"Idempotency-Key": "has a space"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json()["error"]["code"], "invalid_parameter")

    def test_another_owners_job_and_an_unknown_job_are_404(self):
        job_id = self.post_job().json()["id"]
        for key, path in ((BOB, "/jobs/" + job_id), (ALICE, "/jobs/" + secrets.token_hex(16)),
                          (ALICE, "/jobs/not-a-job")):
            with self.subTest(path=path):
                r = self.st.request("GET", path, headers={"x-api-key": key})
                self.assertEqual(r.status, 404, r.body)
                self.assertEqual(r.json()["error"]["code"], "not_found")
        self.assertEqual(self.poll(job_id)["status"], "succeeded")

    def test_bad_bodies_are_refused_as_on_generate_image(self):
        for body, code in (("", "invalid_body"), ("{", "invalid_body"), ({"prompt": "x", "nope": 1}, "unknown_parameter"),
                           ({"prompt": ""}, "invalid_prompt"), ({"prompt": "x", "numberOfImages": 99}, "invalid_parameter")):
            with self.subTest(body=body):
                r = self.post_job(body)
                sync = self.st.request("POST", "/generate-image", body,
                                       headers={"x-api-key": ALICE, "Content-Type": "application/json"})
                self.assertEqual((r.status, r.json()["error"]["code"]), (400, code), r.body)
                self.assertEqual(sync.json()["error"]["code"], code)

    # ---- edits as jobs ----

    def edit_body(self, **more):
        body = {"task": "inpaint", "prompt": "a lamp", "image": base64.b64encode(png(64, 64)).decode(),
                "mask": base64.b64encode(png(64, 64, alpha=False, seed=3)).decode()}
        body.update(more)
        return body

    def test_an_edit_with_inline_images_runs_as_a_job(self):
        r = self.post_job(self.edit_body())
        self.assertEqual(r.status, 202, r.body)
        job_id = r.json()["id"]
        done = self.poll(job_id)
        self.assertEqual(done["status"], "succeeded", done)
        [im] = done["result"]["images"]
        with urllib.request.urlopen(im["url"], timeout=30) as f:
            self.assertEqual(f.read()[:8], b"\x89PNG\r\n\x1a\n")
        # The image and the mask were kept for the worker under the caller's uploads folder, named
        # by the job, and are the bytes the request carried.
        keys = self.kept_inputs(job_id)
        self.assertEqual(len(keys), 2, keys)
        got = sorted(http_call("%s/%s/%s" % (self.st.s3rver_url, self.st.bucket, k)).body for k in keys)
        self.assertEqual(got, sorted(base64.b64decode(self.edit_body()[m]) for m in ("image", "mask")))

    def kept_inputs(self, job_id):
        listing = http_call("%s/%s?prefix=uploads/" % (self.st.s3rver_url, self.st.bucket))
        self.assertEqual(listing.status, 200, listing.body[:300])
        return [k for k in re.findall(r"<Key>([^<]+)</Key>", listing.body.decode()) if job_id in k]

    def test_an_edit_of_an_upload_runs_as_a_job(self):
        key = upload(self.st.api_url, headers={"x-api-key": ALICE})
        r = self.post_job({"task": "upscale-fast", "image": {"upload": key}})
        self.assertEqual(r.status, 202, r.body)
        done = self.poll(r.json()["id"])
        self.assertEqual(done["status"], "succeeded", done)
        self.assertEqual(len(done["result"]["images"]), 1)
        # Bob cannot run a job on Alice's upload: refused before anything is queued.
        bobs = self.post_job({"task": "upscale-fast", "image": {"upload": key}}, key=BOB)
        self.assertEqual((bobs.status, bobs.json()["error"]["code"]), (404, "not_found"), bobs.body)
        # An upload is read where it is: nothing is copied for the job.
        self.assertEqual(self.kept_inputs(r.json()["id"]), [])

    def test_bad_edit_jobs_are_refused_as_on_edit_image(self):
        for body in ({"task": "no-such-task", "image": "aGk="}, {"task": "upscale-fast", "image": "@@not base64@@"},
                     {"task": "inpaint", "prompt": "x"}, self.edit_body(strength=7)):
            with self.subTest(body=str(body)[:60]):
                r = self.post_job(body)
                sync = self.st.request("POST", "/edit-image", body,
                                       headers={"x-api-key": ALICE, "Content-Type": "application/json"})
                self.assertEqual(r.status, sync.status, (r.body, sync.body))
                self.assertGreaterEqual(r.status, 400)
                self.assertEqual(r.json()["error"]["code"], sync.json()["error"]["code"])

    def test_an_edit_job_whose_input_is_gone_fails_with_input_missing(self):
        self.assertEqual(self.st.bedrock_control("POST", "faults", {"latency_ms": 1500})[0], 200)
        job_id = self.post_job(self.edit_body()).json()["id"]
        self.assertEqual(self.poll(job_id, until=("running",))["status"], "running")
        worker_env = self.wait_job_line("job running", job_id)
        os.kill(self.st.env_pids()[worker_env], signal.SIGKILL)  # Lambda will retry the event
        # Meanwhile the kept input leaves the bucket (an operator's cleanup, a lifecycle rule).
        keys = self.kept_inputs(job_id)
        self.assertEqual(len(keys), 2, keys)  # the image and the mask, under the job's id
        for k in keys:
            self.assertEqual(http_call("%s/%s/%s" % (self.st.s3rver_url, self.st.bucket, k), "DELETE").status, 204)
        self.st.bedrock_control("POST", "faults", {"latency_ms": 0})
        done = self.poll(job_id)
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done["error"]["code"], "input_missing", done)

    def test_an_idempotency_key_sent_with_another_body_is_422(self):
        key = {"Idempotency-Key": "edit-" + secrets.token_hex(8)}
        first = self.post_job(self.edit_body(), headers=key)
        again = self.post_job(self.edit_body(), headers=key)
        other = self.post_job(self.edit_body(prompt="a different lamp"), headers=key)
        self.assertEqual((first.status, again.status), (202, 202), (first.body, again.body))
        self.assertEqual(first.json()["id"], again.json()["id"])
        self.assertEqual(other.status, 422, other.body)
        self.assertEqual(other.json()["error"]["code"], "idempotency_key_reused")
        self.assertIn("Idempotency-Key", other.json()["error"]["message"])
        self.assertEqual(self.poll(first.json()["id"])["status"], "succeeded")

    # ---- a worker that dies ----

    def test_a_worker_killed_mid_job_is_retried_and_the_job_ends(self):
        self.assertEqual(self.st.bedrock_control("POST", "faults", {"latency_ms": 1500})[0], 200)
        job_id = self.post_job().json()["id"]
        self.assertEqual(self.poll(job_id, until=("running",))["status"], "running")
        worker_env = self.wait_job_line("job running", job_id)
        os.kill(self.st.env_pids()[worker_env], signal.SIGKILL)  # the gateway replaces it
        self.st.bedrock_control("POST", "faults", {"latency_ms": 0})
        done = self.poll(job_id)
        self.assertIn(done["status"], ("succeeded", "failed"))
        self.assertEqual(done["status"], "succeeded", done)
        runs = [o for _, o in self.st.function_json() if o.get("message") == "job running" and o.get("jobId") == job_id]
        self.assertEqual(len(runs), 2, runs)  # the killed attempt and Lambda's retry, with one request id
        self.assertEqual(runs[0]["requestId"], runs[1]["requestId"])
        attempts = [o for o in self.st.gateway_json("async invocation") if o.get("requestId") == runs[0]["requestId"]]
        self.assertEqual([(o["attempt"], o["outcome"]) for o in attempts][:2], [(1, "error"), (2, "success")])


class JobsStoreDownTest(unittest.TestCase):
    def test_with_dynamodb_stopped_jobs_answer_503_and_the_rest_serves(self):
        with Stack(function_timeout=20, timeout=25, policy_dir=policy_with("c.rate_limit.enabled = false")) as st:
            h = {"Content-Type": "application/json"}
            r = st.request("POST", "/jobs", BODY, headers=h)
            self.assertEqual(r.status, 202, r.body)
            job_id = r.json()["id"]
            pids = st.env_pids()
            st.exit_codes["dynamodb"] = st.dynamodb.stop()
            for method, path, body in (("POST", "/jobs", BODY), ("GET", "/jobs/" + job_id, None)):
                r = st.request(method, path, body, headers=h)
                self.assertEqual(r.status, 503, r.body)
                self.assertEqual(r.json()["error"]["code"], "jobs_unavailable")
            self.assertEqual(st.request("POST", "/generate-image", BODY, headers=h).status, 200)
            self.assertEqual(st.env_pids(), pids)  # no environment crashed or was replaced
            self.assertEqual(st.stop().get("gateway"), 0)


class JobsWithoutTableTest(unittest.TestCase):
    def test_without_a_table_the_job_routes_say_so_and_generation_works(self):
        with Stack(dynamodb=False, function_timeout=20, timeout=25,
                   policy_dir=policy_with("c.rate_limit.enabled = false")) as st:
            for method, path, body in (("POST", "/jobs", BODY), ("GET", "/jobs/" + "0" * 32, None)):
                r = st.request(method, path, body, headers={"Content-Type": "application/json"})
                self.assertEqual(r.status, 503, r.body)
                self.assertEqual(r.json()["error"]["code"], "jobs_unavailable")
                self.assertIn("IMAGEGEN_TABLE", r.json()["error"]["message"])
            r = st.request("POST", "/generate-image", BODY, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    run_tests("test_jobs")
