#!/usr/bin/python3
"""test_bedrock_local_edits.py - bedrock-local's edit models, checked pixel by pixel.

Stability's thirteen image services, SD3.5 Large's image-to-image mode and the legacy Titan/Nova
task types (INPAINTING, OUTPAINTING, IMAGE_VARIATION, BACKGROUND_REMOVAL): for each, a valid
request and the geometry or pixel property its answer must have (decoded with Debian's
python3-pil), and invalid bodies refused with 400 ValidationException and their exact message,
without reaching the model. The rules checked are bedrock-local's documented transforms
(runtime/local/README.md, "Edit models"); the signing, sending and error parsing are
test_bedrock_local.py's (botocore's signer and rest-json parser).

Prints "bedrock-local edits: N passed, M failed".
"""
import base64
import io
import math
import os
import random
import sys
import time
import traceback

from PIL import Image

import test_bedrock_local as bl
from test_bedrock_local import CheckFailed, Server, check, check_eq, expect_error, invoke

SERVICE_IDS = {name: "stability." + name + "-v1:0" for name in (
    "stable-image-inpaint", "stable-outpaint", "stable-image-erase-object", "stable-image-search-replace",
    "stable-image-search-recolor", "stable-image-remove-background", "stable-fast-upscale",
    "stable-conservative-upscale", "stable-creative-upscale", "stable-image-style-guide",
    "stable-style-transfer", "stable-image-control-sketch", "stable-image-control-structure")}
INPAINT = "us." + SERVICE_IDS["stable-image-inpaint"]
OUTPAINT = "us." + SERVICE_IDS["stable-outpaint"]
ERASE = "us." + SERVICE_IDS["stable-image-erase-object"]
REPLACE = "us." + SERVICE_IDS["stable-image-search-replace"]
RECOLOR = "us." + SERVICE_IDS["stable-image-search-recolor"]
REMOVE_BG = "us." + SERVICE_IDS["stable-image-remove-background"]
FAST = "us." + SERVICE_IDS["stable-fast-upscale"]
CONSERVATIVE = "us." + SERVICE_IDS["stable-conservative-upscale"]
CREATIVE = "us." + SERVICE_IDS["stable-creative-upscale"]
STYLE_GUIDE = "us." + SERVICE_IDS["stable-image-style-guide"]
TRANSFER = "us." + SERVICE_IDS["stable-style-transfer"]
SKETCH = "us." + SERVICE_IDS["stable-image-control-sketch"]
STRUCTURE = "us." + SERVICE_IDS["stable-image-control-structure"]
ON_DEMAND = ("Invocation of model ID {} with on-demand throughput isn\u2019t supported. Retry your request "
             "with the ID or ARN of an inference profile that contains this model.")
BACKGROUND = (10, 200, 30)
SUBJECT = (200, 0, 0)
TOLERANCE = 32  # bedrock-local's background: every channel within 32 of the top-left pixel's


def violation(detail):
    return bl.stability_violation(detail)


# ---------------------------------------------------------------- pictures

def encode(img, fmt="PNG", **options):
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def b64(img, fmt="PNG", **options):
    return base64.b64encode(encode(img, fmt, **options)).decode()


def scene(w=160, h=120, box=(40, 30, 100, 80)):
    """A solid background with a solid rectangle (the "subject")."""
    img = Image.new("RGB", (w, h), BACKGROUND)
    img.paste(SUBJECT, box)
    return img


def noise(w, h, seed=1):
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), bytes(rnd.getrandbits(8) for _ in range(w * h * 3)))


def square_mask(w, h, box, white=255, black=0):
    mask = Image.new("L", (w, h), black)
    mask.paste(white, box)
    return mask


def picture(resp):
    """The one image of a Stability answer, decoded."""
    return Image.open(io.BytesIO(bl.stability_answer(resp)))


def pictures(resp):
    """The images of a Titan/Nova answer, decoded."""
    return [Image.open(io.BytesIO(data)) for data in bl.images_of(resp)]


