/* edit.c - one edit answer: the operation applied to a copy of the inputs, then encoded
 * with procpng's encoders (PNG, JPEG, WebP; RGBA PNG and WebP for a cut-out). */
#include "edit.h"

#include <stdlib.h>
#include <string.h>

#include "codec/hash.h"
#include "procpng_encode.h"
#include "procpng_lossy.h"
#include "transform.h"

bl_edit *bl_edit_new(bl_edit_op op)
{
    bl_edit *e = calloc(1, sizeof *e);
    if (e)
        e->op = op;
    return e;
}

void bl_edit_free(bl_edit *e)
{
    if (!e)
        return;
    bl_pixels_free(&e->image);
    bl_pixels_free(&e->second);
    free(e->region);
    free(e);
}

void bl_edit_digest(bl_edit *e, const char *const *parts, const size_t *lens, size_t n)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        ig_buf_appendf(&b, "%zu:", lens[i]);
        ig_buf_append(&b, parts[i], lens[i]);
    }
    ig_sha256(b.data ? b.data : "", b.len, e->digest);
    ig_buf_free(&b);
}

/* The digest of picture `index`: the edit's own for picture 0. */
static void index_digest(const bl_edit *e, unsigned index, unsigned char d[32])
{
    memcpy(d, e->digest, 32);
    if (index == 0)
        return;
    unsigned char in[36];
    memcpy(in, e->digest, 32);
    memcpy(in + 32, &index, 4);
    ig_sha256(in, sizeof in, d);
}

/* A copy of the image (same size), for the ops that change pixels in place. */
static ig_err copy_image(const bl_edit *e, bl_pixels *out)
{
    ig_err err = bl_pixels_alloc(out, e->image.width, e->image.height);
    if (!err)
        memcpy(out->rgba, e->image.rgba, (size_t)e->image.width * e->image.height * 4);
    return err;
}

static ig_err transfer(const bl_edit *e, const unsigned char d[32], bl_pixels *out)
{
    bl_pixels base, style;
    ig_err err = copy_image(e, &base);
    if (!err)
        err = bl_resample(&e->second, base.width, base.height, &style);
    if (err) {
        bl_pixels_free(&base);
        return err;
    }
    bl_blend(&base, &style, e->weight);
    bl_blend_fill(&base, e->weight2, d);
    err = bl_resample(&base, e->out_w, e->out_h, out);
    bl_pixels_free(&style);
    bl_pixels_free(&base);
    return err;
}

/* The answer's pixels (RGBA) for picture index. */
static ig_err apply(const bl_edit *e, unsigned index, bl_pixels *out)
{
    unsigned char d[32];
    index_digest(e, index, d);
    ig_err err = IG_OK;
    switch (e->op) {
    case BL_EDIT_UPSCALE:
    case BL_EDIT_BLEND:
        err = bl_resample(&e->image, e->out_w, e->out_h, out);
        if (!err && e->weight)
            bl_blend_fill(out, e->weight, d);
        return err;
    case BL_EDIT_FILL_REGION:
        if (!(err = copy_image(e, out)))
            bl_fill_region(out, e->region, d);
        return err;
    case BL_EDIT_RECOLOR:
        if (!(err = copy_image(e, out)))
            bl_tint_region(out, e->region, d);
        return err;
    case BL_EDIT_CUT_OUT:
        if (!(err = copy_image(e, out)))
            bl_clear_region_alpha(out, e->region);
        return err;
    case BL_EDIT_OUTPAINT:
        return bl_extend(&e->image, e->left, e->right, e->up, e->down, d, out);
    case BL_EDIT_TRANSFER:
        return transfer(e, d, out);
    }
    return IG_ERR_INVALID_ARG;
}

static ig_err encode(bl_pixels *p, int alpha, procpng_format format, ig_buf *out, ig_error *err)
{
    if (alpha)
        return format == PROCPNG_WEBP ? procpng_encode_webp_rgba(p->rgba, p->width, p->height, out, err)
                                      : procpng_encode_rgba(p->rgba, p->width, p->height, out, err);
    bl_pixels_to_rgb(p);
    switch (format) {
    case PROCPNG_JPEG: return procpng_encode_jpeg(p->rgba, p->width, p->height, out, err);
    case PROCPNG_WEBP: return procpng_encode_webp(p->rgba, p->width, p->height, out, err);
    default: return procpng_encode_rgb(p->rgba, p->width, p->height, out, err);
    }
}

ig_err bl_edit_render(const bl_edit *e, unsigned index, procpng_format format, ig_buf *out,
                      ig_error *err)
{
    bl_pixels px;
    memset(&px, 0, sizeof px);
    ig_err code = apply(e, index, &px);
    if (code) {
        bl_pixels_free(&px);
        return ig_error_set(err, code, "could not make the edited picture: %s", ig_strerror(code));
    }
    code = encode(&px, e->op == BL_EDIT_CUT_OUT, format, out, err);
    bl_pixels_free(&px);
    return code;
}
