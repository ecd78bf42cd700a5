"""test_s3_verify.py - s3-verify (runtime/local/s3/) refuses what Amazon S3 refuses, with botocore as the oracle.

s3rver checks no presigned URL: a zeroed signature, another object's key or another lifetime all
download. The local stack puts s3-verify in front of it. Here botocore (Debian's python3-botocore)
signs every request, header-signed or presigned, and the tests tamper with what it made: what
botocore signed must pass whole, and any change to it must be refused with S3's status, error code
and message, before s3rver sees it.
"""
import contextlib
import datetime
import os
import re
import subprocess
import sys
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


if __name__ == "__main__":
    run_tests("s3-verify")