def fit(w, h, pixels):
    """bedrock-local's rule: the input's aspect ratio within `pixels`."""
    out_w = math.isqrt(pixels * w // h)
    return out_w, out_w * h // w


def near_background(px):
    return all(abs(a - b) <= TOLERANCE for a, b in zip(px[:3], BACKGROUND))


def rgb_at(img):
    rgb = img.convert("RGB")
    return lambda x, y: rgb.getpixel((x, y))


def chebyshev_to_box(x, y, box):
    """Distance (square metric) from a pixel to the rectangle box = (x0, y0, x1, y1), exclusive end."""
    dx = max(box[0] - x, 0, x - (box[2] - 1))
    dy = max(box[1] - y, 0, y - (box[3] - 1))
    return max(dx, dy)


# ---------------------------------------------------------------- model ids and regions

def test_services_are_served_through_their_profiles(west, east):
    img = b64(scene())
    for name, model_id in SERVICE_IDS.items():
        expect_error(invoke(west, model_id, {"image": img}), 400, "ValidationException",
                     message=ON_DEMAND.format(model_id))
    arn = "arn:aws:bedrock:us-west-2::foundation-model/" + SERVICE_IDS["stable-image-remove-background"]
    expect_error(invoke(west, arn, {"image": img}), 400, "ValidationException", message=ON_DEMAND.format(arn))
    picture(invoke(west, "arn:aws:bedrock:us-west-2:123456789012:inference-profile/" + REMOVE_BG, {"image": img}))
    for srv in (west, east):
        check_eq(picture(invoke(srv, REMOVE_BG, {"image": img})).size, (160, 120), f"{srv.region} serves the profile")
    east2 = Server("--region", "us-east-2")
    try:
        check_eq(picture(invoke(east2, FAST, {"image": img})).size, (640, 480), "us-east-2 serves the profile")
    finally:
        code, errors = east2.stop()
        check_eq(code, 0, f"us-east-2 exit status; stderr {errors[-2000:]}")
    eu = Server("--region", "eu-west-1")
    try:
        expect_error(invoke(eu, FAST, {"image": img}), 404, "ResourceNotFoundException",
                     message=bl.UNKNOWN_MODEL)
    finally:
        code, errors = eu.stop()
        check_eq(code, 0, f"eu-west-1 exit status; stderr {errors[-2000:]}")
    started = next(r for r in east.log_records() if r.get("message") == "started")
    for model_id in SERVICE_IDS.values():
        check("us." + model_id in started["models"] and model_id not in started["models"],
              f"us-east-1 lists the profile of {model_id}, not the bare id")


# ---------------------------------------------------------------- upscales

def test_fast_upscale_is_exactly_4x(west):
    src = noise(48, 36)
    for fmt, options in (("PNG", {}), ("WEBP", {"lossless": True})):
        out = picture(invoke(west, FAST, {"image": b64(src, fmt, **options)}))
        check_eq((out.format, out.size), ("PNG", (192, 144)), f"{fmt} input: a PNG 4x the size")
        got, want = rgb_at(out), rgb_at(src)
        bad = [(x, y) for y in range(144) for x in range(192) if got(x, y) != want(x // 4, y // 4)]
        check(not bad, f"{fmt} input: every input pixel becomes a 4x4 block; differs at {bad[:5]}")
    jpeg_in = picture(invoke(west, FAST, {"image": b64(src, "JPEG", quality=95), "output_format": "jpeg"}))
    check_eq((jpeg_in.format, jpeg_in.size), ("JPEG", (192, 144)), "JPEG in, JPEG out")
    webp_out = picture(invoke(west, FAST, {"image": b64(noise(1024, 1024, seed=3)), "output_format": "webp"}))
    check_eq((webp_out.format, webp_out.size), ("WEBP", (4096, 4096)), "the largest input, as WebP")


def test_conservative_and_creative_upscale_fit_4_megapixels(west):
    for model, size in ((CONSERVATIVE, (300, 200)), (CREATIVE, (64, 160)), (CONSERVATIVE, (512, 512)),
                        (CREATIVE, (1024, 1024)), (CONSERVATIVE, (2000, 1500))):
        out = picture(invoke(west, model, {"prompt": "sharper", "image": b64(noise(*size))}))
        want = fit(size[0], size[1], 4194304)
        check_eq(out.size, want, f"{model} {size[0]}x{size[1]}")
        check(want[0] * want[1] <= 4194304, "within 4 MP")
    check_eq(fit(512, 512, 4194304), (2048, 2048), "a square goes to 2048x2048")
    a = bl.stability_answer(invoke(west, CREATIVE, {"prompt": "p", "image": b64(noise(100, 100)), "seed": 5}))
    b = bl.stability_answer(invoke(west, CREATIVE, {"prompt": "p", "image": b64(noise(100, 100)), "seed": 5}))
    c = bl.stability_answer(invoke(west, CREATIVE, {"prompt": "p", "image": b64(noise(100, 100)), "seed": 6}))
    check(a == b and a != c, "the same request gives the same bytes, another seed others")


# ---------------------------------------------------------------- background removal

def test_remove_background_cuts_out_the_subject(west):
    src = scene()
    for fmt in ("png", "webp"):
        out = picture(invoke(west, REMOVE_BG, {"image": b64(src), "output_format": fmt}))
        check_eq((out.format, out.mode, out.size), (fmt.upper(), "RGBA", (160, 120)), f"{fmt}: RGBA, same size")
        wrong = [(x, y) for y in range(120) for x in range(160)
                 if out.getpixel((x, y))[3] != (0 if near_background(src.getpixel((x, y))) else 255)]
        check(not wrong, f"{fmt}: alpha 0 on the background, 255 on the subject; wrong at {wrong[:5]}")
    png = picture(invoke(west, REMOVE_BG, {"image": b64(src)}))
    check_eq(png.getpixel((50, 40)), SUBJECT + (255,), "the subject keeps its colour")
    # a gradient: pixels within the tolerance of the corner are background too
    grad = Image.new("RGB", (100, 64))
    for x in range(100):
        for y in range(64):
            grad.putpixel((x, y), (x, 0, 0))
    cut = picture(invoke(west, REMOVE_BG, {"image": b64(grad)}))
    check_eq([cut.getpixel((x, 5))[3] for x in (0, 32, 33, 99)], [0, 0, 255, 255], "tolerance 32 per channel")


# ---------------------------------------------------------------- masked edits

def check_masked(out, src, edited, what):
    """Pixels where edited(x, y) is false are byte-identical; most edited ones differ."""
    got, want = rgb_at(out), rgb_at(src)
    kept_bad, changed, total = [], 0, 0
    for y in range(src.size[1]):
        for x in range(src.size[0]):
            if edited(x, y):
                total += 1
                changed += got(x, y) != want(x, y)
            elif got(x, y) != want(x, y):
                kept_bad.append((x, y))
    check(not kept_bad, f"{what}: kept pixels are byte-identical; differ at {kept_bad[:5]}")
    check(total > 0 and changed >= 0.9 * total, f"{what}: edited pixels changed ({changed} of {total})")


def test_inpaint_keeps_black_and_fills_white(west):
    src, box = noise(160, 120), (20, 30, 70, 90)
    mask = b64(square_mask(160, 120, box))
    out = picture(invoke(west, INPAINT, {"prompt": "a cat", "image": b64(src), "mask": mask, "grow_mask": 0}))
    check_eq(out.size, (160, 120), "same size")
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, "grow_mask 0")
    grown = picture(invoke(west, INPAINT, {"prompt": "a cat", "image": b64(src), "mask": mask}))
    check_masked(grown, src, lambda x, y: chebyshev_to_box(x, y, box) <= 5, "grow_mask 5 (the default)")
    # grey: below 128 is kept, 128 and above edited
    grey = b64(square_mask(160, 120, box, white=128, black=127))
    out = picture(invoke(west, INPAINT, {"prompt": "a cat", "image": b64(src), "mask": grey, "grow_mask": 0}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, "a grey mask thresholds at 128")
    # no mask: the image's alpha channel (transparent = edit)
    rgba = src.convert("RGBA")
    rgba.putalpha(square_mask(160, 120, box, white=127, black=128))  # below 128 is transparent
    out = picture(invoke(west, INPAINT, {"prompt": "a cat", "image": b64(rgba), "grow_mask": 0}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, "alpha as the mask")
    # the fill follows the seed and the prompt, and nothing else varies
    body = {"prompt": "a cat", "image": b64(src), "mask": mask, "seed": 7}
    first, again = (bl.stability_answer(invoke(west, INPAINT, body)) for _ in range(2))
    check_eq(first, again, "the same request gives the same bytes")
    for change in ({"seed": 8}, {"prompt": "a dog"}):
        check(bl.stability_answer(invoke(west, INPAINT, {**body, **change})) != first, f"{change} changes the fill")
    # JPEG and WebP inputs decode too
    for fmt, options in (("JPEG", {"quality": 90}), ("WEBP", {"lossless": True})):
        out = picture(invoke(west, INPAINT, {"prompt": "x", "image": b64(src, fmt, **options), "mask": mask}))
        check_eq(out.size, (160, 120), f"{fmt} input")


def test_erase_follows_its_mask(west):
    src, box = noise(128, 96, seed=4), (64, 0, 128, 40)
    out = picture(invoke(west, ERASE, {"image": b64(src), "mask": b64(square_mask(128, 96, box)), "grow_mask": 2}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) <= 2, "erase with grow_mask 2")


def test_search_replace_and_recolor_change_the_subject_only(west):
    src, box = scene(), (40, 30, 100, 80)
    body = {"prompt": "a blue ball", "image": b64(src), "grow_mask": 0}
    out = picture(invoke(west, REPLACE, {**body, "search_prompt": "the red box"}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, "search and replace")
    out = picture(invoke(west, REPLACE, {**body, "search_prompt": "the red box", "grow_mask": 3}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) <= 3, "search and replace, grown by 3")
    out = picture(invoke(west, RECOLOR, {**body, "select_prompt": "the red box"}))
    check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, "search and recolor")
    colours = {out.getpixel((x, y)) for x in range(40, 100) for y in range(30, 80)}
    check_eq(len(colours), 1, "a solid subject is recoloured to one colour")


def test_outpaint_grows_the_canvas(west):
    src = noise(100, 80, seed=9)
    out = picture(invoke(west, OUTPAINT, {"image": b64(src), "left": 10, "right": 25, "up": 7, "prompt": "sea"}))
    check_eq(out.size, (135, 87), "grown by left + right and up + down")
    check_eq(out.crop((10, 7, 110, 87)).convert("RGB").tobytes(), src.tobytes(), "the original sits unchanged at (left, up)")
    out = picture(invoke(west, OUTPAINT, {"image": b64(src), "down": 2000}))
    check_eq(out.size, (100, 2080), "down alone, at its maximum")


# ---------------------------------------------------------------- generation from an image

def test_control_style_and_image_to_image_geometry(west):
    src = noise(200, 120, seed=2)
    for model in (SKETCH, STRUCTURE):
        out = picture(invoke(west, model, {"prompt": "a house", "image": b64(src)}))
        check_eq(out.size, (200, 120), f"{model}: the input's size")
        same = picture(invoke(west, model, {"prompt": "a house", "image": b64(src), "control_strength": 1}))
        check_eq(same.convert("RGB").tobytes(), src.tobytes(), f"{model}: control_strength 1 keeps the input")
        check(out.convert("RGB").tobytes() != src.tobytes(), f"{model}: the default strength changes it")
    check_eq(picture(invoke(west, STYLE_GUIDE, {"prompt": "p", "image": b64(src)})).size, (1024, 1024),
             "style guide: 1:1 by default")
    for ratio, size in bl.RATIO_SIZES.items():
        out = picture(invoke(west, STYLE_GUIDE, {"prompt": "p", "image": b64(src), "aspect_ratio": ratio}))
        check_eq(out.size, size, f"style guide {ratio}")
    style = noise(90, 150, seed=5)
    out = picture(invoke(west, TRANSFER, {"init_image": b64(src), "style_image": b64(style)}))
    check_eq(out.size, fit(200, 120, 1048576), "style transfer: init_image's aspect ratio within 1 MP")
    check_eq(fit(200, 120, 1048576), (1321, 792), "the rule, worked out")
    for size in ((1024, 1024), (300, 200), (64, 160)):
        out = picture(invoke(west, bl.SD35, {"prompt": "p", "mode": "image-to-image",
                                             "image": b64(noise(*size)), "strength": 0.5}))
        check_eq(out.size, fit(size[0], size[1], 1048576), f"image-to-image {size}")
    kept = picture(invoke(west, "us." + bl.SD35, {"prompt": "p", "mode": "image-to-image",
                                                  "image": b64(noise(1024, 1024, seed=8)), "strength": 0}))
    check_eq(kept.convert("RGB").tobytes(), noise(1024, 1024, seed=8).tobytes(), "strength 0 keeps a 1 MP input")


# ---------------------------------------------------------------- invalid bodies

def solid_png(w, h):
    return b64(Image.new("RGB", (w, h), (1, 2, 3)))


def test_service_bodies_are_checked_strictly(west):
    img, mask = b64(scene()), b64(square_mask(160, 120, (0, 0, 10, 10)))
    png = encode(scene())
    truncated = base64.b64encode(png[:len(png) // 2]).decode()
    bad_jpeg = base64.b64encode(encode(scene(), "JPEG")[:300]).decode()
    cases = [
        (INPAINT, ["x"], "#: expected type: JSONObject, found: JSONArray"),
        (INPAINT, {"prompt": "x", "image": img, "mask": mask, "foo": 1}, "#: extraneous key [foo] is not permitted"),
        (INPAINT, {"image": img, "mask": mask}, "#: required key [prompt] not found"),
        (INPAINT, {"prompt": "x", "mask": mask}, "#: required key [image] not found"),
        (INPAINT, {"prompt": "", "image": img, "mask": mask}, "#/prompt: expected minLength: 1, actual: 0"),
        (INPAINT, {"prompt": "x" * 10001, "image": img}, "#/prompt: expected maxLength: 10000, actual: 10001"),
        (INPAINT, {"prompt": "x", "image": 5}, "#/image: expected type: String, found: Integer"),
        (INPAINT, {"prompt": "x", "image": img, "grow_mask": 21}, "#/grow_mask: 21 is not less or equal to 20"),
        (INPAINT, {"prompt": "x", "image": img, "grow_mask": 1.5}, "#/grow_mask: expected type: Integer, found: BigDecimal"),
        (INPAINT, {"prompt": "x", "image": img, "style_preset": "oil"}, "#/style_preset: oil is not a valid enum value"),
        (INPAINT, {"prompt": "x", "image": img, "seed": 4294967295}, "#/seed: 4294967295 is not less or equal to 4294967294"),
        (INPAINT, {"prompt": "x", "image": img, "output_format": "gif"}, "#/output_format: gif is not a valid enum value"),
        (INPAINT, {"prompt": "x", "image": "abc"},
         "#/image: the value is not valid base64 (base64 length 3 is not a multiple of 4)"),
        (INPAINT, {"prompt": "x", "image": "aGVsbG8h"}, "#/image: the image is not a PNG, a JPEG or a WebP"),
        (INPAINT, {"prompt": "x", "image": b64(scene(), "GIF")}, "#/image: the image is not a PNG, a JPEG or a WebP"),
        (INPAINT, {"prompt": "x", "image": img},
         "#: required key [mask] not found, and the image has no alpha channel to take the mask from"),
        (INPAINT, {"prompt": "x", "image": img, "mask": b64(square_mask(80, 60, (0, 0, 5, 5)))},
         "#/mask: the mask is 80x60 but the image is 160x120; they must be the same size"),
        (INPAINT, {"prompt": "x", "image": img, "mask": "%%%%"}, None),
        (INPAINT, {"prompt": "x", "image": solid_png(63, 200), "mask": mask},
         "#/image: the image is 63x200; every side must be at least 64 pixels"),
        (INPAINT, {"prompt": "x", "image": solid_png(3100, 3100)},
         "#/image: the image has 9610000 pixels (3100x3100); at most 9437184 are allowed"),
        (INPAINT, {"prompt": "x", "image": solid_png(300, 100)}, "#/image: the aspect ratio of 300x100 is outside 1:2.5 to 2.5:1"),
        (ERASE, {"prompt": "x", "image": img, "mask": mask}, "#: extraneous key [prompt] is not permitted"),
        (ERASE, {"image": truncated, "mask": mask}, None),
        (ERASE, {"image": bad_jpeg, "mask": mask}, None),
        (OUTPAINT, {"image": img}, "#: at least one of [left, right, up, down] must be greater than 0"),
        (OUTPAINT, {"image": img, "left": 2001}, "#/left: 2001 is not less or equal to 2000"),
        (OUTPAINT, {"image": img, "up": -1}, "#/up: -1 is not greater or equal to 0"),
        (OUTPAINT, {"image": img, "left": 1, "creativity": 0.05}, "#/creativity: 0.05 is not greater or equal to 0.1"),
        (REPLACE, {"prompt": "x", "image": img}, "#: required key [search_prompt] not found"),
        (REPLACE, {"prompt": "x", "image": img, "search_prompt": ""}, "#/search_prompt: expected minLength: 1, actual: 0"),
        (RECOLOR, {"prompt": "x", "image": img, "search_prompt": "y"}, "#: extraneous key [search_prompt] is not permitted"),
        (REMOVE_BG, {"image": img, "output_format": "jpeg"}, "#/output_format: jpeg is not a valid enum value"),
        (REMOVE_BG, {"image": img, "seed": 1}, "#: extraneous key [seed] is not permitted"),
        (FAST, {"image": img, "prompt": "x"}, "#: extraneous key [prompt] is not permitted"),
        (FAST, {"image": solid_png(31, 64)}, "#/image: the image is 31x64; every side must be at least 32 pixels"),
        (FAST, {"image": solid_png(1600, 64)}, "#/image: the image is 1600x64; no side may be longer than 1536 pixels"),
        (FAST, {"image": solid_png(1100, 1000)},
         "#/image: the image has 1100000 pixels (1100x1000); at most 1048576 are allowed"),
        (CONSERVATIVE, {"prompt": "x", "image": img, "creativity": 0.6}, "#/creativity: 0.6 is not less or equal to 0.5"),
        (CONSERVATIVE, {"prompt": "x", "image": img, "style_preset": "anime"}, "#: extraneous key [style_preset] is not permitted"),
        (CREATIVE, {"prompt": "x", "image": solid_png(1100, 1000)},
         "#/image: the image has 1100000 pixels (1100x1000); at most 1048576 are allowed"),
        (CREATIVE, {"prompt": "x", "image": img, "creativity": "high"}, "#/creativity: expected type: Number, found: String"),
        (STYLE_GUIDE, {"prompt": "x", "image": img, "aspect_ratio": "4:3"}, "#/aspect_ratio: 4:3 is not a valid enum value"),
        (STYLE_GUIDE, {"prompt": "x", "image": img, "fidelity": 1.5}, "#/fidelity: 1.5 is not less or equal to 1"),
        (TRANSFER, {"init_image": img}, "#: required key [style_image] not found"),
        (TRANSFER, {"image": img, "style_image": img}, "#: extraneous key [image] is not permitted"),
        (TRANSFER, {"init_image": img, "style_image": "aGVsbG8h"}, "#/style_image: the image is not a PNG, a JPEG or a WebP"),
        (TRANSFER, {"init_image": img, "style_image": img, "change_strength": 0}, "#/change_strength: 0 is not greater or equal to 0.1"),
        (SKETCH, {"prompt": "x", "image": img, "control_strength": None}, "#/control_strength: expected type: Number, found: Null"),
        (STRUCTURE, {"prompt": "x", "image": img, "mask": mask}, "#: extraneous key [mask] is not permitted"),
        ("us." + bl.SD35, {"prompt": "x", "mode": "image-to-image", "image": img}, "#: required key [strength] not found"),
        (bl.SD35, {"prompt": "x", "mode": "image-to-image", "image": img, "strength": 1.1}, "#/strength: 1.1 is not less or equal to 1"),
        (bl.SD35, {"prompt": "x", "mode": "image-to-image", "image": img, "strength": 0.5, "aspect_ratio": "1:1"},
         "#: extraneous key [aspect_ratio] is not permitted"),
        (bl.SD35, {"prompt": "x", "mode": "image-to-image", "image": solid_png(64, 40), "strength": 0.5},
         "#/image: the image is 64x40; every side must be at least 64 pixels"),
        (bl.SD35, {"prompt": "x", "image": img, "strength": 0.5}, "#: extraneous key [image] is not permitted"),
        (bl.CORE, {"prompt": "x", "mode": "image-to-image", "image": img, "strength": 0.5},
         "#/mode: image-to-image is not supported by this model; only text-to-image is"),
    ]
    before = west.stats()
    for model, doc, want in cases:
        resp = invoke(west, model, doc)
        got = expect_error(resp, 400, "ValidationException")
        what = f"{model}: {str(doc)[:100]}"
        if want is None:  # a decoder's own words follow; the start is ours
            check(got.startswith("Malformed input request: #/") and ("the image is a truncated or corrupt" in got or
                                                                     "not valid base64" in got),
                  f"{what}: {got!r}")
        else:
            check_eq(got, violation(want), what)
    after = west.stats()
    check_eq(after["reached_model"], before["reached_model"], "no invalid body reached the model")
    msg = expect_error(invoke(west, ERASE, {"image": truncated, "mask": mask}), 400, "ValidationException")
    check("#/image: the image is a truncated or corrupt PNG" in msg, f"truncated PNG: {msg!r}")
    msg = expect_error(invoke(west, ERASE, {"image": bad_jpeg, "mask": mask}), 400, "ValidationException")
    check("#/image: the image is a truncated or corrupt JPEG" in msg, f"truncated JPEG: {msg!r}")


# ---------------------------------------------------------------- legacy Titan and Nova task types

def titan_edit(task, params, **config):
    members = {"INPAINTING": "inPaintingParams", "OUTPAINTING": "outPaintingParams",
               "IMAGE_VARIATION": "imageVariationParams", "BACKGROUND_REMOVAL": "backgroundRemovalParams"}
    body = {"taskType": task, members[task]: params}
    if config:
        body["imageGenerationConfig"] = config
    return body


def test_titan_and_nova_edit_tasks(west, east):
    src, box = noise(160, 120, seed=11), (30, 20, 90, 70)
    # Titan/Nova masks: black = inside the mask
    mask = b64(square_mask(160, 120, box, white=0, black=255))
    for srv, model in ((west, bl.TITAN_V1), (east, bl.TITAN_V2), (east, bl.NOVA)):
        outs = pictures(invoke(srv, model, titan_edit("INPAINTING", {"image": b64(src), "maskImage": mask,
                                                                     "text": "a cat"}, numberOfImages=2, seed=3)))
        check_eq(len(outs), 2, f"{model}: two pictures")
        for out in outs:
            check_eq((out.format, out.size), ("PNG", (160, 120)), f"{model}: inpainting keeps the input's size")
            check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) == 0, f"{model} inpainting (black edits)")
        check(outs[0].tobytes() != outs[1].tobytes(), f"{model}: the two pictures differ")
        out, = pictures(invoke(srv, model, titan_edit("OUTPAINTING", {"image": b64(src), "maskImage": mask,
                                                                      "text": "a beach"})))
        check_masked(out, src, lambda x, y: chebyshev_to_box(x, y, box) != 0, f"{model} outpainting (black is kept)")
    subject = scene()
    out, = pictures(invoke(west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": b64(subject), "maskPrompt": "the box"})))
    check_masked(out, subject, lambda x, y: chebyshev_to_box(x, y, (40, 30, 100, 80)) == 0, "maskPrompt names the subject")
    out, = pictures(invoke(west, bl.TITAN_V1, titan_edit("OUTPAINTING", {"image": b64(subject), "maskPrompt": "the box",
                                                                         "text": "a beach", "outPaintingMode": "PRECISE"})))
    check_masked(out, subject, lambda x, y: chebyshev_to_box(x, y, (40, 30, 100, 80)) != 0, "outpainting keeps the subject")
    same, = pictures(invoke(west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": [b64(src), b64(subject)],
                                                                              "similarityStrength": 1.0})))
    check_eq(same.convert("RGB").tobytes(), src.tobytes(), "similarityStrength 1 keeps the first image")
    varied = pictures(invoke(east, bl.NOVA, titan_edit("IMAGE_VARIATION", {"images": [b64(src)], "text": "x"},
                                                       numberOfImages=3)))
    check_eq([v.size for v in varied], [(160, 120)] * 3, "variations keep the input's size")
    check(len({v.tobytes() for v in varied}) == 3 and all(v.tobytes() != src.tobytes() for v in varied),
          "three different variations")
    for model in (bl.TITAN_V2, bl.NOVA):
        cut, = pictures(invoke(east, model, titan_edit("BACKGROUND_REMOVAL", {"image": b64(subject)})))
        check_eq((cut.mode, cut.size), ("RGBA", (160, 120)), f"{model}: an RGBA PNG")
        check_eq((cut.getpixel((0, 0))[3], cut.getpixel((50, 40))[3]), (0, 255), f"{model}: the background is cut out")


def test_titan_and_nova_edit_bodies_are_checked(west, east):
    img, mask = b64(scene()), b64(square_mask(160, 120, (0, 0, 10, 10)))
    grey = b64(square_mask(160, 120, (0, 0, 10, 10), white=200))
    t = bl.titan_violation
    cases = [
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img}),
         t("#/inPaintingParams: exactly one of [maskPrompt] and [maskImage] is required, found neither")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskImage": mask, "maskPrompt": "x"}),
         t("#/inPaintingParams: exactly one of [maskPrompt] and [maskImage] is required, found both")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskImage": grey}),
         t("#/inPaintingParams/maskImage: a mask holds only black (0, 0, 0) and white (255, 255, 255) pixels; "
           "pixel (0, 0) is (200, 200, 200)")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskImage": b64(square_mask(80, 60, (0, 0, 1, 1)))}),
         t("#/inPaintingParams/maskImage: the mask is 80x60 but the image is 160x120; they must be the same size")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": b64(scene(), "WEBP"), "maskPrompt": "x"}),
         t("#/inPaintingParams/image: the image is not a PNG or a JPEG")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": solid_png(1409, 600), "maskPrompt": "x"}),
         t("#/inPaintingParams/image: the image is 1409x600; no side may be longer than 1408 pixels")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x", "foo": 1}),
         t("#/inPaintingParams: extraneous key [foo] is not permitted")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x", "returnMask": "yes"}),
         t("#/inPaintingParams/returnMask: expected type: Boolean, found: String")),
        (west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x"}, numberOfImages=6),
         t("#/imageGenerationConfig/numberOfImages: 6 is not less or equal to 5")),
        (west, bl.TITAN_V1, titan_edit("OUTPAINTING", {"image": img, "maskPrompt": "x"}),
         t("#/outPaintingParams: required key [text] not found")),
        (west, bl.TITAN_V1, titan_edit("OUTPAINTING", {"image": img, "maskPrompt": "x", "text": "y",
                                                       "outPaintingMode": "FAST"}),
         t("#/outPaintingParams/outPaintingMode: FAST is not a valid enum value")),
        (west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": []}),
         t("#/imageVariationParams/images: expected minimum item count: 1, found: 0")),
        (west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": [img] * 6}),
         t("#/imageVariationParams/images: expected maximum item count: 5, found: 6")),
        (west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": [img, 7]}),
         t("#/imageVariationParams/images/1: expected type: String, found: Integer")),
        (west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": [img, "aGVsbG8h"]}),
         t("#/imageVariationParams/images/1: the image is not a PNG or a JPEG")),
        (west, bl.TITAN_V1, titan_edit("IMAGE_VARIATION", {"images": [img], "similarityStrength": 0.1}),
         t("#/imageVariationParams/similarityStrength: 0.1 is not greater or equal to 0.2")),
        (west, bl.TITAN_V1, titan_edit("BACKGROUND_REMOVAL", {"image": img}),
         t("#/taskType: BACKGROUND_REMOVAL is not a valid enum value")),
        (east, bl.TITAN_V2, titan_edit("BACKGROUND_REMOVAL", {"image": img}, seed=1),
         t("#: extraneous key [imageGenerationConfig] is not permitted")),
        (east, bl.TITAN_V2, {"taskType": "BACKGROUND_REMOVAL"}, t("#: required key [backgroundRemovalParams] not found")),
        (east, bl.NOVA, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x"}, width=320, height=320),
         t("#/imageGenerationConfig: extraneous key [width] is not permitted")),
        (east, bl.NOVA, titan_edit("IMAGE_VARIATION", {"images": [img]}), t("#/imageVariationParams: required key [text] not found")),
        (east, bl.NOVA, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x" * 1025}),
         t("#/inPaintingParams/maskPrompt: expected maxLength: 1024, actual: 1025")),
        (east, bl.NOVA, titan_edit("INPAINTING", {"image": solid_png(2100, 2100), "maskPrompt": "x"}),
         t("#/inPaintingParams/image: the image has 4410000 pixels (2100x2100); at most 4194304 are allowed")),
    ]
    for srv, model, doc, want in cases:
        check_eq(expect_error(invoke(srv, model, doc), 400, "ValidationException"), want, f"{model}: {str(doc)[:120]}")
    # Titan accepts width and height and keeps the input's size
    out, = pictures(invoke(west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": img, "maskPrompt": "x"},
                                                         width=512, height=512)))
    check_eq(out.size, (160, 120), "Titan's width and height do not change the size")


