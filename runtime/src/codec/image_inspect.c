/* image_inspect.c - is an input image whole? PNG, JPEG and WebP structure walks.
 *
 * A caller's upload goes to a model only when it is a complete image: a PNG cut short, a JPEG
 * without its end, a WebP whose RIFF size disagrees with its length would otherwise fail
 * inside the model (a 500 from Bedrock, or a half-grey picture edited). Each walk follows the
 * format's own framing (PNG chunks, JPEG marker segments, RIFF chunks) with a bounds check
 * before every read, so it is linear in the input and never reads past its end, whatever the
 * lengths inside claim. It does not decode pixels: the zlib stream of a PNG and the entropy
 * coded data of a JPEG are walked over, not inflated.
 *
 * Sentences name the format, the chunk or marker and the byte offset, and end with
 * "(truncated?)" when the bytes stop early and "(the file is damaged)" when they are wrong.
 */
#include "codec/image.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static ig_image_verdict refuse(ig_image_info *info, ig_image_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ig_image_verdict refuse(ig_image_info *info, ig_image_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->message, sizeof info->message, fmt, ap);
    va_end(ap);
    info->verdict = v;
    return v;
}

/* Sets the dimensions and refuses zero or oversized ones. */
static ig_image_verdict set_size(ig_image_info *info, const char *format, uint64_t w, uint64_t h)
{
    info->width = w <= UINT32_MAX ? (unsigned)w : 0;
    info->height = h <= UINT32_MAX ? (unsigned)h : 0;
    if (w == 0 || h == 0)
        return refuse(info, IG_IMAGE_CORRUPT, "the %s header gives a size of %llux%llu pixels (the file is damaged)",
                      format, (unsigned long long)w, (unsigned long long)h);
    if (w > IG_IMAGE_MAX_SIDE || h > IG_IMAGE_MAX_SIDE)
        return refuse(info, IG_IMAGE_TOO_LARGE, "the %s is %llux%llu pixels; no side may exceed %u", format,
                      (unsigned long long)w, (unsigned long long)h, IG_IMAGE_MAX_SIDE);
    return IG_IMAGE_OK;
}

/* ---- PNG ---- */

typedef struct {
    int colour;        /* IHDR colour type */
    unsigned palette;  /* PLTE entries, 0 before PLTE */
    int seen_idat;
} png_state;

static int png_type_ok(const unsigned char *t)
{
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}

/* The bit depths PNG allows for each colour type (PNG spec, table 11.1). */
static int png_depth_ok(int colour, int depth)
{
    switch (colour) {
    case 0:
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3:
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6:
        return depth == 8 || depth == 16;
    default:
        return 0;
    }
}

static ig_image_verdict png_ihdr(const unsigned char *d, uint32_t n, png_state *s, ig_image_info *info)
{
    if (n != 13)
        return refuse(info, IG_IMAGE_CORRUPT, "the PNG's IHDR chunk is %u bytes long, not 13 (the file is damaged)",
                      (unsigned)n);
    uint32_t w = be32(d), h = be32(d + 4);
    if (w > 0x7fffffffu || h > 0x7fffffffu)
        return refuse(info, IG_IMAGE_CORRUPT, "the PNG header gives a size of %lux%lu pixels, over PNG's limit of "
                      "2^31-1 (the file is damaged)", (unsigned long)w, (unsigned long)h);
    ig_image_verdict v = set_size(info, "PNG", w, h);
    if (v != IG_IMAGE_OK)
        return v;
    int depth = d[8], colour = d[9];
    if (!png_depth_ok(colour, depth))
        return refuse(info, IG_IMAGE_CORRUPT, "the PNG header gives colour type %d with bit depth %d, which PNG "
                      "does not allow (the file is damaged)", colour, depth);
    if (d[10] != 0 || d[11] != 0 || d[12] > 1)
        return refuse(info, IG_IMAGE_CORRUPT, "the PNG header names compression %d, filter %d, interlace %d; PNG "
                      "defines 0, 0 and 0 or 1 (the file is damaged)", d[10], d[11], d[12]);
    s->colour = colour;
    info->has_alpha = colour == 4 || colour == 6;
    return IG_IMAGE_OK;
}

/* tRNS before the first IDAT makes a colour key or palette alpha, when its length fits the
 * colour type; libpng (and so the mask) ignores any other tRNS, and so does this. */
