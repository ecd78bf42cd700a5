"""test_s3_verify.py - s3-verify (runtime/local/s3/) refuses what Amazon S3 refuses, with botocore as the oracle.

s3rver checks no presigned URL: a zeroed signature, another object's key or another lifetime all
download. The local stack puts s3-verify in front of it. Here botocore (Debian's python3-botocore)
signs every request, header-signed or presigned, and the tests tamper with what it made: what
botocore signed must pass whole, and any change to it must be refused with S3's status, error code
and message, before s3rver sees it.

Browser uploads (POST of a form under a signed policy) are signed by the runtime's own
ig_s3_presign_post (build/tests/s3_cli presign-post, held to botocore's generate_presigned_post by
integration.test_sigv4_botocore) and sent with curl -F, fields first and the file last: the form
as signed stores the object with its Content-Type; a file too large or empty, another Content-Type,
another key, an expired policy, a tampered signature or an unsigned field are refused with S3's
status and code, and nothing is stored.
"""
import base64
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import types
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import ACCESS_KEY_ID, BUILD_DIR, REGION, SECRET_ACCESS_KEY, Proc, Stack, http_call, run_tests  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400


@contextlib.contextmanager
def signing_clock(epoch):
    """botocore signs as if the time were epoch: it reads datetime.datetime.utcnow() in botocore.auth
    (Debian's 1.29), or botocore.auth.get_current_datetime() (later versions)."""
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)

    class Pinned(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    saved = botocore.auth.datetime, getattr(botocore.auth, "get_current_datetime", None)
    botocore.auth.datetime = types.SimpleNamespace(datetime=Pinned)
    if saved[1]:
        botocore.auth.get_current_datetime = lambda remove_tzinfo=True: when
    try:
        yield
    finally:
        botocore.auth.datetime = saved[0]
        if saved[1]:
            botocore.auth.get_current_datetime = saved[1]


def s3_error(r):
    """(Code, Message, {other element: text}) of S3's XML error body."""
    root = ET.fromstring(r.body)
    fields = {child.tag: child.text or "" for child in root}
    return fields.pop("Code"), fields.pop("Message"), fields


class S3VerifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack(bedrock=False, gateway=False).start()
        cls.client = cls.make_client(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        cls.client.put_object(Bucket=cls.st.bucket, Key="images/a b+c.png", Body=PNG, ContentType="image/png")
        cls.client.put_object(Bucket=cls.st.bucket, Key="images/other.png", Body=b"other", ContentType="image/png")

    @classmethod
    def tearDownClass(cls):
        codes = cls.st.stop()
        if codes.get("s3_verify") != 0:
            raise AssertionError("s3-verify exited with %s" % codes)

    @classmethod
    def make_client(cls, key, secret, region=REGION):
        session = botocore.session.get_session()
        return session.create_client("s3", region_name=region, endpoint_url=cls.st.s3_url, aws_access_key_id=key,
                                     aws_secret_access_key=secret,
                                     config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                                   retries={"max_attempts": 1}))

    def presign(self, key="images/a b+c.png", method="GET", expires=300, at=None, secret=SECRET_ACCESS_KEY,
                key_id=ACCESS_KEY_ID, region=REGION):
        """A presigned URL as botocore makes it, signed at epoch `at` (now by default)."""
        url = f"{self.st.s3_url}/{self.st.bucket}/{urllib.parse.quote(key)}"
        signer = botocore.auth.S3SigV4QueryAuth(Credentials(key_id, secret), "s3", region, expires=expires)
        request = AWSRequest(method=method, url=url)
        at = int(time.time()) if at is None else at
        with signing_clock(at):
            signer.add_auth(request)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(at))
        self.assertIn("X-Amz-Date=" + stamp, request.url)  # the pinned clock took effect
        return request.url

    def assert_refused(self, url, status, code, message=None, method="GET"):
        r = http_call(url, method)
        self.assertEqual(r.status, status, r.body[:300])
        if method == "HEAD":
            self.assertEqual(r.body, b"")
            return None
        self.assertEqual(r.headers["Content-Type"], "application/xml")
        got_code, got_message, fields = s3_error(r)
        self.assertEqual(got_code, code, r.body)
        if message:
            self.assertEqual(got_message, message)
        self.assertEqual(fields["RequestId"], r.headers["x-amz-request-id"])
        return fields

    # ---- what botocore signed passes whole ----

    def test_header_signed_put_head_get_pass(self):
        body = self.client.get_object(Bucket=self.st.bucket, Key="images/a b+c.png")["Body"].read()
        self.assertEqual(body, PNG)
        head = self.client.head_object(Bucket=self.st.bucket, Key="images/a b+c.png")
        self.assertEqual((head["ContentLength"], head["ContentType"]), (len(PNG), "image/png"))

    def test_presigned_get_and_head_pass(self):
        r = http_call(self.presign())
        self.assertEqual((r.status, r.body), (200, PNG))
        self.assertEqual(r.headers["Content-Type"], "image/png")
        r = http_call(self.presign(method="HEAD"), "HEAD")
        self.assertEqual((r.status, r.body, int(r.headers["Content-Length"])), (200, b"", len(PNG)))
        # As the client library makes it too.
        url = self.client.generate_presigned_url("get_object", Params={"Bucket": self.st.bucket,
                                                                       "Key": "images/other.png"}, ExpiresIn=60)
        self.assertEqual(http_call(url).body, b"other")

    # ---- any change to a presigned URL is refused ----

    def test_a_tampered_signature_is_refused(self):
        url = self.presign()
        sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url).group(1)
        flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        for bad in ("0" * 64, flipped, sig.upper(), sig[:-2]):
            with self.subTest(signature=bad):
                fields = self.assert_refused(url.replace(sig, bad), 403, "SignatureDoesNotMatch",
                                             "The request signature we calculated does not match the signature "
                                             "you provided. Check your key and signing method.")
                self.assertEqual(fields["SignatureProvided"], bad)
        self.assert_refused(url.replace(sig, "0" * 64), 403, "SignatureDoesNotMatch", method="HEAD")

    def test_a_url_for_one_object_opens_no_other(self):
        url = self.presign()
        for other in (url.replace("a%20b%2Bc.png", "other.png"), url.replace("/images/", "/images//"),
                      url.replace(f"/{self.st.bucket}/", "/another-bucket/")):
            with self.subTest(url=other):
                self.assert_refused(other, 403, "SignatureDoesNotMatch")
        self.assert_refused(url, 403, "SignatureDoesNotMatch", method="HEAD")  # signed for GET only

    def test_a_changed_lifetime_date_or_scope_is_refused(self):
        # Signed at the last noon (UTC) and valid for an hour more: moving its date by seconds keeps the day.
        noon = int(time.time()) // 86400 * 86400 + 43200
        noon -= 86400 if noon > time.time() else 0
        expires = int(time.time()) - noon + 3600
        url = self.presign(expires=expires, at=noon)
        self.assertEqual(http_call(url).status, 200)
        lifetime = f"X-Amz-Expires={expires}"
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(noon))
        for changed in (url.replace(lifetime, "X-Amz-Expires=604800"), url.replace(lifetime, f"X-Amz-Expires={expires - 1}"),
                        url.replace(stamp, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(noon + 10))),
                        url.replace(stamp, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(noon - 10))),
                        url.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=host%3Buser-agent"),
                        url + "&extra=1"):
            with self.subTest(url=changed):
                self.assert_refused(changed, 403, "SignatureDoesNotMatch")

    def test_an_expired_or_not_yet_valid_url_is_refused(self):
        signed_at = int(time.time()) - 3600
        fields = self.assert_refused(self.presign(expires=60, at=signed_at), 403, "AccessDenied", "Request has expired")
        self.assertEqual(fields["X-Amz-Expires"], "60")
        self.assertEqual(fields["Expires"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(signed_at + 60)))
        self.assertRegex(fields["ServerTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assert_refused(self.presign(expires=60, at=signed_at), 403, "AccessDenied", method="HEAD")
        # Expired, then "renewed" by editing the lifetime: the signature no longer matches.
        renewed = self.presign(expires=60, at=signed_at).replace("X-Amz-Expires=60", "X-Amz-Expires=7200")
        self.assert_refused(renewed, 403, "SignatureDoesNotMatch")
        # Signed for an hour from now: not valid yet.
        self.assert_refused(self.presign(at=int(time.time()) + 3600), 403, "AccessDenied", "Request is not valid yet")
        # Signed as long ago, but for longer: within its lifetime, it passes.
        self.assertEqual(http_call(self.presign(expires=7200, at=signed_at)).status, 200)

    def test_another_key_or_region_is_refused(self):
        fields = self.assert_refused(self.presign(key_id="AKIDOTHER", secret=SECRET_ACCESS_KEY), 403,
                                     "InvalidAccessKeyId",
                                     "The AWS Access Key Id you provided does not exist in our records.")
        self.assertEqual(fields["AWSAccessKeyId"], "AKIDOTHER")
        self.assert_refused(self.presign(secret="not-the-secret"), 403, "SignatureDoesNotMatch")
        fields = self.assert_refused(self.presign(region="us-west-2"), 400, "AuthorizationQueryParametersError")
        self.assertEqual(fields["Region"], REGION)

    def test_malformed_query_authentication_is_a_400(self):
        url = self.presign()
        for changed, message in (
                (re.sub(r"&X-Amz-Signature=\w+", "", url), "Query-string authentication version 4 requires"),
                (url.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
                 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'),
                (url.replace("X-Amz-Expires=300", "X-Amz-Expires=604801"), "X-Amz-Expires must be less than a week"),
                (url.replace("X-Amz-Expires=300", "X-Amz-Expires=soon"), "X-Amz-Expires should be a number"),
                (re.sub(r"X-Amz-Date=\w+", "X-Amz-Date=yesterday", url), "X-Amz-Date must be in the ISO8601"),
                (url + "&X-Amz-Signature=" + "0" * 64, "Query-string authentication version 4 requires")):
            with self.subTest(url=changed):
                r = http_call(changed)
                self.assertEqual(r.status, 400, r.body)
                code, got, _ = s3_error(r)
                self.assertEqual(code, "AuthorizationQueryParametersError")
                self.assertTrue(got.startswith(message), got)

    # ---- header signatures and anonymous requests ----

    def test_header_signatures_with_another_secret_or_key_are_refused(self):
        for client, code in ((self.make_client(ACCESS_KEY_ID, "not-the-secret"), "SignatureDoesNotMatch"),
                             (self.make_client("AKIDOTHER", SECRET_ACCESS_KEY), "InvalidAccessKeyId")):
            with self.subTest(code=code):
                with self.assertRaises(ClientError) as ctx:
                    client.put_object(Bucket=self.st.bucket, Key="images/forged.png", Body=b"forged")
                self.assertEqual(ctx.exception.response["Error"]["Code"], code)
        with self.assertRaises(ClientError) as ctx:
            self.client.head_object(Bucket=self.st.bucket, Key="images/forged.png")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "404")  # nothing was stored

    def test_a_header_signed_for_another_region_names_the_buckets(self):
        # What S3 answers, so that botocore's region redirector can sign again for the right one.
        url = f"{self.st.s3_url}/{self.st.bucket}/images/other.png"
        request = AWSRequest(method="GET", url=url)
        botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "s3", "eu-west-1").add_auth(request)
        r = http_call(url, "GET", headers=dict(request.headers.items()))
        self.assertEqual(r.status, 400, r.body)
        code, message, fields = s3_error(r)
        self.assertEqual((code, fields["Region"]), ("AuthorizationHeaderMalformed", REGION))
        self.assertEqual(message, f"The authorization header is malformed; the region 'eu-west-1' is wrong; "
                                  f"expecting '{REGION}'")
        request = AWSRequest(method="GET", url=url)
        botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "s3", REGION).add_auth(request)
        self.assertEqual(http_call(url, "GET", headers=dict(request.headers.items())).body, b"other")

    def test_anonymous_requests_are_refused_and_both_kinds_at_once_too(self):
        url = f"{self.st.s3_url}/{self.st.bucket}/images/a%20b%2Bc.png"
        self.assert_refused(url, 403, "AccessDenied", "Access Denied")
        r = http_call(self.presign(), "GET", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
        self.assertEqual((r.status, s3_error(r)[0]), (400, "InvalidArgument"))

    def test_a_header_signature_out_of_the_clock_skew_is_refused(self):
        url = f"{self.st.s3_url}/{self.st.bucket}/images/other.png"
        for offset in (-3600, 3600):
            with self.subTest(offset=offset):
                request = AWSRequest(method="GET", url=url)
                with signing_clock(int(time.time()) + offset):
                    botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "s3",
                                              REGION).add_auth(request)
                r = http_call(url, "GET", headers=dict(request.headers.items()))
                self.assertEqual((r.status, s3_error(r)[0]), (403, "RequestTimeTooSkewed"), r.body)

    def test_a_session_token_must_be_the_key_pairs(self):
        guard = Proc("s3-verify-token", [os.path.join(BUILD_DIR, "s3-verify"), "--upstream", self.st.s3rver_url,
                                         "--region", REGION, "--access-key-id", ACCESS_KEY_ID,
                                         "--secret-access-key", SECRET_ACCESS_KEY, "--session-token", "the-token"],
                     dict(os.environ))
        try:
            base = guard.wait_for(r"^s3-verify listening on (http://127\.0\.0\.1:\d+)$").group(1)
            url = f"{base}/{self.st.bucket}/images/other.png"
            for token, status, code in (("the-token", 200, None), (None, 400, "InvalidToken"),
                                        ("another-token", 400, "InvalidToken")):
                with self.subTest(token=token):
                    request = AWSRequest(method="GET", url=url)
                    signer = botocore.auth.S3SigV4QueryAuth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, token),
                                                            "s3", REGION, expires=60)
                    signer.add_auth(request)
                    r = http_call(request.url)
                    self.assertEqual(r.status, status, r.body)
                    if code:
                        self.assertEqual(s3_error(r)[0], code)
        finally:
            self.assertEqual(guard.stop(), 0)

    def test_bad_flags_stop_it_with_a_sentence(self):
        exe = os.path.join(BUILD_DIR, "s3-verify")
        for args, sentence in (([], "--upstream http://127.0.0.1:PORT (the s3rver to guard) is required"),
                               (["--upstream", "http://example.com:80"], "must be http://127.0.0.1:PORT"),
                               (["--upstream", self.st.s3rver_url, "--port", "x"], "--port must be a whole number"),
                               (["--upstream", self.st.s3rver_url, "--bogus"], "unknown option")):
            with self.subTest(args=args):
                p = subprocess.run([exe] + args, capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(sentence, p.stderr)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        p = subprocess.run([exe, "--upstream", self.st.s3rver_url], capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no credentials", p.stderr)
        p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--upstream", p.stdout)

    # ---- what a refusal leaves behind ----

    def test_refusals_never_reach_s3rver_and_the_log_keeps_no_signature(self):
        url = self.presign(key="images/other.png")
        sig = re.search(r"X-Amz-Signature=(\w+)", url).group(1)
        marker = "never-reaches-s3rver.png"
        bad = self.presign(key="images/" + marker).replace("X-Amz-Expires=300", "X-Amz-Expires=301")
        self.assert_refused(bad, 403, "SignatureDoesNotMatch")
        self.assertEqual(http_call(url).status, 200)
        self.st.s3_verify.wait_for(r'"path":"/%s/images/other.png"' % self.st.bucket)
        self.assertFalse(any(marker in line for line in self.st.s3.lines()), "a refused request reached s3rver")
        log = self.st.s3_verify.text()
        self.assertIn(marker, log)  # refusals are logged, by path
        self.assertNotIn(sig, log)
        self.assertNotIn("X-Amz-Signature=", log)
        self.assertNotIn("X-Amz-Credential=", log)


S3_CLI = os.path.join(BUILD_DIR, "tests", "s3_cli")
# The order a form sends the fields in (s3_cli prints them sorted): every one before the file.
FORM_ORDER = ("key", "Content-Type", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token",
              "policy", "x-amz-signature")
CONDITION_FAILED = "Invalid according to Policy: Policy Condition failed: "


class BrowserUploadTest(unittest.TestCase):
    """POST /<bucket> with a form, as a browser sends it, under a policy the runtime signed."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(bedrock=False, gateway=False).start()
        cls.client = S3VerifyTest.make_client.__func__(cls, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        codes = cls.st.stop()
        if codes.get("s3_verify") != 0:
            raise AssertionError("s3-verify exited with %s" % codes)

    def fresh_key(self):
        BrowserUploadTest.serial += 1
        return f"uploads/caller-1/{BrowserUploadTest.serial} photo.png"

    def presign_post(self, key, content_type="image/png", max_bytes=len(PNG), expires=300, now=None,
                     secret=SECRET_ACCESS_KEY, token=None, endpoint=None):
        """ig_s3_presign_post's answer: url, fields, key, expires_at."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": secret,
                    "AWS_ENDPOINT_URL_S3": endpoint or self.st.s3_url})
        if token:
            env["AWS_SESSION_TOKEN"] = token
        args = [S3_CLI, "presign-post", self.st.bucket, key, content_type, str(max_bytes), str(expires)]
        proc = subprocess.run(args + ([str(now)] if now else []), env=env, capture_output=True, timeout=60)
        out = json.loads(proc.stdout)
        self.assertEqual(out["err"], "ok", out)
        return out

    def upload(self, post, data, changes=None, extra=(), after_file=(), drop=(), order=FORM_ORDER):
        """curl -F: the signed fields in order (with changes, without drop, then extra), then the
        file, then after_file. Returns (status, lower-cased headers, body)."""
        changes = changes or {}
        fields = [(name, changes.get(n, value)) for n in order if n not in drop
                  for name, value in post["fields"].items() if name.lower() == n.lower()]
        fields += list(extra)
        with tempfile.TemporaryDirectory() as d:
            path, body, head = (os.path.join(d, n) for n in ("photo.png", "body", "head"))
            with open(path, "wb") as f:
                f.write(data)
            cmd = ["curl", "-sS", "-o", body, "-D", head, "-w", "%{http_code}", "--max-time", "60"]
            for name, value in fields:
                cmd += ["--form-string", f"{name}={value}"]
            cmd += ["-F", f"file=@{path};type=image/png"]
            for name, value in after_file:
                cmd += ["--form-string", f"{name}={value}"]
            proc = subprocess.run(cmd + [post["url"]], capture_output=True, text=True, timeout=90)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(body, "rb") as f:
                answer = f.read()
            with open(head, encoding="latin-1") as f:
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in f.read().splitlines()[1:] if ":" in line)}
        return int(proc.stdout), headers, answer

    def assert_stored(self, key, data, content_type="image/png"):
        got = self.client.get_object(Bucket=self.st.bucket, Key=key)
        self.assertEqual((got["ContentType"], got["Body"].read()), (content_type, data))

    def assert_not_stored(self, key):
        with self.assertRaises(ClientError) as ctx:
            self.client.head_object(Bucket=self.st.bucket, Key=key)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "404")

    def assert_refused(self, answer, status, code, message=None):
        got_status, headers, body = answer
        self.assertEqual(got_status, status, body)
        self.assertEqual(headers.get("content-type"), "application/xml")
        root = ET.fromstring(body)
        fields = {child.tag: child.text or "" for child in root}
        self.assertEqual(fields["Code"], code, body)
        if message is not None:
            self.assertEqual(fields["Message"], message)
        return fields

    # ---- the form as signed ----

    def test_a_form_the_runtime_signed_stores_the_object_with_its_type(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        self.assertEqual(post["url"], f"{self.st.s3_url}/{self.st.bucket}")
        status, headers, body = self.upload(post, PNG)
        self.assertEqual((status, body), (204, b""))
        self.assertTrue(headers.get("etag", "").startswith('"'), headers)
        self.assert_stored(key, PNG)
        self.st.s3_verify.wait_for(r'"method":"POST","status":204,"auth":"post"')
        # A file of exactly 1 byte, the smallest the policy allows, with a JPEG type.
        key = self.fresh_key()
        self.assertEqual(self.upload(self.presign_post(key, "image/jpeg", 1), b"x")[0], 204)
        self.assert_stored(key, b"x", "image/jpeg")

    def test_field_names_match_without_case_and_fields_after_the_file_are_ignored(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        renamed = {"policy": "Policy", "x-amz-signature": "X-Amz-Signature", "x-amz-credential": "X-Amz-Credential",
                   "x-amz-algorithm": "X-Amz-Algorithm", "x-amz-date": "X-AMZ-DATE"}
        post = dict(post, fields={renamed.get(k, k): v for k, v in post["fields"].items()})
        status, _, body = self.upload(post, PNG, after_file=[("submit", "Upload"), ("x-amz-meta-late", "1")])
        self.assertEqual(status, 204, body)
        self.assert_stored(key, PNG)

    # ---- what the policy refuses ----

    def test_a_file_over_the_limit_or_empty_is_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key, max_bytes=1000)
        fields = self.assert_refused(self.upload(post, PNG[:1001]), 400, "EntityTooLarge",
                                     "Your proposed upload exceeds the maximum allowed size")
        self.assertEqual((fields["ProposedSize"], fields["MaxSizeAllowed"]), ("1001", "1000"))
        fields = self.assert_refused(self.upload(post, b""), 400, "EntityTooSmall",
                                     "Your proposed upload is smaller than the minimum allowed size")
        self.assertEqual((fields["ProposedSize"], fields["MinSizeAllowed"]), ("0", "1"))
        self.assert_not_stored(key)
        self.assertEqual(self.upload(post, PNG[:1000])[0], 204)  # the limit itself passes

    def test_another_content_type_or_key_is_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        self.assert_refused(self.upload(post, PNG, {"Content-Type": "image/gif"}), 403, "AccessDenied",
                            CONDITION_FAILED + '["eq", "$Content-Type", "image/png"]')
        self.assert_refused(self.upload(post, PNG, {"Content-Type": "image/png; x=1"}), 403, "AccessDenied")
        other = "uploads/caller-2/theirs.png"
        self.assert_refused(self.upload(post, PNG, {"key": other}), 403, "AccessDenied",
                            CONDITION_FAILED + f'["eq", "$key", "{key}"]')
        self.assert_not_stored(key)
        self.assert_not_stored(other)

    def test_an_expired_policy_is_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key, expires=60, now=int(time.time()) - 3600)
        self.assert_refused(self.upload(post, PNG), 403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        self.assert_not_stored(key)

    def test_a_tampered_signature_or_policy_is_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        sig = post["fields"]["x-amz-signature"]
        mismatch = ("The request signature we calculated does not match the signature you provided. "
                    "Check your key and signing method.")
        for bad in (sig[:-1] + ("0" if sig[-1] != "0" else "1"), "0" * 64, sig.upper(), sig[:-2]):
            with self.subTest(signature=bad):
                fields = self.assert_refused(self.upload(post, PNG, {"x-amz-signature": bad}), 403,
                                             "SignatureDoesNotMatch", mismatch)
                self.assertEqual(fields["SignatureProvided"], bad)
        # A policy that allows more (a bigger file), under the first one's signature.
        bigger = self.presign_post(key, max_bytes=10 * len(PNG))
        self.assert_refused(self.upload(post, PNG, {"policy": bigger["fields"]["policy"]}), 403,
                            "SignatureDoesNotMatch")
        # Signed with another secret.
        forged = self.presign_post(key, secret="not-the-secret")
        self.assert_refused(self.upload(forged, PNG), 403, "SignatureDoesNotMatch")
        self.assert_not_stored(key)

    def test_unsigned_fields_and_incomplete_forms_are_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        self.assert_refused(self.upload(post, PNG, extra=[("x-amz-meta-note", "added")]), 403, "AccessDenied",
                            "Invalid according to Policy: Extra input fields: x-amz-meta-note")
        self.assert_refused(self.upload(post, PNG, extra=[("success_action_status", "201")]), 403, "AccessDenied")
        # x-ignore-* fields need no condition; 20 KB of form before the file is S3's limit.
        self.assertEqual(self.upload(self.presign_post(self.fresh_key()), PNG, extra=[("x-ignore-note", "x")])[0], 204)
        fields = self.assert_refused(self.upload(post, PNG, extra=[("x-ignore-padding", "p" * 20480)]), 400,
                                     "MaxPostPreDataLengthExceeded")
        self.assertEqual(fields["MaxPostPreDataLengthBytes"], "20480")
        # The key twice: S3 checks one, s3rver would store the other.
        self.assert_refused(self.upload(post, PNG, extra=[("key", "uploads/caller-2/x.png")]), 400, "InvalidArgument")
        self.assert_refused(self.upload(post, PNG, drop=("x-amz-signature",)), 400, "InvalidArgument")
        self.assert_refused(self.upload(post, PNG, drop=("x-amz-security-token", "policy", "x-amz-algorithm",
                                                         "x-amz-credential", "x-amz-date", "x-amz-signature")),
                            403, "AccessDenied", "Access Denied")
        self.assert_refused(self.upload(post, PNG, drop=("key",)), 400, "InvalidArgument")
        self.assert_not_stored(key)
        self.assert_not_stored("uploads/caller-2/x.png")

    def test_a_form_without_a_file_or_not_a_form_is_refused(self):
        key = self.fresh_key()
        post = self.presign_post(key)
        boundary = "b0undary"
        parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
                        for n, v in post["fields"].items())
        r = http_call(post["url"], "POST", (parts + f"--{boundary}--\r\n").encode(),
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(s3_error(r)[:2], ("InvalidArgument", "POST requires exactly one file upload per request."))
        r = http_call(post["url"], "POST", b"--nope\r\nnot a form", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        self.assertEqual((r.status, s3_error(r)[0]), (400, "MalformedPOSTRequest"), r.body)
        self.assert_not_stored(key)

    def test_a_form_botocore_made_passes_and_its_starts_with_conditions_hold(self):
        """botocore's generate_presigned_post, with conditions the runtime does not write."""
        key = self.fresh_key()
        post = self.client.generate_presigned_post(
            self.st.bucket, key, ExpiresIn=300,
            Fields={"Content-Type": "image/webp", "x-amz-meta-tag": "cats", "success_action_status": "201"},
            Conditions=[["starts-with", "$Content-Type", "image/"], ["starts-with", "$x-amz-meta-tag", ""],
                        {"success_action_status": "201"}, ["content-length-range", 10, 2 * len(PNG)]])
        order = ("key", "Content-Type", "x-amz-meta-tag", "success_action_status") + FORM_ORDER[2:]
        self.assertLessEqual(set(post["fields"]), set(order))
        self.assert_refused(self.upload(post, PNG, {"Content-Type": "text/plain"}, order=order), 403, "AccessDenied",
                            CONDITION_FAILED + '["starts-with", "$Content-Type", "image/"]')
        self.assert_refused(self.upload(post, b"123456789", order=order), 400, "EntityTooSmall")
        self.assert_not_stored(key)
        status, _, body = self.upload(post, PNG, order=order)
        self.assertEqual(status, 201, body)  # success_action_status: S3's PostResponse document
        self.assertEqual(ET.fromstring(body).find("Key").text, key)
        self.assert_stored(key, PNG, "image/webp")
        self.assertEqual(self.client.head_object(Bucket=self.st.bucket, Key=key)["Metadata"], {"tag": "cats"})

    def test_a_policy_s3_cannot_read_is_refused(self):
        """Signed, but not a policy: botocore's SigV4 POST signer signs what it is given."""
        key = self.fresh_key()
        post = self.presign_post(key)
        creds = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        request = types.SimpleNamespace(context={"timestamp": post["fields"]["x-amz-date"]})
        signer = botocore.auth.S3SigV4PostAuth(creds, "s3", REGION)
        for document, message in (
                (b"not json", "Invalid Policy: Invalid JSON."),
                (json.dumps({"conditions": []}).encode(), "Invalid Policy: Policy missing expiration."),
                (json.dumps({"expiration": "tomorrow", "conditions": []}).encode(),
                 "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"),
                (json.dumps({"expiration": "2099-01-01T00:00:00.000Z", "conditions": [{"a": "1", "b": "2"}]}).encode(),
                 "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                 "specified.")):
            with self.subTest(policy=document):
                policy = base64.b64encode(document).decode()
                changes = {"policy": policy, "x-amz-signature": signer.signature(policy, request)}
                self.assert_refused(self.upload(post, PNG, changes), 400, "InvalidPolicyDocument", message)
        # A policy that names every field but the bucket of another: its condition fails.
        document = json.loads(base64.b64decode(post["fields"]["policy"]))
        document["conditions"] = [{"bucket": "another-bucket"} if "bucket" in c else c for c in document["conditions"]
                                  if isinstance(c, dict)] + [["content-length-range", 1, len(PNG)]]
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        changes = {"policy": policy, "x-amz-signature": signer.signature(policy, request)}
        self.assert_refused(self.upload(post, PNG, changes), 403, "AccessDenied",
                            CONDITION_FAILED + '["eq", "$bucket", "another-bucket"]')
        self.assert_not_stored(key)

    def test_a_session_token_is_part_of_the_policy(self):
        guard = Proc("s3-verify-post-token", [os.path.join(BUILD_DIR, "s3-verify"), "--upstream", self.st.s3rver_url,
                                              "--region", REGION, "--access-key-id", ACCESS_KEY_ID,
                                              "--secret-access-key", SECRET_ACCESS_KEY, "--session-token", "the-token"],
                     dict(os.environ))
        try:
            base = guard.wait_for(r"^s3-verify listening on (http://127\.0\.0\.1:\d+)$").group(1)
            key = self.fresh_key()
            post = self.presign_post(key, token="the-token", endpoint=base)
            self.assertEqual(post["fields"]["x-amz-security-token"], "the-token")
            self.assert_refused(self.upload(post, PNG, drop=("x-amz-security-token",)), 400, "InvalidToken")
            self.assert_refused(self.upload(post, PNG, {"x-amz-security-token": "another-token"}), 400, "InvalidToken")
            self.assert_refused(self.upload(self.presign_post(key, endpoint=base), PNG), 400, "InvalidToken")
            self.assert_not_stored(key)
            self.assertEqual(self.upload(post, PNG)[0], 204)
            self.assert_stored(key, PNG)
        finally:
            self.assertEqual(guard.stop(), 0)


if __name__ == "__main__":
    run_tests("s3-verify")
