"""scripts/policy-test: an operator's busted specs run beside their policy with the public policy
test harness (policy-testing/). The example spec folder (a custom deny-list and rate tier) passes;
a copy with one wrong expectation fails, and the output shows expected against got; --policy-dir
chooses the policy the specs load."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from policy_copy import policy_with  # noqa: E402
from stack import run_tests  # noqa: E402

COMMAND = os.path.join(stack.SOURCE_DIR, "scripts", "policy-test")
EXAMPLE = os.path.join(stack.SOURCE_DIR, "examples", "policy-specs")

# A spec that passes only against a policy whose own config.lua denies "gore".
DENY_SPEC = """
local H = require("harness")
it("refuses gore", function()
  H.expect_refusal(H.load(), H.get("/generate-image", { prompt = "gore" }), { status = 400, code = "prompt_rejected" })
end)
"""


def policy_test(*args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([COMMAND, "--output", "plainTerminal", *args], capture_output=True, text=True,
                          timeout=300, env=env)


class PolicyTestCommand(unittest.TestCase):
    def copy_of_example(self):
        d = tempfile.mkdtemp(prefix="imagegen-policy-specs-")
        self.addCleanup(shutil.rmtree, d, True)
        dst = os.path.join(d, "specs")
        shutil.copytree(EXAMPLE, dst)
        return dst

    def spec_folder(self, text):
        d = tempfile.mkdtemp(prefix="imagegen-policy-specs-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "deny_spec.lua"), "w") as f:
            f.write(text)
        return d

    def test_the_example_specs_pass(self):
        r = policy_test(EXAMPLE)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\b9 successes / 0 failures / 0 errors")

    def test_one_wrong_expectation_fails_with_expected_against_got(self):
        specs = self.copy_of_example()
        path = os.path.join(specs, "rate_tier_spec.lua")
        with open(path) as f:
            text = f.read()
        right = '["Retry-After"] = "6"'
        self.assertIn(right, text)
        with open(path, "w") as f:
            f.write(text.replace(right, '["Retry-After"] = "7"', 1))
        r = policy_test(specs)
        self.assertEqual(1, r.returncode, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\b8 successes / 1 failure / 0 errors")
        self.assertIn("Failure -> ./rate_tier_spec.lua", r.stdout)
        self.assertIn("rate_tier_spec.lua:19: expectation not met for the headers:", r.stdout)
        self.assertIn('Retry-After  expected "7", got "6"', r.stdout)
        # the whole value follows, so the operator sees the rest of the answer too
        self.assertIn('RateLimit-Limit: "20"', r.stdout)

    def test_policy_dir_chooses_the_policy_the_specs_load(self):
        specs = self.spec_folder(DENY_SPEC)
        edited = policy_with('c.prompt.deny = { "gore" }')
        r = policy_test("--policy-dir", edited, specs)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\b1 success / 0 failures")
        shipped = policy_test(specs)  # the shipped policy has no deny-list
        self.assertEqual(1, shipped.returncode, shipped.stdout + shipped.stderr)
        self.assertIn("expected a refusal", shipped.stdout)

    def test_a_policy_that_does_not_load_fails_the_specs_with_its_error(self):
        specs = self.spec_folder(DENY_SPEC)
        broken = policy_with('c.rate_limit.tiers.anonymous.burst = "five"')
        r = policy_test("--policy-dir", broken, specs)
        self.assertEqual(1, r.returncode, r.stdout + r.stderr)
        self.assertIn("rate_limit.tiers.anonymous.burst", r.stdout)

    def test_usage_errors_exit_2_with_a_sentence(self):
        r = policy_test("/nonexistent-specs")
        self.assertEqual(2, r.returncode)
        self.assertIn("no spec folder at /nonexistent-specs", r.stderr)
        r = policy_test("--policy-dir", EXAMPLE, EXAMPLE)
        self.assertEqual(2, r.returncode)
        self.assertIn("has no init.lua", r.stderr)


if __name__ == "__main__":
    run_tests("policy-specs")