static void png_trns(uint32_t n, const png_state *s, ig_image_info *info)
{
    if (s->seen_idat)
        return;
    if ((s->colour == 0 && n == 2) || (s->colour == 2 && n == 6) ||
        (s->colour == 3 && n >= 1 && n <= s->palette))
        info->has_alpha = 1;
}

/* What a chunk means for the walk. */
enum { PNG_NEXT, PNG_END, PNG_REFUSED };

/* IHDR, PLTE, tRNS, IDAT, IEND and the rule for unknown critical chunks; ancillary chunks are
 * stepped over. The chunk is known to lie inside the buffer with a good CRC. */
static int png_chunk(const unsigned char *t, const unsigned char *d, uint32_t n, size_t at, png_state *s,
                     ig_image_info *info)
{
    if ((at == 8) != (memcmp(t, "IHDR", 4) == 0)) {
        refuse(info, IG_IMAGE_CORRUPT, at == 8 ? "the PNG's first chunk is %.4s, not IHDR (the file is damaged)"
                                               : "the PNG has a second %.4s chunk (the file is damaged)",
               (const char *)t);
        return PNG_REFUSED;
    }
    if (at == 8)
        return png_ihdr(d, n, s, info) == IG_IMAGE_OK ? PNG_NEXT : PNG_REFUSED;
    if (memcmp(t, "PLTE", 4) == 0) {
        if (n == 0 || n % 3 != 0 || n > 768 || s->palette || s->seen_idat) {
            refuse(info, IG_IMAGE_CORRUPT, "the PNG's PLTE chunk at byte %zu is malformed or out of place (the file "
                   "is damaged)", at);
            return PNG_REFUSED;
        }
        s->palette = n / 3;
    } else if (memcmp(t, "tRNS", 4) == 0) {
        png_trns(n, s, info);
    } else if (memcmp(t, "IDAT", 4) == 0) {
        if (s->colour == 3 && s->palette == 0) {
            refuse(info, IG_IMAGE_CORRUPT, "the PNG is a palette image without a PLTE chunk before its image data "
                   "(the file is damaged)");
            return PNG_REFUSED;
        }
        s->seen_idat = 1;
    } else if (memcmp(t, "IEND", 4) == 0) {
        if (n != 0 || !s->seen_idat) {
            refuse(info, IG_IMAGE_CORRUPT, n != 0 ? "the PNG's IEND chunk is not empty (the file is damaged)"
                                                  : "the PNG has no IDAT chunk: it holds no image data (the file "
                                                    "is damaged)");
            return PNG_REFUSED;
        }
        return PNG_END;
    } else if (t[0] >= 'A' && t[0] <= 'Z') {
        refuse(info, IG_IMAGE_CORRUPT, "the PNG has an unknown critical chunk %.4s at byte %zu, which no decoder "
               "may skip", (const char *)t, at);
        return PNG_REFUSED;
    }
    return PNG_NEXT;
}

static ig_image_verdict png_inspect(const unsigned char *p, size_t len, ig_image_info *info)
{
    png_state s = {-1, 0, 0};
    size_t at = 8;
    for (;;) {
        if (len - at < 12) {
            if (at == len)
                return refuse(info, IG_IMAGE_TRUNCATED, "the PNG ends after %zu bytes, before its IEND chunk "
                              "(truncated?)", len);
            return refuse(info, IG_IMAGE_TRUNCATED, "the PNG ends inside a chunk header at byte %zu, before its "
                          "IEND chunk (truncated?)", at);
        }
        uint32_t n = be32(p + at);
        const unsigned char *t = p + at + 4;
        if (!png_type_ok(t))
            return refuse(info, IG_IMAGE_CORRUPT, "the PNG has a chunk at byte %zu whose type is not four letters "
                          "(the file is damaged)", at);
        if (n > 0x7fffffffu)
            return refuse(info, IG_IMAGE_CORRUPT, "the PNG's %.4s chunk at byte %zu claims %lu bytes, over PNG's "
                          "limit (the file is damaged)", (const char *)t, at, (unsigned long)n);
        if (n > len - at - 12)
            return refuse(info, IG_IMAGE_TRUNCATED, "the PNG ends inside its %.4s chunk at byte %zu, before its "
                          "IEND chunk (truncated?)", (const char *)t, at);
        uLong crc = crc32(0L, t, (uInt)(4 + n));
        if (crc != be32(t + 4 + n))
            return refuse(info, IG_IMAGE_CORRUPT, "the PNG's %.4s chunk at byte %zu fails its CRC check (the file "
                          "is damaged)", (const char *)t, at);
        int r = png_chunk(t, t + 4, n, at, &s, info);
        if (r == PNG_REFUSED)
            return info->verdict;
        at += 12 + (size_t)n;
        if (r == PNG_END) {
            info->image_len = at;
            return IG_IMAGE_OK;
        }
    }
}

