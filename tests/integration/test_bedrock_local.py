#!/usr/bin/python3
"""test_bedrock_local.py - bedrock-local against a client we did not write.

Requests are signed by botocore's SigV4Auth (Debian's botocore 1.29 has no 'bedrock-runtime'
service model, so the request is built with botocore.awsrequest.AWSRequest and sent with
http.client), and error responses are parsed by botocore's rest-json parser, the way boto3
would read them. PNGs are checked by walking their chunks and inflating them with zlib; JPEGs
by walking their markers to the frame header and the end of image; WebPs by their RIFF header
and VP8 frame header.

The suite starts its own servers on free ports and stops them with SIGTERM; each must exit 0
without sanitizer reports. Prints "bedrock-local: N passed, M failed".
"""
import base64
import datetime
import http.client
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import zlib

from botocore import parsers
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.credentials import Credentials

BUILD_DIR = os.environ.get("IMAGEGEN_BUILD_DIR", "build")
BINARY = os.path.join(BUILD_DIR, "bedrock-local")
SANITIZED = os.environ.get("IMAGEGEN_SANITIZE", "0") in ("1", "ON", "TRUE", "true")
KEY_ID = "AKIDBEDROCKLOCALTEST"
SECRET = "bl-secret/0123456789abcdefghijklmnopqrstuvwxyz"
TITAN_V1 = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
BLOCKED_TITAN = ("This request has been blocked by our content filters. Our filters automatically "
                 "flagged this prompt because it may conflict our AUP or AWS Responsible AI Policy. "
                 "Please adjust your text prompt to submit a new request.")
BLOCKED_NOVA = ("This request has been blocked by our content filters. Please adjust your text "
                "prompt to submit a new request.")
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
STABILITY = [SD35, CORE, ULTRA]
# Stability's image services (docs/edit-services.md): invoked as "us." + id only.
SERVICES = ["stability." + name + "-v1:0" for name in (
    "stable-image-inpaint", "stable-outpaint", "stable-image-erase-object", "stable-image-search-replace",
    "stable-image-search-recolor", "stable-image-remove-background", "stable-fast-upscale",
    "stable-conservative-upscale", "stable-creative-upscale", "stable-image-style-guide",
    "stable-style-transfer", "stable-image-control-sketch", "stable-image-control-structure")]
RATIO_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "2:3": (832, 1216),
               "3:2": (1216, 832), "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344),
               "9:21": (640, 1536)}
RETIRED = ("This model version has reached the end of its life. Please refer to the AWS documentation "
           "for more details.")
LEGACY = ("Access denied. This Model is marked by provider as Legacy and you have not been actively "
          "using the model in the last 30 days. Please upgrade to an active model on Amazon Bedrock")
UNKNOWN_MODEL = "The provided model identifier is invalid."
TITAN_SIZES = [(1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (768, 1280),
               (384, 640), (896, 1152), (448, 576), (768, 1408), (384, 704), (640, 1408),
               (320, 704), (1152, 768), (576, 384), (1280, 768), (640, 384), (1152, 896),
               (576, 448), (1408, 768), (704, 384), (1408, 640), (704, 320), (1152, 640),
               (1173, 640)]


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def check_eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, expected {want!r}")


# ---------------------------------------------------------------- the server under test

class Server:
    """One bedrock-local process; its stdout and stderr are drained by threads."""

    def __init__(self, *args, env=None, credentials=True):
        argv = [BINARY, "--port", "0"]
        if credentials:
            argv += ["--access-key-id", KEY_ID, "--secret-access-key", SECRET]
        argv += list(args)
        self.region = args[list(args).index("--region") + 1] if "--region" in args else "us-east-1"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=full_env)
        self.lines, self.errors = [], []
        self.banner = self._read_banner()
        self.port = int(self.banner.rsplit(":", 1)[1])
        self.reader = threading.Thread(target=self._drain, args=(self.proc.stdout, self.lines))
        self.err_reader = threading.Thread(target=self._drain, args=(self.proc.stderr, self.errors))
        self.reader.start()
        self.err_reader.start()

    def _read_banner(self):
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        if not ready:
            self.proc.kill()
            raise CheckFailed("bedrock-local printed nothing within 30 s")
        line = self.proc.stdout.readline().decode()
        if not line.startswith("bedrock-local listening on http://127.0.0.1:"):
            self.proc.kill()
            raise CheckFailed(f"unexpected first line {line!r}; stderr: {self.proc.stderr.read()!r}")
        return line.strip()

    @staticmethod
    def _drain(stream, sink):
        for raw in iter(stream.readline, b""):
            sink.append(raw.decode(errors="replace").rstrip("\n"))

    def stop(self):
        """SIGTERM, then the exit status and whatever went to stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.reader.join(10)
        self.err_reader.join(10)
        return code, "\n".join(self.errors)

    def log_records(self):
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                raise CheckFailed(f"log line is not JSON: {line!r}")
        return out

    def wait_for_log(self, request_id, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            for rec in self.log_records():
                if rec.get("requestId") == request_id and rec.get("message") == "request":
                    return rec
            time.sleep(0.02)
        raise CheckFailed(f"no log line for request {request_id}")

    # control endpoints (no signature)
    def control(self, method, path, doc=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = json.dumps(doc).encode() if doc is not None else None
        conn.request(method, "/_control/" + path, body=body,
                     headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, json.loads(data) if data else None

    def stats(self):
        status, doc = self.control("GET", "stats")
        check_eq(status, 200, "GET /_control/stats")
        return doc

    def faults(self, doc):
        status, answer = self.control("POST", "faults", doc)
        check_eq(status, 200, f"POST /_control/faults {doc}: {answer}")
        return answer

    def reset(self):
        status, _ = self.control("POST", "reset")
        check_eq(status, 200, "POST /_control/reset")


# ---------------------------------------------------------------- the client

class SkewedSigV4Auth(SigV4Auth):
    """botocore's signer with its clock moved by skew_s seconds."""

    def __init__(self, credentials, service, region, skew_s):
        super().__init__(credentials, service, region)
        self.skew_s = skew_s

    def _modify_request_before_signing(self, request):
        when = datetime.datetime.utcnow() + datetime.timedelta(seconds=self.skew_s)
        request.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
        super()._modify_request_before_signing(request)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def error(self):
        """(code, message) as botocore's rest-json parser reads them."""
        parsed = parsers.create_parser("rest-json").parse(
            {"status_code": self.status, "headers": HeadersDict(self.headers), "body": self.body}, None)
        return parsed["Error"]["Code"], parsed["Error"]["Message"]


def model_path(model):
    return "/model/" + urllib.parse.quote(model, safe="-._~") + "/invoke"


