"""build/imagegen-policy check: a policy folder loaded into bootstrap's sandbox, with no AWS
setting, before it ships. The shipped policy passes; every broken one fails with file:line."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from stack import run_tests  # noqa: E402

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


if __name__ == "__main__":
    run_tests("policy-tool")