/* ---- JPEG ---- */

/* Markers C0..CF are start-of-frame markers except DHT (C4), JPG (C8) and DAC (CC). */
static int jpeg_is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

static ig_image_verdict jpeg_sof(const unsigned char *d, unsigned seglen, size_t at, ig_image_info *info)
{
    /* length(2) precision(1) height(2) width(2) components(1), then 3 bytes per component */
    if (seglen < 8 || seglen != 8 + 3u * d[7])
        return refuse(info, IG_IMAGE_CORRUPT, "the JPEG's frame header at byte %zu is %u bytes long, which does "
                      "not fit its component count (the file is damaged)", at, seglen);
    if (d[7] == 0)
        return refuse(info, IG_IMAGE_CORRUPT, "the JPEG's frame header has no colour components (the file is "
                      "damaged)");
    unsigned h = be16(d + 3), w = be16(d + 5);
    if (h == 0 && w != 0) {
        info->width = w;
        return refuse(info, IG_IMAGE_CORRUPT, "the JPEG leaves its height to a DNL marker, which is not "
                      "supported");
    }
    return set_size(info, "JPEG", w, h);
}

/* Steps over entropy-coded data: stuffed FF00, restart markers RSTn and fill bytes are part of
 * it; any other marker ends it. Returns the offset of that marker's first FF, or len. */
static size_t jpeg_skip_scan(const unsigned char *p, size_t len, size_t at)
{
    while (at < len) {
        const unsigned char *ff = memchr(p + at, 0xff, len - at);
        if (!ff)
            return len;
        at = (size_t)(ff - p);
        if (at + 1 >= len)
            return len;
        unsigned n = p[at + 1];
        if (n == 0x00 || (n >= 0xd0 && n <= 0xd7))
            at += 2;
        else if (n == 0xff)
            at += 1;
        else
            return at;
    }
    return len;
}

static ig_image_verdict jpeg_inspect(const unsigned char *p, size_t len, ig_image_info *info)
{
    size_t at = 2;
    int seen_sof = 0, seen_sos = 0;
    for (;;) {
        if (at >= len)
            return refuse(info, IG_IMAGE_TRUNCATED, "the JPEG ends after %zu bytes, before its end-of-image marker "
                          "(truncated?)", len);
        if (p[at] != 0xff)
            return refuse(info, IG_IMAGE_CORRUPT, "the JPEG has byte 0x%02x at byte %zu where a marker should "
                          "begin (the file is damaged)", p[at], at);
        size_t mark = at;
        while (at < len && p[at] == 0xff) /* fill bytes */
            at++;
        if (at >= len)
            return refuse(info, IG_IMAGE_TRUNCATED, "the JPEG ends after %zu bytes, before its end-of-image marker "
                          "(truncated?)", len);
        unsigned m = p[at++];
        if (m == 0xd9) {
            if (!seen_sos)
                return refuse(info, IG_IMAGE_CORRUPT, "the JPEG ends (EOI at byte %zu) before any image data (the "
                              "file is damaged)", mark);
            info->image_len = at;
            return IG_IMAGE_OK;
        }
        if (m == 0x00 || m == 0xd8)
            return refuse(info, IG_IMAGE_CORRUPT, "the JPEG has marker 0x%02x at byte %zu where none may stand (the "
                          "file is damaged)", m, mark);
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) /* TEM, RSTn: no length */
            continue;
        if (len - at < 2)
            return refuse(info, IG_IMAGE_TRUNCATED, "the JPEG ends inside the header of segment 0x%02x at byte %zu "
                          "(truncated?)", m, mark);
        unsigned seglen = be16(p + at);
        if (seglen < 2)
            return refuse(info, IG_IMAGE_CORRUPT, "the JPEG's segment 0x%02x at byte %zu has length %u, below the "
                          "minimum of 2 (the file is damaged)", m, mark, seglen);
        if (seglen > len - at)
            return refuse(info, IG_IMAGE_TRUNCATED, "the JPEG ends inside segment 0x%02x at byte %zu, which claims "
                          "%u bytes (truncated?)", m, mark, seglen);
        if (jpeg_is_sof(m)) {
            if (seen_sof)
                return refuse(info, IG_IMAGE_CORRUPT, "the JPEG has a second frame header at byte %zu (the file is "
                              "damaged)", mark);
            if (jpeg_sof(p + at, seglen, mark, info) != IG_IMAGE_OK)
                return info->verdict;
            seen_sof = 1;
        } else if (m == 0xda) {
            if (!seen_sof)
                return refuse(info, IG_IMAGE_CORRUPT, "the JPEG's image data at byte %zu comes before its frame "
                              "header (the file is damaged)", mark);
            seen_sos = 1;
            at = jpeg_skip_scan(p, len, at + seglen);
            if (at >= len)
                return refuse(info, IG_IMAGE_TRUNCATED, "the JPEG ends inside its image data, before its "
                              "end-of-image marker (truncated?)");
            continue;
        }
        at += seglen;
    }
}

