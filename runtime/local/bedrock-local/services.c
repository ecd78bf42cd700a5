/* services.c - Stability AI's image services on Bedrock (the thirteen edit and control models)
 * and SD3.5 Large's image-to-image mode: their bodies as member tables, and the edit each valid
 * body becomes.
 *
 * The members, ranges, defaults and input limits are docs/edit-services.md's (AWS's "Stability
 * AI Image Services" page unless it says otherwise). Where it leaves a choice open, the choice
 * made here is written next to the rule. Messages for unknown members, missing ones, wrong
 * types, lengths, ranges and enums are the schema messages Bedrock answers the text-to-image
 * models with (known); the image and cross-member sentences are bedrock-local's own (made up).
 *
 * Output sizes (AWS states only the fast upscale's; the others are bedrock-local's rule, which
 * docs/edit-services.md says the runtime must not predict):
 *   fast upscale                       4 w x 4 h
 *   conservative, creative upscale     the input's aspect ratio within 4 MP (bl_fit_pixels,
 *                                      4,194,304 pixels: 512x512 -> 2048x2048)
 *   image-to-image, style transfer     the input's (init_image's) aspect ratio within 1 MP
 *                                      (1,048,576 pixels)
 *   style guide                        aspect_ratio's size, as text-to-image (1:1 -> 1024x1024)
 *   outpaint                           (left + w + right) x (up + h + down)
 *   every other service                the input's size
 */
#include <stdio.h>
#include <string.h>

#include "edit.h"
#include "families.h"
#include "input.h"
#include "members.h"
#include "transform.h"

#define PROMPT_MAX 10000
#define SEED_MAX 4294967294.0
#define PIXELS_4MP 4194304u
#define PIXELS_1MP 1048576u

/* ---- shared member lists ---- */

static const char *const formats[] = {"png", "jpeg", "webp", NULL};
/* Remove background: png and webp only, the formats that carry alpha (edit-services.md,
 * "Sources disagree" 6: AWS lists jpeg too, Stability's own API does not). */
static const char *const alpha_formats[] = {"png", "webp", NULL};
static const char *const presets[] = {
    "3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
    "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk",
    "origami", "photographic", "pixel-art", "tile-texture", NULL};
static const char *const modes[] = {"text-to-image", "image-to-image", NULL};

#define PROMPT {"prompt", BL_MEMBER_TEXT, 1, 1, PROMPT_MAX, 0, NULL}
#define PROMPT_OPTIONAL {"prompt", BL_MEMBER_TEXT, 0, 0, PROMPT_MAX, 0, NULL}
#define NEGATIVE {"negative_prompt", BL_MEMBER_TEXT, 0, 0, PROMPT_MAX, 0, NULL}
#define IMAGE(name) {name, BL_MEMBER_IMAGE, 1, 0, 0, 0, NULL}
#define MASK {"mask", BL_MEMBER_IMAGE, 0, 0, 0, 0, NULL}
#define GROW_MASK {"grow_mask", BL_MEMBER_INT, 0, 0, 20, 5, NULL}
#define FRACTION(name, lo, def) {name, BL_MEMBER_NUMBER, 0, lo, 1, def, NULL}
#define STYLE_PRESET {"style_preset", BL_MEMBER_ENUM, 0, 0, 0, 0, presets}
#define SEED {"seed", BL_MEMBER_INT, 0, 0, SEED_MAX, 0, NULL}
#define FORMAT {"output_format", BL_MEMBER_ENUM, 0, 0, 0, 0, formats}
#define SIDE(name) {name, BL_MEMBER_INT, 0, 0, 2000, 0, NULL}
#define END {NULL, BL_MEMBER_TEXT, 0, 0, 0, 0, NULL}

static const bl_member inpaint[] = {PROMPT, NEGATIVE, IMAGE("image"), MASK, GROW_MASK,
                                    STYLE_PRESET, SEED, FORMAT, END};
