/* amazon.c - Titan Image Generator G1 (v1, v2) and Nova Canvas: the
 * text-to-image body rules.
 *
 *   {"taskType": "TEXT_IMAGE",
 *    "textToImageParams": {"text": "...", "negativeText": "...", ...},
 *    "imageGenerationConfig": {"numberOfImages": 1, "width": 1024, "height": 1024,
 *                              "cfgScale": 8, "seed": 42, "quality": "standard"}}
 *
 * The edit task types (INPAINTING, OUTPAINTING, IMAGE_VARIATION, BACKGROUND_REMOVAL) are
 * checked by amazon_edit.c; COLOR_GUIDED_GENERATION and VIRTUAL_TRY_ON are refused with a
 * sentence that says they are not implemented. The answers are always PNG.
 */
#include <stdio.h>
#include <string.h>

#include "families.h"
#include "codec/base64.h"
#include "codec/image.h"

/* Titan Image Generator G1: the only sizes it accepts (25 pairs, width x height). */
static const unsigned titan_sizes[][2] = {
    {1024, 1024}, {768, 768},   {512, 512},                                    /* square */
    {768, 1152},  {384, 576},   {768, 1280}, {384, 640}, {896, 1152},          /* portrait */
    {448, 576},   {768, 1408},  {384, 704},  {640, 1408}, {320, 704},
    {1152, 768},  {576, 384},   {1280, 768}, {640, 384}, {1152, 896},          /* landscape */
    {576, 448},   {1408, 768},  {704, 384},  {1408, 640}, {704, 320},
    {1152, 640},  {1173, 640},
};

size_t bl_titan_sizes(const unsigned (**sizes)[2])
{
    *sizes = titan_sizes;
    return sizeof titan_sizes / sizeof titan_sizes[0];
}

/* ---- the rules per family ---- */

typedef struct {
    const char *const *task_types;   /* every task type the model knows */
    const char *const *text_keys;    /* keys allowed in textToImageParams */
    const char *const *config_keys;  /* keys allowed in imageGenerationConfig */
    unsigned text_max;
    int has_style;
    int has_conditioning;
    double cfg_default;
    int64_t seed_max;
    int64_t seed_default;
    int size_default;                /* default width and height */
} bl_rules;

static const char *const titan_v1_tasks[] = {"TEXT_IMAGE", "INPAINTING", "OUTPAINTING",
                                             "IMAGE_VARIATION", NULL};
static const char *const titan_v2_tasks[] = {"TEXT_IMAGE", "INPAINTING", "OUTPAINTING",
                                             "IMAGE_VARIATION", "COLOR_GUIDED_GENERATION",
                                             "BACKGROUND_REMOVAL", NULL};
static const char *const nova_tasks[] = {"TEXT_IMAGE", "INPAINTING", "OUTPAINTING",
                                         "IMAGE_VARIATION", "COLOR_GUIDED_GENERATION",
                                         "BACKGROUND_REMOVAL", "VIRTUAL_TRY_ON", NULL};
static const char *const titan_v1_text_keys[] = {"text", "negativeText", NULL};
static const char *const titan_v2_text_keys[] = {"text", "negativeText", "conditionImage",
                                                 "controlMode", "controlStrength", NULL};
static const char *const nova_text_keys[] = {"text", "negativeText", "style", "conditionImage",
                                             "controlMode", "controlStrength", NULL};
static const char *const config_keys[] = {"numberOfImages", "width", "height", "cfgScale",
                                          "seed", "quality", NULL};
static const char *const top_keys[] = {"taskType", "textToImageParams", "imageGenerationConfig",
                                       NULL};
static const char *const qualities[] = {"standard", "premium", NULL};
static const char *const control_modes[] = {"CANNY_EDGE", "SEGMENTATION", NULL};
static const char *const nova_styles[] = {"3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH",
                                          "FLAT_VECTOR_ILLUSTRATION", "GRAPHIC_NOVEL_ILLUSTRATION",
                                          "MAXIMALISM", "MIDCENTURY_RETRO", "PHOTOREALISM",
                                          "SOFT_DIGITAL_PAINTING", NULL};

/* Titan's seed: 0 to 2^31-1, as AWS's Titan samples draw it (randint(0, 2147483647)). */
static const bl_rules titan_v1_rules = {titan_v1_tasks, titan_v1_text_keys, config_keys, 512, 0, 0,
                                        8.0, 2147483647, 42, 1408};
static const bl_rules titan_v2_rules = {titan_v2_tasks, titan_v2_text_keys, config_keys, 512, 0, 1,
                                        8.0, 2147483647, 42, 1408};
