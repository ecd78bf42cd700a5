"""test_gateway_scripts.py - scripts/generate against the whole local stack, and scripts/run-local's port check.

The stack here is the real one: s3rver, bedrock-local and imagegen-gateway running build/bootstrap
with the policy in runtime/policy, started by stack.py the way scripts/run-local starts it.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import SOURCE_DIR, Stack, run_tests  # noqa: E402

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
            p = self.generate("a red coffee cup", "--size", "512x512", "-n", "2", "--seed", "7", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr + self.st.dump())
            paths = p.stdout.split()
            self.assertEqual(len(paths), 2)
            for path in paths:
                self.assertTrue(path.startswith(out + os.sep))
                self.assertEqual(png_size(path), (512, 512))
            # The same seed and prompt give the same pictures.
            again = self.generate("a red coffee cup", "--size", "512x512", "-n", "2", "--seed", "7", "--out", out)
            self.assertEqual(again.returncode, 0, again.stderr)
            with open(paths[0], "rb") as a, open(again.stdout.split()[0], "rb") as b:
                self.assertEqual(a.read(), b.read())

    def test_api_errors_print_the_apis_message(self):
        with tempfile.TemporaryDirectory() as out:
            p = self.generate("a red coffee cup", "--size", "13x13", "--out", out)
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


if __name__ == "__main__":
    run_tests("gateway-scripts")
