"""harness.py - measures the C runtime next to the runtimes users would pick instead, in one run.

Every runtime runs as the function behind the same imagegen-gateway, against the same
bedrock-local (no added latency, so only the runtime's own cost shows) and the same s3rver,
doing the same job. Figures are medians over repeated rounds, and the rounds of the runtimes
are interleaved so that noise from other work on the machine falls on all of them alike.
Both bedrock-locals stand for us-west-2, which serves Titan G1 v1 and the Stability models.

    /usr/bin/python3 tests/bench/harness.py [--quick] [--micro] [--json FILE] [--plot FILE.png]

(--micro: the one-core micro-benchmarks only, without the runtimes.)

Measured per runtime:
  cold     Init Duration from the gateway's REPORT (process start to its first GET /next) and
           the end-to-end latency of the first request, sent as soon as the gateway listens
           (the gateway listens once its environment has finished init), their sum, and the CPU
           time the function process used for both (from /proc/<pid>/task/*/schedstat, in ns);
  cold TLS the same with Bedrock and S3 behind HTTPS (tls_front.py), as on AWS, for a 3-image
           Stable Image Core request: three Bedrock and three S3 connections opened at once;
  warm     end-to-end latency p50/p99 and CPU time per invocation (utime+stime of the function
           process from /proc/<pid>/stat over the round) for 1 and for 5 images of 1024x1024
           (Titan G1 v1: one call makes all the images);
  parallel a Stability request (stable-image-core, one image per InvokeModel call) of 1 and of 3
           images against a second bedrock-local that holds every call 1 s: wall time p50 and
           CPU per invocation, the 3-image / 1-image wall-time ratio, and bedrock-local's
           max_in_flight (3 when the three calls overlap);
  memory   VmHWM of the function process after 1,000 invocations;
  load     requests/s through the gateway with 2 environments, for a generation and for
           GET /health (the gateway and a trivial function answer: the floor under every figure).
And on one core: base64 against memcpy, SigV4 signing, a Bedrock answer's images found, and the
edits' input path (bench_inputs: a 4 MB inline image out of an event and into a model body,
next to memcpy; a 10 MB form parsed, next to Python's email package and Node's
Request.formData(), multipart_peer.py and .mjs, each in its own process).
"""
import hashlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import stack  # noqa: E402
import tls_front  # noqa: E402
from policy_copy import policy_with  # noqa: E402

NODE_DIR = os.path.join(HERE, "node")
NODE_RIC = os.path.join(NODE_DIR, "node_modules", ".bin", "aws-lambda-ric")
BUCKET = "imagegen-bench"
PROMPT = "a red coffee cup on a wooden table"
# The model of the cold, warm, memory and load rows (one call makes all n images; kept so the
# figures compare with earlier runs), and the model of the parallel rows (the policy's default:
# one image per call, n calls at once).
TITAN = "amazon.titan-image-generator-v1"
STABILITY = "stability.stable-image-core-v1:1"
MODEL_NAMES = {TITAN: "Titan G1 v1", STABILITY: "SI Core"}
# How long the slow bedrock-local holds each call for the parallel rows.
SLOW_MS = 1000
CLK_TCK = os.sysconf("SC_CLK_TCK")

FULL = {"cold_runs": 5, "rounds": 3, "warm1": 100, "warm5": 30, "par1": 6, "par3": 6, "rss_after": 1000,
        "load_s": 8.0, "health": 300, "clients": 4}
QUICK = {"cold_runs": 1, "rounds": 1, "warm1": 20, "warm5": 4, "par1": 2, "par3": 2, "rss_after": 40,
         "load_s": 1.5, "health": 50, "clients": 4}

PY_REASON = None  # filled by python_peer_status()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- the peers ----

def python_peer_status():
    """None when a Python peer can run here, else the sentence the table shows in its row."""
    code = ("import boto3, botocore\n"
            "print(boto3.__version__, botocore.__version__,"
            " 'bedrock-runtime' in boto3.session.Session().get_available_services())\n")
    p = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True)
    if p.returncode != 0:
        b = subprocess.run(["/usr/bin/python3", "-c",
                            "import botocore.session as s, botocore; print(botocore.__version__,"
                            " 'bedrock-runtime' in s.get_session().get_available_services())"],
                           capture_output=True, text=True)
        if b.returncode == 0:
            ver, known = b.stdout.split()
            extra = "" if known == "True" else f"; Debian's botocore {ver} has no bedrock-runtime model either"
            return f"not available: boto3 is not installed (Debian's python3-boto3 is 1.26, without bedrock-runtime){extra}"
        return "not available: boto3 is not installed"
    b3, bc, known = p.stdout.split()
    if known != "True":
        return f"not available: boto3 {b3} (botocore {bc}) on this machine has no bedrock-runtime model"
    if subprocess.run(["/usr/bin/python3", "-c", "import awslambdaric"], capture_output=True).returncode != 0:
        return "not available: the Python runtime interface client (awslambdaric, PyPI only) is not installed"
    return "not available: boto3 knows bedrock-runtime here, but no Python peer is wired into this harness"