def signed_request(port, path, body, key=KEY_ID, secret=SECRET, token=None, region="us-east-1",
                   service="bedrock", skew_s=0, method="POST"):
    url = f"http://127.0.0.1:{port}{path}"
    req = AWSRequest(method=method, url=url, data=body,
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    SkewedSigV4Auth(Credentials(key, secret, token), service, region, skew_s).add_auth(req)
    prepared = req.prepare()
    return dict(prepared.headers)


def send(port, method, path, body=b"", headers=None, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    if own:
        conn.close()
    return Response(resp.status, dict(resp.getheaders()), data)


def invoke(server, model, doc, conn=None, raw=None, **sign):
    sign.setdefault("region", server.region)
    body = raw if raw is not None else json.dumps(doc).encode()
    path = model_path(model)
    headers = signed_request(server.port, path, body, **sign)
    return send(server.port, "POST", path, body, headers, conn)


def titan_body(text="a lighthouse on a cliff at dusk", n=1, w=512, h=512, seed=42, **config):
    cfg = {"numberOfImages": n, "width": w, "height": h, "seed": seed}
    cfg.update(config)
    return {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": text}, "imageGenerationConfig": cfg}


def expect_error(resp, status, code, message=None, starts=None, contains=None):
    check_eq(resp.status, status, f"status (body {resp.body[:300]!r})")
    got_code, got_message = resp.error()
    check_eq(got_code, code, "error code")
    check(resp.headers.get("x-amzn-RequestId"), "x-amzn-RequestId header")
    if message is not None:
        check_eq(got_message, message, "error message")
    if starts is not None:
        check(got_message.startswith(starts), f"message {got_message!r} should start with {starts!r}")
    if contains is not None:
        check(contains in got_message, f"message {got_message!r} should contain {contains!r}")
    return got_message


# ---------------------------------------------------------------- PNG checks

def png_chunks(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        check_eq(zlib.crc32(ctype + body), crc, f"CRC of chunk {ctype!r}")
        chunks.append((ctype, body))
        pos += 12 + length
    check_eq(chunks[0][0], b"IHDR", "first chunk")
    check_eq(chunks[-1][0], b"IEND", "last chunk")
    return chunks


def png_size(data):
    w, h, depth, color = struct.unpack(">IIBB", png_chunks(data)[0][1][:10])
    check_eq((depth, color), (8, 2), "8-bit RGB")
    return w, h


def png_scanlines(data):
    """The inflated scanlines (zlib checks the stream and its Adler-32)."""
    chunks = png_chunks(data)
    w, h = struct.unpack(">II", chunks[0][1][:8])
    raw = zlib.decompress(b"".join(body for ctype, body in chunks if ctype == b"IDAT"))
    check_eq(len(raw), h * (1 + 3 * w), "inflated length")
    return w, h, raw


def png_pixels(data):
    """Decodes the five PNG filter types; returns (w, h, rgb bytes)."""
    w, h, raw = png_scanlines(data)
    stride, out, prev = 3 * w, bytearray(), bytearray(3 * w)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
            else:
                check(ftype == 0, f"filter type {ftype}")
        out += line
        prev = line
    return w, h, bytes(out)


def percent_changed(a, b):
    """Share of pixels whose largest channel difference exceeds 24 (the grain never does)."""
    n = len(a) // 3
    changed = sum(1 for i in range(n)
                  if max(abs(a[3 * i] - b[3 * i]), abs(a[3 * i + 1] - b[3 * i + 1]),
                         abs(a[3 * i + 2] - b[3 * i + 2])) > 24)
    return 100.0 * changed / n


def jpeg_size(data):
    """(width, height) from the frame header; checks SOI, the marker chain up to the scan, EOI."""
    check(data[:3] == b"\xff\xd8\xff", f"JPEG SOI marker, got {data[:4]!r}")
    check(data[-2:] == b"\xff\xd9", "JPEG ends with EOI")
    pos, size = 2, None
    while pos + 4 <= len(data):
        check(data[pos] == 0xFF, f"JPEG marker expected at {pos}")
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            check_eq((data[pos + 4], data[pos + 9]), (8, 3), "8-bit, 3 components")
            size = (w, h)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    check(size is not None, "a JPEG frame header before the scan")
    return size


def webp_size(data):
    """(width, height) of a lossy (VP8) WebP; checks the RIFF container's length."""
    check(data[:4] == b"RIFF" and data[8:12] == b"WEBP", f"RIFF/WEBP header, got {data[:12]!r}")
    (riff_len,) = struct.unpack("<I", data[4:8])
    check_eq(riff_len, len(data) - 8, "RIFF length")
    check_eq(data[12:16], b"VP8 ", "a lossy VP8 chunk")
    check_eq(data[23:26], b"\x9d\x01\x2a", "VP8 key frame start code")
    w, h = struct.unpack("<HH", data[26:30])
    return w & 0x3FFF, h & 0x3FFF


def stability_answer(resp, reason=None):
    """The decoded picture of a Stability answer (None when a finish reason is expected)."""
    check_eq(resp.status, 200, f"status (body {resp.body[:300]!r})")
    doc = resp.json()
    check_eq(sorted(doc), ["finish_reasons", "images", "seeds"], "members")
    check_eq(doc["finish_reasons"], [reason], "finish_reasons")
    check(len(doc["seeds"]) == 1 and isinstance(doc["seeds"][0], int), f"one integer seed: {doc['seeds']}")
    check(1 <= doc["seeds"][0] <= 4294967294, f"seed {doc['seeds'][0]} in range")
    if reason is not None:
        check_eq(doc["images"], [], "no image with a finish reason")
        return None
    check_eq(len(doc["images"]), 1, "one image per call")
    return base64.b64decode(doc["images"][0], validate=True)


def images_of(resp):
    check_eq(resp.status, 200, f"status (body {resp.body[:300]!r})")
    doc = resp.json()
    check("error" not in doc, "no 'error' member on success")
    return [base64.b64decode(s, validate=True) for s in doc["images"]]


# ---------------------------------------------------------------- the tests

def test_text_to_image_returns_pngs_of_the_requested_size(srv):
    resp = invoke(srv, TITAN_V2, titan_body(n=3, w=704, h=384))
    check_eq(resp.headers.get("Content-Type"), "application/json", "content type")
    check(resp.headers.get("X-Amzn-Bedrock-Invocation-Latency", "").isdigit(), "latency header")
    images = images_of(resp)
    check_eq(len(images), 3, "number of images")
    for png in images:
        check_eq(png_size(png), (704, 384), "IHDR size")
        png_scanlines(png)
    check(len(set(images)) == 3, "the three images differ")


def test_every_titan_size_is_accepted(srv):
    for w, h in TITAN_SIZES:
        resp = invoke(srv, TITAN_V1, titan_body(w=w, h=h, text=f"size {w}x{h}"))
        (png,) = images_of(resp)
        check_eq(png_size(png), (w, h), f"size {w}x{h}")


def test_same_request_same_bytes_even_across_processes(srv):
    doc = titan_body(n=2, seed=1234, text="determinism")
    first = images_of(invoke(srv, TITAN_V2, doc))
    before = srv.stats()["cache_hits"]
    second = images_of(invoke(srv, TITAN_V2, doc))
    check_eq(second, first, "second answer")
    check_eq(srv.stats()["cache_hits"] - before, 2, "served from the cache")
    other = Server("--cache-mb", "0")
    try:
        third = images_of(invoke(other, TITAN_V2, doc))
        check_eq(third, first, "a fresh process without a cache draws the same bytes")
        check_eq(other.stats()["cache"]["entries"], 0, "cache disabled")
    finally:
        code, errors = other.stop()
        check_eq(code, 0, f"second server exit status; stderr {errors[-2000:]}")


def test_prompt_seed_and_index_change_the_picture(srv):
    def nova(text, seed, n=1):
        return invoke(srv, NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": text},
                                  "imageGenerationConfig": {"width": 320, "height": 320,
                                                            "seed": seed, "numberOfImages": n}})
    base, index1 = images_of(nova("a red fox in the snow", 5, n=2))
    variants = {"prompt": images_of(nova("a red fox in the rain", 5))[0],
                "seed": images_of(nova("a red fox in the snow", 6))[0],
                "index": index1}
    ref = png_pixels(base)[2]
    for name, png in variants.items():
        share = percent_changed(ref, png_pixels(png)[2])
        check(share > 40.0, f"changing the {name} changed only {share:.1f}% of the pixels")


def test_1024_square_weighs_like_a_real_picture(srv):
    sizes, latencies = [], []
    for seed in (1, 2, 3):
        resp = invoke(srv, TITAN_V2, titan_body(w=1024, h=1024, seed=seed, text="weight"))
        (png,) = images_of(resp)
        check_eq(png_size(png), (1024, 1024), "size")
        sizes.append(len(png))
        latencies.append(int(resp.headers["X-Amzn-Bedrock-Invocation-Latency"]))
    print(f"  1024x1024 PNG bytes {sizes}, generation ms {latencies}")
    for n in sizes:
        check(1_000_000 <= n <= 1_600_000, f"{n} bytes is outside 1.0-1.6 MB")


def test_keep_alive_serves_several_requests_on_one_connection(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.connect()
    sock = conn.sock
    for i in range(3):
        resp = invoke(srv, TITAN_V2, titan_body(text=f"keep alive {i}"), conn=conn)
        check_eq(resp.status, 200, f"request {i}")
        check(conn.sock is sock, "the same socket carried every request")
    conn.close()


def test_concurrent_requests(srv):
    results = []

    def one(i):
        try:
            results.append(invoke(srv, TITAN_V2, titan_body(text=f"parallel {i}")).status)
        except Exception as exc:  # reported below as a failed check
            results.append(repr(exc))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check_eq(sorted(map(str, results)), ["200"] * 8, "eight parallel answers")


def test_signature_failures(srv):
    body = titan_body()
    before = srv.stats()
    expect_error(invoke(srv, TITAN_V2, body, secret="not-the-secret"), 403, "InvalidSignatureException",
                 starts="The request signature we calculated does not match")
    expect_error(invoke(srv, TITAN_V2, body, key="AKIDUNKNOWN"), 403, "UnrecognizedClientException",
                 message="The security token included in the request is invalid.")
    expect_error(invoke(srv, TITAN_V2, body, skew_s=-600), 403, "InvalidSignatureException",
                 starts="Signature expired: ")
    expect_error(invoke(srv, TITAN_V2, body, skew_s=+600), 403, "InvalidSignatureException",
                 starts="Signature not yet current: ")
    check_eq(invoke(srv, TITAN_V2, body, skew_s=-240).status, 200, "4 minutes of skew is accepted")
    expect_error(invoke(srv, TITAN_V2, body, service="bedrock-runtime"), 403,
                 "InvalidSignatureException", contains="service")
    expect_error(invoke(srv, TITAN_V2, body, region="us-west-2"), 403, "InvalidSignatureException",
                 contains="region")
    expect_error(invoke(srv, TITAN_V2, body, token="a-token-nobody-configured"), 403,
                 "UnrecognizedClientException")
    # A body changed after signing.
    raw = json.dumps(body).encode()
    path = model_path(TITAN_V2)
    headers = signed_request(srv.port, path, raw)
    tampered = raw.replace(b"lighthouse", b"lightHOUSE")
    expect_error(send(srv.port, "POST", path, tampered, headers), 403, "InvalidSignatureException")
    # Signed for one model's path, sent to another's.
    headers = signed_request(srv.port, model_path(TITAN_V1), raw)
    expect_error(send(srv.port, "POST", model_path(TITAN_V2), raw, headers), 403,
                 "InvalidSignatureException")
    # No signature at all.
    resp = send(srv.port, "POST", path, raw, {"Content-Type": "application/json"})
    expect_error(resp, 403, "MissingAuthenticationTokenException", message="Missing Authentication Token")
    after = srv.stats()
    check_eq(after["reached_model"] - before["reached_model"], 1, "only the 4-minute-skew call reached the model")
    check_eq(after["authenticated"] - before["authenticated"], 1, "authenticated calls")


def test_session_token_must_match():
    srv = Server("--session-token", "the-session-token")
    try:
        check_eq(invoke(srv, TITAN_V2, titan_body(), token="the-session-token").status, 200, "right token")
        expect_error(invoke(srv, TITAN_V2, titan_body(), token="another-token"), 403,
                     "UnrecognizedClientException")
        expect_error(invoke(srv, TITAN_V2, titan_body()), 403, "UnrecognizedClientException")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_credentials_from_the_environment():
    srv = Server(credentials=False, env={"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    try:
        check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "signed with the environment's key")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def titan_violation(detail):
    return f"Malformed input request: {detail}, please reformat your input and try again."


def test_titan_validation_rules(srv):
    t = "#/textToImageParams"
    g = "#/imageGenerationConfig"

    def body(text="ok", **cfg):
        return titan_body(text=text, **cfg)

    def with_params(**params):
        doc = titan_body()
        doc["textToImageParams"].update(params)
        return doc

    cases = [
        (TITAN_V2, None, b"{not json", "Malformed input request: #: the body is not valid JSON: "),
        (TITAN_V2, None, b"", "Malformed input request: #: the body is not valid JSON: "),
        (TITAN_V2, ["TEXT_IMAGE"], None, titan_violation("#: expected type: JSONObject, found: JSONArray")),
        (TITAN_V2, {"textToImageParams": {"text": "x"}}, None, titan_violation("#: required key [taskType] not found")),
        (TITAN_V2, {"taskType": 7}, None, titan_violation("#/taskType: expected type: String, found: Integer")),
        (TITAN_V2, {"taskType": "PAINT"}, None, titan_violation("#/taskType: PAINT is not a valid enum value")),
        (TITAN_V2, {"taskType": "COLOR_GUIDED_GENERATION"}, None,
         titan_violation("#/taskType: COLOR_GUIDED_GENERATION is not supported by this endpoint; only "
                         "TEXT_IMAGE, INPAINTING, OUTPAINTING, IMAGE_VARIATION and BACKGROUND_REMOVAL are")),
        (TITAN_V2, {"taskType": "INPAINTING"}, None, titan_violation("#: required key [inPaintingParams] not found")),
        (TITAN_V1, {"taskType": "COLOR_GUIDED_GENERATION"}, None,
         titan_violation("#/taskType: COLOR_GUIDED_GENERATION is not a valid enum value")),
        (TITAN_V2, {"taskType": "TEXT_IMAGE"}, None, titan_violation("#: required key [textToImageParams] not found")),
        (TITAN_V2, {**body(), "extra": 1}, None, titan_violation("#: extraneous key [extra] is not permitted")),
        (TITAN_V2, {"taskType": "TEXT_IMAGE", "textToImageParams": {}}, None,
         titan_violation(f"{t}: required key [text] not found")),
        (TITAN_V2, body(text=""), None, titan_violation(f"{t}/text: expected minLength: 1, actual: 0")),
        (TITAN_V2, body(text="x" * 513), None, titan_violation(f"{t}/text: expected maxLength: 512, actual: 513")),
        (TITAN_V2, body(text="é" * 513), None, titan_violation(f"{t}/text: expected maxLength: 512, actual: 513")),
        (TITAN_V2, with_params(negativeText=""), None, titan_violation(f"{t}/negativeText: expected minLength: 1, actual: 0")),
        (TITAN_V2, with_params(negativeText="n" * 600), None,
         titan_violation(f"{t}/negativeText: expected maxLength: 512, actual: 600")),
        (TITAN_V1, with_params(controlMode="CANNY_EDGE"), None, titan_violation(f"{t}: extraneous key [controlMode] is not permitted")),
        (TITAN_V2, with_params(controlMode="CANNY_EDGE"), None, titan_violation(f"{t}: required key [conditionImage] not found")),
        (TITAN_V2, with_params(conditionImage="bm90IGFuIGltYWdl"), None,
         titan_violation(f"{t}/conditionImage: the image is neither a PNG nor a JPEG")),
        (TITAN_V2, body(n=0), None, titan_violation(f"{g}/numberOfImages: 0 is not greater or equal to 1")),
        (TITAN_V2, body(n=6), None, titan_violation(f"{g}/numberOfImages: 6 is not less or equal to 5")),
        (TITAN_V2, body(n="2"), None, titan_violation(f"{g}/numberOfImages: expected type: Integer, found: String")),
        (TITAN_V2, body(n=2.0), None, titan_violation(f"{g}/numberOfImages: expected type: Integer, found: BigDecimal")),
        (TITAN_V2, body(cfgScale=1.0), None, titan_violation(f"{g}/cfgScale: 1 is not greater or equal to 1.1")),
        (TITAN_V2, body(cfgScale=10.5), None, titan_violation(f"{g}/cfgScale: 10.5 is not less or equal to 10")),
        (TITAN_V2, body(seed=-1), None, titan_violation(f"{g}/seed: -1 is not greater or equal to 0")),
        (TITAN_V2, body(seed=2147483648), None, titan_violation(f"{g}/seed: 2147483648 is not less or equal to 2147483647")),
        (TITAN_V2, body(quality="ultra"), None, titan_violation(f"{g}/quality: ultra is not a valid enum value")),
        (TITAN_V2, body(steps=30), None, titan_violation(f"{g}: extraneous key [steps] is not permitted")),
        (TITAN_V2, body(w=1408, h=1408), None, f"Malformed input request: {g}: 1408x1408 (width x height) is not a supported image size"),
        (TITAN_V2, body(w=1000, h=1000), None, f"Malformed input request: {g}: 1000x1000 (width x height) is not a supported image size"),
        (TITAN_V2, body(w=2048, h=2048), None, titan_violation(f"{g}/width: 2048 is not less or equal to 1408")),
        (TITAN_V2, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}, None,
         f"Malformed input request: {g}: 1408x1408 (width x height, 1408 when omitted) is not a supported image size"),
        (TITAN_V2, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},
                    "imageGenerationConfig": {"width": 1024}}, None,
         f"Malformed input request: {g}: 1024x1408 (width x height, 1408 when omitted) is not a supported image size"),
    ]
    before = srv.stats()
    for model, doc, raw, want in cases:
        resp = invoke(srv, model, doc, raw=raw)
        got = expect_error(resp, 400, "ValidationException")
        check(resp.headers.get("x-amzn-ErrorType", "").startswith("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
              "x-amzn-ErrorType namespace")
        if want.endswith("try again."):
            check_eq(got, want, f"message for {doc if raw is None else raw!r}")
        else:
            check(got.startswith(want), f"message {got!r} should start with {want!r}")
    after = srv.stats()
    check_eq(after["reached_model"], before["reached_model"], "no invalid request reached the model")
    check_eq(after["authenticated"] - before["authenticated"], len(cases), "all were authenticated")
    check_eq(after["by_error"].get("ValidationException", 0) - before["by_error"].get("ValidationException", 0),
             len(cases), "counted as ValidationException")
    # The edges that are allowed.
    for doc in (body(text="x" * 512), body(text="é" * 512), body(cfgScale=1.1), body(cfgScale=10),
                body(seed=0), body(seed=2147483647), body(quality="premium"), body(n=5, w=320, h=704),
                with_params(negativeText="blurry")):
        check_eq(invoke(srv, TITAN_V2, doc).status, 200, f"edge {json.dumps(doc)[:120]}")
    check_eq(srv.stats()["reached_model"] - after["reached_model"], 9, "valid edges reached the model")


def test_nova_canvas_rules(srv):
    def nova(text="a quiet harbour", params=None, **cfg):
        doc = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": text, **(params or {})}}
        if cfg:
            doc["imageGenerationConfig"] = cfg
        return doc
    g = "#/imageGenerationConfig"
    bad = [
        (nova(text="x" * 1025), titan_violation("#/textToImageParams/text: expected maxLength: 1024, actual: 1025")),
        (nova(params={"negativeText": ""}), titan_violation("#/textToImageParams/negativeText: expected minLength: 1, actual: 0")),
        (nova(params={"style": "CUBISM"}), titan_violation("#/textToImageParams/style: CUBISM is not a valid enum value")),
        (nova(width=1000, height=1024), titan_violation(f"{g}: width and height must be divisible by 16, got 1000x1024")),
        (nova(width=2048, height=448), titan_violation(f"{g}: the aspect ratio of 2048x448 is outside 1:4 to 4:1")),
        (nova(width=2048, height=2048), titan_violation(f"{g}: 2048x2048 has 4194304 pixels; the total must be less than 4194304")),
        (nova(width=304, height=512), titan_violation(f"{g}/width: 304 is not greater or equal to 320")),
        (nova(seed=858993460), titan_violation(f"{g}/seed: 858993460 is not less or equal to 858993459")),
    ]
    for doc, want in bad:
        check_eq(expect_error(invoke(srv, NOVA, doc), 400, "ValidationException"), want, json.dumps(doc)[:100])
    (png,) = images_of(invoke(srv, NOVA, nova(text="n" * 1024, seed=1)))
    check_eq(png_size(png), (1024, 1024), "Nova's default size")
    (png,) = images_of(invoke(srv, NOVA, nova(width=2048, height=512, params={"style": "PHOTOREALISM"})))
    check_eq(png_size(png), (2048, 512), "a 4:1 Nova size")


def test_model_ids(srv):
    expect_error(invoke(srv, "amazon.titan-image-generator-v9:0", titan_body()), 404, "ResourceNotFoundException",
                 message="The provided model identifier is invalid.")
    expect_error(invoke(srv, "stability.stable-diffusion-xl-v1", titan_body()), 404, "ResourceNotFoundException")
    arn = "arn:aws:bedrock:us-east-1::foundation-model/" + TITAN_V2
    check_eq(invoke(srv, arn, titan_body()).status, 200, "foundation-model ARN")
    expect_error(invoke(srv, arn.replace("us-east-1", "eu-west-1"), titan_body()), 404, "ResourceNotFoundException")
    expect_error(invoke(srv, "m" * 2049, titan_body()), 400, "ValidationException",
                 message="1 validation error detected: Value at 'modelId' failed to satisfy constraint: "
                         "Member must have length less than or equal to 2048")


def test_routes(srv):
    resp = send(srv.port, "GET", "/foundation-models", b"", {})
    expect_error(resp, 404, "UnknownOperationException")
    path = model_path(TITAN_V2)
    resp = send(srv.port, "GET", path, b"", signed_request(srv.port, path, b"", method="GET"))
    check_eq(resp.status, 405, "GET on the invoke path")
    check_eq(resp.headers.get("Allow"), "POST", "Allow header")
    resp = send(srv.port, "POST", "/model/" + urllib.parse.quote(TITAN_V2, safe="") + "/invoke-with-response-stream", b"{}", {})
    expect_error(resp, 404, "UnknownOperationException")
    check_eq(srv.control("GET", "nothing-here")[0], 404, "unknown control endpoint")
    check_eq(srv.control("DELETE", "faults")[0], 405, "wrong control method")
    check_eq(srv.control("GET", "health"), (200, {"status": "ok"}), "health")


def test_body_over_25_mb_is_refused(srv):
    before = srv.stats()
    big = b'{"taskType": "TEXT_IMAGE", "pad": "' + b"x" * 25_000_000 + b'"}'
    resp = send(srv.port, "POST", model_path(TITAN_V2), big, {"Content-Type": "application/json"})
    expect_error(resp, 400, "ValidationException",
                 message="1 validation error detected: Value at 'body' failed to satisfy constraint: "
                         "Member must have length less than or equal to 25000000")
    check_eq(srv.stats()["reached_model"], before["reached_model"], "never reached the model")
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "the server still answers")


def test_access_denied():
    srv = Server("--deny-model", TITAN_V1)
    try:
        expect_error(invoke(srv, TITAN_V1, titan_body()), 403, "AccessDeniedException",
                     message="You don't have access to the model with the specified model ID.")
        check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "another model")
        srv.faults({"deny_models": [NOVA]})
        expect_error(invoke(srv, NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}),
                     403, "AccessDeniedException")
        check_eq(invoke(srv, TITAN_V1, titan_body()).status, 200, "denial replaced at run time")
        srv.reset()
        expect_error(invoke(srv, TITAN_V1, titan_body()), 403, "AccessDeniedException")
        check_eq(srv.stats()["reached_model"], 0, "denied calls never reached the model (after reset)")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_throttling_every_nth_from_the_command_line():
    srv = Server("--throttle-every", "3")
    try:
        statuses = [invoke(srv, TITAN_V2, titan_body(text=f"t{i}")) for i in range(9)]
        check_eq([r.status for r in statuses], [200, 200, 429] * 3, "every third call")
        expect_error(statuses[2], 429, "ThrottlingException",
                     message="Too many requests, please wait before trying again.")
        stats = srv.stats()
        check_eq(stats["faults"]["throttle"], 3, "throttle counter")
        check_eq(stats["succeeded"], 6, "succeeded counter")
        check_eq(stats["by_error"], {"ThrottlingException": 3}, "by_error")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_runtime_faults(srv):
    srv.reset()
    srv.faults({"throttle": {"every": 2}})
    check_eq([invoke(srv, TITAN_V2, titan_body(text=f"r{i}")).status for i in range(4)], [200, 429, 200, 429],
             "throttle every 2nd, set at run time")
    srv.faults({"throttle": None, "server_error": {"next": 2, "status": 503}})
    expect_error(invoke(srv, TITAN_V2, titan_body()), 503, "ServiceUnavailableException")
    expect_error(invoke(srv, TITAN_V2, titan_body()), 503, "ServiceUnavailableException")
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "after the next 2")
    srv.faults({"server_error": {"every": 1}})
    expect_error(invoke(srv, TITAN_V2, titan_body()), 500, "InternalServerException")
    srv.faults({"server_error": None, "model_timeout": {"next": 1}})
    expect_error(invoke(srv, TITAN_V2, titan_body()), 408, "ModelTimeoutException")
    srv.faults({"model_timeout": None, "model_not_ready": {"next": 1}})
    expect_error(invoke(srv, TITAN_V2, titan_body()), 429, "ModelNotReadyException")
    srv.faults({"model_not_ready": None, "latency_ms": 300})
    started = time.monotonic()
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "slow but fine")
    check(time.monotonic() - started >= 0.3, "latency_ms delays the answer")
    srv.faults({"latency_ms": 0, "throttle": {"rate": 0.5}, "seed": 7})
    throttled = sum(invoke(srv, TITAN_V2, titan_body()).status == 429 for _ in range(40))
    check(8 <= throttled <= 32, f"rate 0.5 throttled {throttled} of 40")
    stats = srv.stats()
    check_eq(stats["faults"]["server_error"], 3, "server_error counter")
    check_eq(stats["faults"]["model_timeout"], 1, "model_timeout counter")
    check_eq(stats["faults"]["model_not_ready"], 1, "model_not_ready counter")
    check_eq(stats["faults"]["throttle"], 2 + throttled, "throttle counter")
    srv.reset()
    check_eq(srv.stats()["reached_model"], 0, "reset zeroes the counters")
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "reset turns runtime faults off")


