/* image.c - PNG, JPEG and WebP signatures and dimensions.
 *
 * The bytes come from a model's answer, so they are untrusted: the PNG check reads a fixed
 * header, the JPEG walk follows segment lengths with a bounds check before every read, and the
 * WebP check reads the first chunk's fixed header. None ever reads past len, whatever the input
 * claims.
 */
#include "codec/image.h"

#include <stdint.h>
#include <string.h>

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* IHDR must be the first chunk: length 13, type "IHDR", then width and height, each
 * 1 .. 2^31-1 (PNG's own limit). */
static void png_dimensions(const unsigned char *p, size_t len, unsigned *w, unsigned *h)
{
    if (len < 8 + 8 + 8)
        return;
    if (be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return;
    uint32_t pw = be32(p + 16), ph = be32(p + 20);
    if (pw == 0 || ph == 0 || pw > 0x7fffffffu || ph > 0x7fffffffu)
        return;
    *w = pw;
    *h = ph;
}

/* Markers C0..CF are start-of-frame markers except DHT (C4), JPG (C8) and DAC (CC). */
static int jpeg_is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Markers without a length field: TEM, RSTn, SOI. */
static int jpeg_is_standalone(unsigned m)
{
    return m == 0x01 || (m >= 0xd0 && m <= 0xd8);
}

/* Walks the marker segments after SOI until a frame header, the start of scan, or the end. */
static void jpeg_dimensions(const unsigned char *p, size_t len, unsigned *w, unsigned *h)
{
    size_t i = 2;
    for (;;) {
        if (i >= len || p[i] != 0xff)
            return;
        while (i < len && p[i] == 0xff) /* fill bytes */
            i++;
        if (i >= len)
            return;
        unsigned m = p[i++];
        if (m == 0x00 || m == 0xd9 || m == 0xda) /* stuffed zero, EOI, SOS: no frame seen */
            return;
        if (jpeg_is_standalone(m))
            continue;
        if (len - i < 2)
            return;
        unsigned seglen = be16(p + i);
        if (seglen < 2 || seglen > len - i)
            return;
        if (jpeg_is_sof(m)) {
            /* length(2) precision(1) height(2) width(2) components(1) ... */
            if (seglen < 8)
                return;
            unsigned fh = be16(p + i + 3), fw = be16(p + i + 5);
            if (fw == 0 || fh == 0) /* height 0 means "defined later by DNL": not supported */
                return;
            *w = fw;
            *h = fh;
            return;
        }
        i += seglen;
    }
}

static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* "RIFF" size "WEBP", then the first chunk: VP8X (extended: the canvas size), VP8L (lossless:
 * 14-bit sizes after the 0x2f signature) or "VP8 " (lossy: 14-bit sizes after the key frame's
 * start code 9d 01 2a). */
static void webp_dimensions(const unsigned char *p, size_t len, unsigned *w, unsigned *h)
{
    if (len < 30)
        return;
    const unsigned char *c = p + 12;
    uint32_t fw = 0, fh = 0;
    if (memcmp(c, "VP8X", 4) == 0) {
        fw = le24(p + 24) + 1;
        fh = le24(p + 27) + 1;
    } else if (memcmp(c, "VP8L", 4) == 0) {
        if (p[20] != 0x2f)
            return;
        uint32_t bits = (uint32_t)p[21] | (uint32_t)p[22] << 8 | (uint32_t)p[23] << 16 | (uint32_t)p[24] << 24;
        fw = (bits & 0x3fff) + 1;
        fh = ((bits >> 14) & 0x3fff) + 1;
    } else if (memcmp(c, "VP8 ", 4) == 0) {
        if (p[23] != 0x9d || p[24] != 0x01 || p[25] != 0x2a)
            return;
        fw = (uint32_t)(p[26] | p[27] << 8) & 0x3fff;
        fh = (uint32_t)(p[28] | p[29] << 8) & 0x3fff;
    }
    if (fw == 0 || fh == 0)
        return;
    *w = fw;
    *h = fh;
}

ig_image_type ig_image_sniff(const void *data, size_t len, unsigned *width, unsigned *height)
{
    unsigned w = 0, h = 0;
    ig_image_type t = IG_IMAGE_UNKNOWN;
    const unsigned char *p = data;
    if (p && len >= sizeof png_signature && memcmp(p, png_signature, sizeof png_signature) == 0) {
        t = IG_IMAGE_PNG;
        png_dimensions(p, len, &w, &h);
    } else if (p && len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        t = IG_IMAGE_JPEG;
        jpeg_dimensions(p, len, &w, &h);
    } else if (p && len >= 16 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        t = IG_IMAGE_WEBP;
        webp_dimensions(p, len, &w, &h);
    }
    if (width)
        *width = w;
    if (height)
        *height = h;
    return t;
}

const char *ig_image_content_type(ig_image_type t)
{
    switch (t) {
    case IG_IMAGE_PNG:
        return "image/png";
    case IG_IMAGE_JPEG:
        return "image/jpeg";
    case IG_IMAGE_WEBP:
        return "image/webp";
    default:
        return NULL;
    }
}

const char *ig_image_extension(ig_image_type t)
{
    switch (t) {
    case IG_IMAGE_PNG:
        return "png";
    case IG_IMAGE_JPEG:
        return "jpg";
    case IG_IMAGE_WEBP:
        return "webp";
    default:
        return NULL;
    }
}

const char *ig_image_format_name(ig_image_type t)
{
    switch (t) {
    case IG_IMAGE_PNG:
        return "png";
    case IG_IMAGE_JPEG:
        return "jpeg";
    case IG_IMAGE_WEBP:
        return "webp";
    default:
        return NULL;
    }
}

ig_image_type ig_image_type_from_content_type(const char *content_type)
{
    if (!content_type)
        return IG_IMAGE_UNKNOWN;
    if (strncmp(content_type, "image/png", 9) == 0)
        return IG_IMAGE_PNG;
    if (strncmp(content_type, "image/jpeg", 10) == 0)
        return IG_IMAGE_JPEG;
    if (strncmp(content_type, "image/webp", 10) == 0)
        return IG_IMAGE_WEBP;
    return IG_IMAGE_UNKNOWN;
}