static const bl_member outpaint[] = {PROMPT_OPTIONAL, IMAGE("image"), SIDE("left"),
                                     SIDE("right"), SIDE("up"), SIDE("down"),
                                     FRACTION("creativity", 0.1, 0.5), STYLE_PRESET, SEED, FORMAT,
                                     END};
static const bl_member erase[] = {IMAGE("image"), MASK, GROW_MASK, SEED, FORMAT, END};
static const bl_member search_replace[] = {
    PROMPT, {"search_prompt", BL_MEMBER_TEXT, 1, 1, PROMPT_MAX, 0, NULL}, NEGATIVE, IMAGE("image"),
    GROW_MASK, STYLE_PRESET, SEED, FORMAT, END};
static const bl_member search_recolor[] = {
    PROMPT, {"select_prompt", BL_MEMBER_TEXT, 1, 1, PROMPT_MAX, 0, NULL}, NEGATIVE, IMAGE("image"),
    GROW_MASK, STYLE_PRESET, SEED, FORMAT, END};
static const bl_member remove_background[] = {
    IMAGE("image"), {"output_format", BL_MEMBER_ENUM, 0, 0, 0, 0, alpha_formats}, END};
static const bl_member fast_upscale[] = {IMAGE("image"), FORMAT, END};
static const bl_member conservative_upscale[] = {
    PROMPT, NEGATIVE, IMAGE("image"), {"creativity", BL_MEMBER_NUMBER, 0, 0.1, 0.5, 0.35, NULL},
    SEED, FORMAT, END};
static const bl_member creative_upscale[] = {
    PROMPT, NEGATIVE, IMAGE("image"), {"creativity", BL_MEMBER_NUMBER, 0, 0.1, 0.5, 0.3, NULL},
    STYLE_PRESET, SEED, FORMAT, END};
static const bl_member style_guide[] = {
    PROMPT, NEGATIVE, IMAGE("image"),
    {"aspect_ratio", BL_MEMBER_ENUM, 0, 0, 0, 0, bl_stability_ratio_names},
    FRACTION("fidelity", 0, 0.5), STYLE_PRESET, SEED, FORMAT, END};
static const bl_member style_transfer[] = {
    PROMPT_OPTIONAL, NEGATIVE, IMAGE("init_image"), IMAGE("style_image"),
    FRACTION("style_strength", 0, 1), FRACTION("composition_fidelity", 0, 0.9),
    FRACTION("change_strength", 0.1, 0.9), SEED, FORMAT, END};
static const bl_member control[] = {PROMPT, NEGATIVE, IMAGE("image"),
                                    FRACTION("control_strength", 0, 0.7), STYLE_PRESET, SEED,
                                    FORMAT, END};
/* SD3.5 Large with mode "image-to-image": strength is required and has no default; aspect_ratio
 * is for text-to-image only, so it is an extraneous key here. */
static const bl_member image_to_image[] = {
    PROMPT, NEGATIVE, {"mode", BL_MEMBER_ENUM, 1, 0, 0, 0, modes}, IMAGE("image"),
    {"strength", BL_MEMBER_NUMBER, 1, 0, 1, 0, NULL}, SEED, FORMAT, END};

/* ---- input limits ---- */

#define ALL_FORMATS (BL_FORMAT_PNG | BL_FORMAT_JPEG | BL_FORMAT_WEBP)
/* "std limits": every side >= 64, at most 9,437,184 pixels, 1:2.5 .. 2.5:1. */
static const bl_image_limits std_limits = {ALL_FORMATS, 64, 0, 0, 9437184, 25, 0};
static const bl_image_limits fast_limits = {ALL_FORMATS, 32, 1536, 1024, 1048576, 0, 0};
static const bl_image_limits creative_limits = {ALL_FORMATS, 64, 0, 4096, 1048576, 0, 0};
/* SD3.5 image-to-image: AWS states the 64-pixel side only; the pixel bound is bedrock-local's
 * (the services' budget), so that a tiny file cannot ask for gigabytes of pixels. */
