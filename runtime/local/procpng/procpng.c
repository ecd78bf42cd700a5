/* procpng.c - draws the procedural pictures: a hashed palette, one of five scenes, and grain.
 *
 * Everything a picture looks like comes from one SHA-256 of (prompt, seed, size, index), fed
 * to a xoshiro256** generator, so the same inputs give the same bytes and any change gives a
 * different picture. Drawing works row by row on integer colours with per-row or per-column
 * tables where geometry needs trigonometry, which keeps a 1024x1024 picture in a few
 * milliseconds. The grain is uniform in [-GRAIN, GRAIN] per channel: it is what gives the PNG
 * the weight of a real photograph-like picture, and its amplitude sets that weight.
 */
#include "procpng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/hash.h"
#include "procpng_encode.h"
#include "procpng_lossy.h"

#define GRAIN 3          /* per-channel grain amplitude: about 1.4 MB per 1024x1024 PNG */
#define COLOR_LO 24      /* palette colours stay inside [COLOR_LO, COLOR_HI] so the grain */
#define COLOR_HI 231     /* never clips and keeps its statistics everywhere */
#define PALETTE_SIZE 6
#define TWO_PI 6.283185307179586

/* ---- randomness from the hash ---- */

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) /* xoshiro256** */
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_between(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

static int rng_int(rng *r, int lo, int hi) /* inclusive */
{
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The 32-byte digest of everything that defines a picture: the prompt is hashed on its own
 * first, so the rest fits a fixed buffer and no allocation can change the result. */
static void spec_digest(const procpng_spec *spec, unsigned char out[32])
{
    static const char tag[] = "procpng/2";
    unsigned char buf[sizeof tag + 8 * 4 + 32];
    memcpy(buf, tag, sizeof tag);
    put_le64(buf + sizeof tag, spec->seed);
    put_le64(buf + sizeof tag + 8, spec->width);
    put_le64(buf + sizeof tag + 16, spec->height);
    put_le64(buf + sizeof tag + 24, spec->index);
    ig_sha256(spec->prompt_len ? spec->prompt : "", spec->prompt_len, buf + sizeof tag + 32);
    ig_sha256(buf, sizeof buf, out);
}

static void rng_from_spec(const procpng_spec *spec, rng *r)
{
    unsigned char d[32];
    spec_digest(spec, d);
    for (int i = 0; i < 4; i++)
        r->s[i] = get_le64(d + 8 * i);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* xoshiro's one forbidden state */
}

/* ---- colours ---- */

typedef struct {
    int r, g, b;
} color;

static int squeeze(double v) /* 0..1 -> [COLOR_LO, COLOR_HI] */
{
    if (v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    return COLOR_LO + (int)lround(v * (COLOR_HI - COLOR_LO));
}

static color hsv(double h, double s, double v)
{
    h = fmod(h, 360.0);
    if (h < 0)
        h += 360.0;
    double c = v * s, x = c * (1 - fabs(fmod(h / 60.0, 2) - 1)), m = v - c;
    double r = 0, g = 0, b = 0;
    switch ((int)(h / 60.0)) {
    case 0: r = c; g = x; break;
    case 1: r = x; g = c; break;
    case 2: g = c; b = x; break;
    case 3: g = x; b = c; break;
    case 4: r = x; b = c; break;
    default: r = c; b = x; break;
    }
    return (color){squeeze(r + m), squeeze(g + m), squeeze(b + m)};
}

static color mix(color a, color b, int t256) /* t256 in 0..256 */
{
    return (color){a.r + ((b.r - a.r) * t256 >> 8), a.g + ((b.g - a.g) * t256 >> 8),
                   a.b + ((b.b - a.b) * t256 >> 8)};
}

typedef struct {
    color c[PALETTE_SIZE];
    color light, dark;
} palette;

/* A colour scheme around one base hue: analogous, complementary, triadic or split. */
static void palette_make(rng *r, palette *p)
{
    static const double schemes[4][PALETTE_SIZE] = {
        {0, 25, -25, 50, -50, 12},
        {0, 180, 20, 200, -20, 160},
        {0, 120, 240, 20, 140, 260},
        {0, 150, 210, 30, 180, -30},
    };
    double base = rng_between(r, 0, 360);
    const double *offs = schemes[rng_int(r, 0, 3)];
    for (int i = 0; i < PALETTE_SIZE; i++)
        p->c[i] = hsv(base + offs[i], rng_between(r, 0.35, 0.95), rng_between(r, 0.45, 1.0));
    p->light = hsv(base + rng_between(r, -20, 20), rng_between(r, 0.05, 0.3), rng_between(r, 0.85, 1.0));
    p->dark = hsv(base + rng_between(r, 150, 210), rng_between(r, 0.3, 0.8), rng_between(r, 0.08, 0.25));
}

/* ---- the canvas ---- */

typedef struct {
    unsigned char *px;
    int w, h;
} canvas;

static inline void blend_px(unsigned char *p, color c, int a256)
{
    p[0] = (unsigned char)(p[0] + ((c.r - p[0]) * a256 >> 8));
    p[1] = (unsigned char)(p[1] + ((c.g - p[1]) * a256 >> 8));
    p[2] = (unsigned char)(p[2] + ((c.b - p[2]) * a256 >> 8));
}

static void blend_span(canvas *cv, int y, int x0, int x1, color c, int a256)
{
    if (y < 0 || y >= cv->h)
        return;
    if (x0 < 0)
        x0 = 0;
    if (x1 > cv->w)
        x1 = cv->w;
    unsigned char *p = cv->px + ((size_t)y * cv->w + x0) * 3;
    for (int x = x0; x < x1; x++, p += 3)
        blend_px(p, c, a256);
}

/* A linear gradient from a to b along the direction angle (radians). */
static void fill_gradient(canvas *cv, color a, color b, double angle)
{
    double dx = cos(angle), dy = sin(angle);
    double corners[4] = {0, (cv->w - 1) * dx, (cv->h - 1) * dy, (cv->w - 1) * dx + (cv->h - 1) * dy};
    double lo = corners[0], hi = corners[0];
    for (int i = 1; i < 4; i++) {
        lo = corners[i] < lo ? corners[i] : lo;
        hi = corners[i] > hi ? corners[i] : hi;
    }
    double scale = hi > lo ? 65536.0 / (hi - lo) : 0;
    int64_t tx = llround(dx * scale * 256), ty = llround(dy * scale * 256);
    int64_t t0 = llround(-lo * scale * 256); /* t in 16.8 fixed point: 0 .. 65536 << 8 */
    for (int y = 0; y < cv->h; y++) {
        unsigned char *p = cv->px + (size_t)y * cv->w * 3;
        int64_t t = t0 + ty * y;
        for (int x = 0; x < cv->w; x++, p += 3, t += tx) {
            int t256 = (int)(t >> 16);
            t256 = t256 < 0 ? 0 : t256 > 256 ? 256 : t256;
            color c = mix(a, b, t256);
            p[0] = (unsigned char)c.r;
            p[1] = (unsigned char)c.g;
            p[2] = (unsigned char)c.b;
        }
    }
}

/* A disc, or a ring when inner > 0, drawn as horizontal spans. */
static void draw_disc(canvas *cv, double cx, double cy, double radius, double inner, color c, int a256)
{
    int y0 = (int)floor(cy - radius), y1 = (int)ceil(cy + radius);
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < cv->h; y++) {
        double dy = y + 0.5 - cy, o2 = radius * radius - dy * dy;
        if (o2 <= 0)
            continue;
        double o = sqrt(o2);
        int xa = (int)lround(cx - o), xb = (int)lround(cx + o);
        double i2 = inner * inner - dy * dy;
        if (inner > 0 && i2 > 0) {
            double i = sqrt(i2);
            blend_span(cv, y, xa, (int)lround(cx - i), c, a256);
            blend_span(cv, y, (int)lround(cx + i), xb, c, a256);
        } else {
            blend_span(cv, y, xa, xb, c, a256);
        }
    }
}

/* ---- the scenes ---- */

/* Layered ridgelines under a sky with a sun: far ridges pale, near ridges dark. */
static ig_err scene_landscape(canvas *cv, rng *r, const palette *p)
{
    double side = cv->w < cv->h ? cv->w : cv->h;
    fill_gradient(cv, p->light, p->c[0], TWO_PI / 4 + rng_between(r, -0.25, 0.25));
    double sx = rng_between(r, 0.15, 0.85) * cv->w, sy = rng_between(r, 0.08, 0.4) * cv->h;
    double sr = rng_between(r, 0.05, 0.12) * side;
    color sun = hsv(rng_between(r, 20, 60), rng_between(r, 0.2, 0.7), 1.0);
    draw_disc(cv, sx, sy, sr * 2.2, 0, sun, 40);
    draw_disc(cv, sx, sy, sr, 0, sun, 230);

    int layers = rng_int(r, 3, 6);
    int *ridge = malloc(sizeof(int) * (size_t)cv->w);
    if (!ridge)
        return IG_ERR_NOMEM;
    for (int l = 0; l < layers; l++) {
        double base = (0.35 + 0.5 * (l + rng_between(r, 0.1, 0.6)) / layers) * cv->h;
        double amp[3], freq[3], phase[3];
        for (int k = 0; k < 3; k++) {
            amp[k] = rng_between(r, 0.01, 0.08) * cv->h / (k + 1);
            freq[k] = rng_between(r, 0.5, 3.0) * (k * 2 + 1) * TWO_PI / cv->w;
            phase[k] = rng_between(r, 0, TWO_PI);
        }
        for (int x = 0; x < cv->w; x++) {
            double v = base;
            for (int k = 0; k < 3; k++)
                v += amp[k] * sin(freq[k] * x + phase[k]);
            ridge[x] = (int)lround(v);
        }
        color near = mix(p->c[1 + l % (PALETTE_SIZE - 1)], p->dark, 256 * (l + 1) / (layers + 1));
        color c = mix(near, p->light, 256 * (layers - l) / (layers + 2) / 2);
        for (int y = 0; y < cv->h; y++) {
            unsigned char *px = cv->px + (size_t)y * cv->w * 3;
            for (int x = 0; x < cv->w; x++, px += 3)
                if (y >= ridge[x]) {
                    px[0] = (unsigned char)c.r;
                    px[1] = (unsigned char)c.g;
                    px[2] = (unsigned char)c.b;
                }
        }
    }
    free(ridge);
    return IG_OK;
}

/* Translucent discs and rings of many sizes. */
static ig_err scene_bubbles(canvas *cv, rng *r, const palette *p)
{
    double side = cv->w < cv->h ? cv->w : cv->h;
    fill_gradient(cv, p->dark, p->c[0], rng_between(r, 0, TWO_PI));
    int n = rng_int(r, 10, 26);
    for (int i = 0; i < n; i++) {
        double radius = side * rng_between(r, 0.03, 0.24);
        double inner = rng_unit(r) < 0.3 ? radius * rng_between(r, 0.55, 0.85) : 0;
        color c = p->c[rng_int(r, 1, PALETTE_SIZE - 1)];
        if (rng_unit(r) < 0.2)
            c = p->light;
        draw_disc(cv, rng_unit(r) * cv->w, rng_unit(r) * cv->h, radius, inner, c, rng_int(r, 110, 235));
    }
    return IG_OK;
}

/* Wavy bands: a direction, a period, and row and column warps from tables. */
static ig_err scene_waves(canvas *cv, rng *r, const palette *p)
{
    fill_gradient(cv, p->c[0], p->light, rng_between(r, 0, TWO_PI));
    int colors = rng_int(r, 3, 5), alpha = rng_int(r, 150, 225);
    double period = rng_between(r, 0.025, 0.11) * cv->w;
    double angle = rng_between(r, 0, TWO_PI);
    double wave_row = rng_between(r, 0.02, 0.15) * cv->w, len_row = rng_between(r, 0.15, 0.9) * cv->h;
    double wave_col = rng_between(r, 0.0, 0.08) * cv->w, len_col = rng_between(r, 0.2, 1.0) * cv->w;
    double ph_row = rng_between(r, 0, TWO_PI), ph_col = rng_between(r, 0, TWO_PI);
    int32_t *row_off = malloc(sizeof(int32_t) * (size_t)cv->h);
    int32_t *col_off = malloc(sizeof(int32_t) * (size_t)cv->w);
    if (!row_off || !col_off) {
        free(row_off);
        free(col_off);
        return IG_ERR_NOMEM;
    }
    /* u = (x cos a + y sin a + warps) / period in 16.16 fixed point, kept positive by an offset
     * of many whole bands so that the band index is a plain shift and modulo. */
    const double fixed = 65536.0 / period;
    const double bias = 4096.0 * colors;
    for (int y = 0; y < cv->h; y++)
        row_off[y] = (int32_t)lround((y * sin(angle) + wave_row * sin(TWO_PI * y / len_row + ph_row)) * fixed +
                                     bias * 32768.0);
    for (int x = 0; x < cv->w; x++)
        col_off[x] = (int32_t)lround((x * cos(angle) + wave_col * sin(TWO_PI * x / len_col + ph_col)) * fixed +
                                     bias * 32768.0);
    color band[5];
    for (int i = 0; i < colors; i++)
        band[i] = p->c[(i * 2 + 1) % PALETTE_SIZE];
    band[colors - 1] = p->dark;
    for (int y = 0; y < cv->h; y++) {
        unsigned char *px = cv->px + (size_t)y * cv->w * 3;
        for (int x = 0; x < cv->w; x++, px += 3) {
            uint32_t u = (uint32_t)row_off[y] + (uint32_t)col_off[x];
            blend_px(px, band[(u >> 16) % (uint32_t)colors], alpha);
        }
    }
    free(row_off);
    free(col_off);
    return IG_OK;
}

typedef struct {
    int x0, y0, x1, y1;
} rect;

/* Mondrian-like blocks: split the largest cell until there are enough, paint some, outline all. */
static ig_err scene_blocks(canvas *cv, rng *r, const palette *p)
{
    enum { MAX_CELLS = 20 };
    fill_gradient(cv, p->light, mix(p->light, p->c[0], 60), rng_between(r, 0, TWO_PI));
    rect cells[MAX_CELLS] = {{0, 0, cv->w, cv->h}};
    int n = 1, want = rng_int(r, 7, MAX_CELLS);
    while (n < want) {
        int big = 0;
        for (int i = 1; i < n; i++) {
            long ai = (long)(cells[i].x1 - cells[i].x0) * (cells[i].y1 - cells[i].y0);
            long ab = (long)(cells[big].x1 - cells[big].x0) * (cells[big].y1 - cells[big].y0);
            if (ai > ab)
                big = i;
        }
        rect c = cells[big], d = c;
        int cw = c.x1 - c.x0, ch = c.y1 - c.y0;
        if (cw < 4 && ch < 4)
            break;
        double at = rng_between(r, 0.28, 0.72);
        if (cw >= ch) {
            c.x1 = d.x0 = c.x0 + (int)(cw * at);
        } else {
            c.y1 = d.y0 = c.y0 + (int)(ch * at);
        }
        cells[big] = c;
        cells[n++] = d;
    }
    for (int i = 0; i < n; i++) {
        if (rng_unit(r) < 0.35)
            continue; /* left as background */
        color c = p->c[rng_int(r, 0, PALETTE_SIZE - 1)];
        for (int y = cells[i].y0; y < cells[i].y1; y++)
            blend_span(cv, y, cells[i].x0, cells[i].x1, c, 256);
    }
    int line = (cv->w < cv->h ? cv->w : cv->h) / 100 + 2;
    for (int i = 0; i < n; i++) {
        rect c = cells[i];
        for (int t = -line / 2; t < line - line / 2; t++) {
            blend_span(cv, c.y0 + t, c.x0 - line / 2, c.x1 + line / 2, p->dark, 256);
            blend_span(cv, c.y1 + t, c.x0 - line / 2, c.x1 + line / 2, p->dark, 256);
        }
        for (int y = c.y0; y < c.y1; y++) {
            blend_span(cv, y, c.x0 - line / 2, c.x0 + line - line / 2, p->dark, 256);
            blend_span(cv, y, c.x1 - line / 2, c.x1 + line - line / 2, p->dark, 256);
        }
    }
    return IG_OK;
}

/* Interference of concentric rings around two or three centres. */
static ig_err scene_rings(canvas *cv, rng *r, const palette *p)
{
    double side = cv->w < cv->h ? cv->w : cv->h;
    fill_gradient(cv, p->dark, p->c[1], rng_between(r, 0, TWO_PI));
    int centres = rng_int(r, 2, 3), colors = rng_int(r, 3, 5), alpha = rng_int(r, 140, 220);
    float cx[3], cy[3], inv[3];
    for (int i = 0; i < centres; i++) {
        cx[i] = (float)(rng_between(r, -0.2, 1.2) * cv->w);
        cy[i] = (float)(rng_between(r, -0.2, 1.2) * cv->h);
        inv[i] = (float)(1.0 / (rng_between(r, 0.03, 0.09) * side));
    }
    color band[5];
    for (int i = 0; i < colors; i++)
        band[i] = i == 0 ? p->light : p->c[(i + 2) % PALETTE_SIZE];
    for (int y = 0; y < cv->h; y++) {
        unsigned char *px = cv->px + (size_t)y * cv->w * 3;
        for (int x = 0; x < cv->w; x++, px += 3) {
            float s = 0;
            for (int i = 0; i < centres; i++) {
                float dx = (float)x - cx[i], dy = (float)y - cy[i];
                s += sqrtf(dx * dx + dy * dy) * inv[i];
            }
            blend_px(px, band[(unsigned)s % (unsigned)colors], alpha);
        }
    }
    return IG_OK;
}

/* ---- grain ---- */

/* Uniform integer grain in [-GRAIN, GRAIN], per channel, from a per-picture stream. */
static void add_grain(canvas *cv, rng *r)
{
    signed char table[256];
    for (int i = 0; i < 256; i++)
        table[i] = (signed char)(i % (2 * GRAIN + 1) - GRAIN);
    size_t n = (size_t)cv->w * cv->h * 3, i = 0;
    unsigned char *px = cv->px;
    while (i < n) {
        uint64_t bits = rng_next(r);
        for (int k = 0; k < 8 && i < n; k++, i++, bits >>= 8) {
            int v = px[i] + table[bits & 0xff];
            px[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

/* ---- entry points ---- */

static const char *const scene_names[PROCPNG_SCENE_COUNT] = {"landscape", "bubbles", "waves",
                                                             "blocks", "rings"};

const char *procpng_scene_name(procpng_scene scene)
{
    return (unsigned)scene < PROCPNG_SCENE_COUNT ? scene_names[scene] : "unknown";
}

procpng_scene procpng_scene_of(const procpng_spec *spec)
{
    rng r;
    rng_from_spec(spec, &r);
    return (procpng_scene)(rng_next(&r) % PROCPNG_SCENE_COUNT);
}

static ig_err check_spec(const procpng_spec *spec, ig_error *err)
{
    if (!spec || (!spec->prompt && spec->prompt_len))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a picture needs a prompt");
    if (spec->width < 1 || spec->width > PROCPNG_MAX_SIDE || spec->height < 1 ||
        spec->height > PROCPNG_MAX_SIDE)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "picture size %ux%u is outside 1..%u per side",
                            spec->width, spec->height, PROCPNG_MAX_SIDE);
    return IG_OK;
}

ig_err procpng_render_rgb(const procpng_spec *spec, unsigned char *rgb, ig_error *err)
{
    ig_err e = check_spec(spec, err);
    if (e)
        return e;
    rng r;
    rng_from_spec(spec, &r);
    procpng_scene scene = (procpng_scene)(rng_next(&r) % PROCPNG_SCENE_COUNT);
    palette p;
    palette_make(&r, &p);
    canvas cv = {rgb, (int)spec->width, (int)spec->height};
    static ig_err (*const draw[PROCPNG_SCENE_COUNT])(canvas *, rng *, const palette *) = {
        scene_landscape, scene_bubbles, scene_waves, scene_blocks, scene_rings};
    e = draw[scene](&cv, &r, &p);
    if (e)
        return ig_error_set(err, e, "could not draw a %ux%u picture: %s", spec->width,
                            spec->height, ig_strerror(e));
    add_grain(&cv, &r);
    return IG_OK;
}

const char *procpng_format_name(procpng_format format)
{
    switch (format) {
    case PROCPNG_JPEG: return "jpeg";
    case PROCPNG_WEBP: return "webp";
    default: return "png";
    }
}

ig_err procpng_render(const procpng_spec *spec, procpng_format format, ig_buf *out, ig_error *err)
{
    ig_err e = check_spec(spec, err);
    if (e)
        return e;
    unsigned char *rgb = malloc((size_t)spec->width * spec->height * 3);
    if (!rgb)
        return ig_error_set(err, IG_ERR_NOMEM, "no memory for a %ux%u picture", spec->width,
                            spec->height);
    e = procpng_render_rgb(spec, rgb, err);
    if (!e && format == PROCPNG_JPEG)
        e = procpng_encode_jpeg(rgb, spec->width, spec->height, out, err);
    else if (!e && format == PROCPNG_WEBP)
        e = procpng_encode_webp(rgb, spec->width, spec->height, out, err);
    else if (!e)
        e = procpng_encode_rgb(rgb, spec->width, spec->height, out, err);
    free(rgb);
    return e;
}

ig_err procpng_render_png(const procpng_spec *spec, ig_buf *out, ig_error *err)
{
    return procpng_render(spec, PROCPNG_PNG, out, err);
}