class Runtime:
    def __init__(self, name, short, function=None, task_root=None):
        self.name, self.short, self.function, self.task_root = name, short, function, task_root


def runtimes():
    out = [Runtime("C (imagegen bootstrap)", "C")]
    if not os.path.exists(NODE_RIC):
        raise SystemExit(f"{NODE_RIC} is missing: run `npm ci` in {NODE_DIR}")
    out.append(Runtime("Node.js 20 + AWS SDK v3 (aws-lambda-ric)", "Node", [NODE_RIC, "handler.handler"], NODE_DIR))
    return out


# ---- the stack ----

class Shared:
    """s3rver, bedrock-local and a second bedrock-local that holds every call SLOW_MS, shared by
    every gateway. The policy serves both bench models (Titan G1 v1 is legacy: not allowed by
    the shipped config) with rate limits off."""

    def __init__(self):
        self.st = stack.Stack(gateway=False, bucket=BUCKET, dynamodb=False).start()
        self.slow = None
        try:
            self.slow = stack.Stack(s3=False, gateway=False, dynamodb=False, bedrock_args=["--latency-ms", str(SLOW_MS)]).start()
        except BaseException:
            self.st.stop()
            raise
        self.policy = policy_with(f'c.rate_limit.enabled = false\nc.allowed_models = {{ "{STABILITY}", "{TITAN}" }}')
        self.certs = tls_front.Certificates()
        self.tls_s3 = tls_front.TlsFront(self.certs, self.st.s3_url)
        self.tls_bedrock = tls_front.TlsFront(self.certs, self.st.bedrock_url)

    def gateway(self, rt, concurrency, slow=False, tls=False):
        """A gateway with `concurrency` environments of runtime rt. tls: Bedrock and S3 through
        the HTTPS fronts; the function then starts through /usr/bin/env, which sets the variable
        that makes it trust the fronts (the gateway passes on only AWS_* and IMAGEGEN_*)."""
        function = rt.function
        if tls:
            function = (["/usr/bin/env"] + [f"{k}={v}" for k, v in self.certs.env().items()]
                        + (rt.function or [os.path.join(stack.BUILD_DIR, "bootstrap")]))
        g = stack.Stack(s3=False, bedrock=False, dynamodb=False, function=function, task_root=rt.task_root,
                        concurrency=concurrency, bucket=BUCKET, policy_dir=self.policy)
        if tls:
            g.s3_url, g.bedrock_url = self.tls_s3.url, self.tls_bedrock.url
        else:
            g.s3_url = self.st.s3_url
            g.bedrock_url = (self.slow if slow else self.st).bedrock_url
        return g.start()

    def slow_stats(self):
        return self.slow.bedrock_control("GET", "stats")[1]

    def slow_reset(self):
        status, _ = self.slow.bedrock_control("POST", "reset")
        if status not in (200, 204):
            raise RuntimeError(f"bedrock-local's reset answered {status}")

    def stop(self):
        for front in (self.tls_s3, self.tls_bedrock):
            front.close()
        self.certs.remove()
        if self.slow is not None:
            self.slow.stop()
        self.st.stop()


