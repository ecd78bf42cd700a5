"""stack.py - starts the imagegen local stack (or parts of it) on free ports for integration tests.

    from stack import Stack
    with Stack() as st:                              # s3rver + dynalite + bedrock-local + gateway with build/bootstrap
        r = st.request("POST", "/generate-image", {"prompt": "a red coffee cup"})
        print(r.status, r.json(), st.reports())

Every process gets its own process group and the parent-death signal, output is captured line by
line (st.gateway.lines(), .wait_for(regex)), and stop() (also on exceptions, at exit, and on
SIGTERM of the test) stops everything: the gateway with SIGTERM (it stops its environments),
the others too, and SIGKILL for what is still there after a grace period; then its files go
(IMAGEGEN_KEEP_STACK=1 keeps them). Only the standard
library is used. Fixed local credentials are used everywhere: s3rver accepts only S3RVER/S3RVER.
"""
import atexit
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

SOURCE_DIR = os.environ.get("IMAGEGEN_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("IMAGEGEN_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SANITIZE = os.environ.get("IMAGEGEN_SANITIZE", "0") in ("1", "ON", "TRUE", "true", "on")
FAKE_FUNCTION = os.path.join(SOURCE_DIR, "tests", "integration", "fake_function.py")
ACCESS_KEY_ID = "S3RVER"
SECRET_ACCESS_KEY = "S3RVER"
REGION = "us-east-1"
# Bedrock's own region, as scripts/run-local lays the stack out: the active (Stability) models
# live in us-west-2 while the bucket stays in the stack's region.
BEDROCK_REGION = "us-west-2"

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_live = []
# What the sanitizers reported in any process's output: run_tests counts each as a failure.
sanitizer_findings = []
_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer")


def _die_with_parent():
    # Runs in the child between fork and exec: only a system call.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class StackError(Exception):
    pass


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:200]!r})"


