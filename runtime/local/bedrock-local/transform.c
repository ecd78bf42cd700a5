/* transform.c - deterministic pixel operations for the edit answers: integer arithmetic only
 * (beyond bl_weight's one rounding), so the same inputs give the same bytes everywhere. */
#include "transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t n_pixels(const bl_pixels *p)
{
    return (size_t)p->width * p->height;
}

static uint64_t isqrt64(uint64_t v)
{
    uint64_t r = (uint64_t)sqrt((double)v);
    while (r * r > v)
        r--;
    while ((r + 1) * (r + 1) <= v)
        r++;
    return r;
}

void bl_fit_pixels(unsigned w, unsigned h, uint64_t pixels, unsigned *out_w, unsigned *out_h)
{
    uint64_t W = isqrt64(pixels * w / h);
    uint64_t H = W * h / w;
    *out_w = (unsigned)(W ? W : 1);
    *out_h = (unsigned)(H ? H : 1);
}

ig_err bl_resample(const bl_pixels *src, unsigned dst_w, unsigned dst_h, bl_pixels *dst)
{
    ig_err e = bl_pixels_alloc(dst, dst_w, dst_h);
    if (e)
        return e;
    for (unsigned y = 0; y < dst_h; y++) {
        size_t sy = (size_t)((uint64_t)y * src->height / dst_h);
        const unsigned char *srow = src->rgba + sy * src->width * 4;
        unsigned char *drow = dst->rgba + (size_t)y * dst_w * 4;
        for (unsigned x = 0; x < dst_w; x++) {
            size_t sx = (size_t)((uint64_t)x * src->width / dst_w);
            memcpy(drow + (size_t)x * 4, srow + sx * 4, 4);
        }
    }
    return IG_OK;
}

void bl_fill_at(const unsigned char d[32], unsigned x, unsigned y, unsigned char rgb[3])
{
    unsigned band = 8u + d[6] % 56u;                      /* stripe width, 8 .. 63 */
    unsigned t = (d[7] & 1) ? x + y : x + (0xffffffu - y); /* which diagonal */
    const unsigned char *c = (t / band) % 2 ? d : d + 3;   /* colour d[0..2] or d[3..5] */
    /* a faint second period so that neighbouring stripes never share every byte */
    unsigned shade = (t % band) * 32u / band;
    for (int i = 0; i < 3; i++)
        rgb[i] = (unsigned char)((c[i] + shade) & 0xff);
}

void bl_fill_region(bl_pixels *p, const unsigned char *region, const unsigned char d[32])
{
    for (unsigned y = 0; y < p->height; y++) {
        for (unsigned x = 0; x < p->width; x++) {
            size_t i = (size_t)y * p->width + x;
            if (region && !region[i])
                continue;
            bl_fill_at(d, x, y, p->rgba + i * 4);
            p->rgba[i * 4 + 3] = 255;
        }
    }
}

static unsigned char mix(unsigned a, unsigned b, unsigned weight)
{
    return (unsigned char)((a * (256u - weight) + b * weight + 128u) >> 8);
}

void bl_blend_fill(bl_pixels *p, unsigned weight, const unsigned char d[32])
{
    for (unsigned y = 0; y < p->height; y++) {
        for (unsigned x = 0; x < p->width; x++) {
            unsigned char *px = p->rgba + ((size_t)y * p->width + x) * 4, f[3];
            bl_fill_at(d, x, y, f);
            for (int c = 0; c < 3; c++)
                px[c] = mix(px[c], f[c], weight);
            px[3] = 255;
        }
    }
}

void bl_blend(bl_pixels *p, const bl_pixels *q, unsigned weight)
{
    size_t n = n_pixels(p);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++)
            p->rgba[i * 4 + c] = mix(p->rgba[i * 4 + c], q->rgba[i * 4 + c], weight);
        p->rgba[i * 4 + 3] = 255;
    }
}

unsigned bl_weight(double fraction)
{
    if (!(fraction > 0.0))
        return 0;
    if (fraction >= 1.0)
        return 256;
    return (unsigned)lround(fraction * 256.0);
}

static unsigned luma(const unsigned char *px)
{
    return (299u * px[0] + 587u * px[1] + 114u * px[2]) / 1000u;
}

