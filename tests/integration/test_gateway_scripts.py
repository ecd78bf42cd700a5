"""test_gateway_scripts.py - scripts/generate against the whole local stack, and scripts/run-local itself:
the README's command serving the README's example, its rate-limit switch, its stop, its port check,
its DynamoDB table and the AWS endpoints it gives the function.

The stack here is the real one: s3rver, bedrock-local and imagegen-gateway running build/bootstrap
with the policy in runtime/policy, started by stack.py the way scripts/run-local starts it.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import botocore.session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import BUILD_DIR, SOURCE_DIR, Stack, free_port, http_call, run_tests  # noqa: E402

GENERATE = os.path.join(SOURCE_DIR, "scripts", "generate")
RUN_LOCAL = os.path.join(SOURCE_DIR, "scripts", "run-local")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


class Generate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack().start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def generate(self, *args, url=None):
        env = dict(os.environ)
        env.pop("IMAGEGEN_URL", None)
        env.pop("IMAGEGEN_API_KEY", None)
        return subprocess.run([GENERATE, *args, "--url", url or self.st.api_url], capture_output=True, text=True,
                              timeout=120, env=env)

    def test_images_are_downloaded_and_their_paths_printed(self):
        with tempfile.TemporaryDirectory() as out:
            p = self.generate("a red coffee cup", "--aspect-ratio", "16:9", "-n", "2", "--seed", "7", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr + self.st.dump())
            paths = p.stdout.split()
            self.assertEqual(len(paths), 2)
            for path in paths:
                self.assertTrue(path.startswith(out + os.sep))
                self.assertEqual(png_size(path), (1344, 768))
            # The same seed and prompt give the same pictures.
            again = self.generate("a red coffee cup", "--aspect-ratio", "16:9", "-n", "2", "--seed", "7", "--out", out)
            self.assertEqual(again.returncode, 0, again.stderr)
            with open(paths[0], "rb") as a, open(again.stdout.split()[0], "rb") as b:
                self.assertEqual(a.read(), b.read())

    def test_api_errors_print_the_apis_message(self):
        with tempfile.TemporaryDirectory() as out:
            p = self.generate("a red coffee cup", "--size", "1000x1001", "--out", out)
            self.assertEqual(p.returncode, 1)
            self.assertIn("HTTP 400 invalid_parameter: width", p.stderr)
            self.assertEqual(os.listdir(out), [])

    def test_bad_size_and_unreachable_api(self):
        p = self.generate("x", "--size", "big")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--size must look like 1024x1024", p.stderr)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, not listening: connections are refused
            p = self.generate("x", url=f"http://127.0.0.1:{port}")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot reach", p.stderr)


def session_pids(sid):
    """Live processes of session sid (run-local started in a session of its own)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(name))
    return out