class Client:
    """One keep-alive connection to the gateway (a new one after any failure)."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, payload
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def generate_body(n, seed=None, model=TITAN):
    """Titan asks for 1024 x 1024; Stability leaves its aspect ratio at the default (1:1)."""
    b = {"prompt": PROMPT, "model": model, "numberOfImages": n}
    if model == TITAN:
        b.update(width=1024, height=1024)
    if seed is not None:
        b["seed"] = seed
    return b


def timed_generate(client, n, seed=None, model=TITAN):
    t0 = time.perf_counter()
    status, payload = client.call("POST", "/generate-image", generate_body(n, seed, model))
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        raise RuntimeError(f"generation answered {status}: {payload[:300]!r}")
    doc = json.loads(payload)
    if len(doc.get("images", [])) != n:
        raise RuntimeError(f"asked for {n} images, got: {payload[:300]!r}")
    return ms, doc


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def proc_cpu_ns(pid):
    """CPU time of every live thread of pid since it started, in ns (schedstat's first field)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # the thread ended meanwhile
    return total


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def function_pid(g):
    pids = list(g.env_pids().values())
    if len(pids) != 1:
        raise RuntimeError(f"expected one execution environment, got {pids}")
    return pids[0]


def percentile(values, q):
    s = sorted(values)
    i = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[i]


# ---- the measurements ----

def answer_shape(doc):
    """What two runtimes must agree on: the members, and per image everything but its uuid."""
    return {"members": sorted(doc), "model": doc["model"],
            "images": [{"members": sorted(im), **{k: im.get(k) for k in ("width", "height", "seed", "format", "contentType", "batchIndex", "batchSize")},
                        "key": im["key"].rsplit("/", 1)[0] + "/*." + im["key"].rsplit(".", 1)[-1]}
                       for im in doc["images"]]}


def check_same_answers(clients, n, model):
    """Every runtime answers the same request (seed 42) with the same shape, sizes, seeds and
    formats, and stores the same image bytes behind the presigned URLs."""
    digests, shapes = {}, {}
    for rt, client in clients.items():
        _, doc = timed_generate(client, n, seed=42, model=model)
        shapes[rt.short] = answer_shape(doc)
        got = []
        for im in doc["images"]:
            r = stack.http_call(im["url"])
            if r.status != 200:
                raise RuntimeError(f"{rt.short}: the presigned URL answered {r.status}: {im['url']}")
            if not im["key"].startswith("images/") or not im["key"].endswith(".png"):
                raise RuntimeError(f"{rt.short}: unexpected key {im['key']}")
            got.append(hashlib.sha256(r.body).hexdigest())
        digests[rt.short] = got
    if len({json.dumps(v, sort_keys=True) for v in shapes.values()}) != 1:
        raise RuntimeError(f"the runtimes answer {model} in different shapes: {shapes}")
    if len({json.dumps(v) for v in digests.values()}) != 1:
        raise RuntimeError(f"the runtimes stored different images for the same {model} request: {digests}")
    return digests


def measure_cold(shared, rt, tls=False, n=1, model=TITAN):
    """Init Duration, the first request's end-to-end latency, and the CPU time and resident
    memory of the function process right after the answer, before anything else runs in it."""
    g = shared.gateway(rt, 1, tls=tls)
    try:
        client = Client(g.api_url)
        ms, doc = timed_generate(client, n, model=model)
        pid = function_pid(g)
        cpu_ms = proc_cpu_ns(pid) / 1e6
        rss_mb = proc_status_kb(pid, "VmRSS") / 1024.0
        client.close()
        reports = [r for r in g.reports() if r["init_ms"] is not None]
        deadline = time.monotonic() + 10
        while not reports and time.monotonic() < deadline:
            time.sleep(0.02)
            reports = [r for r in g.reports() if r["init_ms"] is not None]
        if not reports:
            raise RuntimeError(f"{rt.short}: no REPORT with an Init Duration")
        return reports[0]["init_ms"], ms, cpu_ms, rss_mb
    finally:
        g.stop()


def check_tls_trust(shared):
    """Over TLS, the C runtime refuses a certificate its bundle does not hold: the system bundle
    alone does not trust the local fronts, so a generation must fail (and then succeed with it)."""
    g = stack.Stack(s3=False, bedrock=False, dynamodb=False, bucket=BUCKET, policy_dir=shared.policy, concurrency=1,
                    function=["/usr/bin/env", f"SSL_CERT_FILE={tls_front.system_bundle()}",
                              os.path.join(stack.BUILD_DIR, "bootstrap")])
    g.s3_url, g.bedrock_url = shared.tls_s3.url, shared.tls_bedrock.url
    g.start()
    try:
        client = Client(g.api_url)
        status, payload = client.call("POST", "/generate-image", generate_body(1))
        client.close()
        if status != 502:
            raise RuntimeError(f"C trusted a certificate outside its CA bundle: {status} {payload[:200]!r}")
    finally:
        g.stop()


def warm_round(g, client, n, count, model=TITAN):
    pid = function_pid(g)
    lat = []
    c0 = proc_cpu_ticks(pid)
    for _ in range(count):
        ms, _ = timed_generate(client, n, model=model)
        lat.append(ms)
    c1 = proc_cpu_ticks(pid)
    return {"p50": statistics.median(lat), "p99": percentile(lat, 99),
            "cpu_ms": (c1 - c0) * 1000.0 / CLK_TCK / count}


def run_load(url, method, path, body, seconds, clients):
    """Requests per second from `clients` client processes, each on its own keep-alive connection."""
    argv = [sys.executable, os.path.abspath(__file__), "--load", url, method, path,
            json.dumps(body) if body is not None else "", str(seconds)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(clients)]
    total, failed, spans = 0, 0, []
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 120)
        if p.returncode != 0:
            raise RuntimeError(f"a load client failed: {out}")
        ok, bad, span = out.split()
        total, failed = total + int(ok), failed + int(bad)
        spans.append(float(span))
    if failed:
        raise RuntimeError(f"{failed} requests failed under load on {path}")
    return total / max(spans)


