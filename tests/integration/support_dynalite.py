"""support_dynalite.py - starts dynalite (npm, pinned in package-lock.json; a DynamoDB we did not
write) for a test through runtime/local/dynamodb/dynalite-local.js: in memory, on 127.0.0.1 and a free port it reports;
plus a botocore DynamoDB client pointed at it and the AWS_* environment for our C tools.
dynalite does not check signatures: the signature tests compare with botocore instead."""

import os
import re
import shutil
import subprocess
import time

import botocore.session

ACCESS_KEY = "AKIDDYNALITE"
SECRET_KEY = "dynalite-secret"
REGION = "us-east-1"


def source_dir():
    return os.environ.get("IMAGEGEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def build_dir():
    return os.environ.get("IMAGEGEN_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


class Dynalite:
    def __init__(self):
        self.proc = None
        self.port = None

    def __enter__(self):
        src = source_dir()
        node = shutil.which("node")
        if not node or not os.path.isdir(os.path.join(src, "node_modules", "dynalite")):
            raise RuntimeError("dynalite is not installed: run `npm ci` in %s (node: %s)" % (src, node))
        script = os.path.join(src, "runtime", "local", "dynamodb", "dynalite-local.js")
        self.proc = subprocess.Popen([node, script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     cwd=src)
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
        raise RuntimeError("dynalite did not start")

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
        return False

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def client(self):
        """botocore's own DynamoDB client, for setting up tables and reading behind our back."""
        return botocore.session.get_session().create_client(
            "dynamodb", region_name=REGION, endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY)

    def env(self):
        """The environment for our tools: DynamoDB through AWS_ENDPOINT_URL_DYNAMODB."""
        env = dict(os.environ)
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS",
                  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ENDPOINT_URL_LAMBDA", "HTTP_PROXY", "HTTPS_PROXY",
                  "http_proxy", "https_proxy"):
            env.pop(k, None)
        env.update({"AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                    "AWS_ENDPOINT_URL_DYNAMODB": self.url})
        return env