def test_broken_answers(srv):
    srv.reset()
    srv.faults({"truncate": {"next": 1}})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    body = json.dumps(titan_body()).encode()
    path = model_path(TITAN_V2)
    conn.request("POST", path, body, signed_request(srv.port, path, body))
    resp = conn.getresponse()
    check_eq(resp.status, 200, "a truncated answer starts as a 200")
    try:
        resp.read()
        raise CheckFailed("the truncated body read completely")
    except http.client.IncompleteRead as exc:
        check(len(exc.partial) < int(resp.getheader("Content-Length")), "fewer bytes than promised")
    conn.close()

    srv.faults({"non_json": {"next": 1}})
    resp = invoke(srv, TITAN_V2, titan_body())
    check_eq(resp.status, 200, "non-JSON answer status")
    try:
        json.loads(resp.body)
        raise CheckFailed("the non-JSON answer parsed as JSON")
    except ValueError:
        pass

    srv.faults({"reset": {"next": 1}})
    try:
        invoke(srv, TITAN_V2, titan_body())
        raise CheckFailed("a reset connection gave an answer")
    except ConnectionResetError:  # RemoteDisconnected is one too
        pass
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "the server still answers")
    faults = srv.stats()["faults"]
    check_eq((faults["truncate"], faults["non_json"], faults["reset"]), (1, 1, 1), "fault counters")


