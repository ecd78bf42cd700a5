/* amazon_edit.c - the legacy edit task types of Titan Image Generator G1 (v1, v2) and Nova
 * Canvas, in the envelope their text-to-image bodies use:
 *
 *   {"taskType": "INPAINTING",
 *    "inPaintingParams": {"image": "<base64>", "maskImage": "<base64>" | "maskPrompt": "...",
 *                         "text": "...", "negativeText": "..."},
 *    "imageGenerationConfig": {"numberOfImages": 1, "cfgScale": 8, "seed": 42, "quality": ...}}
 *
 *   OUTPAINTING        outPaintingParams: the same, plus outPaintingMode DEFAULT | PRECISE;
 *                      Titan requires text
 *   IMAGE_VARIATION    imageVariationParams: images (1 to 5), similarityStrength 0.2..1 (0.7),
 *                      text (required by Nova), negativeText
 *   BACKGROUND_REMOVAL backgroundRemovalParams: image only, and no imageGenerationConfig
 *
 * The facts are ../shared/reference/bedrock-image-models.md §2.3-2.5 (via docs/edit-services.md).
 * Masks are black = inside the mask, white = outside, the image's size, and nothing but pure
 * black and white (stated). Inpainting edits inside the mask; outpainting keeps the inside and
 * edits the rest; a maskPrompt names "the subject", which here is every pixel that is not the
 * corner's colour (transform.h). The output has the input's size (stated); Titan's width and
 * height are accepted and do not change it, Nova refuses them (its doc: "do not send").
 * Input images: PNG or JPEG (stated); Titan at most 1,408 px a side and 5 MB (stated; read as
 * 5,000,000 bytes, as the policy reads it); Nova at most 4,096 px a side and 4,194,304 pixels
 * (Nova's own output bounds: assumed); every side at least 64 px (bedrock-local's floor, made
 * up). The sentences about
 * images and masks are bedrock-local's own.
 */
#include <stdio.h>
#include <string.h>

#include "edit.h"
#include "families.h"
#include "input.h"
#include "members.h"
#include "transform.h"

static const char *const qualities[] = {"standard", "premium", NULL};
static const char *const outpainting_modes[] = {"DEFAULT", "PRECISE", NULL};

typedef enum { T_INPAINTING, T_OUTPAINTING, T_VARIATION, T_BACKGROUND } task_kind;

typedef struct {
    const char *task;
    const char *params;    /* the member holding the task's parameters */
    task_kind kind;
} task_info;

static const task_info tasks[] = {
    {"INPAINTING", "inPaintingParams", T_INPAINTING},
    {"OUTPAINTING", "outPaintingParams", T_OUTPAINTING},
    {"IMAGE_VARIATION", "imageVariationParams", T_VARIATION},
    {"BACKGROUND_REMOVAL", "backgroundRemovalParams", T_BACKGROUND},
};

/* ---- the member tables, built per call (lengths differ by family) ---- */

static bl_member text_member(const char *name, int required, unsigned max)
{
    return (bl_member){name, BL_MEMBER_TEXT, required, 1, max, 0, NULL};
}

static bl_member image_member(const char *name, int required)
{
    return (bl_member){name, BL_MEMBER_IMAGE, required, 0, 0, 0, NULL};
}

/* The params table of a task; members holds room for 8 and the end. */
static void params_members(task_kind k, const bl_model *model, unsigned text_max,
                           bl_member *out)
{
    int titan = model->family != BL_NOVA_CANVAS;
    size_t n = 0;
    if (k == T_VARIATION) {
        out[n++] = (bl_member){"images", BL_MEMBER_IMAGES, 1, 1, 5, 0, NULL};
        out[n++] = (bl_member){"similarityStrength", BL_MEMBER_NUMBER, 0, 0.2, 1.0, 0.7, NULL};
        out[n++] = text_member("text", !titan, text_max);
        out[n++] = text_member("negativeText", 0, text_max);
    } else if (k == T_BACKGROUND) {
        out[n++] = image_member("image", 1);
    } else {
        out[n++] = image_member("image", 1);
        out[n++] = text_member("text", titan && k == T_OUTPAINTING, text_max);
        out[n++] = text_member("negativeText", 0, text_max);
        out[n++] = text_member("maskPrompt", 0, text_max);
        out[n++] = image_member("maskImage", 0);
        if (k == T_OUTPAINTING)
            out[n++] = (bl_member){"outPaintingMode", BL_MEMBER_ENUM, 0, 0, 0, 0,
                                   outpainting_modes};
        if (titan)
            out[n++] = (bl_member){"returnMask", BL_MEMBER_BOOL, 0, 0, 0, 0, NULL};
    }
    out[n] = (bl_member){NULL, BL_MEMBER_TEXT, 0, 0, 0, 0, NULL};
}