# ---------------------------------------------------------------- faults and filters

def test_faults_and_filters_apply_to_edit_models(west):
    body = {"image": b64(scene())}
    west.reset()
    west.faults({"filter_output": {"next": 1}})
    bl.stability_answer(invoke(west, REMOVE_BG, body), reason="Filter reason: output image")
    west.faults({"inference_error": {"next": 1}})
    bl.stability_answer(invoke(west, FAST, body), reason="Inference error")
    west.faults({"retired_models": [SERVICE_IDS["stable-fast-upscale"]], "block_words": ["dragon"]})
    expect_error(invoke(west, FAST, body), 404, "ResourceNotFoundException", message=bl.RETIRED)
    resp = invoke(west, REPLACE, {**body, "prompt": "a dragon", "search_prompt": "box"})
    check_eq((resp.status, resp.json()), (200, {"finish_reasons": ["Filter reason: prompt"]}), "a blocked prompt")
    west.faults({"filter_output": {"next": 1}, "retired_models": []})
    resp = invoke(west, bl.TITAN_V1, titan_edit("INPAINTING", {"image": body["image"], "maskPrompt": "x"},
                                                numberOfImages=2))
    doc = resp.json()
    check_eq((resp.status, len(doc["images"])), (200, 1), "Titan withholds one picture of two")
    check("blocked by our content filters" in doc.get("error", ""), "and says so")
    stats = west.stats()
    check_eq([(c["model"], c["fault"]) for c in stats["calls"]][-4:],
             [("us." + SERVICE_IDS["stable-image-remove-background"], "filter_output"),
              (FAST, "inference_error"), (FAST, "retired_model"), (bl.TITAN_V1, "filter_output")],
             "the calls, by the id as called")
    check_eq(stats["content_blocked"], 1, "the blocked prompt is counted")
    west.reset()


