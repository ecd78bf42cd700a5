/* image.c - PNG and JPEG signatures and dimensions.
 *
 * The bytes come from a model's answer, so they are untrusted: the PNG check reads a fixed
 * header, and the JPEG walk follows segment lengths with a bounds check before every read.
 * Neither ever reads past len, whatever the input claims.
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
    default:
        return NULL;
    }
}
