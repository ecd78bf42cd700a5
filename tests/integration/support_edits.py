"""support_edits.py - edit requests for the warm-invocation checks (test_valgrind_warm,
test_memory, scripts/soak): small pictures made with the standard library, an upload through
the presigned form, and the requests of every input path, good and bad.

    from support_edits import upload, edit_requests
    key = upload(api_url)                      # POST /uploads, then the form to S3
    good, bad = edit_requests(key)             # (name, method, path, body, headers) each

Good requests (200): an inline image (upscale-fast), an inline image with a mask (inpaint), an
OpenAI form with a mask (the mask made from its alpha channel through libpng), an OpenAI form
without one, an upload fetched from S3 by its key, and POST /uploads itself. Bad requests
(4xx): bad base64, a truncated PNG, a PNG whose header lies about its size, a malformed form, a
form without a boundary, the token syntax in a prompt, another owner's upload, an upload that is
not there. Only the standard library: scripts/soak uses it with Debian's Python.
"""
import base64
import http.client
import json
import struct
import urllib.parse
import zlib

JSON = {"Content-Type": "application/json"}
BOUNDARY = "----imagegen-warm-7d41"
FORM = {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY}


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(width, height, alpha=True, seed=1, ihdr_height=None):
    """An 8-bit RGB or RGBA PNG of a gradient; with alpha, its top-left quarter is transparent.
    ihdr_height makes the header lie about the height."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            px = [(x * 7 + seed) & 255, (y * 5 + seed) & 255, (x + y) & 255]
            if alpha:
                px.append(0 if x < width // 2 and y < height // 2 else 255)
            rows += bytes(px)
    ihdr = struct.pack(">IIBBBBB", width, ihdr_height or height, 8, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(bytes(rows), 6))
            + _chunk(b"IEND", b""))


def b64(data):
    return base64.b64encode(data).decode()


def form(parts, boundary=BOUNDARY, close=True):
    """A multipart/form-data body of (name, value, filename) parts."""
    out = []
    for name, value, filename in parts:
        head = '--%s\r\nContent-Disposition: form-data; name="%s"' % (boundary, name)
        if filename is not None:
            head += '; filename="%s"\r\nContent-Type: image/png' % filename
        out.append(head.encode() + b"\r\n\r\n" + value + b"\r\n")
    return b"".join(out) + (("--%s--\r\n" % boundary).encode() if close else b"")


def upload(api_url, data=None, headers=None):
    """An image uploaded as a client does it: POST /uploads, then the presigned form (fields in
    order, the file last) to S3. Returns the upload's key."""
    u = urllib.parse.urlsplit(api_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    h = dict(JSON)
    h.update(headers or {})
    conn.request("POST", "/uploads", json.dumps({"contentType": "image/png"}), h)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 200:
        raise RuntimeError("POST /uploads answered %d: %s" % (r.status, body[:300]))
    up = json.loads(body)["upload"]
    parts = [(name, value.encode(), None) for name, value in up["fields"].items()]
    parts.append(("file", data if data is not None else png(64, 64, seed=9), "up.png"))
    s3 = urllib.parse.urlsplit(up["url"])
    conn = http.client.HTTPConnection(s3.hostname, s3.port, timeout=60)
    conn.request("POST", s3.path or "/", form(parts), FORM)
    r = conn.getresponse()
    answer = r.read()
    conn.close()
    if r.status not in (200, 201, 204):
        raise RuntimeError("the upload form answered %d: %s" % (r.status, answer[:300]))
    return up["key"]


def edit_requests(upload_key):
    """(good, bad): lists of (name, method, path, body, headers) for the edit routes."""
    image = png(64, 64)
    mask = png(64, 64, alpha=False, seed=3)
    prefix, owner = upload_key.split("/")[:2]
    good = [
        ("edit-inline", "POST", "/edit-image", json.dumps({"task": "upscale-fast", "image": b64(image)}), JSON),
        ("edit-mask", "POST", "/edit-image",
         json.dumps({"task": "inpaint", "prompt": "a lamp", "image": b64(image), "mask": b64(mask)}), JSON),
        ("edit-form-mask", "POST", "/v1/images/edits",
         form([("image", image, "a.png"), ("mask", image, "m.png"), ("prompt", b"a lamp", None)]), FORM),
        ("edit-form", "POST", "/v1/images/edits", form([("image[]", image, "a.png"), ("prompt", b"winter", None)]),
         FORM),
        ("edit-upload", "POST", "/edit-image", json.dumps({"task": "upscale-fast", "image": {"upload": upload_key}}),
         JSON),
        ("uploads", "POST", "/uploads", json.dumps({"contentType": "image/webp"}), JSON),
    ]
    truncated = image[:len(image) // 2]
    bad = [
        ("edit-bad-base64", "POST", "/edit-image", json.dumps({"task": "upscale-fast", "image": "@@not base64@@"}),
         JSON),
        ("edit-truncated-png", "POST", "/edit-image", json.dumps({"task": "upscale-fast", "image": b64(truncated)}),
         JSON),
        ("edit-lying-png", "POST", "/edit-image",
         json.dumps({"task": "upscale-fast", "image": b64(png(64, 64, ihdr_height=200))}), JSON),
        ("edit-token-prompt", "POST", "/edit-image",
         json.dumps({"task": "inpaint", "image": b64(image), "prompt": "igin:%s:0:1" % ("0" * 32)}), JSON),
        ("edit-form-unclosed", "POST", "/v1/images/edits",
         form([("image", image, "a.png"), ("prompt", b"x", None)], close=False), FORM),
        ("edit-form-no-boundary", "POST", "/v1/images/edits", form([("prompt", b"x", None)]),
         {"Content-Type": "multipart/form-data"}),
        ("edit-other-owner", "POST", "/edit-image",
         json.dumps({"task": "upscale-fast", "image": {"upload": upload_key.replace(owner, "0" * len(owner))}}),
         JSON),
        ("edit-absent-upload", "POST", "/edit-image",
         json.dumps({"task": "upscale-fast", "image": {"upload": "%s/%s/%s.png" % (
             prefix, owner, "00000000-0000-4000-8000-000000000000")}}), JSON),
    ]
    return good, bad