unsigned char *bl_region_from_luma(const bl_pixels *mask, int white_edits)
{
    size_t n = n_pixels(mask);
    unsigned char *r = malloc(n ? n : 1);
    for (size_t i = 0; r && i < n; i++)
        r[i] = (luma(mask->rgba + i * 4) >= 128) == (white_edits != 0);
    return r;
}

unsigned char *bl_region_from_alpha(const bl_pixels *p)
{
    size_t n = n_pixels(p);
    unsigned char *r = malloc(n ? n : 1);
    for (size_t i = 0; r && i < n; i++)
        r[i] = p->rgba[i * 4 + 3] < 128;
    return r;
}

static int near_colour(const unsigned char *a, const unsigned char *b)
{
    for (int c = 0; c < 3; c++)
        if (abs((int)a[c] - (int)b[c]) > BL_BACKGROUND_TOLERANCE)
            return 0;
    return 1;
}

unsigned char *bl_region_subject(const bl_pixels *p, int invert)
{
    size_t n = n_pixels(p);
    unsigned char *r = malloc(n ? n : 1);
    for (size_t i = 0; r && i < n; i++)
        r[i] = near_colour(p->rgba + i * 4, p->rgba) == (invert != 0);
    return r;
}

/* One line of `count` bytes, `stride` apart: every byte within `by` of a set byte is set.
 * dist holds count entries of scratch. */
static void grow_line(unsigned char *line, size_t count, size_t stride, unsigned by,
                      unsigned *dist)
{
    const unsigned far = 0xffffffffu;
    unsigned d = far;
    for (size_t i = 0; i < count; i++) { /* distance to the nearest set byte on the left */
        d = line[i * stride] ? 0 : (d == far ? far : d + 1);
        dist[i] = d;
    }
    d = far;
    for (size_t i = count; i-- > 0;) { /* ... and on the right */
        d = line[i * stride] ? 0 : (d == far ? far : d + 1);
        if (d < dist[i])
            dist[i] = d;
    }
    for (size_t i = 0; i < count; i++)
        line[i * stride] = dist[i] <= by;
}

ig_err bl_region_grow(unsigned char *region, unsigned width, unsigned height, unsigned by)
{
    if (by == 0)
        return IG_OK;
    unsigned *dist = malloc(sizeof *dist * (width > height ? width : height));
    if (!dist)
        return IG_ERR_NOMEM;
    for (unsigned y = 0; y < height; y++) /* rows, then columns: a square of side 2 by + 1 */
        grow_line(region + (size_t)y * width, width, 1, by, dist);
    for (unsigned x = 0; x < width; x++)
        grow_line(region + x, height, width, by, dist);
    free(dist);
    return IG_OK;
}

void bl_tint_region(bl_pixels *p, const unsigned char *region, const unsigned char tint[3])
{
    size_t n = n_pixels(p);
    for (size_t i = 0; i < n; i++) {
        if (!region[i])
            continue;
        unsigned char *px = p->rgba + i * 4;
        unsigned l = luma(px);
        for (int c = 0; c < 3; c++)
            px[c] = (unsigned char)(l * tint[c] / 255u);
    }
}

void bl_clear_region_alpha(bl_pixels *p, const unsigned char *region)
{
    size_t n = n_pixels(p);
    for (size_t i = 0; i < n; i++)
        p->rgba[i * 4 + 3] = region[i] ? 0 : 255;
}

ig_err bl_extend(const bl_pixels *src, unsigned left, unsigned right, unsigned up, unsigned down,
                 const unsigned char d[32], bl_pixels *dst)
{
    ig_err e = bl_pixels_alloc(dst, left + src->width + right, up + src->height + down);
    if (e)
        return e;
    bl_fill_region(dst, NULL, d);
    for (unsigned y = 0; y < src->height; y++)
        memcpy(dst->rgba + ((size_t)(y + up) * dst->width + left) * 4,
               src->rgba + (size_t)y * src->width * 4, (size_t)src->width * 4);
    return IG_OK;
}

void bl_pixels_to_rgb(bl_pixels *p)
{
    size_t n = n_pixels(p);
    for (size_t i = 0; i < n; i++)
        memmove(p->rgba + i * 3, p->rgba + i * 4, 3);
}