/* ---- WebP ---- */

typedef struct {
    int vp8x, animated, alpha_chunk, frame, anmf;
    unsigned frame_w, frame_h;
} webp_state;

/* A FourCC for a sentence: its printable bytes, '?' for the others. */
static void fourcc_text(const unsigned char *t, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = t[i] >= 0x20 && t[i] < 0x7f ? (char)t[i] : '?';
    out[4] = '\0';
}

/* A lossy key frame: tag (3 bytes), start code 9d 01 2a, 14-bit sizes (libwebp's VP8GetInfo). */
static ig_image_verdict webp_vp8(const unsigned char *d, uint32_t n, webp_state *s, ig_image_info *info)
{
    if (n < 10)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8 chunk is %u bytes, too short for a frame header (the "
                      "file is damaged)", (unsigned)n);
    uint32_t tag = le24(d);
    if ((tag & 1) != 0 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8 chunk does not start with a key frame (the file is "
                      "damaged)");
    if (((tag >> 1) & 7) > 3 || ((tag >> 4) & 1) == 0 || (tag >> 5) >= n)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8 frame header is inconsistent (profile, visibility "
                      "or partition size) (the file is damaged)");
    s->frame_w = (d[6] | (unsigned)d[7] << 8) & 0x3fff;
    s->frame_h = (d[8] | (unsigned)d[9] << 8) & 0x3fff;
    s->frame = 1;
    if (s->frame_w == 0 || s->frame_h == 0)
        return set_size(info, "WebP", s->frame_w, s->frame_h);
    return IG_IMAGE_OK;
}

/* A lossless image: signature 0x2f, then 14-bit width-1, height-1, the alpha hint, a 3-bit
 * version that must be 0 (libwebp's VP8LGetInfo). */
static ig_image_verdict webp_vp8l(const unsigned char *d, uint32_t n, webp_state *s, ig_image_info *info)
{
    if (n < 5 || d[0] != 0x2f)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8L chunk does not start with the lossless signature "
                      "(the file is damaged)");
    uint32_t bits = le32(d + 1);
    if ((bits >> 29) != 0)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8L header names version %u; only 0 exists (the file is "
                      "damaged)", (unsigned)(bits >> 29));
    s->frame_w = (bits & 0x3fff) + 1;
    s->frame_h = ((bits >> 14) & 0x3fff) + 1;
    s->frame = 1;
    if ((bits >> 28) & 1)
        info->has_alpha = 1;
    return IG_IMAGE_OK;
}

/* The extended header: flags (alpha 0x10, animation 0x02), 24-bit canvas width-1, height-1. */
static ig_image_verdict webp_vp8x(const unsigned char *d, uint32_t n, webp_state *s, ig_image_info *info)
{
    if (n != 10)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's VP8X chunk is %u bytes, not 10 (the file is damaged)",
                      (unsigned)n);
    s->vp8x = 1;
    s->animated = (d[0] & 0x02) != 0;
    if (d[0] & 0x10)
        info->has_alpha = 1;
    uint64_t w = (uint64_t)le24(d + 4) + 1, h = (uint64_t)le24(d + 7) + 1;
    if (w * h > UINT32_MAX)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's canvas of %llux%llu pixels is over WebP's limit (the "
                      "file is damaged)", (unsigned long long)w, (unsigned long long)h);
    return set_size(info, "WebP", w, h);
}

