"""test_image_pil.py - our input-image checks against Pillow, file by file.

Pillow (Debian's python3-pil, over libpng's zlib, libjpeg-turbo and libwebp) is an image reader we
did not write. For a set of images generated from a fixed seed - PNG in every colour type Pillow
writes (RGB, RGBA, grey, grey+alpha, palette, palette+tRNS, grey and RGB colour keys, 1-bit,
16-bit grey), plus interlaced and 16-bit-with-alpha PNGs that Pillow cannot write but reads (made
here by a small PNG writer), JPEG baseline, progressive, optimized, greyscale and CMYK, WebP lossy,
lossless, with alpha and animated - build/tests/image_cli must agree with Pillow on the format,
width, height and whether the image carries alpha, and accept every file Pillow decodes. Every
image that carries alpha is then turned into a mask by image_cli, plain and inverted, and each
mask must be an 8-bit grey PNG of the same size equal, pixel for pixel, to Pillow's own
computation: 255 where the alpha Pillow decodes is below 128, else 0 (inverted: the opposite).
Cut copies of the files are refused by us whenever Pillow cannot decode them.

Two Pillow quirks keep a few files out of the mask comparison (their alpha detection is still
compared): Pillow compares a 1-bit grey PNG's tRNS key with pixels it has already scaled to
0/255 (it finds no transparent pixel at all), and a 16-bit RGB colour key with pixels it has
reduced to 8 bits (it finds fewer than the exact 16-bit matches the PNG specification asks for).
test_image.c checks those two cases pixel by pixel against the exact rule.
"""
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import stack  # noqa: E402
from stack import run_tests  # noqa: E402

from PIL import Image  # noqa: E402

CLI = os.path.join(stack.BUILD_DIR, "tests", "image_cli")
SEED = 20250115
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def cli(*args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env=env)
    if p.returncode != 0:
        raise AssertionError(f"image_cli {' '.join(args[:2])} failed ({p.returncode}): {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


# ---- a small PNG writer, for what Pillow cannot write: Adam7 interlacing and 16-bit alpha ----

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(w, h, colour, depth, pixels, interlace=False, plte=None, trns=None):
    """pixels[y][x] is a tuple of samples (depth 8 or 16)."""
    fmt = ">H" if depth == 16 else ">B"

    def scanlines(x0, y0, dx, dy):
        out = b""
        for y in range(y0, h, dy):
            xs = range(x0, w, dx)
            if not xs:
                return b""
            out += b"\0" + b"".join(struct.pack(fmt, s) for x in xs for s in pixels[y][x])
        return out

    raw = b"".join(scanlines(*p) for p in ADAM7) if interlace else scanlines(0, 0, 1, 1)
    body = png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 1 if interlace else 0))
    if plte:
        body += png_chunk(b"PLTE", plte)
    if trns is not None:
        body += png_chunk(b"tRNS", trns)
    return b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


# ---- the images ----

def picture(rng, mode, w, h):
    """An image with random blocks, and an alpha that crosses 128 often, when the mode has one."""
    im = Image.new(mode, (w, h))
    bands = len(im.getbands())
    top = 65535 if mode == "I;16" else 255
    for _ in range(12):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        box = (x0, y0, min(w, x0 + rng.randrange(1, 40)), min(h, y0 + rng.randrange(1, 40)))
        value = tuple(rng.randrange(top + 1) for _ in range(bands))
        im.paste(value if bands > 1 else value[0], box)
    if "A" in im.getbands():
        alpha = Image.new("L", (w, h))
        alpha.putdata([rng.choice((0, 127, 128, 255, rng.randrange(256))) for _ in range(w * h)])
        im.putalpha(alpha)
    return im