static const bl_image_limits sd35_limits = {ALL_FORMATS, 64, 0, 0, 9437184, 0, 0};

typedef enum {
    K_MASKED,     /* inpaint, erase: mask, else the image's alpha */
    K_OUTPAINT,
    K_SUBJECT,    /* search and replace: the subject is refilled */
    K_RECOLOR,    /* search and recolor: the subject is tinted */
    K_REMOVE_BG,
    K_FAST_UPSCALE,
    K_FIT_UPSCALE,
    K_STYLE_GUIDE,
    K_TRANSFER,
    K_CONTROL,
    K_IMAGE_TO_IMAGE,
} service_kind;

typedef struct {
    const char *id;
    const char *mode; /* SD3.5: the mode that selects this entry; NULL for the services */
    service_kind kind;
    const bl_member *members;
    const bl_image_limits *limits;
} service;

static const service services[] = {
    {"stability.stable-image-inpaint-v1:0", NULL, K_MASKED, inpaint, &std_limits},
    {"stability.stable-outpaint-v1:0", NULL, K_OUTPAINT, outpaint, &std_limits},
    {"stability.stable-image-erase-object-v1:0", NULL, K_MASKED, erase, &std_limits},
    {"stability.stable-image-search-replace-v1:0", NULL, K_SUBJECT, search_replace, &std_limits},
    {"stability.stable-image-search-recolor-v1:0", NULL, K_RECOLOR, search_recolor, &std_limits},
    {"stability.stable-image-remove-background-v1:0", NULL, K_REMOVE_BG, remove_background,
     &std_limits},
    {"stability.stable-fast-upscale-v1:0", NULL, K_FAST_UPSCALE, fast_upscale, &fast_limits},
    {"stability.stable-conservative-upscale-v1:0", NULL, K_FIT_UPSCALE, conservative_upscale,
     &std_limits},
    {"stability.stable-creative-upscale-v1:0", NULL, K_FIT_UPSCALE, creative_upscale,
     &creative_limits},
    {"stability.stable-image-style-guide-v1:0", NULL, K_STYLE_GUIDE, style_guide, &std_limits},
    {"stability.stable-style-transfer-v1:0", NULL, K_TRANSFER, style_transfer, &std_limits},
    {"stability.stable-image-control-sketch-v1:0", NULL, K_CONTROL, control, &std_limits},
    {"stability.stable-image-control-structure-v1:0", NULL, K_CONTROL, control, &std_limits},
    {"stability.sd3-5-large-v1:0", "image-to-image", K_IMAGE_TO_IMAGE, image_to_image,
     &sd35_limits},
};
#define N_SERVICES (sizeof services / sizeof services[0])

/* The entry for a model id and, for SD3.5, its mode (NULL for the services). */
static const service *find(const char *id, const char *mode)
{
    for (size_t i = 0; i < N_SERVICES; i++) {
        const char *want = services[i].mode;
        int same_mode = want && mode ? strcmp(want, mode) == 0 : want == mode;
        if (same_mode && strcmp(services[i].id, id) == 0)
            return &services[i];
    }
    return NULL;
}

/* ---- regions ---- */

/* inpaint, erase: the mask (white = edit) when given, else the image's alpha (transparent =
 * edit). A mask must have the image's size: Bedrock resizes one that does not
 * (edit-services.md), bedrock-local refuses it, as the edit contract does, so that "black is
 * kept" can be checked pixel for pixel. An image with neither is refused (not stated for
 * Bedrock; made up). */