def load_client(url, method, path, body, seconds):
    client = Client(url)
    data = json.loads(body) if body else None
    ok = bad = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        status, _ = client.call(method, path, data)
        if status == 200:
            ok += 1
        else:
            bad += 1
    print(ok, bad, time.perf_counter() - t0)


def parallel_round(shared, g, client, n, count):
    """A warm round of Stability requests of n images against the slow bedrock-local, and the
    most calls it saw in flight at once."""
    shared.slow_reset()
    r = warm_round(g, client, n, count, model=STABILITY)
    stats = shared.slow_stats()
    r["max_in_flight"] = stats["max_in_flight"]
    calls = stats.get("calls") or []
    if len(calls) < n * count:
        raise RuntimeError(f"bedrock-local saw {len(calls)} calls for {count} requests of {n} images")
    return r


def measure_load(shared, rt, cfg):
    g = shared.gateway(rt, 2)
    try:
        warmup = Client(g.api_url)
        for _ in range(4):
            timed_generate(warmup, 1)
        health = []
        for _ in range(cfg["health"]):
            t0 = time.perf_counter()
            status, _ = warmup.call("GET", "/health")
            health.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{rt.short}: GET /health answered {status}")
        warmup.close()
        gen = run_load(g.api_url, "POST", "/generate-image", generate_body(1), cfg["load_s"], cfg["clients"])
        hps = run_load(g.api_url, "GET", "/health", None, cfg["load_s"], cfg["clients"])
        gw_cpu = proc_cpu_ticks(g.gateway.pid)
        return {"gen_rps": gen, "health_rps": hps, "health_p50": statistics.median(health),
                "gateway_cpu_s": gw_cpu / CLK_TCK}
    finally:
        g.stop()


def run(cfg):
    rts = runtimes()
    py_reason = python_peer_status()
    res = {rt.short: {"name": rt.name} for rt in rts}
    shared = Shared()
    try:
        log("bench: cold starts")
        for i in range(cfg["cold_runs"]):
            for rt in rts:
                init_ms, first_ms, cpu_ms, rss_mb = measure_cold(shared, rt)
                res[rt.short].setdefault("cold_rss", []).append(rss_mb)
                res[rt.short].setdefault("init", []).append(init_ms)
                res[rt.short].setdefault("first", []).append(first_ms)
                res[rt.short].setdefault("cold_total", []).append(init_ms + first_ms)
                res[rt.short].setdefault("cold_cpu", []).append(cpu_ms)
        log("bench: cold starts over TLS")
        check_tls_trust(shared)
        for i in range(cfg["cold_runs"]):
            for rt in rts:
                init_ms, first_ms, cpu_ms, rss_mb = measure_cold(shared, rt, tls=True, n=3, model=STABILITY)
                res[rt.short].setdefault("tls_rss", []).append(rss_mb)
                res[rt.short].setdefault("tls_init", []).append(init_ms)
                res[rt.short].setdefault("tls_first", []).append(first_ms)
                res[rt.short].setdefault("tls_total", []).append(init_ms + first_ms)
                res[rt.short].setdefault("tls_cpu", []).append(cpu_ms)
        warm = {}
        par = {}
        try:
            for rt in rts:
                g = shared.gateway(rt, 1)
                warm[rt] = (g, Client(g.api_url))
                g = shared.gateway(rt, 1, slow=True)
                par[rt] = (g, Client(g.api_url))
            log("bench: checking that every runtime gives the same answers")
            check_same_answers({rt: c for rt, (g, c) in warm.items()}, 2, TITAN)
            check_same_answers({rt: c for rt, (g, c) in par.items()}, 3, STABILITY)
            for rt, (g, client) in warm.items():  # a few untimed invocations: JITs and caches settle
                for _ in range(5):
                    timed_generate(client, 1)
            for rt, (g, client) in par.items():
                timed_generate(client, 1, model=STABILITY)
            for r in range(cfg["rounds"]):
                for n, key in ((1, "warm1"), (5, "warm5")):
                    log(f"bench: warm round {r + 1}/{cfg['rounds']}, {n} image(s), {MODEL_NAMES[TITAN]}")
                    for rt, (g, client) in warm.items():
                        res[rt.short].setdefault(key, []).append(warm_round(g, client, n, cfg[key]))
                for n, key in ((1, "par1"), (3, "par3")):
                    log(f"bench: parallel round {r + 1}/{cfg['rounds']}, {n} image(s), {MODEL_NAMES[STABILITY]}, "
                        f"calls held {SLOW_MS} ms")
                    for rt, (g, client) in par.items():
                        res[rt.short].setdefault(key, []).append(parallel_round(shared, g, client, n, cfg[key]))
            for g, client in par.values():
                client.close()
                g.stop()
            par = {}
            log(f"bench: up to {cfg['rss_after']} invocations for peak RSS")
            for rt, (g, client) in warm.items():
                done = sum(1 for _ in g.reports())
                for _ in range(max(0, cfg["rss_after"] - done)):
                    timed_generate(client, 1)
                # The REPORT line of the last invocation may follow its answer by a moment.
                deadline = time.monotonic() + 3
                while (done := sum(1 for _ in g.reports())) < cfg["rss_after"] and time.monotonic() < deadline:
                    time.sleep(0.05)
                pid = function_pid(g)
                res[rt.short]["rss_kb"] = proc_status_kb(pid, "VmHWM")
                res[rt.short]["invocations"] = done
        finally:
            for g, client in list(warm.values()) + list(par.values()):
                client.close()
                g.stop()
        log("bench: throughput with 2 environments")
        for rt in rts:
            res[rt.short]["load"] = measure_load(shared, rt, cfg)
    finally:
        shared.stop()
    return res, py_reason