static void config_members(const bl_model *model, const bl_amazon_limits *lim, bl_member *out)
{
    size_t n = 0;
    out[n++] = (bl_member){"numberOfImages", BL_MEMBER_INT, 0, 1, 5, 1, NULL};
    out[n++] = (bl_member){"cfgScale", BL_MEMBER_NUMBER, 0, 1.1, 10.0, lim->cfg_default, NULL};
    out[n++] = (bl_member){"seed", BL_MEMBER_INT, 0, 0, (double)lim->seed_max,
                           (double)lim->seed_default, NULL};
    out[n++] = (bl_member){"quality", BL_MEMBER_ENUM, 0, 0, 0, 0, qualities};
    if (model->family != BL_NOVA_CANVAS) {
        out[n++] = (bl_member){"width", BL_MEMBER_INT, 0, 320, 1408, 0, NULL};
        out[n++] = (bl_member){"height", BL_MEMBER_INT, 0, 320, 1408, 0, NULL};
    }
    out[n] = (bl_member){NULL, BL_MEMBER_TEXT, 0, 0, 0, 0, NULL};
}

static void image_limits(const bl_model *model, bl_image_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->formats = BL_FORMAT_PNG | BL_FORMAT_JPEG;
    lim->min_side = 64;
    if (model->family == BL_NOVA_CANVAS) {
        lim->max_side = 4096;
        lim->max_pixels = 4194304;
    } else {
        lim->max_side = 1408;
        lim->max_bytes = 5000000;
    }
}

/* ---- masks ---- */

static ig_err check_black_and_white(bl_msg *m, const char *path, const bl_pixels *mask)
{
    for (unsigned y = 0; y < mask->height; y++) {
        for (unsigned x = 0; x < mask->width; x++) {
            const unsigned char *p = mask->rgba + ((size_t)y * mask->width + x) * 4;
            int black = !p[0] && !p[1] && !p[2], white = p[0] == 255 && p[1] == 255 && p[2] == 255;
            if (!black && !white)
                return bl_violation(m, "%s: a mask holds only black (0, 0, 0) and white (255, "
                                       "255, 255) pixels; pixel (%u, %u) is (%u, %u, %u)",
                                    path, x, y, p[0], p[1], p[2]);
        }
    }
    return IG_OK;
}

/* The region to edit, from maskImage or maskPrompt (exactly one). */
static ig_err mask_region(bl_msg *m, const task_info *t, const bl_values *v,
                          const bl_image_limits *lim, bl_edit *ed)
{
    const json_t *image = bl_value(v, "maskImage"), *prompt = bl_value(v, "maskPrompt");
    int outpainting = t->kind == T_OUTPAINTING;
    if (!image == !prompt)
        return bl_violation(m, "#/%s: exactly one of [maskPrompt] and [maskImage] is required, "
                               "found %s",
                            t->params, image ? "both" : "neither");
    if (prompt) {
        ed->region = bl_region_subject(&ed->image, outpainting); /* the subject is inside */
        return ed->region ? IG_OK : bl_violation(m, "#/%s: out of memory", t->params);
    }
    char path[64];
    snprintf(path, sizeof path, "#/%s/maskImage", t->params);
    bl_pixels mask;
    bl_image_limits mask_lim = bl_mask_limits(lim);
    ig_err e = bl_read_image(m, image, path, &mask_lim, &mask);
    if (!e)
        e = bl_check_same_size(m, path, &mask, &ed->image);
    if (!e)
        e = check_black_and_white(m, path, &mask);
    if (!e && !(ed->region = bl_region_from_luma(&mask, outpainting)))
        e = bl_violation(m, "%s: out of memory", path);
    bl_pixels_free(&mask);
    return e;
}

/* ---- the edit ---- */

/* Reads the task's image(s): image, or every one of images (the first is kept). */
static ig_err read_images(bl_msg *m, const task_info *t, const bl_values *v,
                          const bl_image_limits *lim, bl_edit *ed)
{
    char path[64];
    if (t->kind != T_VARIATION) {
        snprintf(path, sizeof path, "#/%s/image", t->params);
        return bl_read_image(m, bl_value(v, "image"), path, lim, &ed->image);
    }
    const json_t *images = bl_value(v, "images");
    ig_err e = IG_OK;
    for (size_t i = 0; !e && i < json_array_size(images); i++) {
        bl_pixels p;
        snprintf(path, sizeof path, "#/%s/images/%zu", t->params, i);
        e = bl_read_image(m, json_array_get(images, i), path, lim, i ? &p : &ed->image);
        if (!e && i)
            bl_pixels_free(&p);
    }
    return e;
}