static ig_err masked_region(bl_msg *m, const service *s, const bl_values *v, bl_edit *ed)
{
    const json_t *mask_text = bl_value(v, "mask");
    if (!mask_text && !ed->image.has_alpha)
        return bl_violation(m, "#: required key [mask] not found, and the image has no alpha "
                               "channel to take the mask from");
    if (!mask_text) {
        ed->region = bl_region_from_alpha(&ed->image);
        return ed->region ? IG_OK : bl_violation(m, "#/image: out of memory");
    }
    bl_pixels mask;
    bl_image_limits lim = bl_mask_limits(s->limits);
    ig_err e = bl_read_image(m, mask_text, "#/mask", &lim, &mask);
    if (!e)
        e = bl_check_same_size(m, "#/mask", &mask, &ed->image);
    if (!e && !(ed->region = bl_region_from_luma(&mask, 1)))
        e = bl_violation(m, "#/mask: out of memory");
    bl_pixels_free(&mask);
    return e;
}

static ig_err grow(bl_msg *m, const bl_values *v, bl_edit *ed)
{
    unsigned by = (unsigned)bl_value_number(v, "grow_mask");
    if (bl_region_grow(ed->region, ed->image.width, ed->image.height, by) != IG_OK)
        return bl_violation(m, "#/grow_mask: out of memory");
    return IG_OK;
}

static ig_err subject_region(bl_msg *m, const bl_values *v, bl_edit *ed, int background)
{
    ed->region = bl_region_subject(&ed->image, background);
    if (!ed->region)
        return bl_violation(m, "#/image: out of memory");
    return background ? IG_OK : grow(m, v, ed);
}

/* ---- the edit of each kind ---- */

static ig_err outpaint_sides(bl_msg *m, const bl_values *v, bl_edit *ed)
{
    ed->left = (unsigned)bl_value_number(v, "left");
    ed->right = (unsigned)bl_value_number(v, "right");
    ed->up = (unsigned)bl_value_number(v, "up");
    ed->down = (unsigned)bl_value_number(v, "down");
    if (ed->left + ed->right + ed->up + ed->down == 0) /* AWS: "at least one ... non-zero" */
        return bl_violation(m, "#: at least one of [left, right, up, down] must be greater "
                               "than 0");
    ed->out_w = ed->left + ed->image.width + ed->right;
    ed->out_h = ed->up + ed->image.height + ed->down;
    return IG_OK;
}

static ig_err shape(bl_msg *m, const service *s, const bl_values *v, bl_edit *ed)
{
    unsigned w = ed->image.width, h = ed->image.height;
    const char *ratio;
    size_t len;
    ed->out_w = w;
    ed->out_h = h;
    switch (s->kind) {
    case K_MASKED: {
        ig_err e = masked_region(m, s, v, ed);
        return e ? e : grow(m, v, ed);
    }
    case K_SUBJECT:
    case K_RECOLOR: return subject_region(m, v, ed, 0);
    case K_REMOVE_BG: return subject_region(m, v, ed, 1);
    case K_OUTPAINT: return outpaint_sides(m, v, ed);
    case K_FAST_UPSCALE:
        ed->out_w = 4 * w;
        ed->out_h = 4 * h;
        return IG_OK;
    case K_FIT_UPSCALE:
        bl_fit_pixels(w, h, PIXELS_4MP, &ed->out_w, &ed->out_h);
        ed->weight = bl_weight(bl_value_number(v, "creativity") / 2);
        return IG_OK;
    case K_STYLE_GUIDE:
        ratio = bl_value_text(v, "aspect_ratio", &len);
        bl_stability_ratio_size(len ? ratio : "1:1", &ed->out_w, &ed->out_h);
        ed->weight = bl_weight(1.0 - bl_value_number(v, "fidelity"));
        return IG_OK;
    case K_TRANSFER:
        bl_fit_pixels(w, h, PIXELS_1MP, &ed->out_w, &ed->out_h);
        ed->weight = bl_weight(bl_value_number(v, "style_strength"));
        ed->weight2 = bl_weight(bl_value_number(v, "change_strength") *
                                (1.0 - bl_value_number(v, "composition_fidelity")));
        return bl_read_image(m, bl_value(v, "style_image"), "#/style_image", s->limits,
                             &ed->second);
    case K_CONTROL:
        ed->weight = bl_weight(1.0 - bl_value_number(v, "control_strength"));
        return IG_OK;
    case K_IMAGE_TO_IMAGE:
        bl_fit_pixels(w, h, PIXELS_1MP, &ed->out_w, &ed->out_h);
        ed->weight = bl_weight(bl_value_number(v, "strength"));
        return IG_OK;
    }
    return IG_OK;
}

