"""build/imagegen-policy: check loads a policy folder into bootstrap's sandbox, with no AWS
setting, before it ships (the shipped policy passes; every broken one fails with file:line); try
shows one request's decision, and the Bedrock bodies it prints are byte for byte the ones
bootstrap sends for the same request."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from runtime_stub import RuntimeStub, api_event  # noqa: E402
from stack import run_tests  # noqa: E402
from test_bedrock_region import Capture  # noqa: E402

TOOL = os.path.join(stack.BUILD_DIR, "imagegen-policy")
SHIPPED = os.path.join(stack.SOURCE_DIR, "runtime", "policy")
FIXTURES = os.path.join(stack.SOURCE_DIR, "tests", "data", "policies")


def check(*args, **env):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(env)
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60, env=e)


class PolicyCheckTest(unittest.TestCase):
    def edited(self, old, new):
        d = tempfile.mkdtemp(prefix="imagegen-policy-check-")
        self.addCleanup(shutil.rmtree, d, True)
        for name in os.listdir(SHIPPED):
            if name.endswith(".lua"):
                shutil.copy(os.path.join(SHIPPED, name), d)
        path = os.path.join(d, "config.lua")
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))
        return d

    def test_the_shipped_policy_passes_without_aws_settings(self):
        p = check("check", SHIPPED)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(": ok", p.stdout)
        self.assertIn("stability.stable-image-core-v1:1 (active)", p.stdout)

    def test_a_syntax_error_names_file_and_line(self):
        p = check("check", os.path.join(FIXTURES, "syntax_error"))
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(p.stdout, r"init\.lua:\d+: .*expected near 'return'")

    def test_a_bad_setting_and_a_missing_model_fail(self):
        d = self.edited('default_model = "stability.stable-image-core-v1:1"', 'default_model = "no.such-model"')
        p = check("check", d)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("no.such-model", p.stdout)
        d = self.edited("url_ttl = 3600", "url_ttl = -5")
        p = check("check", d)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("url_ttl", p.stdout)

    def test_an_unusable_admit_answer_fails(self):
        p = check("check", os.path.join(FIXTURES, "returns_string"))
        self.assertEqual(p.returncode, 1, p.stdout)
        d = tempfile.mkdtemp(prefix="imagegen-policy-check-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "init.lua"), "w") as f:
            f.write('return { admit = function() return { status = 42 } end,\n'
                    '         respond = function() return { status = 500 } end }\n')
        p = check("check", d)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("status from 100 to 599", p.stdout)

    def test_usage(self):
        self.assertEqual(check().returncode, 2)
        self.assertEqual(check("frobnicate").returncode, 2)


class PolicyTryTest(unittest.TestCase):
    REQUESTS = [
        ("GET", "/generate-image?prompt=a%20red%20cup&seed=1", None),
        ("GET", "/generate-image?prompt=boats&numberOfImages=2&seed=7", None),
        ("GET", "/generate-image?prompt=a%20harbour&aspectRatio=16:9&seed=3", None),
        ("GET", "/generate-image?prompt=a%20jar&outputFormat=jpeg&seed=4", None),
        ("GET", "/generate-image?prompt=a%20kite&negativePrompt=clouds&seed=5", None),
        ("GET", "/generate-image?prompt=ultra&model=stability.stable-image-ultra-v1:1&seed=6", None),
        ("GET", "/generate-image?prompt=wide&model=stability.sd3-5-large-v1:0&width=1344&height=768&seed=8", None),
        ("POST", "/generate-image", {"prompt": "a caf\u00e9 \u2615 at dawn", "seed": 9, "outputFormat": "webp"}),
        ("POST", "/generate-image", {"prompt": "three owls", "numberOfImages": 3, "seed": 4294967293}),
        ("POST", "/generate-image", {"prompt": "  spaced   out\tprompt ", "seed": 10, "aspectRatio": "9:21"}),
    ]

    def tried(self, method, target, body):
        args = ["try", "--json", "--policy-dir", SHIPPED, method, target]
        if body is not None:
            args.append(json.dumps(body))
        p = check(*args, IMAGEGEN_RATE_LIMIT="off")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def test_try_prints_the_bodies_bootstrap_sends(self):
        cap = Capture()
        stub = RuntimeStub()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_LAMBDA_RUNTIME_API": stub.address,
               "IMAGEGEN_BUCKET": "imagegen-test", "IMAGEGEN_POLICY_DIR": SHIPPED, "IMAGEGEN_RATE_LIMIT": "off",
               "AWS_REGION": "us-east-1", "IMAGEGEN_BEDROCK_REGION": "us-west-2",
               "AWS_ACCESS_KEY_ID": "AKIDTRYTEST", "AWS_SECRET_ACCESS_KEY": "try-test-secret",
               "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": cap.url, "AWS_ENDPOINT_URL_S3": cap.url}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        proc = subprocess.Popen([os.path.join(stack.BUILD_DIR, "bootstrap")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for method, target, body in self.REQUESTS:
                with self.subTest(target=target, body=body):
                    want = sorted(self.tried(method, target, body)["plan"]["attempts"][0]["bodies"])
                    path, _, query = target.partition("?")
                    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True)) or None
                    before = len(cap.requests)
                    kind, _, raw = stub.invoke(api_event(method=method, path=path, query=q,
                                                         body=json.dumps(body) if body is not None else None,
                                                         headers={"content-type": "application/json"}))
                    self.assertEqual(json.loads(raw)["statusCode"], 200, raw)
                    sent = sorted(r["body"].decode() for r in cap.requests[before:] if r["method"] == "POST")
                    self.assertEqual(sent, want)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            stub.close()
            cap.close()

    def test_try_shows_refusals_rate_limits_and_failures(self):
        out = self.tried("GET", "/generate-image?prompt=x&aspectRatio=7:3", None)
        self.assertEqual(out["admit"]["status"], 400)
        self.assertIn("aspectRatio", out["admit"]["body"]["error"]["message"])
        p = check("try", "--json", "--repeat", "7", "--policy-dir", SHIPPED, "GET", "/generate-image?prompt=x",
                  IMAGEGEN_RATE_LIMIT="on")
        statuses = [json.loads(line).get("admit", {}).get("status", 200) for line in p.stdout.splitlines()]
        self.assertEqual(statuses, [200] * 5 + [429] * 2)
        p = check("try", "--fail", "model_retired", "--policy-dir", SHIPPED, "GET", "/generate-image?prompt=x")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("respond, after the failure: 502", p.stdout)
        self.assertIn("model_retired", p.stdout)


if __name__ == "__main__":
    run_tests("policy-tool")