def test_content_filter(srv):
    srv.reset()
    before = srv.stats()
    srv.faults({"block_words": ["Dragon", "forbidden fruit"]})
    expect_error(invoke(srv, TITAN_V2, titan_body(text="a red DRAGON over the sea")), 400,
                 "ValidationException", message=BLOCKED_TITAN)
    expect_error(invoke(srv, TITAN_V1, titan_body(text="the forbidden fruit, still life")), 400,
                 "ValidationException", message=BLOCKED_TITAN)
    expect_error(invoke(srv, NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "dragon!"}}),
                 400, "ValidationException", message=BLOCKED_NOVA)
    check_eq(invoke(srv, TITAN_V2, titan_body(text="a dragonfly on a leaf")).status, 200, "whole words only")
    after = srv.stats()
    check_eq(after["content_blocked"] - before["content_blocked"], 3, "content_blocked counter")
    check_eq(after["reached_model"] - before["reached_model"], 1, "blocked prompts never reached the model")
    srv.reset()
    check_eq(invoke(srv, TITAN_V2, titan_body(text="a red dragon")).status, 200, "reset clears runtime words")


def test_fault_documents_are_checked(srv):
    for doc, fragment in (({"throttle": {"evry": 2}}, "unknown member"), ({"throttle": {"rate": 2}}, "rate"),
                          ({"latency": 5}, "unknown fault setting"), ({"block_words": "x"}, "array"),
                          ({"server_error": {"status": 502}}, "500 or 503"), ([], "JSON object")):
        status, answer = srv.control("POST", "faults", doc)
        check_eq(status, 400, f"document {doc}")
        check(fragment in answer["message"], f"{answer['message']!r} should mention {fragment!r}")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("POST", "/_control/faults", body=b"{broken")
    resp = conn.getresponse()
    check_eq(resp.status, 400, "malformed fault document")
    resp.read()
    conn.close()


