/* input.c - the checks of one input image, cheapest first. The messages are made up here
 * (in the style of the schema messages), since no source records Bedrock's. */
#include "input.h"

#include <stdio.h>
#include <string.h>

static unsigned format_bit(ig_image_type t)
{
    switch (t) {
    case IG_IMAGE_PNG: return BL_FORMAT_PNG;
    case IG_IMAGE_JPEG: return BL_FORMAT_JPEG;
    case IG_IMAGE_WEBP: return BL_FORMAT_WEBP;
    default: return 0;
    }
}

/* "a PNG, JPEG or WebP", "a PNG or JPEG": the formats the limits allow, for a message. */
static const char *formats_named(unsigned formats)
{
    if (formats == (BL_FORMAT_PNG | BL_FORMAT_JPEG))
        return "a PNG or a JPEG";
    return "a PNG, a JPEG or a WebP";
}

static ig_err check_geometry(bl_msg *m, const char *path, unsigned w, unsigned h,
                             const bl_image_limits *lim)
{
    uint64_t px = (uint64_t)w * h;
    unsigned lo = w < h ? w : h, hi = w < h ? h : w;
    if (lo < lim->min_side)
        return bl_violation(m, "%s: the image is %ux%u; every side must be at least %u pixels",
                            path, w, h, lim->min_side);
    if (lim->max_side && hi > lim->max_side)
        return bl_violation(m, "%s: the image is %ux%u; no side may be longer than %u pixels",
                            path, w, h, lim->max_side);
    if (lim->min_pixels && px < lim->min_pixels)
        return bl_violation(m, "%s: the image has %llu pixels (%ux%u); at least %llu are required",
                            path, (unsigned long long)px, w, h,
                            (unsigned long long)lim->min_pixels);
    if (lim->max_pixels && px > lim->max_pixels)
        return bl_violation(m, "%s: the image has %llu pixels (%ux%u); at most %llu are allowed",
                            path, (unsigned long long)px, w, h,
                            (unsigned long long)lim->max_pixels);
    if (lim->max_aspect_x10 && (uint64_t)hi * 10 > (uint64_t)lo * lim->max_aspect_x10)
        return bl_violation(m, "%s: the aspect ratio of %ux%u is outside 1:%g to %g:1", path, w, h,
                            lim->max_aspect_x10 / 10.0, lim->max_aspect_x10 / 10.0);
    return IG_OK;
}

static ig_err check_file(bl_msg *m, const char *path, const ig_buf *raw,
                         const bl_image_limits *lim)
{
    if (lim->max_bytes && raw->len > lim->max_bytes)
        return bl_violation(m, "%s: the image is %zu bytes; at most %zu are allowed", path,
                            raw->len, lim->max_bytes);
    bl_image_info info = bl_image_probe(raw->data ? raw->data : "", raw->len);
    if (!(format_bit(info.type) & lim->formats))
        return bl_violation(m, "%s: the image is not %s", path, formats_named(lim->formats));
    if (info.width && info.height)
        return check_geometry(m, path, info.width, info.height, lim);
    return IG_OK;
}

ig_err bl_read_image(bl_msg *m, const json_t *s, const char *path, const bl_image_limits *lim,
                     bl_pixels *out)
{
    char why[BL_DECODE_WHY_MAX];
    ig_buf raw;
    ig_buf_init(&raw, 0);
    memset(out, 0, sizeof *out);
    ig_err e = IG_OK;
    if (bl_image_unbase64(json_string_value(s), json_string_length(s), &raw, why, sizeof why))
        e = bl_violation(m, "%s: the value %s", path, why);
    if (!e)
        e = check_file(m, path, &raw, lim);
    if (!e && bl_image_decode(raw.data, raw.len, out, why, sizeof why) != IG_OK)
        e = bl_violation(m, "%s: the image %s", path, why);
    if (!e) /* the header's size was checked; a JPEG's may sit past what the sniffer reads */
        e = check_geometry(m, path, out->width, out->height, lim);
    if (e)
        bl_pixels_free(out);
    ig_buf_free(&raw);
    return e;
}

bl_image_limits bl_mask_limits(const bl_image_limits *lim)
{
    bl_image_limits m = *lim;
    m.min_side = 1;
    m.min_pixels = 0;
    m.max_aspect_x10 = 0;
    return m;
}

ig_err bl_check_same_size(bl_msg *m, const char *path, const bl_pixels *mask,
                          const bl_pixels *image)
{
    if (mask->width == image->width && mask->height == image->height)
        return IG_OK;
    return bl_violation(m, "%s: the mask is %ux%u but the image is %ux%u; they must be the same "
                           "size",
                        path, mask->width, mask->height, image->width, image->height);
}