# ---- the report ----

def med(values):
    return statistics.median(values)


def summarize(res):
    out = {}
    for short, r in res.items():
        s = {"name": r["name"], "init_ms": med(r["init"]), "first_ms": med(r["first"]),
             "cold_total_ms": med(r["cold_total"]), "cold_cpu_ms": med(r["cold_cpu"]),
             "tls_init_ms": med(r["tls_init"]), "tls_first_ms": med(r["tls_first"]),
             "tls_total_ms": med(r["tls_total"]), "tls_cpu_ms": med(r["tls_cpu"]),
             "cold_rss_mb": med(r["cold_rss"]), "tls_rss_mb": med(r["tls_rss"]),
             "rss_mb": r["rss_kb"] / 1024.0, "invocations": r["invocations"], **r["load"]}
        for key in ("warm1", "warm5", "par1", "par3"):
            for f in ("p50", "p99", "cpu_ms"):
                s[f"{key}_{f}"] = med([x[f] for x in r[key]])
        s["par_ratio"] = s["par3_p50"] / s["par1_p50"]
        # the fewest overlapping calls seen in any 3-image round (3: every round overlapped fully)
        s["par3_in_flight"] = min(x["max_in_flight"] for x in r["par3"])
        out[short] = s
    return out


T, S = MODEL_NAMES[TITAN], MODEL_NAMES[STABILITY]
ROWS = [
    # key, label, model, unit format, target ratio (ours / Node, at most) or None
    ("init_ms", "cold: init duration (ms)", "", "{:.1f}", 0.1),
    ("first_ms", "cold: first request after init, end-to-end (ms)", T, "{:.1f}", None),
    ("cold_total_ms", "cold: init + first request (ms)", T, "{:.1f}", None),
    ("cold_cpu_ms", "cold: CPU time of init + first request (ms)", T, "{:.1f}", None),
    ("cold_rss_mb", "cold: RSS after the first request (MB)", T, "{:.1f}", None),
    ("tls_init_ms", "cold, HTTPS: init duration (ms)", "", "{:.1f}", None),
    ("tls_first_ms", "cold, HTTPS: first request, 3 images (ms)", S, "{:.1f}", None),
    ("tls_total_ms", "cold, HTTPS: init + first request (ms)", S, "{:.1f}", None),
    ("tls_cpu_ms", "cold, HTTPS: CPU time of init + first request (ms)", S, "{:.1f}", None),
    ("tls_rss_mb", "cold, HTTPS: RSS after the first request (MB)", S, "{:.1f}", None),
    ("warm1_p50", "warm, 1 image: p50 (ms)", T, "{:.2f}", None),
    ("warm1_p99", "warm, 1 image: p99 (ms)", T, "{:.2f}", None),
    ("warm1_cpu_ms", "warm, 1 image: CPU per invocation (ms)", T, "{:.2f}", 1 / 3),
    ("warm5_p50", "warm, 5 images (1 call): p50 (ms)", T, "{:.1f}", None),
    ("warm5_p99", "warm, 5 images (1 call): p99 (ms)", T, "{:.1f}", None),
    ("warm5_cpu_ms", "warm, 5 images (1 call): CPU per invocation (ms)", T, "{:.1f}", 1 / 3),
    ("par1_p50", "calls held 1 s, 1 image: p50 (ms)", S, "{:.0f}", None),
    ("par1_cpu_ms", "calls held 1 s, 1 image: CPU per invocation (ms)", S, "{:.2f}", None),
    ("par3_p50", "calls held 1 s, 3 images (3 calls): p50 (ms)", S, "{:.0f}", None),
    ("par3_cpu_ms", "calls held 1 s, 3 images (3 calls): CPU per invocation (ms)", S, "{:.2f}", 1 / 3),
    ("par_ratio", "calls held 1 s: 3-image p50 / 1-image p50", S, "{:.3f}", None),
    ("par3_in_flight", "calls held 1 s, 3 images: fewest calls in flight at once", S, "{:d}", None),
    ("rss_mb", "peak RSS after {inv} invocations (MB)", T, "{:.1f}", 0.25),
    ("gen_rps", "throughput, 2 environments, 1 image (req/s)", T, "{:.0f}", None),
    ("health_rps", "GET /health, 2 environments (req/s)", "", "{:.0f}", None),
    ("health_p50", "GET /health, sequential p50 (ms)", "", "{:.2f}", None),
]