def test_logs_have_no_secrets_and_no_prompts(srv):
    secret_prompt = "zebra-umbrella-quartz"
    resp = invoke(srv, TITAN_V2, titan_body(text=secret_prompt))
    rec = srv.wait_for_log(resp.headers["x-amzn-RequestId"])
    check_eq((rec["status"], rec["method"], rec["modelId"], rec["images"]), (200, "POST", TITAN_V2, 1), "log fields")
    check_eq(rec["promptChars"], len(secret_prompt), "prompt length is logged")
    check(rec["path"] == model_path(TITAN_V2), "path as sent")
    text = "\n".join(srv.lines)
    check(secret_prompt not in text, "the prompt is not logged")
    check(SECRET not in text and "Signature=" not in text, "no secret or signature in the logs")


def test_prompts_logged_when_asked():
    srv = Server("--log-prompts")
    try:
        resp = invoke(srv, TITAN_V2, titan_body(text="log me \"quoted\"\nplease"))
        rec = srv.wait_for_log(resp.headers["x-amzn-RequestId"])
        check_eq(rec.get("prompt"), "log me \"quoted\"\nplease", "prompt in the log line, encoded")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_command_line_errors():
    for args, fragment in ((["--port", "70000"], "--port"), (["--throttle-rate", "1.5"], "probability"),
                           (["--bogus"], "unknown option"), (["--server-error-status", "502"], "500 or 503"),
                           (["--faults", "[1]"], "JSON object"), (["--port"], "needs a value")):
        proc = subprocess.run([BINARY, "--access-key-id", KEY_ID, "--secret-access-key", SECRET] + args,
                              capture_output=True, timeout=30)
        check_eq(proc.returncode, 2, f"exit status for {args}")
        check(fragment in proc.stderr.decode(), f"stderr {proc.stderr!r} should mention {fragment!r}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run([BINARY], capture_output=True, timeout=30, env=env)
    check_eq(proc.returncode, 2, "no credentials")
    check(b"no credentials" in proc.stderr, "says why")
    proc = subprocess.run([BINARY, "--help"], capture_output=True, timeout=30)
    check(proc.returncode == 0 and b"--KIND-every" in proc.stdout and b"--deny-model" in proc.stdout,
          "--help lists the flags")


def test_no_verify_accepts_unsigned_requests():
    srv = Server("--no-verify", credentials=False)
    try:
        raw = json.dumps(titan_body()).encode()
        check_eq(send(srv.port, "POST", model_path(TITAN_V2), raw, {"Content-Type": "application/json"}).status,
                 200, "unsigned request")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_cache_is_bounded():
    srv = Server("--cache-mb", "1")
    try:
        for i in range(4):  # each 512x512 picture is about 0.5 MB of base64
            images_of(invoke(srv, TITAN_V2, titan_body(text=f"cache {i}")))
        cache = srv.stats()["cache"]
        check(cache["bytes"] <= 1024 * 1024, f"{cache['bytes']} bytes cached with a 1 MiB bound")
        check(cache["evictions"] >= 2 and cache["entries"] <= 2, f"evictions {cache}")
        images_of(invoke(srv, TITAN_V2, titan_body(text="cache 3")))
        check_eq(srv.stats()["cache"]["hits"], 1, "the newest picture is still cached")
        images_of(invoke(srv, TITAN_V2, titan_body(text="cache 0")))
        check_eq(srv.stats()["cache"]["hits"], 1, "the oldest was evicted")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


# ---------------------------------------------------------------- Stability (a us-west-2 server)

def test_stability_answers_in_its_shape(west):
    for model in STABILITY:
        png = stability_answer(invoke(west, model, {"prompt": f"a harbour at dawn, {model}", "seed": 5}))
        check_eq(png_size(png), (1024, 1024), f"{model}: 1:1 by default")
        png_scanlines(png)
        doc = invoke(west, model, {"prompt": "seed echo", "seed": 4294967294}).json()
        check_eq(doc["seeds"], [4294967294], f"{model}: the request's seed is reported")
    # Seed 0 or none: drawn from the prompt, reported, and reproducing the same picture.
    drawn = invoke(west, CORE, {"prompt": "a kite over dunes"}).json()
    zero = invoke(west, CORE, {"prompt": "a kite over dunes", "seed": 0}).json()
    check_eq(zero["seeds"], drawn["seeds"], "seed 0 draws the same seed as no seed")
    again = invoke(west, CORE, {"prompt": "a kite over dunes", "seed": drawn["seeds"][0]}).json()
    check_eq(again["images"], drawn["images"], "the reported seed reproduces the picture")
    other = invoke(west, CORE, {"prompt": "a kite over the sea"}).json()
    check(other["seeds"] != drawn["seeds"], "another prompt draws another seed")
    check(other["images"] != drawn["images"], "and another picture")
    resp = invoke(west, ULTRA, {"prompt": "full body", "negative_prompt": "blurry", "mode": "text-to-image",
                                "aspect_ratio": "1:1", "seed": 9, "output_format": "png"})
    check_eq(png_size(stability_answer(resp)), (1024, 1024), "every member at once")
    check(resp.headers.get("X-Amzn-Bedrock-Invocation-Latency", "").isdigit(), "latency header")


def test_stability_size_follows_the_aspect_ratio(west):
    for ratio, size in RATIO_SIZES.items():
        png = stability_answer(invoke(west, SD35, {"prompt": f"ratio {ratio}", "aspect_ratio": ratio}))
        check_eq(png_size(png), size, f"aspect_ratio {ratio}")


def test_stability_jpeg_and_webp(west):
    doc = {"prompt": "a lighthouse in fog", "seed": 77, "aspect_ratio": "16:9"}
    before = west.stats()["cache"]
    png = stability_answer(invoke(west, CORE, doc))
    jpeg = stability_answer(invoke(west, CORE, {**doc, "output_format": "jpeg"}))
    webp = stability_answer(invoke(west, CORE, {**doc, "output_format": "webp"}))
    check_eq(png_size(png), (1344, 768), "PNG size")
    check_eq(jpeg_size(jpeg), (1344, 768), "JPEG size")
    check_eq(webp_size(webp), (1344, 768), "WebP size")
    check(len(jpeg) < len(png) and len(webp) < len(png), f"lossy is lighter: {len(png)} {len(jpeg)} {len(webp)}")
    for fmt, size in (("jpeg", (640, 1536)), ("webp", (1536, 640))):
        ratio = "9:21" if fmt == "jpeg" else "21:9"
        data = stability_answer(invoke(west, SD35, {"prompt": "tall or wide", "output_format": fmt,
                                                     "aspect_ratio": ratio}))
        check_eq(jpeg_size(data) if fmt == "jpeg" else webp_size(data), size, f"{fmt} {ratio}")
    # The cache keeps each format apart: asking again serves each from the cache, unchanged.
    mid = west.stats()["cache"]
    check_eq(mid["misses"] - before["misses"], 5, "five different pictures were drawn")
    check_eq(stability_answer(invoke(west, CORE, {**doc, "output_format": "jpeg"})), jpeg, "JPEG again")
    check_eq(stability_answer(invoke(west, CORE, {**doc, "output_format": "webp"})), webp, "WebP again")
    check_eq(stability_answer(invoke(west, CORE, doc)), png, "PNG again")
    check_eq(west.stats()["cache"]["hits"] - mid["hits"], 3, "three cache hits, one per format")
    rec = None
    for _ in range(100):
        rec = next((r for r in reversed(west.log_records()) if r.get("format") == "webp"), None)
        if rec:
            break
        time.sleep(0.02)
    check(rec is not None and rec["images"] == 1, "the log line names the format")


def stability_violation(detail):
    return f"Malformed input request: {detail}, please reformat your input and try again."


def test_stability_validation_rules(west):
    ok = {"prompt": "a red kite"}
    cases = [
        (None, b"{not json", "Malformed input request: #: the body is not valid JSON: "),
        (["a red kite"], None, stability_violation("#: expected type: JSONObject, found: JSONArray")),
        ({**ok, "foo": 1}, None, stability_violation("#: extraneous key [foo] is not permitted")),
        ({**ok, "width": 1024}, None, stability_violation("#: extraneous key [width] is not permitted")),
        ({**ok, "cfg_scale": 7}, None, stability_violation("#: extraneous key [cfg_scale] is not permitted")),
        (titan_body(), None, stability_violation("#: extraneous key [taskType] is not permitted")),
        ({}, None, stability_violation("#: required key [prompt] not found")),
        ({"negative_prompt": "x"}, None, stability_violation("#: required key [prompt] not found")),
        ({"prompt": 5}, None, stability_violation("#/prompt: expected type: String, found: Integer")),
        ({"prompt": ""}, None, stability_violation("#/prompt: expected minLength: 1, actual: 0")),
        ({"prompt": "x" * 10001}, None, stability_violation("#/prompt: expected maxLength: 10000, actual: 10001")),
        ({"prompt": "é" * 10001}, None, stability_violation("#/prompt: expected maxLength: 10000, actual: 10001")),
        ({**ok, "negative_prompt": "n" * 10001}, None,
         stability_violation("#/negative_prompt: expected maxLength: 10000, actual: 10001")),
        ({**ok, "negative_prompt": None}, None,
         stability_violation("#/negative_prompt: expected type: String, found: Null")),
        ({**ok, "aspect_ratio": "7:3"}, None, stability_violation("#/aspect_ratio: 7:3 is not a valid enum value")),
        ({**ok, "aspect_ratio": "1024x1024"}, None,
         stability_violation("#/aspect_ratio: 1024x1024 is not a valid enum value")),
        ({**ok, "aspect_ratio": 1}, None, stability_violation("#/aspect_ratio: expected type: String, found: Integer")),
        ({**ok, "seed": 4294967295}, None, stability_violation("#/seed: 4294967295 is not less or equal to 4294967294")),
        ({**ok, "seed": -1}, None, stability_violation("#/seed: -1 is not greater or equal to 0")),
        ({**ok, "seed": "5"}, None, stability_violation("#/seed: expected type: Integer, found: String")),
        ({**ok, "seed": 5.0}, None, stability_violation("#/seed: expected type: Integer, found: BigDecimal")),
        ({**ok, "output_format": "gif"}, None, stability_violation("#/output_format: gif is not a valid enum value")),
        ({**ok, "output_format": "PNG"}, None, stability_violation("#/output_format: PNG is not a valid enum value")),
        ({**ok, "output_format": True}, None,
         stability_violation("#/output_format: expected type: String, found: Boolean")),
        ({**ok, "mode": "image-to-image", "strength": 0.5}, None,
         None),  # SD3.5: "#: required key [image] not found"; Core, Ultra: not this model's mode
        ({**ok, "mode": "sketch"}, None, stability_violation("#/mode: sketch is not a valid enum value")),
        ({**ok, "mode": 1}, None, stability_violation("#/mode: expected type: String, found: Integer")),
    ]
    before = west.stats()
    for i, (doc, raw, want) in enumerate(cases):
        model = STABILITY[i % 3]
        if want is None:
            want = stability_violation("#: required key [image] not found" if model == SD35 else
                                       "#/mode: image-to-image is not supported by this model; only text-to-image is")
        resp = invoke(west, model, doc, raw=raw)
        got = expect_error(resp, 400, "ValidationException")
        check(resp.headers.get("x-amzn-ErrorType", "").startswith(
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"), "x-amzn-ErrorType")
        if want.endswith("try again."):
            check_eq(got, want, f"{model}: message for {json.dumps(doc)[:80] if raw is None else raw!r}")
        else:
            check(got.startswith(want), f"message {got!r} should start with {want!r}")
    after = west.stats()
    check_eq(after["reached_model"], before["reached_model"], "no invalid request reached the model")
    check_eq(len(after["calls"]), len(before["calls"]), "no invalid request was timed as a call")
    check_eq(after["by_error"].get("ValidationException", 0) - before["by_error"].get("ValidationException", 0),
             len(cases), "counted as ValidationException")
    edges = [{"prompt": "x" * 10000}, {"prompt": "é" * 10000}, {**ok, "negative_prompt": ""},
             {**ok, "negative_prompt": "n" * 10000}, {**ok, "seed": 4294967294}, {**ok, "seed": 0},
             {**ok, "mode": "text-to-image"}, {**ok, "output_format": "jpeg"}, {**ok, "output_format": "webp"}]
    for doc in edges:
        check_eq(invoke(west, CORE, doc).status, 200, f"edge {json.dumps(doc)[:80]}")
    check_eq(west.stats()["reached_model"] - after["reached_model"], len(edges), "valid edges reached the model")


def test_models_follow_the_region(srv, west):
    titan = titan_body()
    nova = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},
            "imageGenerationConfig": {"width": 320, "height": 320}}
    stab = {"prompt": "where am I"}
    # us-east-1 (srv): Titan v1, v2, Nova; Stability only through its us. profiles.
    for model, body in ((TITAN_V1, titan), ("amazon.titan-image-generator-v1:0", titan), (TITAN_V2, titan),
                        (NOVA, nova)):
        check_eq(invoke(srv, model, body).status, 200, f"us-east-1 serves {model}")
    for model in STABILITY:
        expect_error(invoke(srv, model, stab), 404, "ResourceNotFoundException", message=UNKNOWN_MODEL)
        stability_answer(invoke(srv, "us." + model, stab))
    # us-west-2: the Stability models, their profiles, Titan v1; not Titan v2 or Nova.
    for model in STABILITY:
        stability_answer(invoke(west, model, stab))
        stability_answer(invoke(west, "us." + model, stab))
    check_eq(invoke(west, TITAN_V1, titan).status, 200, "us-west-2 serves Titan v1")
    for model, body in ((TITAN_V2, titan), (NOVA, nova)):
        expect_error(invoke(west, model, body), 404, "ResourceNotFoundException", message=UNKNOWN_MODEL)
    for bogus in ("us.amazon.titan-image-generator-v1", "eu." + CORE, "us." + CORE + "x", "us.", "US." + CORE):
        expect_error(invoke(west, bogus, stab), 404, "ResourceNotFoundException", message=UNKNOWN_MODEL)
    # ARNs: a foundation model's, and an inference profile's (with an account id).
    stability_answer(invoke(west, "arn:aws:bedrock:us-west-2::foundation-model/" + ULTRA, stab))
    stability_answer(invoke(west, "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us." + ULTRA, stab))
    for arn in ("arn:aws:bedrock:us-east-1::foundation-model/" + ULTRA,
                "arn:aws:bedrock:us-west-2::foundation-model/us." + ULTRA,
                "arn:aws:bedrock:us-west-2:123456789012:inference-profile/" + ULTRA,
                "arn:aws:bedrock:us-west-2:12345:inference-profile/us." + ULTRA,
                "arn:aws:bedrock:us-west-2::foundation-model/" + NOVA):
        expect_error(invoke(west, arn, stab), 404, "ResourceNotFoundException", message=UNKNOWN_MODEL)
    calls = west.stats()["calls"]
    check_eq(calls[-1]["model"], "us." + ULTRA, "a profile call is recorded under the profile id")
    started = next(r for r in west.log_records() if r.get("message") == "started")
    check_eq(sorted(started["models"]), sorted([TITAN_V1, "amazon.titan-image-generator-v1:0"] + STABILITY +
                                               ["us." + m for m in STABILITY + SERVICES]),
             "the models us-west-2 serves (the image services through their profiles only)")


def test_other_regions_serve_profiles_or_nothing():
    east2 = Server("--region", "us-east-2")
    try:
        stability_answer(invoke(east2, "us." + SD35, {"prompt": "from Ohio"}))
        for model in (SD35, TITAN_V1, NOVA):
            expect_error(invoke(east2, model, {"prompt": "x"}), 404, "ResourceNotFoundException",
                         message=UNKNOWN_MODEL)
    finally:
        code, errors = east2.stop()
        check_eq(code, 0, f"us-east-2 exit status; stderr {errors[-2000:]}")
    eu = Server("--region", "eu-west-1")
    try:
        for model in ("us." + SD35, SD35, TITAN_V2):
            expect_error(invoke(eu, model, {"prompt": "x"}), 404, "ResourceNotFoundException",
                         message=UNKNOWN_MODEL)
        records = eu.log_records()
        check(any(r.get("level") == "WARN" and "no image models" in r.get("message", "") for r in records),
              "a region without models is warned about")
    finally:
        code, errors = eu.stop()
        check_eq(code, 0, f"eu-west-1 exit status; stderr {errors[-2000:]}")


def test_stability_content_filters_answer_200(west):
    west.reset()
    west.faults({"block_words": ["volcano"]})
    before = west.stats()
    resp = invoke(west, CORE, {"prompt": "an erupting Volcano at night", "seed": 3})
    check_eq(resp.status, 200, "a filtered prompt is a 200 on Stability")
    check_eq(resp.json(), {"finish_reasons": ["Filter reason: prompt"]}, "AWS's filtered answer")
    expect_error(invoke(west, TITAN_V1, titan_body(text="a volcano")), 400, "ValidationException",
                 message=BLOCKED_TITAN)
    after = west.stats()
    check_eq(after["content_blocked"] - before["content_blocked"], 2, "content_blocked counter")
    check_eq(after["reached_model"], before["reached_model"], "blocked prompts never reach the model")

    west.faults({"block_words": None, "filter_output": {"next": 1}})
    filtered = invoke(west, ULTRA, {"prompt": "a calm lake", "seed": 11})
    stability_answer(filtered, reason="Filter reason: output image")
    check_eq(filtered.json()["seeds"], [11], "the seed is still reported")
    stability_answer(invoke(west, ULTRA, {"prompt": "a calm lake", "seed": 11}))
    west.faults({"inference_error": {"every": 2}})
    stability_answer(invoke(west, SD35, {"prompt": "one"}))
    stability_answer(invoke(west, SD35, {"prompt": "two"}), reason="Inference error")
    stats = west.stats()
    check_eq((stats["faults"]["filter_output"], stats["faults"]["inference_error"]), (1, 1), "fault counters")
    check_eq(stats["succeeded"], 2, "only whole answers count as succeeded")
    check_eq([(c["fault"], c["images"], c["status"]) for c in stats["calls"]],
             [("filter_output", 0, 200), (None, 1, 200), (None, 1, 200), ("inference_error", 0, 200)],
             "each timed call: fault, images, status")
    west.reset()


def test_titan_and_nova_output_filter_and_model_errors(srv):
    srv.reset()
    srv.faults({"filter_output": {"next": 2}})
    resp = invoke(srv, TITAN_V2, titan_body(n=3, w=320, h=704, text="three, one withheld"))
    check_eq(resp.status, 200, "Titan's withheld image is still a 200")
    doc = resp.json()
    check_eq(len(doc["images"]), 2, "one image fewer")
    check("blocked by our content filters" in doc.get("error", ""), f"an error sentence: {doc.get('error')!r}")
    png_size(base64.b64decode(doc["images"][0]))
    resp = invoke(srv, NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "one, withheld"},
                              "imageGenerationConfig": {"width": 320, "height": 320}})
    doc = resp.json()
    check_eq((resp.status, doc["images"]), (200, []), "Nova's only image withheld")
    check("blocked by our content filters" in doc["error"], "Nova's error sentence")
    check("error" not in invoke(srv, TITAN_V2, titan_body()).json(), "the trigger is spent")
    srv.faults({"inference_error": {"next": 1}})
    expect_error(invoke(srv, TITAN_V1, titan_body()), 424, "ModelErrorException",
                 message="The request failed due to an error while processing the model.")
    stats = srv.stats()
    check_eq(stats["images"], 2 + 0 + 1, "withheld pictures are not counted as returned")
    check_eq(stats["faults"]["filter_output"], 2, "filter_output counter")
    srv.reset()