class Proc:
    """A started process whose stdout+stderr lines are collected."""

    def __init__(self, name, argv, env, cwd=None):
        self.name = name
        self.argv = argv
        self._lines = []
        self._cond = threading.Condition()
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def lines(self):
        with self._cond:
            return list(self._lines)

    def text(self):
        return "\n".join(self.lines())

    def wait_for(self, pattern, timeout=30.0, start=0):
        """The first match of regex pattern in a line (from line index start on); raises on timeout or exit."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self._lines):
                    m = rx.search(self._lines[i])
                    if m:
                        return m
                    i += 1
                if self.popen.poll() is not None and not self._reader.is_alive():
                    raise StackError(f"{self.name} exited ({self.popen.returncode}) before printing /{pattern}/:\n"
                                     + "\n".join(self._lines[-40:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StackError(f"{self.name}: no line matching /{pattern}/ within {timeout}s:\n"
                                     + "\n".join(self._lines[-40:]))
                self._cond.wait(min(left, 0.2))

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL of the whole process group after grace seconds; the exit code."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # anything left in its group
        except (ProcessLookupError, PermissionError):
            pass
        rc = self.popen.wait()
        self._reader.join(5)
        self.popen.stdout.close()
        lines = self.lines()
        for i, line in enumerate(lines):
            if any(m in line for m in _SANITIZER_MARKERS):
                sanitizer_findings.append(f"{self.name}: " + "\n".join(lines[i:i + 30]))
                break
        return rc


def free_port():
    """A port that was free a moment ago (for the few places that cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_call(url, method="GET", body=None, headers=None, timeout=60.0):
    """One HTTP request; body may be bytes, str or a JSON-able object. Returns a Response."""
    u = urllib.parse.urlsplit(url)
    if body is not None and not isinstance(body, (bytes, bytearray)):
        if isinstance(body, str):
            body = body.encode()
        else:
            body = json.dumps(body).encode()
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        target = u.path or "/"
        if u.query:
            target += "?" + u.query
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


class Stack:
    """The local stack. Parts: s3 (s3rver, and s3-verify in front of it: s3_url is s3-verify's),
    dynamodb (dynalite, with the table build/dynamodb-table creates), bedrock (bedrock-local),
    gateway (imagegen-gateway, with Lambda's Invoke API at lambda_url).

    function: None runs the real bootstrap; a list runs that command as the function, e.g.
    [FAKE_FUNCTION] or ["node_modules/.bin/aws-lambda-ric", "handler.handler"] (with task_root).
    dynamodb: None starts it with the real bootstrap (which keeps jobs there) and not with a
    scripted function (dynalite's node start adds about 0.3 s, hidden behind s3rver's when both run).
    """

    def __init__(self, *, s3=True, bedrock=True, gateway=True, function=None, task_root=None, concurrency=2,
                 timeout=None, function_timeout=None, init_timeout=None, queue_size=None, api_keys=None,
                 routes=None, gateway_args=(), bedrock_args=(), env=None, bucket="imagegen-test", policy_dir=None,
                 bedrock_region=BEDROCK_REGION, dynamodb=None, table="imagegen-test"):
        self.want_s3, self.want_bedrock, self.want_gateway = s3, bedrock, gateway
        self.want_dynamodb = (function is None) if dynamodb is None else dynamodb
        self.table = table
        self.function, self.task_root = function, task_root
        self.concurrency, self.timeout, self.function_timeout = concurrency, timeout, function_timeout
        self.init_timeout, self.queue_size = init_timeout, queue_size
        self.api_keys, self.routes = api_keys, routes
        self.gateway_args, self.bedrock_args = list(gateway_args), list(bedrock_args)
        self.extra_env = dict(env or {})
        self.bucket = bucket
        self.bedrock_region = bedrock_region
        self.policy_dir = policy_dir or os.path.join(SOURCE_DIR, "runtime", "policy")
        self.tmp = None
        self.s3 = self.s3_verify = self.bedrock = self.gateway = self.dynamodb = None
        self.s3_url = self.s3rver_url = self.bedrock_url = self.api_url = self.dynamodb_url = self.lambda_url = None
        self.exit_codes = {}

    # ---- lifecycle ----

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def base_env(self):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                    "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        return env

    def start(self):
        _live.append(self)
        self.tmp = tempfile.mkdtemp(prefix="imagegen-stack-")
        try:
            if self.want_dynamodb:
                self._launch_dynamodb()  # node starts while s3rver and bedrock-local do
            if self.want_s3:
                self._start_s3()
            if self.want_bedrock:
                self._start_bedrock()
            if self.want_dynamodb:
                self._finish_dynamodb()
            if self.want_gateway:
                self._start_gateway()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_s3(self):
        if not os.path.exists(os.path.join(SOURCE_DIR, "node_modules", "s3rver", "bin", "s3rver.js")):
            raise StackError(f"s3rver is missing: run `npm ci` in {SOURCE_DIR}")
        node = shutil.which("node")
        if not node:
            raise StackError("node is not installed (Debian package nodejs)")
        data = os.path.join(self.tmp, "s3")
        os.makedirs(data)
        self.s3 = Proc("s3rver", [node, os.path.join(SOURCE_DIR, "runtime", "local", "s3", "s3-local.js"),
                                  "--directory", data, "--address", "127.0.0.1", "--port", "0",
                                  "--configure-bucket", self.bucket], self.base_env())
        m = self.s3.wait_for(r"S3rver listening on [\d.]+:(\d+)", timeout=60)
        self.s3rver_url = f"http://127.0.0.1:{m.group(1)}"
        # Every S3 call goes through S3's signature checks, which s3rver does not make.
        self.s3_verify = Proc("s3-verify", [os.path.join(BUILD_DIR, "s3-verify"), "--port", "0", "--upstream",
                                            self.s3rver_url, "--region", REGION], self.base_env())
        m = self.s3_verify.wait_for(r"^s3-verify listening on (http://127\.0\.0\.1:\d+)$", timeout=30)
        self.s3_url = m.group(1)

    def _launch_dynamodb(self):
        script = os.path.join(SOURCE_DIR, "runtime", "local", "dynamodb", "dynalite-local.js")
        if not os.path.isdir(os.path.join(SOURCE_DIR, "node_modules", "dynalite")):
            raise StackError(f"dynalite is missing: run `npm ci` in {SOURCE_DIR}")
        node = shutil.which("node")
        if not node:
            raise StackError("node is not installed (Debian package nodejs)")
        self.dynamodb = Proc("dynalite", [node, script], self.base_env(), cwd=SOURCE_DIR)

    def _finish_dynamodb(self):
        """Waits for dynalite, then creates the function's table with build/dynamodb-table."""
        m = self.dynamodb.wait_for(r"^dynalite listening on 127\.0\.0\.1:(\d+)$", timeout=60)
        self.dynamodb_url = f"http://127.0.0.1:{m.group(1)}"
        tool = subprocess.run([os.path.join(BUILD_DIR, "dynamodb-table"), "--endpoint", self.dynamodb_url,
                               "--table", self.table], env=self.base_env(), capture_output=True, text=True,
                              timeout=60)
        if tool.returncode != 0:
            raise StackError("dynamodb-table failed:\n" + tool.stdout + tool.stderr)

    def dynamodb_client(self):
        """botocore's DynamoDB client on the stack's dynalite."""
        import botocore.session
        return botocore.session.get_session().create_client(
            "dynamodb", region_name=REGION, endpoint_url=self.dynamodb_url, aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY)

    def lambda_client(self, secret=SECRET_ACCESS_KEY):
        """botocore's Lambda client on the gateway's Invoke API (another secret: signatures it refuses)."""
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            "lambda", region_name=REGION, endpoint_url=self.lambda_url, aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=secret, config=botocore.config.Config(retries={"max_attempts": 1}))

    def _start_bedrock(self):
        exe = os.path.join(BUILD_DIR, "bedrock-local")
        if not os.path.exists(exe):
            raise StackError(f"{exe} is missing: build the project first")
        self.bedrock = Proc("bedrock-local", [exe, "--port", "0", "--region", self.bedrock_region] + self.bedrock_args,
                            self.base_env())
        m = self.bedrock.wait_for(r"http://127\.0\.0\.1:(\d+)|127\.0\.0\.1:(\d+)", timeout=30)
        self.bedrock_url = f"http://127.0.0.1:{m.group(1) or m.group(2)}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_call(self.bedrock_url + "/_control/health", timeout=5).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or not self.bedrock.running():
                raise StackError("bedrock-local did not become healthy:\n" + self.bedrock.text())
            time.sleep(0.05)

    def gateway_env(self):
        env = self.base_env()
        if self.s3_url:
            env["AWS_ENDPOINT_URL_S3"] = self.s3_url
        if self.bedrock_url:
            env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = self.bedrock_url
        env["IMAGEGEN_BUCKET"] = self.bucket
        env["IMAGEGEN_POLICY_DIR"] = self.policy_dir
        env["IMAGEGEN_BEDROCK_REGION"] = self.bedrock_region
        env.pop("AWS_ENDPOINT_URL_LAMBDA", None)  # the gateway points the function at its own
        if self.dynamodb_url:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_url
            env["IMAGEGEN_TABLE"] = self.table
        for name in ("IMAGEGEN_PORT", "IMAGEGEN_TIMEOUT", "IMAGEGEN_FUNCTION_TIMEOUT", "IMAGEGEN_CONCURRENCY",
                     "IMAGEGEN_QUEUE_SIZE", "IMAGEGEN_API_KEYS_FILE", "IMAGEGEN_ROUTES", "IMAGEGEN_STAGE",
                     "IMAGEGEN_ALLOWED_MODELS", "IMAGEGEN_DEFAULT_MODEL"):
            env.pop(name, None)  # the test decides, not the caller's shell
        env.update(self.extra_env)
        return env

    def gateway_argv(self):
        argv = [os.path.join(BUILD_DIR, "imagegen-gateway"), "--port", "0", "--concurrency", str(self.concurrency)]
        if self.timeout is not None:
            argv += ["--timeout", str(self.timeout)]
        if self.function_timeout is not None:
            argv += ["--function-timeout", str(self.function_timeout)]
        if self.init_timeout is not None:
            argv += ["--init-timeout", str(self.init_timeout)]
        if self.queue_size is not None:
            argv += ["--queue-size", str(self.queue_size)]
        for r in self.routes or ():
            argv += ["--route", r]
        if self.api_keys is not None:
            path = os.path.join(self.tmp, "api-keys.json")
            with open(path, "w") as f:
                json.dump(self.api_keys, f)
            argv += ["--api-keys", path]
        if self.task_root:
            argv += ["--task-root", self.task_root]
        argv += self.gateway_args
        if self.function is not None:
            argv += ["--"] + list(self.function)
        return argv

    def _start_gateway(self):
        self.gateway = Proc("imagegen-gateway", self.gateway_argv(), self.gateway_env())
        startup = 120 if SANITIZE else 60
        m = self.gateway.wait_for(r"^imagegen-gateway listening on (http://127\.0\.0\.1:(\d+))$", timeout=startup)
        self.api_url = m.group(1)
        if self.gateway.lines()[0] != m.group(0):
            raise StackError("the gateway's first line is not its listening line:\n" + self.gateway.text())
        # The lines held back until ready follow at once: wait for each environment's start line.
        deadline = time.monotonic() + 5
        while len(self.env_pids()) < self.concurrency and time.monotonic() < deadline:
            time.sleep(0.01)
        self.lambda_url = self.wait_gateway_json(lambda o: o.get("message") == "lambda invoke api listening")["url"]

    def stop(self):
        """Stops every part (gateway first); their exit codes land in self.exit_codes."""
        for name in ("gateway", "bedrock", "s3_verify", "s3", "dynamodb"):
            proc = getattr(self, name)
            if proc is not None and name not in self.exit_codes:
                self.exit_codes[name] = proc.stop()
        if self in _live:
            _live.remove(self)
        # The stack's files (s3rver's objects: gigabytes after a soak, API keys) go with it.
        # IMAGEGEN_KEEP_STACK=1 keeps them to look at; the path is in self.tmp.
        if self.tmp and os.environ.get("IMAGEGEN_KEEP_STACK") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.exit_codes

    def stop_clean(self):
        """stop(), then fail when a sanitizer reported anything or the gateway did not exit 0
        (for a test class's tearDownClass)."""
        codes = self.stop()
        if sanitizer_findings:
            raise AssertionError("sanitizer findings: %s" % sanitizer_findings[:3])
        if codes.get("gateway") != 0:
            raise AssertionError("the gateway exited with %s" % codes)

    # ---- using it ----

    def request(self, method, path, body=None, headers=None, timeout=60.0):
        return http_call(self.api_url + path, method, body, headers, timeout)

    def bedrock_control(self, method, path, body=None):
        """A call to bedrock-local's /_control/ endpoints (faults, stats, reset, health)."""
        r = http_call(self.bedrock_url + "/_control/" + path.lstrip("/"), method, body)
        return r.status, (r.json() if r.body else None)

    # ---- reading the gateway's output ----

    def env_lines(self, env=None):
        """(env, text) for every line an execution environment produced (platform and function)."""
        out = []
        for line in self.gateway.lines():
            m = re.match(r"^\[(env-\d+)\] (.*)$", line)
            if m and (env is None or m.group(1) == env):
                out.append((m.group(1), m.group(2)))
        return out

    def function_json(self, env=None):
        """The JSON objects the function wrote, as (env, object)."""
        out = []
        for e, text in self.env_lines(env):
            if text.startswith("{"):
                try:
                    out.append((e, json.loads(text)))
                except ValueError:
                    pass
        return out

    def gateway_json(self, message=None):
        """The gateway's own JSON log lines (optionally only those with this message)."""
        out = []
        for line in self.gateway.lines():
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("logger") == "imagegen-gateway" and (message is None or obj.get("message") == message):
                    out.append(obj)
        return out

    def reports(self):
        """Every REPORT line as a dict: env, requestId, duration_ms, billed_ms, memory_mb,
        max_memory_mb, init_ms (None when warm), status (None when fine)."""
        out = []
        for env, text in self.env_lines():
            if not text.startswith("REPORT RequestId: "):
                continue
            fields = dict(f.split(": ", 1) for f in text[len("REPORT "):].split("\t"))
            out.append({"env": env, "requestId": fields["RequestId"],
                        "duration_ms": float(fields["Duration"].split()[0]),
                        "billed_ms": int(fields["Billed Duration"].split()[0]),
                        "memory_mb": int(fields["Memory Size"].split()[0]),
                        "max_memory_mb": int(fields["Max Memory Used"].split()[0]),
                        "init_ms": float(fields["Init Duration"].split()[0]) if "Init Duration" in fields else None,
                        "status": fields.get("Status"), "error_type": fields.get("Error Type")})
        return out

    def report_for(self, request_id, timeout=10.0):
        """The REPORT of one Lambda request id (waits for it: it follows the answer closely)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.reports():
                if r["requestId"] == request_id:
                    return r
            time.sleep(0.02)
        raise StackError(f"no REPORT for {request_id}:\n" + self.gateway.text()[-4000:])

    def wait_gateway_json(self, predicate, timeout=10.0):
        """The first gateway JSON log line for which predicate(obj) is true, waiting for it: the
        output arrives through a pipe, a moment after the HTTP answer."""
        deadline = time.monotonic() + timeout
        while True:
            for obj in self.gateway_json():
                if predicate(obj):
                    return obj
            if time.monotonic() > deadline:
                raise StackError("no such gateway log line:\n" + self.gateway.text()[-4000:])
            time.sleep(0.02)

    def access_line(self, api_request_id, timeout=10.0):
        """The gateway's access log line ("request") of an API Gateway request id (x-amzn-RequestId)."""
        return self.wait_gateway_json(lambda o: o.get("message") == "request" and o.get("requestId") == api_request_id,
                                      timeout)

    def lambda_request_id(self, api_request_id, timeout=10.0):
        """The Lambda request id behind an API Gateway request id."""
        return self.access_line(api_request_id, timeout).get("lambdaRequestId")

    def env_pids(self):
        """{env: pid} of every execution environment started so far."""
        return {o["env"]: o["pid"] for o in self.gateway_json("execution environment started")}

    def dump(self, tail=80):
        """The last lines of every part, for a failing test's report."""
        parts = []
        for name in ("gateway", "bedrock", "s3_verify", "s3", "dynamodb"):
            proc = getattr(self, name)
            if proc is not None:
                parts.append(f"---- {proc.name} ----\n" + "\n".join(proc.lines()[-tail:]))
        return "\n".join(parts)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _stop_all(*_):
    for st in list(_live):
        try:
            st.stop()
        except Exception:
            pass


atexit.register(_stop_all)


def _on_term(signum, frame):
    _stop_all()
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_term)


def run_tests(suite_name, module="__main__"):
    """Runs the unittest cases of module, prints "<suite_name>: N passed, M failed", exits 0 only if all passed."""
    import sys
    import unittest
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    _stop_all()
    for finding in sanitizer_findings:
        print("sanitizer report:\n" + finding)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    failed += len(sanitizer_findings)
    print(f"{suite_name}: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)