# ---------------------------------------------------------------- runner

WEST = [test_fast_upscale_is_exactly_4x, test_conservative_and_creative_upscale_fit_4_megapixels,
        test_remove_background_cuts_out_the_subject, test_inpaint_keeps_black_and_fills_white,
        test_erase_follows_its_mask, test_search_replace_and_recolor_change_the_subject_only,
        test_outpaint_grows_the_canvas, test_control_style_and_image_to_image_geometry,
        test_service_bodies_are_checked_strictly, test_faults_and_filters_apply_to_edit_models]
BOTH = [test_services_are_served_through_their_profiles, test_titan_and_nova_edit_tasks,
        test_titan_and_nova_edit_bodies_are_checked]


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
    if not os.access(bl.BINARY, os.X_OK):
        print(f"bedrock-local edits: {bl.BINARY} is not built")
        print("bedrock-local edits: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    west = Server("--region", "us-west-2")
    east = Server()
    try:
        for fns, args in ((WEST, (west,)), (BOTH, (west, east))):
            for fn in fns:
                ok = run(fn.__name__, fn, *args)
                passed, failed = passed + ok, failed + (not ok)
    finally:
        stopped = [(server, *server.stop()) for server in (west, east)]
    for server, code, errors in stopped:
        clean = code == 0 and "Sanitizer" not in errors and "runtime error" not in errors
        print(f"{'ok  ' if clean else 'FAIL'} test_sigterm_stops_cleanly ({server.region}, exit {code})")
        if not clean:
            print(errors[-4000:])
        passed, failed = passed + clean, failed + (not clean)
    print(f"bedrock-local edits: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