def test_retired_and_legacy_models(srv):
    srv.reset()
    srv.faults({"retired_models": [TITAN_V2, CORE], "legacy_denied_models": [TITAN_V1],
                "throttle": {"every": 1}})
    before = srv.stats()
    expect_error(invoke(srv, TITAN_V2, titan_body()), 404, "ResourceNotFoundException", message=RETIRED)
    expect_error(invoke(srv, "us." + CORE, {"prompt": "x"}), 404, "ResourceNotFoundException", message=RETIRED)
    expect_error(invoke(srv, TITAN_V1, titan_body()), 403, "AccessDeniedException", message=LEGACY)
    # Validation comes first, as for every fault.
    expect_error(invoke(srv, TITAN_V2, titan_body(n=9)), 400, "ValidationException")
    after = srv.stats()
    check_eq(after["reached_model"] - before["reached_model"], 3, "each refusal is one call that reached the model")
    check_eq((after["faults"]["retired_model"], after["faults"]["legacy_denied_model"]), (2, 1), "counters")
    check_eq(after["faults"]["throttle"], 0, "a listed model's calls are not shown to the triggers")
    check_eq(srv.control("GET", "faults")[1]["throttle"]["calls"], 0, "the throttle saw no call")
    check_eq([(c["model"], c["status"], c["fault"]) for c in after["calls"]][-3:],
             [(TITAN_V2, 404, "retired_model"), ("us." + CORE, 404, "retired_model"),
              (TITAN_V1, 403, "legacy_denied_model")], "timed calls")
    # A profile id in the list retires the profile only.
    srv.faults({"retired_models": ["us." + ULTRA], "legacy_denied_models": [], "throttle": None})
    expect_error(invoke(srv, "us." + ULTRA, {"prompt": "x"}), 404, "ResourceNotFoundException", message=RETIRED)
    check_eq(invoke(srv, TITAN_V2, titan_body()).status, 200, "no longer retired")
    described = srv.control("GET", "faults")[1]
    check_eq((described["retired_models"], described["legacy_denied_models"]), (["us." + ULTRA], []),
             "GET /_control/faults shows the lists")
    srv.reset()
    check_eq(invoke(srv, "us." + ULTRA, {"prompt": "x"}).status, 200, "reset clears them")


