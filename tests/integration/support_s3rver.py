"""support_s3rver.py - starts s3rver (npm, pinned in package-lock.json) for a test: a free port
on 127.0.0.1 (s3rver binds port 0 and reports the one it got), a temporary data directory, one
bucket, and the AWS_* environment that points our C tools at it. s3rver knows the key pair
S3RVER/S3RVER; it accepts any well-formed SigV4 signature made with that key id."""

import os
import re
import shutil
import subprocess
import tempfile
import time

ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"


class S3rver:
    """plain: s3rver's own command instead of the local stack's runtime/local/s3/s3-local.js (s3rver
    with its PutObject acknowledged only once the object is written). node_options: NODE_OPTIONS
    for the server process."""

    def __init__(self, bucket, plain=False, node_options=None):
        self.bucket = bucket
        self.plain = plain
        self.node_options = node_options
        self.proc = None
        self.dir = None
        self.port = None

    def __enter__(self):
        src = os.environ.get("IMAGEGEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        s3rver = os.path.join(src, "node_modules", "s3rver", "bin", "s3rver.js")
        script = s3rver if self.plain else os.path.join(src, "runtime", "local", "s3", "s3-local.js")
        node = shutil.which("node")
        if not node or not os.path.exists(s3rver):
            raise RuntimeError("s3rver is not installed: run `npm ci` in %s (node: %s)" % (src, node))
        self.dir = tempfile.mkdtemp(prefix="ig-s3rver-")
        env = dict(os.environ)
        if self.node_options:
            env["NODE_OPTIONS"] = self.node_options
        self.proc = subprocess.Popen(
            [node, script, "-d", self.dir, "-a", "127.0.0.1", "-p", "0", "--silent",
             "--configure-bucket", self.bucket],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
        self.__exit__(None, None, None)
        raise RuntimeError("s3rver did not start")

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        return False

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self):
        """The environment for our tools: path style through AWS_ENDPOINT_URL_S3."""
        env = dict(os.environ)
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS",
                  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                  "https_proxy"):
            env.pop(k, None)
        env.update({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_ENDPOINT_URL_S3": self.url})
        return env


def build_dir():
    return os.environ.get("IMAGEGEN_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