def table(summary, py_reason, micro):
    c, n = summary["C"], summary["Node"]
    lines = []
    hdr = ("metric (median)", "model", "C bootstrap", "Node.js SDK v3", "C / Node", "target", "")
    rows = []
    verdicts = []
    for key, label, model, fmt, target in ROWS:
        label = label.format(inv=c["invocations"])
        ratio = c[key] / n[key] if n[key] else float("nan")
        tgt = verdict = ""
        if target is not None:
            tgt = f"<= 1/{round(1 / target)}"
            verdict = "met" if ratio <= target else "MISSED"
            verdicts.append((label, verdict))
        rows.append((label, model, fmt.format(c[key]), fmt.format(n[key]), f"{ratio:.3f}", tgt, verdict))
    widths = [max(len(r[i]) for r in [hdr] + rows) for i in range(len(hdr))]
    fmt_row = lambda r: "| " + " | ".join(v.ljust(widths[i]) if i < 2 else v.rjust(widths[i]) for i, v in enumerate(r)) + " |"  # noqa: E731
    lines.append(fmt_row(hdr))
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        lines.append(fmt_row(r))
    lines.append(f"| Python + boto3: {py_reason} |")
    lines.append("")
    lines.append(f"Models: {T} = {TITAN} (one call makes all n images); {S} = {STABILITY} (one image per "
                 f"call: n calls at once). bedrock-local stands for us-west-2; \"calls held 1 s\" rows use a "
                 f"second one started with --latency-ms {SLOW_MS}; \"HTTPS\" rows reach Bedrock and S3 "
                 f"through local TLS fronts, the function started through /usr/bin/env to trust them.")
    lines.append("")
    micro_lines, micro_verdicts = micro_table(micro)
    lines += micro_lines
    verdicts += micro_verdicts
    return "\n".join(lines), verdicts


