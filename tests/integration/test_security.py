"""Hostile input through the whole local stack, for the claims of docs/security.md that a
client can test from the outside: a prompt carrying CR/LF never reaches a header (neither the
API's answer nor the stored object's metadata), the client cannot choose an S3 key, no secret of
the credentials reaches any log line of any process, and a policy script cannot open a file, run
a command, load code or read the environment beyond its allow-list."""
import email.header
import json
import os
import re
import secrets
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from policy_copy import policy_with  # noqa: E402
from stack import Stack, run_tests  # noqa: E402

JSON = {"Content-Type": "application/json"}
KEY_RE = re.compile(r"^images/\d{4}/\d\d/\d\d/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.png$")
# s3rver accepts any signature made with the key id S3RVER, so the secret and the session token
# can be unique to this run: any occurrence in a log line is a leak, not a coincidence.
SECRET = "sEcReT" + secrets.token_hex(16)
TOKEN = "ToKeN" + secrets.token_hex(24)
HOSTILE_POLICY = os.path.join(stack.SOURCE_DIR, "tests", "data", "policies", "hostile")


class SecretStack(Stack):
    """The stack with this run's secret key and session token in every process's environment."""

    def base_env(self):
        env = super().base_env()
        env["AWS_SECRET_ACCESS_KEY"] = SECRET
        env["AWS_SESSION_TOKEN"] = TOKEN
        return env


def get(url):
    """(status, headers as a list of (name, value), body) of a plain GET."""
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.getheaders(), r.read()


def all_lines(st):
    lines = []
    for proc in (st.gateway, st.bedrock, st.s3):
        if proc is not None:
            lines += [(proc.name, line) for line in proc.lines()]
    return lines


class HostileInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The prompt goes into the object's metadata as text: the strictest case for headers.
        cls.policy = policy_with('c.rate_limit.enabled = false\nc.storage.prompt_metadata = "text"')
        cls.st = SecretStack(policy_dir=cls.policy, function_timeout=10, timeout=15).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop_clean()

    def assert_clean_headers(self, headers, where):
        for name, value in headers:
            self.assertNotIn("\r", name + value, f"{where}: {name}: {value!r}")
            self.assertNotIn("\n", name + value, f"{where}: {name}: {value!r}")
            self.assertFalse(name.lower().startswith("x-injected"), f"{where}: injected header {name}: {value!r}")
            self.assertNotEqual(name.lower(), "set-cookie", f"{where}: injected header {name}: {value!r}")

    def generate(self, method, prompt):
        if method == "GET":
            r = self.st.request("GET", "/generate-image?width=512&height=512&prompt=" + urllib.parse.quote(prompt))
        else:
            r = self.st.request("POST", "/generate-image", json.dumps({"prompt": prompt, "width": 512, "height": 512}),
                                JSON)
        return r

    def test_crlf_in_a_prompt_never_reaches_a_header(self):
        prompts = ["a fox\r\nX-Injected: yes\r\nSet-Cookie: evil=1\r\n\r\n<html>",
                   "a fox\nX-Injected: lf-only", "a fox\rX-Injected: cr-only",
                   "a fox\u0085X-Injected: nel\u2028X-Injected-2: ls"]
        for method in ("GET", "POST"):
            for prompt in prompts:
                with self.subTest(method=method, prompt=prompt):
                    r = self.generate(method, prompt)
                    self.assertEqual(r.status, 200, r.body)
                    self.assert_clean_headers(r.headers.items(), "the API's answer")
                    for img in r.json()["images"]:
                        status, headers, body = get(img["url"])
                        self.assertEqual(status, 200)
                        self.assertEqual(body[:8], b"\x89PNG\r\n\x1a\n")
                        self.assert_clean_headers(headers, "the stored object")
                        meta = {k.lower(): v for k, v in headers}
                        # The prompt did arrive, as one line of text: the injection is inert.
                        stored = urllib.parse.unquote(meta.get("x-amz-meta-prompt", ""))
                        self.assertIn("a fox", stored, meta)
                        self.assertIn("X-Injected", stored, meta)

    def test_a_body_the_policy_cannot_take_is_a_4xx_not_a_5xx(self):
        # JSON nested deeper than the policy host converts: the client's mistake, answered 400
        # with the policy's error shape and CORS, not 500 (which would page the operator).
        for body in ("[" * 100 + "]" * 100, '{"prompt":' * 70 + '"x"' + "}" * 70):
            with self.subTest(body=body[:20]):
                r = self.st.request("POST", "/generate-image", body, JSON)
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(r.json()["error"]["code"], "invalid_request", r.body)
                self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertEqual(self.generate("GET", "a healthy next request").status, 200)

    def test_no_request_can_push_the_policy_past_its_budget(self):
        # 50,000 unknown keys (about 750 KB) once ran the policy out of instructions: a 500.
        # The runtime bounds what reaches the policy; the client gets 413 in the error shape.
        body = json.dumps({"prompt": "a fox", **{"k%05d" % i: i for i in range(50000)}})
        r = self.st.request("POST", "/generate-image", body, JSON)
        self.assertEqual(r.status, 413, r.body[:300])
        err = r.json()["error"]
        self.assertEqual(err["code"], "payload_too_large")
        self.assertIn("more than 1000 values", err["message"])
        query = "&".join("p%d=1" % i for i in range(150))
        r = self.st.request("GET", "/generate-image?prompt=a%20fox&" + query)
        self.assertEqual(r.status, 413, r.body[:300])
        self.assertIn("more than 100 query parameters", r.json()["error"]["message"])
        # Under the bounds, unknown keys are the client's mistake: a 400 naming them.
        body = json.dumps({"prompt": "a fox", **{"k%03d" % i: i for i in range(900)}})
        r = self.st.request("POST", "/generate-image", body, JSON)
        self.assertEqual(r.status, 400, r.body[:300])
        self.assertEqual(r.json()["error"]["code"], "unknown_parameter")
        self.assertEqual(self.generate("GET", "a healthy next request").status, 200)

    def test_keys_are_uuids_the_client_cannot_choose(self):
        tries = [("GET", "/generate-image?prompt=a+cat&width=512&height=512&key=..%2F..%2Fetc%2Fpasswd", None),
                 ("GET", "/generate-image?prompt=a+cat&width=512&height=512&prefix=public%2F&filename=x.png", None),
                 ("POST", "/generate-image",
                  {"prompt": "a cat", "width": 512, "height": 512, "key": "chosen.png", "keyPrefix": "../"}),
                 ("POST", "/generate-image",
                  {"prompt": "../../chosen/../key.png", "width": 512, "height": 512}),
                 ("GET", "/generate-image?prompt=%2F..%2F..%2Fchosen.png&width=512&height=512&seed=7", None),
                 ("GET", "/generate-image?prompt=%2F..%2F..%2Fchosen.png&width=512&height=512&seed=7", None)]
        keys = []
        for method, path, body in tries:
            with self.subTest(path=path, body=body):
                r = self.st.request(method, path, json.dumps(body) if body else None, JSON if body else None)
                if r.status == 400:
                    # A parameter the API does not know is refused, not ignored.
                    self.assertEqual(r.json()["error"]["code"], "unknown_parameter", r.body)
                    continue
                self.assertEqual(r.status, 200, r.body)
                for img in r.json()["images"]:
                    self.assertRegex(img["key"], KEY_RE)
                    self.assertNotIn("chosen", img["url"])
                    keys.append(img["key"])
        # The same request twice (same seed) still gets two objects: nothing of the request
        # decides the key.
        self.assertGreaterEqual(len(keys), 3, keys)
        self.assertEqual(len(set(keys)), len(keys), keys)

    def test_no_secret_reaches_any_log_line(self):
        # Successes, refusals and Bedrock failures, so the error paths log too.
        self.st.bedrock_control("POST", "reset")
        self.assertEqual(self.generate("GET", "a lighthouse").status, 200)
        self.assertEqual(self.st.request("GET", "/generate-image?prompt=").status, 400)
        self.assertEqual(self.st.request("POST", "/generate-image", "{not json", JSON).status, 400)
        faults = [({"deny_models": ["stability.stable-image-core-v1:1"]}, {"deny_models": []}),
                  ({"server_error": {"every": 1, "status": 500}}, {"server_error": None})]
        for fault, clear in faults:
            status, _ = self.st.bedrock_control("POST", "faults", fault)
            self.assertEqual(status, 200)
            r = self.generate("GET", "a lighthouse, again")
            self.st.bedrock_control("POST", "faults", clear)
            self.assertGreaterEqual(r.status, 500, r.body)
        lines = all_lines(self.st)
        self.assertGreater(len(lines), 20)
        # The function's own log lines are in the gateway's output.
        self.assertTrue(any('"requestId"' in line for _, line in lines), lines[-20:])
        self.assertEqual([x for x in lines if SECRET in x[1]], [], "the secret key appears in the logs")
        # A presigned URL made with temporary credentials carries the session token in its
        # query (X-Amz-Security-Token), as AWS's own do: the only place the token may appear is
        # s3rver's access line for the test's own download of such a URL. None of our processes
        # logs it (nor the URL).
        leaks = [(name, line) for name, line in lines if TOKEN in line
                 and not (name == "s3rver" and re.search(r"\.png\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Security-Token=" + TOKEN, line))]
        self.assertEqual(leaks, [], "the session token appears in the logs")