def saved(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def generate(rng):
    """Yields (name, bytes, mask_comparable)."""
    size = lambda: (rng.randrange(1, 90), rng.randrange(1, 70))  # noqa: E731
    for mode in ("RGB", "RGBA", "L", "LA", "1", "I;16"):
        for i in range(3):
            yield f"png-{mode}-{i}", saved(picture(rng, mode, *size()), "PNG"), True
    for i in range(4):
        w, h = size()
        p = picture(rng, "RGB", w, h).convert("P", palette=Image.ADAPTIVE, colors=rng.choice((4, 16, 200)))
        n = len(p.getpalette()) // 3
        trns = bytes(rng.choice((0, 127, 128, 255, rng.randrange(256))) for _ in range(rng.randrange(1, n + 1)))
        yield f"png-P-tRNS-{i}", saved(p, "PNG", transparency=trns), True
        yield f"png-P-{i}", saved(p, "PNG"), True
        key = rng.randrange(256)
        yield f"png-L-key-{i}", saved(picture(rng, "L", w, h).point(lambda v: key if v % 3 == 0 else v), "PNG",
                                     transparency=key), True
        rgb = picture(rng, "RGB", w, h)
        yield f"png-RGB-key-{i}", saved(rgb, "PNG", transparency=rgb.getpixel((0, 0))), True
        yield f"png-1-key-{i}", saved(picture(rng, "1", w, h), "PNG", transparency=1), False
    for i in range(6):
        w, h = size()
        px = [[tuple(rng.choice((0, 32767, 32768, 65535, rng.randrange(65536))) for _ in range(4))
               for _ in range(w)] for _ in range(h)]
        yield f"png-RGBA16-{i}", write_png(w, h, 6, 16, px, interlace=i % 2 == 1), True
        ga = [[(p[0], p[3]) for p in row] for row in px]
        yield f"png-LA16-{i}", write_png(w, h, 4, 16, ga, interlace=i % 2 == 0), True
        rgba = picture(rng, "RGBA", w, h)
        yield f"png-RGBA8-adam7-{i}", write_png(w, h, 6, 8, [[rgba.getpixel((x, y)) for x in range(w)]
                                                             for y in range(h)], interlace=True), True
        idx = [[(rng.randrange(8),) for _ in range(w)] for _ in range(h)]
        plte = bytes(rng.randrange(256) for _ in range(24))
        trns = bytes(rng.choice((0, 127, 128, 255)) for _ in range(rng.randrange(1, 9)))
        yield f"png-P-tRNS-adam7-{i}", write_png(w, h, 3, 8, idx, True, plte, trns), True
        yield f"png-RGB16-key-{i}", write_png(w, h, 2, 16, [[p[:3] for p in row] for row in px], i % 2 == 1,
                                               trns=struct.pack(">HHH", *px[0][0][:3])), False
    for i in range(3):
        w, h = size()
        yield f"jpeg-baseline-{i}", saved(picture(rng, "RGB", w, h), "JPEG", quality=rng.randrange(30, 96)), True
        yield f"jpeg-progressive-{i}", saved(picture(rng, "RGB", w, h), "JPEG", progressive=True), True
        yield f"jpeg-optimized-{i}", saved(picture(rng, "RGB", w, h), "JPEG", optimize=True, subsampling=0), True
        yield f"jpeg-grey-{i}", saved(picture(rng, "L", w, h), "JPEG"), True
        yield f"jpeg-cmyk-{i}", saved(picture(rng, "CMYK", w, h), "JPEG"), True
        yield f"webp-lossy-{i}", saved(picture(rng, "RGB", w, h), "WEBP", quality=80), True
        yield f"webp-lossy-alpha-{i}", saved(picture(rng, "RGBA", w, h), "WEBP", quality=80), True
        yield f"webp-lossless-{i}", saved(picture(rng, "RGB", w, h), "WEBP", lossless=True), True
        yield f"webp-lossless-alpha-{i}", saved(picture(rng, "RGBA", w, h), "WEBP", lossless=True), True
        frames = [picture(rng, "RGBA", w, h) for _ in range(2)]
        yield f"webp-animated-{i}", saved(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                                          duration=100), True


def pil_facts(data):
    """Pillow's format, size and alpha, and whether it decodes the pixels; None if it cannot open."""
    try:
        im = Image.open(io.BytesIO(data))
        facts = {"format": FORMATS.get(im.format), "width": im.width, "height": im.height,
                 "alpha": im.mode in ALPHA_MODES or "transparency" in im.info}
        im.load()
        return facts
    except Exception:  # noqa: BLE001 - any failure to decode is "Pillow cannot"
        return None


def pil_mask(data, inverted):
    alpha = Image.open(io.BytesIO(data)).convert("RGBA").getchannel("A")
    edit, keep = (0, 255) if inverted else (255, 0)
    return [edit if a < 128 else keep for a in alpha.getdata()]


class ImagePillowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CLI):
            raise AssertionError(f"{CLI} is not built (cmake --build the build directory first)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="imagegen-image-pil-")
        cls.files = []
        for name, data, comparable in generate(random.Random(SEED)):
            path = os.path.join(cls.tmp.name, name)
            with open(path, "wb") as f:
                f.write(data)
            cls.files.append((name, path, data, comparable))
        cls.ours = {r["file"]: r for r in cli("inspect", *[f[1] for f in cls.files])}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_kind_is_generated(self):
        """The set covers what the docstring promises (a generator change cannot shrink it silently)."""
        self.assertGreaterEqual(len(self.files), 90)
        kinds = {"png", "jpeg", "webp"}
        self.assertEqual({FORMATS[Image.open(io.BytesIO(d)).format] for _, _, d, _ in self.files}, kinds)
        interlaced = sum(1 for _, _, d, _ in self.files if d[:4] == b"\x89PNG" and d[28] == 1)
        sixteen = sum(1 for _, _, d, _ in self.files if d[:4] == b"\x89PNG" and d[24] == 16)
        self.assertGreaterEqual(interlaced, 10)
        self.assertGreaterEqual(sixteen, 10)

    def test_facts_equal_pillows(self):
        agreed = 0
        for name, path, data, _ in self.files:
            with self.subTest(name):
                pil = pil_facts(data)
                self.assertIsNotNone(pil, "Pillow cannot decode a generated image")
                ours = self.ours[path]
                self.assertEqual(ours["verdict"], "ok", ours["message"])
                self.assertEqual(ours["message"], "")
                got = {k: ours[k] for k in ("format", "width", "height", "alpha")}
                self.assertEqual(got, pil)
                self.assertEqual(ours["image_len"], len(data))
                agreed += 1
        self.assertEqual(agreed, len(self.files))

    def test_alpha_masks_equal_pillows(self):
        compared = edit_pixels = total = 0
        for name, path, data, comparable in self.files:
            if not comparable or not self.ours[path]["alpha"] or not data.startswith(b"\x89PNG"):
                continue
            for inverted in (False, True):
                with self.subTest(name, inverted=inverted):
                    out = path + (".inverted" if inverted else ".mask") + ".png"
                    args = ["mask"] + (["--inverted"] if inverted else []) + [path, out]
                    answer = cli(*args)[0]
                    self.assertTrue(answer["ok"], answer)
                    mask = Image.open(out)
                    self.assertEqual((mask.format, mask.mode, mask.size), ("PNG", "L", Image.open(path).size))
                    want = pil_mask(data, inverted)
                    got = list(mask.getdata())
                    diffs = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
                    self.assertEqual(diffs[:5], [], f"{len(diffs)} of {len(want)} pixels differ")
                    self.assertEqual(len(got), len(want))
                    compared += 1
                    edit_pixels += got.count(0 if inverted else 255)
                    total += len(got)
        self.assertGreaterEqual(compared, 2 * 40)
        # both colours occur, so a blank mask cannot pass
        self.assertGreater(edit_pixels, total // 10)
        self.assertLess(edit_pixels, total - total // 10)

    def test_no_alpha_no_mask(self):
        """An image without alpha gets a refusal that says so, not an all-black mask."""
        for name, path, data, _ in self.files:
            if data.startswith(b"\x89PNG") and not self.ours[path]["alpha"]:
                answer = cli("mask", path, path + ".none.png")[0]
                self.assertEqual((answer["ok"], answer["error"]), (False, "invalid_arg"), name)

    def test_what_pillow_cannot_decode_we_refuse(self):
        """Cut copies: whenever Pillow fails, we refuse (we refuse all of them, in fact)."""
        rng = random.Random(SEED + 1)
        cuts = []
        for name, path, data, _ in self.files:
            for k in range(3):
                n = rng.randrange(1, len(data))
                cut = os.path.join(self.tmp.name, f"{name}.cut{k}")
                with open(cut, "wb") as f:
                    f.write(data[:n])
                cuts.append((cut, data[:n]))
        ours = {r["file"]: r for r in cli("inspect", *[c[0] for c in cuts])}
        pillow_failed = 0
        for path, data in cuts:
            with self.subTest(os.path.basename(path)):
                self.assertEqual(ours[path]["verdict"], "truncated", ours[path]["message"])
                self.assertEqual(ours[path]["error"], "truncated")
                self.assertTrue(ours[path]["message"].endswith("(truncated?)"), ours[path]["message"])
                pillow_failed += pil_facts(data) is None
        self.assertGreater(pillow_failed, len(cuts) // 2)


if __name__ == "__main__":
    run_tests("image-pil")