/* Nova's seed: the documented table says 2,147,483,646, AWS's own sample code 858,993,459;
 * the lower bound is the one both sources accept. */
static const bl_rules nova_rules = {nova_tasks, nova_text_keys, config_keys, 1024, 1, 1,
                                    6.5, 858993459, 12, 1024};

static const bl_rules *rules_of(const bl_model *m)
{
    switch (m->family) {
    case BL_TITAN_V1: return &titan_v1_rules;
    case BL_TITAN_V2: return &titan_v2_rules;
    default: return &nova_rules;
    }
}

/* ---- the parts of a text-to-image body ---- */

void bl_amazon_limits_of(const bl_model *model, bl_amazon_limits *out)
{
    const bl_rules *r = rules_of(model);
    out->text_max = r->text_max;
    out->cfg_default = r->cfg_default;
    out->seed_max = r->seed_max;
    out->seed_default = r->seed_default;
}

/* The task types implemented here besides TEXT_IMAGE (amazon_edit.c). */
static const char *const edit_tasks[] = {"INPAINTING", "OUTPAINTING", "IMAGE_VARIATION",
                                         "BACKGROUND_REMOVAL", NULL};

/* *task is the task type, one the model knows and bedrock-local implements. */
static ig_err check_task_type(bl_msg *m, const json_t *body, const bl_rules *r, const char **task)
{
    const json_t *t;
    ig_err e = bl_get_string(m, body, "#", "taskType", 1, &t);
    if (e)
        return e;
    e = bl_check_enum(m, t, "#", "taskType", r->task_types);
    if (e)
        return e;
    *task = json_string_value(t);
    if (strcmp(*task, "TEXT_IMAGE") != 0 && !bl_in_list(edit_tasks, *task))
        return bl_violation(m, "#/taskType: %s is not supported by this endpoint; only TEXT_IMAGE, "
                               "INPAINTING, OUTPAINTING, IMAGE_VARIATION and BACKGROUND_REMOVAL are",
                            *task);
    return IG_OK;
}

/* conditionImage: base64 of a PNG or JPEG; required once controlMode or controlStrength is set. */
static ig_err check_conditioning(bl_msg *m, const json_t *params, const char *path)
{
    const json_t *image, *mode;
    double strength = 0.7;
    ig_err e = bl_get_string(m, params, path, "conditionImage", 0, &image);
    if (!e)
        e = bl_get_string(m, params, path, "controlMode", 0, &mode);
    if (!e && mode)
        e = bl_check_enum(m, mode, path, "controlMode", control_modes);
    if (!e)
        e = bl_get_number(m, params, path, "controlStrength", 0.0, 1.0, &strength);
    if (e)
        return e;
    if (!image && (mode || json_object_get(params, "controlStrength")))
        return bl_violation(m, "%s: required key [conditionImage] not found", path);
    if (!image)
        return IG_OK;
    ig_buf raw;
    ig_buf_init(&raw, 0);
    ig_error berr;
    e = ig_base64_decode_buf(json_string_value(image), json_string_length(image), &raw, &berr);
    if (e) {
        ig_buf_free(&raw);
        return bl_violation(m, "%s/conditionImage: not valid base64 (%s)", path, berr.message);
    }
    ig_image_type t = ig_image_sniff(raw.data, raw.len, NULL, NULL);
    ig_buf_free(&raw);
    if (t == IG_IMAGE_UNKNOWN)
        return bl_violation(m, "%s/conditionImage: the image is neither a PNG nor a JPEG", path);
    return IG_OK;
}

static ig_err check_text_params(bl_msg *m, const json_t *body, const bl_rules *r, bl_job *job)
{
    static const char path[] = "#/textToImageParams";
    const json_t *params = json_object_get(body, "textToImageParams");
    if (!params)
        return bl_violation(m, "#: required key [textToImageParams] not found");
    const json_t *text, *negative, *style;
    ig_err e = bl_check_object(m, params, path);
    if (!e)
        e = bl_check_keys(m, params, path, r->text_keys);
    if (!e)
        e = bl_get_string(m, params, path, "text", 1, &text);
    if (!e)
        e = bl_check_length(m, text, path, "text", 1, r->text_max);
    if (!e)
        e = bl_get_string(m, params, path, "negativeText", 0, &negative);
    if (!e && negative)
        e = bl_check_length(m, negative, path, "negativeText", 1, r->text_max);
    if (!e && r->has_style) {
        e = bl_get_string(m, params, path, "style", 0, &style);
        if (!e && style)
            e = bl_check_enum(m, style, path, "style", nova_styles);
    }
    if (!e && r->has_conditioning)
        e = check_conditioning(m, params, path);
    if (e)
        return e;
    job->text = json_string_value(text);
    job->text_len = json_string_length(text);
    return IG_OK;
}

