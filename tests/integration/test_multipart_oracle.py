"""test_multipart_oracle.py - our multipart/form-data parser against implementations we did not write.

build/tests/multipart_cli runs runtime/src/codec/multipart.c behind a JSON-lines pipe. Against it:

- urllib3's encode_multipart_formdata (the encoder under requests) builds forms from fields drawn
  from a fixed seed: names with spaces, quotes, backslashes, brackets and non-ASCII letters; files
  whose bytes are random and full of CR, LF, "--" and pieces of the boundary; text with CRLF.
  Our parts must be exactly the fields given.
- Node's own FormData encoder (undici, `new Response(formData)`), which the official openai npm
  client uses, does the same with browser-style escaping (a quote becomes %22, kept as sent).
- Python's email package (the standard library's MIME parser) reads every one of those bodies,
  and hand-written ones (preamble, epilogue, transport padding, escaped quotes, empty parts, data
  that nearly holds a delimiter); our parts must equal its parts.

Where the readers differ by design (email accepts bare LF and never refuses a body; undici reads
no backslash escapes), the cases avoid it: the unit tests (tests/unit/test_multipart.c) pin ours.
"""

import base64
import email
import email.policy
import json
import os
import random
import shutil
import subprocess
import unittest

from urllib3 import encode_multipart_formdata

SEED = 20250607
FORMS = 200
BUILD = os.environ.get("IMAGEGEN_BUILD_DIR", "build")
CLI = os.path.join(BUILD, "tests", "multipart_cli")

NAME_PIECES = ["image", "image[]", "mask", "prompt", "n", "size", "a b", 'say "hi"', "back\\slash", "\u65e5\u672c",
               "caf\u00e9", "x;y=z", "[]", "'", "trailing\\"]
FILENAME_PIECES = ["photo.png", "a b.png", 'q"uote.png', "C:\\dir\\f.png", "\u00e9t\u00e9.jpg", "x", "", "semi;colon.webp"]


class Cli:
    def __init__(self):
        self.proc = subprocess.Popen([CLI], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def parse(self, content_type, body, **limits):
        line = {"id": 1, "content_type": content_type, "body_b64": base64.b64encode(body).decode()}
        if limits:
            line["limits"] = limits
        self.proc.stdin.write(json.dumps(line) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if answer["ok"]:
            for p in answer["parts"]:
                p["data"] = base64.b64decode(p.pop("data_b64"))
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def email_parts(content_type, body):
    """The parts as Python's email package reads them: name, filename, content_type, data."""
    msg = email.message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body,
                                   policy=email.policy.HTTP)
    if not msg.is_multipart():
        return None

    def text(v):
        return None if v is None else str(v)

    parts = []
    for part in msg.get_payload():
        ct = part.get("content-type")
        parts.append({"name": text(part.get_param("name", header="content-disposition")),
                      "filename": text(part.get_param("filename", header="content-disposition")),
                      "content_type": text(ct.strip()) if ct and ct.strip() else None,
                      "data": part.get_payload(decode=True) or b""})
    return parts


def random_bytes(rng, boundary):
    pieces = [b"\r\n", b"\r", b"\n", b"--", b"\r\n--", ("\r\n--" + boundary[:-1]).encode(), boundary.encode()[1:],
              b"\x00", b"\xff\xfe", b"\x89PNG\r\n\x1a\n"]
    out = bytearray()
    for _ in range(rng.randrange(0, 12)):
        out += rng.choice(pieces) if rng.random() < 0.5 else rng.randbytes(rng.randrange(0, 40))
    return bytes(out)


def random_name(rng, allow_backslash=True):
    pieces = NAME_PIECES if allow_backslash else [p for p in NAME_PIECES if "\\" not in p]
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 3)))


def random_filename(rng, allow_backslash=True):
    pieces = FILENAME_PIECES if allow_backslash else [p for p in FILENAME_PIECES if "\\" not in p]
    return rng.choice(pieces) + (rng.choice(pieces) if rng.random() < 0.3 else "")


def random_fields(rng, boundary, allow_backslash=True):
    fields = []
    for _ in range(rng.randrange(1, 7)):
        name = random_name(rng, allow_backslash)
        if rng.random() < 0.5:
            value = "".join(rng.choice(["a cat", " ", "\r\n", "\u00e9", "--", "1024x1024", "\u65e5"])
                            for _ in range(rng.randrange(0, 6)))
            fields.append({"name": name, "filename": None, "content_type": None, "data": value.encode()})
        else:
            fields.append({"name": name, "filename": random_filename(rng, allow_backslash),
                           "content_type": rng.choice(["image/png", "image/jpeg", "application/octet-stream"]),
                           "data": random_bytes(rng, boundary)})
    return fields


def as_sent(fields):
    """Both encoders write a quote in a name or filename as %22 (the HTML form rule), which a
    reader keeps as it is."""
    def q(v):
        return None if v is None else v.replace('"', "%22")
    return [dict(f, name=q(f["name"]), filename=q(f["filename"])) for f in fields]


class MultipartOracleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CLI):
            raise unittest.SkipTest(f"{CLI} is not built")
        cls.cli = Cli()

    @classmethod
    def tearDownClass(cls):
        cls.cli.close()

    def assert_parts(self, got, want, context):
        self.assertTrue(got["ok"], f"{context}: refused: {got.get('message')}")
        self.assertEqual(len(got["parts"]), len(want), context)
        for i, (g, w) in enumerate(zip(got["parts"], want)):
            self.assertEqual(g, w, f"{context}: part {i + 1}")

    def test_urllib3_forms(self):
        rng = random.Random(SEED)
        for k in range(FORMS):
            boundary = "%032x" % rng.getrandbits(128) if k % 2 else "----b" + "%x" % rng.getrandbits(40)
            fields = random_fields(rng, boundary)
            encoded = [(f["name"], (f["filename"], f["data"], f["content_type"]) if f["filename"] is not None
                        else f["data"].decode()) for f in fields]
            body, content_type = encode_multipart_formdata(encoded, boundary=boundary)
            got = self.cli.parse(content_type, body)
            self.assert_parts(got, as_sent(fields), f"urllib3 form {k}")
            # email reads name="x\\" (an escaped backslash, then the closing quote) as an escaped
            # quote: its parameter splitter counts \" without looking at what precedes it.
            if not any(v and v.endswith("\\") for f in fields for v in (f["name"], f["filename"])):
                self.assertEqual(email_parts(content_type, body), got["parts"], f"email on urllib3 form {k}")

    def test_node_formdata(self):
        node = shutil.which("node")
        if not node:
            self.skipTest("node is not installed")
        rng = random.Random(SEED + 1)
        # undici sends backslashes as they are (browsers too), leaves out an empty filename, and
        # turns LF in text into CRLF.
        forms = [random_fields(rng, "formdata-undici", allow_backslash=False) for _ in range(60)]
        for form in forms:
            for f in form:
                if f["filename"] == "":
                    f["filename"] = "x"
                if f["filename"] is None:
                    f["data"] = f["data"].replace(b"\r\n", b" ")
        script = r"""
const forms = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  for (const fields of forms) {
    const fd = new FormData();
    for (const f of fields) {
      const data = Buffer.from(f.data_b64, 'base64');
      if (f.filename === null) fd.append(f.name, data.toString('utf8'));
      else fd.append(f.name, new Blob([data], { type: f.content_type }), f.filename);
    }
    const r = new Response(fd);
    const body = Buffer.from(await r.arrayBuffer());
    console.log(JSON.stringify({ content_type: r.headers.get('content-type'), body_b64: body.toString('base64') }));
  }
})();
"""
        payload = json.dumps([[dict(name=f["name"], filename=f["filename"], content_type=f["content_type"],
                                    data_b64=base64.b64encode(f["data"]).decode()) for f in form] for form in forms])
        out = subprocess.run([node, "-e", script], input=payload, capture_output=True, text=True, timeout=60, check=True)
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), len(forms))
        for k, (line, fields) in enumerate(zip(lines, forms)):
            enc = json.loads(line)
            body = base64.b64decode(enc["body_b64"])
            got = self.cli.parse(enc["content_type"], body)
            self.assert_parts(got, as_sent(fields), f"node form {k}")
            self.assertEqual(email_parts(enc["content_type"], body), got["parts"], f"email on node form {k}")

    def test_hand_written_bodies_agree_with_email(self):
        ct = "multipart/form-data; boundary=XyZ"
        bodies = [
            b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--\r\nepilogue",
            b"--XyZ  \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--XyZ \r\n"
            b"Content-Disposition: form-data; name=b; filename=\"b.png\"\r\nContent-Type:   image/png  \r\n\r\n"
            b"\r\n--XyZW\r\n--XyZ-\r\n\r\n--XyZ--  \r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"q\\\"uote\"; filename=\"b\\\\s.png\"\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=empty\r\n\r\n\r\n--XyZ\r\n"
            b"Content-Disposition: form-data; name=crlf\r\n\r\n\r\n\r\n--XyZ--",
            b"--XyZ\r\ncontent-disposition: FORM-DATA; NAME=upper\r\nX-Other: 1\r\n\r\n\x00\r\x00\n\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nline\r\n-- XyZ\r\n--XyZ--\r\n",
        ]
        for i, body in enumerate(bodies):
            got = self.cli.parse(ct, body)
            self.assertTrue(got["ok"], f"body {i}: {got.get('message')}")
            self.assertEqual(email_parts(ct, body), got["parts"], f"body {i}")

    def test_limits_name_the_part(self):
        body, ct = encode_multipart_formdata([("prompt", "x"), ("image", ("a.png", b"\x89PNG" * 100, "image/png"))])
        got = self.cli.parse(ct, body, max_part_bytes=399)
        self.assertEqual((got["ok"], got["error"]), (False, "too_large"))
        self.assertIn('the part "image" is larger than 399 bytes', got["message"])
        self.assertTrue(self.cli.parse(ct, body, max_part_bytes=400)["ok"])


if __name__ == "__main__":
    unittest.main()