def test_lifecycle_flags():
    srv = Server("--region", "us-west-2", "--retired-model", SD35, "--legacy-denied-model", TITAN_V1,
                 "--filter-output-every", "2", "--inference-error-next", "1")
    try:
        stability_answer(invoke(srv, ULTRA, {"prompt": "a"}), reason="Inference error")
        stability_answer(invoke(srv, ULTRA, {"prompt": "b"}), reason="Filter reason: output image")
        stability_answer(invoke(srv, ULTRA, {"prompt": "c"}))
        expect_error(invoke(srv, SD35, {"prompt": "d"}), 404, "ResourceNotFoundException", message=RETIRED)
        expect_error(invoke(srv, TITAN_V1, titan_body()), 403, "AccessDeniedException", message=LEGACY)
        faults = srv.control("GET", "faults")[1]
        check_eq(faults["filter_output"]["every"], 2, "--filter-output-every")
        check_eq((faults["retired_models"], faults["legacy_denied_models"]), ([SD35], [TITAN_V1]), "lists")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_parallel_calls_overlap():
    srv = Server("--region", "us-west-2", "--latency-ms", "600")
    try:
        invoke(srv, CORE, {"prompt": "warm the cache", "seed": 1})  # pictures below come from the cache
        srv.reset()
        results, started = [], time.monotonic()

        def one(i):
            try:
                results.append(invoke(srv, CORE, {"prompt": "warm the cache", "seed": 1}).status)
            except Exception as exc:  # reported below as a failed check
                results.append(repr(exc))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        wall = time.monotonic() - started
        check_eq(results, [200] * 3, "three answers")
        stats = srv.stats()
        check_eq(stats["max_in_flight"], 3, "three calls in progress at once")
        check_eq(stats["in_flight"], 0, "none left in progress")
        calls = stats["calls"]
        check_eq(len(calls), 3, "three timed calls")
        for c in calls:
            check_eq((c["model"], c["status"], c["images"], c["fault"]), (CORE, 200, 1, None), "call record")
            check(c["end_ms"] - c["start_ms"] >= 600, f"each call held 600 ms: {c}")
        check(max(c["start_ms"] for c in calls) < min(c["end_ms"] for c in calls),
              f"every call started before any ended: {calls}")
        check(wall < 1.5, f"three 600 ms calls took {wall:.2f} s: not serialised")
        srv.reset()
        stats = srv.stats()
        check_eq((stats["max_in_flight"], stats["calls"]), (0, []), "reset clears the timing")
    finally:
        code, errors = srv.stop()
        check_eq(code, 0, f"exit status; stderr {errors[-2000:]}")


