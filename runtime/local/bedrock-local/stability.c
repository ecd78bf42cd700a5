/* stability.c - SD3.5 Large, Stable Image Core and Stable Image Ultra: the
 * text-to-image body rules, the same for the three models.
 *
 *   {"prompt": "...", "negative_prompt": "...", "aspect_ratio": "16:9", "mode": "text-to-image",
 *    "seed": 0, "output_format": "png"}
 *
 * prompt is required (1 to 10,000 characters), everything else optional; unknown keys are
 * refused. There is no width, height or image count: one picture per call, whose size follows
 * the aspect ratio (the ~1-megapixel buckets below). A seed of 0 (or none) means "random":
 * here it is drawn from the prompt, so the same request gives the same picture, and reported.
 * SD3.5 Large's mode "image-to-image" takes other members (image, strength; no aspect_ratio):
 * its body goes to services.c. Core and Ultra take no image on Bedrock (docs/edit-services.md).
 */
#include <string.h>

#include "families.h"
#include "codec/hash.h"

#define PROMPT_MAX 10000
#define SEED_MAX 4294967294LL /* the bound all the models' pages accept */

static const char *const keys[] = {"prompt", "negative_prompt", "aspect_ratio", "mode", "seed",
                                   "output_format", NULL};
static const char *const modes[] = {"text-to-image", "image-to-image", NULL};
static const char *const formats[] = {"png", "jpeg", "webp", NULL};

/* The aspect_ratio enum, in the order Bedrock's pages list it, and the size drawn for each. */
const char *const bl_stability_ratio_names[] = {"16:9", "1:1", "21:9", "2:3", "3:2",
                                                "4:5",  "5:4", "9:16", "9:21", NULL};
static const struct {
    const char *ratio;
    unsigned width, height;
} ratios[] = {
    {"16:9", 1344, 768}, {"1:1", 1024, 1024}, {"21:9", 1536, 640}, {"2:3", 832, 1216},
    {"3:2", 1216, 832},  {"4:5", 896, 1088},  {"5:4", 1088, 896},  {"9:16", 768, 1344},
    {"9:21", 640, 1536},
};
#define N_RATIOS (sizeof ratios / sizeof ratios[0])

int bl_stability_ratio_size(const char *ratio, unsigned *w, unsigned *h)
{
    for (size_t i = 0; i < N_RATIOS; i++) {
        if (strcmp(ratios[i].ratio, ratio) == 0) {
            *w = ratios[i].width;
            *h = ratios[i].height;
            return 1;
        }
    }
    return 0;
}

/* mode is checked first, like Titan's taskType: an image-to-image body carries keys that a
 * text-to-image one may not. *image_to_image is set for SD3.5's image-to-image mode; Core and
 * Ultra are refused it (a sentence of bedrock-local's own). */
static ig_err check_mode(bl_msg *m, const bl_model *model, const json_t *body, int *image_to_image)
{
    const json_t *mode;
    *image_to_image = 0;
    ig_err e = bl_get_string(m, body, "#", "mode", 0, &mode);
    if (!e && mode)
        e = bl_check_enum(m, mode, "#", "mode", modes);
    if (e || !mode || strcmp(json_string_value(mode), "text-to-image") == 0)
        return e;
    if (!bl_service_exists(model->id, json_string_value(mode)))
        return bl_violation(m, "#/mode: %s is not supported by this model; only text-to-image is",
                            json_string_value(mode));
    *image_to_image = 1;
    return IG_OK;
}

static ig_err check_prompts(bl_msg *m, const json_t *body, bl_job *job)
{
    const json_t *prompt, *negative;
    ig_err e = bl_get_string(m, body, "#", "prompt", 1, &prompt);
    if (!e)
        e = bl_check_length(m, prompt, "#", "prompt", 1, PROMPT_MAX);
    if (!e)
        e = bl_get_string(m, body, "#", "negative_prompt", 0, &negative);
    if (!e && negative)
        e = bl_check_length(m, negative, "#", "negative_prompt", 0, PROMPT_MAX);
    if (e)
        return e;
    job->text = json_string_value(prompt);
    job->text_len = json_string_length(prompt);
    return IG_OK;
}

/* aspect_ratio: an enum whose values are the table above; 1:1 when absent. */
static ig_err check_ratio(bl_msg *m, const json_t *body, bl_job *job)
{
    const json_t *ratio;
    ig_err e = bl_get_string(m, body, "#", "aspect_ratio", 0, &ratio);
    if (e)
        return e;
    const char *want = ratio ? json_string_value(ratio) : "1:1";
    if (bl_stability_ratio_size(want, &job->width, &job->height))
        return IG_OK;
    return bl_violation(m, "#/aspect_ratio: %.*s is not a valid enum value", BL_ECHO_MAX, want);
}

static ig_err check_format(bl_msg *m, const json_t *body, bl_job *job)
{
    const json_t *format;
    ig_err e = bl_get_string(m, body, "#", "output_format", 0, &format);
    if (!e && format)
        e = bl_check_enum(m, format, "#", "output_format", formats);
    if (e)
        return e;
    const char *f = format ? json_string_value(format) : "png";
    job->format = strcmp(f, "jpeg") == 0 ? PROCPNG_JPEG
                  : strcmp(f, "webp") == 0 ? PROCPNG_WEBP
                                           : PROCPNG_PNG;
    return IG_OK;
}

/* "Random" made reproducible: 1 .. SEED_MAX from a digest of the prompt. */
uint64_t bl_stability_seed(const char *text, size_t len)
{
    unsigned char d[32];
    ig_sha256(len ? text : "", len, d);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | d[i];
    return 1 + v % (uint64_t)SEED_MAX;
}

ig_err bl_stability_validate(bl_msg *m, const bl_model *model, const json_t *body, bl_job *job)
{
    int64_t seed = 0;
    int image_to_image = 0;
    ig_err e = bl_check_object(m, body, "#");
    if (!e)
        e = check_mode(m, model, body, &image_to_image);
    if (!e && image_to_image)
        return bl_service_validate(m, model->id, "image-to-image", body, job);
    if (!e)
        e = bl_check_keys(m, body, "#", keys);
    if (!e)
        e = check_prompts(m, body, job);
    if (!e)
        e = check_ratio(m, body, job);
    if (!e)
        e = bl_get_int(m, body, "#", "seed", 0, SEED_MAX, &seed);
    if (!e)
        e = check_format(m, body, job);
    if (e)
        return e;
    job->seed = seed ? (uint64_t)seed : bl_stability_seed(job->text, job->text_len);
    job->count = 1;
    return IG_OK;
}