def micro_table(micro):
    """The micro-benchmark rows: (lines, verdicts)."""
    lines, verdicts = [], []
    lines.append("| micro-benchmark (one core, median) | value | target | |")
    lines.append("|---|---|---|---|")
    ratio = micro["b64_decode"] / micro["memcpy"]
    mv = "met" if ratio >= 0.25 else "MISSED"
    verdicts.append(("base64 decode / memcpy", mv))
    lines.append(f"| base64 decode (MB/s of base64) | {micro['b64_decode']:.0f} | | |")
    lines.append(f"| memcpy, same bytes (MB/s) | {micro['memcpy']:.0f} | | |")
    lines.append(f"| base64 decode / memcpy | {ratio:.3f} | >= 0.25 | {mv} |")
    sv = "met" if micro["sign"] >= 200000 else "MISSED"
    verdicts.append(("SigV4 signatures/s", sv))
    lines.append(f"| SigV4 header signatures/s (Bedrock InvokeModel) | {micro['sign']:.0f} | >= 200,000 | {sv} |")
    lines.append(f"| SigV4 signatures/s without the signing-key cache | {micro['sign_nocache']:.0f} | | |")
    lines.append(f"| SigV4 presigned URLs/s (S3 GET) | {micro['presign']:.0f} | | |")
    for n in (1, 5):
        lines.append(f"| Bedrock answer with {n} x 1.4 MB image(s): JSON parse (ig_extract_images), ms "
                     f"| {micro[f'extract{n}_ms']:.2f} | | |")
        lines.append(f"| the same answer: base64 decode of its image(s), ms | {micro[f'decode{n}_ms']:.2f} | | |")
    mb = micro["input_b64_bytes"] / 1e6
    out_of_event = micro["input_event_ms"] + micro["input_inputs_ms"]
    lines.append(f"| an edit's inline image, {mb:.1f} MB of base64 in the event: the event parsed "
                 f"(ig_event_to_request), ms | {micro['input_event_ms']:.1f} | | |")
    lines.append(f"| the image taken out: base64 decoded, PNG inspected (ig_inputs_from_request), ms "
                 f"| {micro['input_inputs_ms']:.1f} | | |")
    lines.append(f"| of which its image data inflated against its header (ig_png_check_data), ms "
                 f"| {micro['input_data_ms']:.1f} | | |")
    lines.append(f"| the image put into a model body (ig_inputs_substitute), ms | {micro['input_subst_ms']:.2f} | | |")
    lines.append(f"| memcpy of the same {mb:.1f} MB, ms | {micro['input_memcpy_ms']:.2f} | | |")
    lines.append(f"| the same event in Node.js: JSON.parse of the event and of its body, ms "
                 f"| {micro['input_node_parse_ms']:.1f} | | |")
    lines.append(f"| the same image in Node.js: Buffer.from(base64), ms | {micro['input_node_decode_ms']:.1f} | | |")
    lines.append(f"| the same image into a body in Node.js: toString(\"base64\"), JSON.stringify, ms "
                 f"| {micro['input_node_subst_ms']:.1f} | | |")
    lines.append(f"| out of the event (parse + take out) / memcpy "
                 f"| {out_of_event / micro['input_memcpy_ms']:.0f} | | |")
    lines.append(f"| the event parsed / Node's JSON.parse | "
                 f"{micro['input_event_ms'] / micro['input_node_parse_ms']:.1f} | | |")
    lines.append(f"| into the body / memcpy | {micro['input_subst_ms'] / micro['input_memcpy_ms']:.1f} | | |")
    lines.append(f"| into the body / Node's | {micro['input_subst_ms'] / micro['input_node_subst_ms']:.2f} | | |")
    fmb = micro["form_bytes"] / 1e6
    lines.append(f"| multipart form of {fmb:.1f} MB (one image file, four fields): parsed (ig_multipart_parse), ms "
                 f"| {micro['form_c_ms']:.2f} | | |")
    lines.append(f"| the same form: Python's email.parser (BytesParser, policy HTTP), ms "
                 f"| {micro['form_py_ms']:.0f} | | |")
    lines.append(f"| the same form: Node.js Request.formData(), ms | {micro['form_node_ms']:.1f} | | |")
    lines.append(f"| memcpy of the form, ms | {micro['form_memcpy_ms']:.2f} | | |")
    lines.append(f"| parse / Python's | {micro['form_c_ms'] / micro['form_py_ms']:.4f} | | |")
    lines.append(f"| parse / Node's | {micro['form_c_ms'] / micro['form_node_ms']:.3f} | | |")
    return lines, verdicts