def test_call_ring_keeps_the_last_256(srv):
    srv.reset()
    srv.faults({"throttle": {"every": 1}})  # quick answers that still reach the model
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    for i in range(260):
        check_eq(invoke(srv, TITAN_V2, titan_body(seed=i), conn=conn).status, 429, f"call {i}")
    conn.close()
    stats = srv.stats()
    calls = stats["calls"]
    check_eq((stats["reached_model"], len(calls)), (260, 256), "260 calls, the ring holds 256")
    check(all(a["end_ms"] <= b["end_ms"] for a, b in zip(calls, calls[1:])), "oldest first")
    check_eq({(c["status"], c["fault"], c["images"]) for c in calls}, {(429, "throttle", 0)}, "records")
    check_eq(stats["max_in_flight"], 1, "sequential calls never overlap")
    srv.reset()


def test_new_fault_documents_are_checked(srv):
    for doc, fragment in (({"retired_models": "x"}, "array"), ({"legacy_denied_models": [""]}, "string"),
                          ({"filter_output": {"evry": 1}}, "unknown member"),
                          ({"inference_error": {"rate": 3}}, "rate"), ({"retired": []}, "retired_models")):
        status, answer = srv.control("POST", "faults", doc)
        check_eq(status, 400, f"document {doc}")
        check(fragment in answer["message"], f"{answer['message']!r} should mention {fragment!r}")
    for args, fragment in ((["--filter-output-rate", "2"], "probability"),
                           (["--inference-error-every", "x"], "whole number"), (["--retired-model"], "needs a value")):
        proc = subprocess.run([BINARY, "--access-key-id", KEY_ID, "--secret-access-key", SECRET] + args,
                              capture_output=True, timeout=30)
        check_eq(proc.returncode, 2, f"exit status for {args}")
        check(fragment in proc.stderr.decode(), f"stderr {proc.stderr!r} should mention {fragment!r}")
    proc = subprocess.run([BINARY, "--help"], capture_output=True, timeout=30)
    for flag in (b"--retired-model", b"--legacy-denied-model", b"filter-output", b"inference-error"):
        check(flag in proc.stdout, f"--help lists {flag!r}")


# ---------------------------------------------------------------- runner

SHARED = [test_text_to_image_returns_pngs_of_the_requested_size, test_every_titan_size_is_accepted,
          test_same_request_same_bytes_even_across_processes, test_prompt_seed_and_index_change_the_picture,
          test_1024_square_weighs_like_a_real_picture, test_keep_alive_serves_several_requests_on_one_connection,
          test_concurrent_requests, test_signature_failures, test_titan_validation_rules, test_nova_canvas_rules,
          test_model_ids, test_routes, test_body_over_25_mb_is_refused, test_runtime_faults,
          test_broken_answers, test_content_filter, test_fault_documents_are_checked,
          test_logs_have_no_secrets_and_no_prompts, test_titan_and_nova_output_filter_and_model_errors,
          test_retired_and_legacy_models, test_call_ring_keeps_the_last_256, test_new_fault_documents_are_checked]
# Run against a second shared server that stands for us-west-2 (the Stability models' region).
WEST = [test_stability_answers_in_its_shape, test_stability_size_follows_the_aspect_ratio,
        test_stability_jpeg_and_webp, test_stability_validation_rules, test_stability_content_filters_answer_200]
BOTH = [test_models_follow_the_region]
OWN_SERVER = [test_session_token_must_match, test_credentials_from_the_environment, test_access_denied,
              test_throttling_every_nth_from_the_command_line, test_prompts_logged_when_asked,
              test_command_line_errors, test_no_verify_accepts_unsigned_requests,
              test_cache_is_bounded, test_other_regions_serve_profiles_or_nothing, test_lifecycle_flags,
              test_parallel_calls_overlap]


def run(name, fn, *args):
    started = time.monotonic()
    try:
        fn(*args)
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
        return True
    except Exception as exc:
        print(f"FAIL {name}: {exc}", flush=True)
        if not isinstance(exc, CheckFailed):
            traceback.print_exc()
        return False


def main():
    if not os.access(BINARY, os.X_OK):
        print(f"bedrock-local: {BINARY} is not built")
        print("bedrock-local: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    srv = Server()
    west = Server("--region", "us-west-2")
    try:
        for fns, args in ((SHARED, (srv,)), (WEST, (west,)), (BOTH, (srv, west))):
            for fn in fns:
                if run(fn.__name__, fn, *args):
                    passed += 1
                else:
                    failed += 1
    finally:
        stopped = [(server, *server.stop()) for server in (srv, west)]
    for server, code, errors in stopped:
        shutdown_ok = code == 0 and "Sanitizer" not in errors and any(
            '"stopping"' in line for line in server.lines)
        print(f"{'ok  ' if shutdown_ok else 'FAIL'} test_sigterm_stops_cleanly ({server.region}, exit {code})")
        if not shutdown_ok:
            print(errors[-4000:])
        passed, failed = passed + shutdown_ok, failed + (not shutdown_ok)
    for fn in OWN_SERVER:
        if run(fn.__name__, fn):
            passed += 1
        else:
            failed += 1
    print(f"bedrock-local: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