static ig_err build_edit(bl_msg *m, const bl_model *model, const task_info *t, const bl_values *v,
                         bl_edit *ed)
{
    bl_image_limits lim;
    image_limits(model, &lim);
    ig_err e = read_images(m, t, v, &lim, ed);
    if (e)
        return e;
    ed->out_w = ed->image.width;
    ed->out_h = ed->image.height;
    switch (t->kind) {
    case T_INPAINTING:
    case T_OUTPAINTING: return mask_region(m, t, v, &lim, ed);
    case T_VARIATION:
        ed->weight = bl_weight(1.0 - bl_value_number(v, "similarityStrength"));
        return IG_OK;
    case T_BACKGROUND:
        ed->region = bl_region_subject(&ed->image, 1);
        return ed->region ? IG_OK : bl_violation(m, "#/%s: out of memory", t->params);
    }
    return IG_OK;
}

static bl_edit_op op_of(task_kind k)
{
    return k == T_VARIATION ? BL_EDIT_BLEND : k == T_BACKGROUND ? BL_EDIT_CUT_OUT
                                                                : BL_EDIT_FILL_REGION;
}

static void digest(const bl_model *model, const task_info *t, const bl_values *v, uint64_t seed,
                   bl_edit *ed)
{
    static const char *const texts[] = {"text", "negativeText", "maskPrompt"};
    const char *parts[6];
    size_t lens[6], n = 0;
    char seed_text[24];
    parts[n] = model->id;
    lens[n++] = strlen(model->id);
    parts[n] = t->task;
    lens[n++] = strlen(t->task);
    lens[n] = (size_t)snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    parts[n++] = seed_text;
    for (size_t i = 0; i < 3; i++)
        parts[n] = bl_value_text(v, texts[i], &lens[n]), n++;
    bl_edit_digest(ed, parts, lens, n);
}

/* The member tables of one call (the checked values point at them). */
typedef struct {
    bl_member params[10];
    bl_member config[8];
} member_tables;

/* The envelope: taskType, the params object, imageGenerationConfig (not with
 * BACKGROUND_REMOVAL). */
static ig_err check_envelope(bl_msg *m, const bl_model *model, const task_info *t,
                             const json_t *body, member_tables *tables, bl_values *params,
                             bl_values *config)
{
    const char *keys[] = {"taskType", t->params,
                          t->kind == T_BACKGROUND ? NULL : "imageGenerationConfig", NULL};
    bl_member *p = tables->params, *c = tables->config;
    bl_amazon_limits lim;
    bl_amazon_limits_of(model, &lim);
    params_members(t->kind, model, lim.text_max, p);
    if (t->kind == T_BACKGROUND)
        c[0] = (bl_member){NULL, BL_MEMBER_TEXT, 0, 0, 0, 0, NULL};
    else
        config_members(model, &lim, c);
    ig_err e = bl_check_keys(m, body, "#", keys);
    if (!e && !json_object_get(body, t->params))
        e = bl_violation(m, "#: required key [%s] not found", t->params);
    char path[64];
    snprintf(path, sizeof path, "#/%s", t->params);
    if (!e)
        e = bl_check_members(m, json_object_get(body, t->params), path, p, params);
    json_t *empty = json_object(); /* an absent config is an empty one: every default */
    const json_t *cfg = json_object_get(body, "imageGenerationConfig");
    if (!e && !cfg && !empty)
        e = bl_violation(m, "#: out of memory");
    if (!e)
        e = bl_check_members(m, cfg ? cfg : empty, "#/imageGenerationConfig", c, config);
    json_decref(empty);
    return e;
}

ig_err bl_amazon_edit_validate(bl_msg *m, const bl_model *model, const char *task,
                               const json_t *body, bl_job *job)
{
    const task_info *t = NULL;
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        if (strcmp(tasks[i].task, task) == 0)
            t = &tasks[i];
    member_tables tables;
    bl_values params, config;
    ig_err e = t ? check_envelope(m, model, t, body, &tables, &params, &config)
                 : bl_violation(m, "#/taskType: %s is not an edit task", task);
    bl_edit *ed = e ? NULL : bl_edit_new(op_of(t->kind));
    if (!e && !ed)
        e = bl_violation(m, "#: out of memory");
    if (!e)
        e = build_edit(m, model, t, &params, ed);
    if (e) {
        bl_edit_free(ed);
        return e;
    }
    job->text = bl_value_text(&params, "text", &job->text_len);
    job->seed = (uint64_t)bl_value_number(&config, "seed");
    job->count = t->kind == T_BACKGROUND ? 1 : (unsigned)bl_value_number(&config, "numberOfImages");
    job->width = ed->out_w;
    job->height = ed->out_h;
    job->format = PROCPNG_PNG;
    digest(model, t, &params, job->seed, ed);
    job->edit = ed;
    return IG_OK;
}