def micro_benchmarks(build_dir, quick):
    b64 = subprocess.run([os.path.join(build_dir, "tests", "bench_base64")] + (["8", "5"] if quick else ["8", "31"]),
                         capture_output=True, text=True, check=True).stdout
    sig = subprocess.run([os.path.join(build_dir, "tests", "bench_sigv4")] + (["100", "3"] if quick else ["300", "9"]),
                         capture_output=True, text=True, check=True).stdout

    ext = {}
    for n in (1, 5):
        ext[n] = subprocess.run([os.path.join(build_dir, "tests", "bench_extract"), str(n), "1400000",
                                 "5" if quick else "15"], capture_output=True, text=True, check=True).stdout

    def num(text, prefix):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(prefix):
                return float(line[len(prefix):].split()[0])
        raise RuntimeError(f"no '{prefix}' in:\n{text}")

    # The edits' input path: a 4 MB inline image out of an event and into a model body, and a 10 MB
    # form parsed by C, by Python's email package and by Node's Request.formData(), each in its
    # own process started from here, on the same file.
    tool = os.path.join(build_dir, "tests", "bench_inputs")
    scratch = tempfile.mkdtemp(prefix="imagegen-bench-")
    form, event = os.path.join(scratch, "form.bin"), os.path.join(scratch, "event.json")
    boundary = "----formdata-undici-028104638815"
    subprocess.run([tool, "--write-form", form, "--form-mb", "10", "--boundary", boundary], capture_output=True,
                   check=True)
    inputs = subprocess.run([tool, "--base64-mb", "4", "--reps", "5" if quick else "15", "--form", form,
                             "--boundary", boundary, "--write-event", event], capture_output=True, text=True,
                            check=True).stdout
    node_event = subprocess.run(["node", os.path.join(HERE, "event_peer.mjs"), event, "5" if quick else "15"],
                                capture_output=True, text=True, check=True).stdout
    py = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "multipart_peer.py"), form, boundary,
                         "2" if quick else "5"], capture_output=True, text=True, check=True).stdout
    node = subprocess.run(["node", os.path.join(HERE, "multipart_peer.mjs"), form, boundary, "3" if quick else "9"],
                          capture_output=True, text=True, check=True).stdout
    form_bytes = os.path.getsize(form)
    shutil.rmtree(scratch, ignore_errors=True)
    # all three read the same file part
    sizes = {line.strip() for out in (inputs, py, node) for line in out.splitlines() if line.startswith("form:")}
    if len(sizes) != 1:
        raise RuntimeError("the multipart parsers disagree on the form's parts: %s" % sizes)

    return {"b64_decode": num(b64, "base64 decode:"), "memcpy": num(b64, "memcpy:"),
            "sign": num(sig, "sigv4 sign (Bedrock InvokeModel, 215-byte body):"),
            "sign_nocache": num(sig, "sigv4 sign without the key cache:"),
            "presign": num(sig, "sigv4 presign (S3 GET URL):"),
            "extract1_ms": num(ext[1], "extract (JSON parse):"), "decode1_ms": num(ext[1], "base64 decode:"),
            "extract5_ms": num(ext[5], "extract (JSON parse):"), "decode5_ms": num(ext[5], "base64 decode:"),
            "input_b64_bytes": num(inputs, "base64 bytes:"),
            "input_event_ms": num(inputs, "event (ig_event_to_request):"),
            "input_inputs_ms": num(inputs, "inputs (ig_inputs_from_request):"),
            "input_data_ms": num(inputs, "image data (ig_png_check_data):"),
            "input_subst_ms": num(inputs, "substitute (ig_inputs_substitute):"),
            "input_memcpy_ms": num(inputs, "memcpy of the base64:"), "form_bytes": form_bytes,
            "form_c_ms": num(inputs, "multipart (ig_multipart_parse):"),
            "form_memcpy_ms": num(inputs, "memcpy of the form:"),
            "form_py_ms": num(py, "python email.parser:"), "form_node_ms": num(node, "node Request.formData():"),
            "input_node_parse_ms": num(node_event, "node JSON.parse (event, body):"),
            "input_node_decode_ms": num(node_event, "node Buffer.from(base64):"),
            "input_node_subst_ms": num(node_event, "node into a body (toString, JSON.stringify):")}


def main(argv):
    if argv[:1] == ["--load"]:
        url, method, path, body, seconds = argv[1:6]
        load_client(url, method, path, body, float(seconds))
        return 0
    quick = "--quick" in argv
    known = {"--quick", "--json", "--plot", "--micro"}
    for i, a in enumerate(argv):
        if a.startswith("--") and a not in known:
            raise SystemExit(f"unknown option {a}: use --quick, --micro, --json FILE, --plot FILE.png")
        if a in ("--json", "--plot") and (i + 1 >= len(argv) or argv[i + 1].startswith("--")):
            raise SystemExit(f"{a} needs a file name")
    json_out = argv[argv.index("--json") + 1] if "--json" in argv else None
    plot_out = argv[argv.index("--plot") + 1] if "--plot" in argv else None
    cfg = QUICK if quick else FULL
    t0 = time.monotonic()
    log("bench: micro-benchmarks")
    micro = micro_benchmarks(stack.BUILD_DIR, quick)
    if "--micro" in argv:
        lines, verdicts = micro_table(micro)
        print("\n".join(lines))
        print()
        print(f"micro-benchmarks only{' (quick)' if quick else ''}, in {time.monotonic() - t0:.0f} s; host "
              f"{platform.node()}")
        if json_out:
            with open(json_out, "w") as f:
                json.dump({"micro": micro, "verdicts": verdicts, "table": "\n".join(lines)}, f, indent=1)
        return 0
    res, py_reason = run(cfg)
    summary = summarize(res)
    text, verdicts = table(summary, py_reason, micro)
    print(text)
    print()
    print(f"{'quick' if quick else 'full'} run in {time.monotonic() - t0:.0f} s; "
          f"medians of {cfg['cold_runs']} cold starts and {cfg['rounds']} warm rounds "
          f"({cfg['warm1']} x 1 image, {cfg['warm5']} x 5 images; {cfg['par1']} x 1 and {cfg['par3']} x 3 images "
          f"with calls held {SLOW_MS} ms) per runtime; "
          f"load: {cfg['clients']} client processes for {cfg['load_s']:g} s; host {platform.node()}")
    results = {"summary": summary, "raw": res, "python": py_reason, "micro": micro, "config": cfg,
               "verdicts": verdicts, "table": text}
    if json_out:
        with open(json_out, "w") as f:
            json.dump(results, f, indent=1)
    if plot_out:
        import plot
        plot.plot(results, plot_out)
        log(f"bench: plot written to {plot_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