/* One chunk inside the RIFF container. The first must be VP8, VP8L or VP8X; a simple file
 * (VP8 or VP8L first) is that one image, and an extended one carries its image (or, when
 * animated, its ANMF frames) further on. */
static ig_image_verdict webp_chunk(const unsigned char *t, const unsigned char *d, uint32_t n, size_t at,
                                   webp_state *s, ig_image_info *info)
{
    int first = at == 12;
    int image_due = first || (s->vp8x && !s->animated && !s->frame);
    if (memcmp(t, "VP8X", 4) == 0 && first)
        return webp_vp8x(d, n, s, info);
    if (memcmp(t, "VP8 ", 4) == 0 && image_due)
        return webp_vp8(d, n, s, info);
    if (memcmp(t, "VP8L", 4) == 0 && image_due)
        return webp_vp8l(d, n, s, info);
    if (first) {
        char name[5];
        fourcc_text(t, name);
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's first chunk is \"%s\", not VP8, VP8L or VP8X (the file is "
                      "damaged)", name);
    }
    if (memcmp(t, "ALPH", 4) == 0 && s->vp8x && !s->frame)
        info->has_alpha = 1;
    else if (memcmp(t, "ANMF", 4) == 0)
        s->anmf = 1;
    return IG_IMAGE_OK;
}

static ig_image_verdict webp_finish(const webp_state *s, ig_image_info *info)
{
    if (!s->vp8x)
        return set_size(info, "WebP", s->frame_w, s->frame_h);
    if (s->animated ? !s->anmf : !s->frame)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's extended header is not followed by %s (the file is "
                      "damaged)", s->animated ? "any animation frame" : "an image chunk (VP8 or VP8L)");
    if (!s->animated && (s->frame_w != info->width || s->frame_h != info->height))
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's image is %ux%u pixels but its canvas is %ux%u (the file "
                      "is damaged)", s->frame_w, s->frame_h, info->width, info->height);
    return IG_IMAGE_OK;
}

static ig_image_verdict webp_inspect(const unsigned char *p, size_t len, ig_image_info *info)
{
    uint32_t riff = le32(p + 4);
    if (riff < 4 + 8)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's RIFF size (%lu bytes) cannot hold an image chunk (the "
                      "file is damaged)", (unsigned long)riff);
    if ((uint64_t)riff + 8 > len)
        return refuse(info, IG_IMAGE_TRUNCATED, "the WebP's RIFF header says %llu bytes but only %zu are present "
                      "(truncated?)", (unsigned long long)riff + 8, len);
    size_t end = (size_t)riff + 8, at = 12;
    webp_state s;
    memset(&s, 0, sizeof s);
    while (end - at >= 8) {
        uint32_t n = le32(p + at + 4);
        if (n > end - at - 8) {
            char name[5];
            fourcc_text(p + at, name);
            return refuse(info, IG_IMAGE_CORRUPT, "the WebP's \"%s\" chunk at byte %zu claims %lu bytes, past the "
                          "end of its RIFF container (the file is damaged)", name, at, (unsigned long)n);
        }
        if (webp_chunk(p + at, p + at + 8, n, at, &s, info) != IG_IMAGE_OK)
            return info->verdict;
        at += 8 + (size_t)n;
        at += (n & 1) && at < end; /* the pad byte; a writer that left out the last one is forgiven */
    }
    if (at != end)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP's RIFF container ends with %zu stray bytes at byte %zu (the "
                      "file is damaged)", end - at, at);
    if (at == 12)
        return refuse(info, IG_IMAGE_CORRUPT, "the WebP holds no image chunk (the file is damaged)");
    if (webp_finish(&s, info) != IG_IMAGE_OK)
        return info->verdict;
    info->image_len = end;
    return IG_IMAGE_OK;
}

/* ---- Neither ---- */