static bl_edit_op op_of(service_kind k)
{
    switch (k) {
    case K_MASKED:
    case K_SUBJECT: return BL_EDIT_FILL_REGION;
    case K_RECOLOR: return BL_EDIT_RECOLOR;
    case K_REMOVE_BG: return BL_EDIT_CUT_OUT;
    case K_OUTPAINT: return BL_EDIT_OUTPAINT;
    case K_FAST_UPSCALE:
    case K_FIT_UPSCALE: return BL_EDIT_UPSCALE;
    case K_TRANSFER: return BL_EDIT_TRANSFER;
    default: return BL_EDIT_BLEND;
    }
}

/* The digest behind the fill: the model, the seed, and every text and enum member. */
static void digest(const service *s, const bl_values *v, uint64_t seed, bl_edit *ed)
{
    const char *parts[BL_MEMBERS_MAX + 2];
    size_t lens[BL_MEMBERS_MAX + 2], n = 0;
    char seed_text[24];
    parts[n] = s->id;
    lens[n++] = strlen(s->id);
    lens[n] = (size_t)snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    parts[n++] = seed_text;
    for (size_t i = 0; s->members[i].name; i++) {
        bl_member_kind k = s->members[i].kind;
        if ((k == BL_MEMBER_TEXT || k == BL_MEMBER_ENUM) && v->value[i]) {
            parts[n] = json_string_value(v->value[i]);
            lens[n++] = json_string_length(v->value[i]);
        }
    }
    bl_edit_digest(ed, parts, lens, n);
}

static procpng_format format_of(const bl_values *v)
{
    size_t len;
    const char *f = bl_value_text(v, "output_format", &len);
    return strcmp(f, "jpeg") == 0 ? PROCPNG_JPEG : strcmp(f, "webp") == 0 ? PROCPNG_WEBP
                                                                           : PROCPNG_PNG;
}

static ig_err build(bl_msg *m, const service *s, const bl_values *v, bl_job *job)
{
    bl_edit *ed = bl_edit_new(op_of(s->kind));
    if (!ed)
        return bl_violation(m, "#: out of memory");
    const char *image_name = s->kind == K_TRANSFER ? "init_image" : "image";
    char path[32];
    snprintf(path, sizeof path, "#/%s", image_name);
    ig_err e = bl_read_image(m, bl_value(v, image_name), path, s->limits, &ed->image);
    if (!e)
        e = shape(m, s, v, ed);
    if (e) {
        bl_edit_free(ed);
        return e;
    }
    uint64_t seed = (uint64_t)bl_value_number(v, "seed");
    job->text = bl_value_text(v, "prompt", &job->text_len);
    job->seed = seed ? seed : bl_stability_seed(job->text, job->text_len);
    digest(s, v, job->seed, ed);
    job->format = format_of(v);
    job->width = ed->out_w;
    job->height = ed->out_h;
    job->count = 1;
    job->edit = ed;
    return IG_OK;
}

int bl_service_exists(const char *model_id, const char *mode)
{
    return find(model_id, mode) != NULL;
}

ig_err bl_service_validate(bl_msg *m, const char *model_id, const char *mode, const json_t *body,
                           bl_job *job)
{
    const service *s = find(model_id, mode);
    if (!s)
        return bl_violation(m, "#: %s has no body rules here", model_id);
    bl_values v;
    ig_err e = bl_check_members(m, body, "#", s->members, &v);
    return e ? e : build(m, s, &v, job);
}