static int titan_size_ok(int64_t w, int64_t h)
{
    for (size_t i = 0; i < sizeof titan_sizes / sizeof titan_sizes[0]; i++)
        if (titan_sizes[i][0] == w && titan_sizes[i][1] == h)
            return 1;
    return 0;
}

static ig_err check_titan_size(bl_msg *m, const char *path, int64_t w, int64_t h, int defaulted)
{
    if (titan_size_ok(w, h))
        return IG_OK;
    char list[512];
    size_t used = 0;
    for (size_t i = 0; i < sizeof titan_sizes / sizeof titan_sizes[0] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%ux%u", i ? ", " : "",
                                 titan_sizes[i][0], titan_sizes[i][1]);
    return bl_violation(m, "%s: %lldx%lld (width x height%s) is not a supported image size; supported: %s",
                     path, (long long)w, (long long)h,
                     defaulted ? ", 1408 when omitted" : "", list);
}

/* Nova Canvas: each side 320..4096 and a multiple of 16, aspect ratio within 1:4..4:1, fewer
 * than 4,194,304 pixels. */
static ig_err check_nova_size(bl_msg *m, const char *path, int64_t w, int64_t h)
{
    if (w % 16 || h % 16)
        return bl_violation(m, "%s: width and height must be divisible by 16, got %lldx%lld", path,
                         (long long)w, (long long)h);
    if (w > 4 * h || h > 4 * w)
        return bl_violation(m, "%s: the aspect ratio of %lldx%lld is outside 1:4 to 4:1", path,
                         (long long)w, (long long)h);
    if (w * h >= 4194304)
        return bl_violation(m, "%s: %lldx%lld has %lld pixels; the total must be less than 4194304",
                         path, (long long)w, (long long)h, (long long)(w * h));
    return IG_OK;
}

static ig_err check_generation_config(bl_msg *m, const json_t *body, const bl_rules *r,
                                      const bl_model *model, bl_job *job)
{
    static const char path[] = "#/imageGenerationConfig";
    const json_t *cfg = json_object_get(body, "imageGenerationConfig");
    int64_t count = 1, seed = r->seed_default, w = r->size_default, h = r->size_default;
    double cfg_scale = r->cfg_default;
    int64_t side_lo = 320; /* the smallest side either family accepts */
    int64_t side_hi = model->family == BL_NOVA_CANVAS ? 4096 : 1408;
    ig_err e = IG_OK;
    if (cfg) {
        const json_t *quality;
        e = bl_check_object(m, cfg, path);
        if (!e)
            e = bl_check_keys(m, cfg, path, r->config_keys);
        if (!e)
            e = bl_get_int(m, cfg, path, "numberOfImages", 1, 5, &count);
        if (!e)
            e = bl_get_int(m, cfg, path, "width", side_lo, side_hi, &w);
        if (!e)
            e = bl_get_int(m, cfg, path, "height", side_lo, side_hi, &h);
        if (!e)
            e = bl_get_number(m, cfg, path, "cfgScale", 1.1, 10.0, &cfg_scale);
        if (!e)
            e = bl_get_int(m, cfg, path, "seed", 0, r->seed_max, &seed);
        if (!e)
            e = bl_get_string(m, cfg, path, "quality", 0, &quality);
        if (!e && quality)
            e = bl_check_enum(m, quality, path, "quality", qualities);
        if (e)
            return e;
    }
    if (model->family == BL_NOVA_CANVAS)
        e = check_nova_size(m, path, w, h);
    else
        e = check_titan_size(m, path, w, h,
                             !cfg || !json_object_get(cfg, "width") || !json_object_get(cfg, "height"));
    if (e)
        return e;
    job->count = (unsigned)count;
    job->seed = (uint64_t)seed;
    job->width = (unsigned)w;
    job->height = (unsigned)h;
    return IG_OK;
}


ig_err bl_amazon_validate(bl_msg *m, const bl_model *model, const json_t *body, bl_job *job)
{
    const bl_rules *r = rules_of(model);
    const char *task = "TEXT_IMAGE";
    ig_err e = bl_check_object(m, body, "#");
    if (!e)
        e = check_task_type(m, body, r, &task);
    if (!e && strcmp(task, "TEXT_IMAGE") != 0)
        return bl_amazon_edit_validate(m, model, task, body, job);
    if (!e)
        e = bl_check_keys(m, body, "#", top_keys);
    if (!e)
        e = check_text_params(m, body, r, job);
    if (!e)
        e = check_generation_config(m, body, r, model, job);
    if (!e)
        job->format = PROCPNG_PNG;
    return e;
}