/* Names what the bytes are when they are no PNG, JPEG or WebP, for the sentence. */
static const char *other_kind(const unsigned char *p, size_t len)
{
    static const struct {
        const char *magic;
        size_t at, n;
        const char *what;
    } kinds[] = {
        {"iVBORw0KGgo", 0, 11, "base64 text of a PNG, not its bytes (encoded twice?)"},
        {"/9j/", 0, 4, "base64 text of a JPEG, not its bytes (encoded twice?)"},
        {"UklGR", 0, 5, "base64 text of a WebP, not its bytes (encoded twice?)"},
        {"data:", 0, 5, "a data URL, not the image's bytes"},
        {"GIF8", 0, 4, "a GIF image"},
        {"BM", 0, 2, "a BMP image"},
        {"II*\0", 0, 4, "a TIFF image"},
        {"MM\0*", 0, 4, "a TIFF image"},
        {"ftyp", 4, 4, "an ISO media file (HEIC, AVIF or a video)"},
        {"%PDF", 0, 4, "a PDF document"},
        {"\x1f\x8b", 0, 2, "gzip-compressed data"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (len >= kinds[i].at + kinds[i].n && memcmp(p + kinds[i].at, kinds[i].magic, kinds[i].n) == 0)
            return kinds[i].what;
    if (p[0] == '{' || p[0] == '[' || p[0] == '<')
        return "text (JSON, XML or HTML)";
    return NULL;
}

static ig_image_verdict not_image(const unsigned char *p, size_t len, ig_image_info *info)
{
    const char *what = other_kind(p, len);
    if (what)
        return refuse(info, IG_IMAGE_NOT_IMAGE, "the data is %s; only PNG, JPEG and WebP images are accepted", what);
    static const char digits[] = "0123456789abcdef";
    char hex[3 * 8] = "";
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++) {
        hex[3 * i] = digits[p[i] >> 4];
        hex[3 * i + 1] = digits[p[i] & 15];
        hex[3 * i + 2] = i + 1 < n ? ' ' : '\0';
    }
    return refuse(info, IG_IMAGE_NOT_IMAGE, "the data is not a PNG, JPEG or WebP image (it starts with the bytes %s)",
                  hex);
}

/* 1 when p[0..len) could be the start of a WebP's "RIFF" size "WEBP" header. */
static int webp_prefix(const unsigned char *p, size_t len)
{
    size_t riff = len < 4 ? len : 4;
    if (memcmp(p, "RIFF", riff) != 0)
        return 0;
    return len <= 8 || memcmp(p + 8, "WEBP", len - 8 < 4 ? len - 8 : 4) == 0;
}

/* Shorter than a signature: the start of one is a cut image, anything else is no image. */
static ig_image_verdict short_input(const unsigned char *p, size_t len, ig_image_info *info)
{
    static const unsigned char soi[3] = {0xff, 0xd8, 0xff};
    const char *name = NULL;
    if (len < sizeof png_signature && memcmp(p, png_signature, len) == 0) {
        info->type = IG_IMAGE_PNG, name = "PNG";
    } else if (len < sizeof soi && memcmp(p, soi, len) == 0) {
        info->type = IG_IMAGE_JPEG, name = "JPEG";
    } else if (len < 12 && webp_prefix(p, len)) {
        info->type = IG_IMAGE_WEBP, name = "WebP";
    }
    if (!name)
        return not_image(p, len, info);
    return refuse(info, IG_IMAGE_TRUNCATED, "the data is %zu byte%s long, the start of a %s signature (truncated?)", len,
                  len == 1 ? "" : "s", name);
}

ig_image_verdict ig_image_inspect(const void *data, size_t len, ig_image_info *out)
{
    memset(out, 0, sizeof *out);
    const unsigned char *p = data;
    if (!p || len == 0)
        return refuse(out, IG_IMAGE_EMPTY, "the image is empty (0 bytes)");
    if (len >= sizeof png_signature && memcmp(p, png_signature, sizeof png_signature) == 0) {
        out->type = IG_IMAGE_PNG;
        return png_inspect(p, len, out);
    }
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        out->type = IG_IMAGE_JPEG;
        return jpeg_inspect(p, len, out);
    }
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        out->type = IG_IMAGE_WEBP;
        return webp_inspect(p, len, out);
    }
    return short_input(p, len, out);
}

const char *ig_image_verdict_word(ig_image_verdict v)
{
    switch (v) {
    case IG_IMAGE_EMPTY:
        return "empty";
    case IG_IMAGE_NOT_IMAGE:
        return "not_image";
    case IG_IMAGE_TRUNCATED:
    case IG_IMAGE_CORRUPT:
        return "truncated";
    case IG_IMAGE_TOO_LARGE:
        return "too_large";
    default:
        return NULL;
    }
}