class RunLocalServes(unittest.TestCase):
    """scripts/run-local as the README has a new user type it (on a free port, with this build)."""

    def start(self, **env):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        full = {k: v for k, v in os.environ.items() if k != "IMAGEGEN_RATE_LIMIT"}
        full.update(IMAGEGEN_BUILD_DIR=BUILD_DIR, TMPDIR=self.tmp.name, **env)
        for _ in range(5):  # a free port can be taken by a parallel test before run-local checks it
            port = free_port()
            full["IMAGEGEN_PORT"] = str(port)
            self.proc = subprocess.Popen([RUN_LOCAL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         env=full, start_new_session=True)
            line = self.proc.stdout.readline()
            if line or self.proc.wait() != 2:
                break
            err = self.proc.stderr.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
            if "is already in use" not in err:
                self.fail("run-local stopped: " + err)
        self.addCleanup(self.stop)
        self.ready_line = line
        m = re.match(r"imagegen local stack: (http://127\.0\.0\.1:(\d+)) ", line)
        self.assertTrue(m, f"first line {line!r}; stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}")
        self.assertEqual(int(m.group(2)), port)
        return m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def test_the_readme_example_then_more_than_a_burst_then_a_clean_stop(self):
        api = self.start()
        r = http_call(api + "/generate-image?prompt=A%20beautiful%20sunset%20over%20mountains", timeout=60)
        self.assertEqual(r.status, 200, r)
        image = r.json()["images"][0]
        with urllib.request.urlopen(image["url"], timeout=30) as got:
            png = got.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", png[16:24]), (1024, 1024))
        # One developer on 127.0.0.1: more than the anonymous tier's burst of 5 images still works.
        r = http_call(api + "/generate-image", "POST", {"prompt": "five boats", "width": 512, "height": 512,
                                                         "numberOfImages": 5}, timeout=60)
        self.assertEqual((r.status, len(r.json()["images"])), (200, 5), r)
        for i in range(3):
            r = http_call(api + f"/generate-image?prompt=boat%20{i}&width=512&height=512", timeout=60)
            self.assertEqual(r.status, 200, r)
        members = session_pids(self.proc.pid)
        self.assertGreaterEqual(len(members), 5, "run-local, s3rver, bedrock-local, the gateway and its workers")
        t0 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=30), 0)
        self.assertLess(time.monotonic() - t0, 15)
        deadline = time.monotonic() + 5
        while session_pids(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(session_pids(self.proc.pid), [], "processes left behind after SIGTERM")

    def test_rate_limit_on_gives_the_deployed_limits(self):
        api = self.start(IMAGEGEN_RATE_LIMIT="on", IMAGEGEN_CONCURRENCY="1")
        statuses = []
        for i in range(6):
            r = http_call(api + f"/generate-image?prompt=cup%20{i}&width=512&height=512", timeout=60)
            statuses.append(r.status)
        self.assertEqual(statuses[:5], [200] * 5)
        self.assertEqual(statuses[5], 429)
        self.assertEqual(r.json()["error"]["code"], "rate_limited")
        self.assertTrue(r.headers.get("Retry-After"))

    def start_failing(self, **env):
        """run-local that must stop before its ready line: (exit status, stderr)."""
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        full = {k: v for k, v in os.environ.items() if k != "IMAGEGEN_RATE_LIMIT"}
        full.update(IMAGEGEN_BUILD_DIR=BUILD_DIR, TMPDIR=self.tmp.name, **env)
        for _ in range(5):  # a free port can be taken by a parallel test before run-local checks it
            full["IMAGEGEN_PORT"] = str(free_port())
            p = subprocess.run([RUN_LOCAL], capture_output=True, text=True, env=full, timeout=300,
                               start_new_session=True)
            if "is already in use" not in p.stderr:
                break
        self.assertNotIn("imagegen local stack:", p.stdout)
        return p.returncode, p.stderr

    def test_a_bad_rate_limit_value_stops_the_start_with_the_reason(self):
        rc, err = self.start_failing(IMAGEGEN_RATE_LIMIT="maybe")
        self.assertNotEqual(rc, 0)
        self.assertIn('IMAGEGEN_RATE_LIMIT must be "on" or "off"', err)

    def test_a_broken_policy_stops_the_start_with_file_and_line(self):
        fixture = os.path.join(SOURCE_DIR, "tests", "data", "policies", "syntax_error")
        rc, err = self.start_failing(IMAGEGEN_POLICY_DIR=fixture)
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"init\.lua:\d+: .*expected near 'return'")
        self.assertIn("cannot be used", err)

    def test_the_ready_line_suggests_a_command_for_its_port(self):
        api = self.start()
        line = self.ready_line
        self.assertIn("scripts/generate --url %s " % api, line)
        cmd = line.split("try: ", 1)[1].split(";", 1)[0]
        out = tempfile.mkdtemp(dir=self.tmp.name)
        env = {k: v for k, v in os.environ.items() if k not in ("IMAGEGEN_PORT", "IMAGEGEN_URL", "IMAGEGEN_API")}
        p = subprocess.run(cmd + " --out " + out, shell=True, cwd=SOURCE_DIR, capture_output=True, text=True,
                           timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stdout.split()), 1)

    def test_the_table_and_the_functions_aws_variables(self):
        self.start(IMAGEGEN_TABLE="imagegen-scripts-test")
        log = self.gateway_log()
        deadline = time.monotonic() + 10
        pids = []
        while not pids and time.monotonic() < deadline:
            with open(log) as f:
                pids = [json.loads(line)["pid"] for line in f if '"execution environment started"' in line]
            time.sleep(0.05)
        self.assertTrue(pids, "no execution environment in " + log)
        with open(f"/proc/{pids[0]}/environ", "rb") as f:  # what bootstrap was started with
            env = dict(item.split("=", 1) for item in f.read().decode().split("\0") if "=" in item)
        self.assertEqual(env["IMAGEGEN_TABLE"], "imagegen-scripts-test")
        self.assertRegex(env["AWS_ENDPOINT_URL_DYNAMODB"], r"^http://127\.0\.0\.1:\d+$")
        self.assertRegex(env["AWS_ENDPOINT_URL_LAMBDA"], r"^http://127\.0\.0\.1:\d+$")
        session = botocore.session.get_session()
        creds = dict(region_name=env["AWS_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        ddb = session.create_client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], **creds)
        table = ddb.describe_table(TableName="imagegen-scripts-test")["Table"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual([(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]], [("pk", "HASH"), ("sk", "RANGE")])
        (gsi,) = table["GlobalSecondaryIndexes"]
        self.assertEqual((gsi["IndexName"], gsi["Projection"]["ProjectionType"]), ("gsi1", "ALL"))
        self.assertEqual([(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]],
                         [("gsi1pk", "HASH"), ("gsi1sk", "RANGE")])
        # The function's Lambda endpoint answers a signed call for the function (DryRun runs nothing).
        lam = session.create_client("lambda", endpoint_url=env["AWS_ENDPOINT_URL_LAMBDA"], **creds)
        r = lam.invoke(FunctionName=env["AWS_LAMBDA_FUNCTION_NAME"], InvocationType="DryRun", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 204)

    def gateway_log(self):
        for root, _dirs, files in os.walk(self.tmp.name):
            if "gateway.log" in files:
                return os.path.join(root, "gateway.log")
        self.fail("no gateway.log under " + self.tmp.name)


class RunLocal(unittest.TestCase):
    def test_port_in_use_is_reported_before_anything_starts(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            env = dict(os.environ, IMAGEGEN_PORT=str(port))
            p = subprocess.run([RUN_LOCAL], capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"port {port} on 127.0.0.1 is already in use", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_bad_port_is_refused(self):
        p = subprocess.run([RUN_LOCAL], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, IMAGEGEN_PORT="80x"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("IMAGEGEN_PORT must be a port number", p.stderr)

    def test_arguments_are_refused_and_help_lists_the_variables(self):
        p = subprocess.run([RUN_LOCAL, "--port", "9000"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn('takes no arguments (got "--port")', p.stderr)
        self.assertIn("IMAGEGEN_PORT=9000 scripts/run-local", p.stderr)
        self.assertEqual(p.stdout, "")
        p = subprocess.run([RUN_LOCAL, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn("IMAGEGEN_PORT", p.stdout)
        self.assertNotIn("#", p.stdout.splitlines()[0])


if __name__ == "__main__":
    run_tests("gateway-scripts")