class SignatureRefusedTest(unittest.TestCase):
    """Bedrock refuses the function's session token: the error path that handles credentials."""

    def test_no_secret_in_the_logs_of_a_refused_signature(self):
        st = SecretStack(function_timeout=10, timeout=15,
                         bedrock_args=["--session-token", "another-token"]).start()
        try:
            r = st.request("GET", "/generate-image?width=512&height=512&prompt=a+lighthouse")
            self.assertEqual(r.status // 100, 5, r.body)
            self.assertNotIn(SECRET, r.body.decode("utf-8", "replace"))
            self.assertNotIn(TOKEN, r.body.decode("utf-8", "replace"))
            # The function logs the refusal (after answering): wait for that line.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                lines = all_lines(st)
                if any(name == "imagegen-gateway" and "[env-" in line and "security token" in line.lower()
                       for name, line in lines):
                    break
                time.sleep(0.05)
            else:
                self.fail("the function never logged Bedrock's refusal:\n" + "\n".join(x[1] for x in all_lines(st)[-30:]))
            for needle in (SECRET, TOKEN):
                self.assertEqual([x for x in lines if needle in x[1]], [], f"{needle[:6]}... appears in the logs")
        finally:
            st.stop()


class MetadataEncodingTest(unittest.TestCase):
    """Behind the policy, the runtime itself: a policy that puts CR/LF and non-ASCII text into
    object metadata (the passthrough fixture copies it from the request) still cannot break a
    header, since the S3 client sends such values RFC 2047-encoded."""

    def test_metadata_with_crlf_is_encoded_not_injected(self):
        policy = os.path.join(stack.SOURCE_DIR, "tests", "data", "policies", "passthrough")
        values = {"note": "a fox\r\nX-Injected: yes\r\n\r\n<html>", "caption": "caf\u00e9\u2028\u0085end\u0007",
                  "plain": "just text"}
        body = {"body": {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a fox"},
                         "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512, "seed": 1}},
                "metadata": values, "ttl": 120}
        with SecretStack(policy_dir=policy, function_timeout=10, timeout=15) as st:
            t0 = time.time()
            r = st.request("POST", "/generate-image", json.dumps(body), JSON)
            self.assertEqual(r.status, 200, r.body)
            res = r.json()
            self.assertTrue(res["ok"], res)
            # The URL lives as long as the policy said (X-Amz-Expires), no longer.
            url = res["images"][0]["url"]
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            self.assertEqual(q["X-Amz-Expires"], ["120"])
            self.assertLessEqual(abs(res["expires_at_epoch"] - (t0 + 120)), 5)
            status, headers, data = get(url)
        self.assertEqual(status, 200)
        HostileInputTest.assert_clean_headers(self, headers, "the stored object")
        meta = {k.lower()[len("x-amz-meta-"):]: v for k, v in headers if k.lower().startswith("x-amz-meta-")}
        self.assertEqual(meta.get("plain"), "just text")
        for name in ("note", "caption"):
            self.assertRegex(meta.get(name, ""), r"^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$", meta)
            decoded = email.header.decode_header(meta[name])
            self.assertEqual(decoded[0][0].decode(decoded[0][1]), values[name])


class SandboxTest(unittest.TestCase):
    """A policy that tries every way out of its sandbox, run by the real bootstrap."""

    def test_a_policy_cannot_leave_its_sandbox(self):
        # TZ and LANG are in every function's environment (the gateway sets them, as Lambda does).
        env = {"IMAGEGEN_POLICY_ENV": "TZ, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ACCESS_KEY_ID",
               "IMAGEGEN_TEST_SECRET_TOKEN": TOKEN}
        st = SecretStack(policy_dir=HOSTILE_POLICY, env=env, function_timeout=10, timeout=15).start()
        try:
            r = st.request("GET", "/models")  # a declared route: the hostile policy answers any
            self.assertEqual(r.status, 200, r.body)
            got = r.json()["attempts"]
            self.assertNotIn(SECRET, r.body.decode())
            self.assertNotIn(TOKEN, r.body.decode())
        finally:
            st.stop()
        # Every library and loader the sandbox leaves out is simply not there.
        for name in ("io_open", "io_popen", "os_execute", "os_getenv", "os_remove", "load", "loadstring",
                     "dofile", "loadfile", "package", "debug"):
            self.assertRegex(got[name], r"^error: .*attempt to index a nil value|^error: .*attempt to call a nil value",
                             name)
        self.assertRegex(got["string_dump"], r"^error: ", "string.dump")
        # require finds modules in the policy directory only: no path escapes, no libraries.
        for name in ("require_parent", "require_dotted", "require_absolute", "require_io", "require_os"):
            self.assertRegex(got[name], r"^error: ", name)
            self.assertNotIn("root:", got[name], name)
        self.assertRegex(got["gc_finalizer"], r"^error: ", "__gc")
        self.assertRegex(got["collectgarbage_collect"], r"^error: ", "collectgarbage")
        # Credentials stay out of reach even when the allow-list names them.
        for name in ("env_secret", "env_token", "env_access_key", "env_imagegen_secret"):
            self.assertEqual(got[name], "nil", name)
        self.assertEqual(got["env_path"], "nil")                  # not on the allow-list
        self.assertEqual(got["env_unlisted"], "nil")              # not on it either
        self.assertEqual(got["env_listed"], "value: string :UTC")  # on it
        self.assertEqual(got["env_bucket"], "nil")               # IMAGEGEN_* alone is not enough: listed only
        self.assertEqual(got["env_region"], "value: string us-east-1")


if __name__ == "__main__":
    run_tests("security")
