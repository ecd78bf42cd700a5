/* models.c - the model catalogue: ids, families, the regions that serve them,
 * their cross-region inference profiles, and which family's rules check a body.
 *
 * The image services' ids, profiles and regions are docs/edit-services.md's: each is invoked as
 * "us." + id from us-east-1, us-east-2 or us-west-2; the bare id is not invokable on demand. */
#include "models.h"

#include <stdio.h>
#include <string.h>

#include "edit.h"
#include "families.h"

/* The regions bedrock-local can stand for, as bits. */
enum { US_EAST_1 = 1u << 0, US_EAST_2 = 1u << 1, US_WEST_2 = 1u << 2 };

/* Where the US cross-region inference profiles ("us." ids) can be called from. */
#define PROFILE_REGIONS (US_EAST_1 | US_EAST_2 | US_WEST_2)

/* An image service: exists in the profile's regions, invoked only through the profile. */
#define SERVICE(name) {"stability." name, "us.stability." name, BL_STABILITY_SERVICE, PROFILE_REGIONS, 1}

static const bl_model bl_models[] = {
    {"amazon.titan-image-generator-v1", NULL, BL_TITAN_V1, US_EAST_1 | US_WEST_2, 0},
    {"amazon.titan-image-generator-v1:0", NULL, BL_TITAN_V1, US_EAST_1 | US_WEST_2, 0},
    {"amazon.titan-image-generator-v2:0", NULL, BL_TITAN_V2, US_EAST_1, 0},
    {"amazon.nova-canvas-v1:0", NULL, BL_NOVA_CANVAS, US_EAST_1, 0},
    {"stability.sd3-5-large-v1:0", "us.stability.sd3-5-large-v1:0", BL_STABILITY, US_WEST_2, 0},
    {"stability.stable-image-core-v1:1", "us.stability.stable-image-core-v1:1", BL_STABILITY,
     US_WEST_2, 0},
    {"stability.stable-image-ultra-v1:1", "us.stability.stable-image-ultra-v1:1", BL_STABILITY,
     US_WEST_2, 0},
    SERVICE("stable-image-inpaint-v1:0"),
    SERVICE("stable-outpaint-v1:0"),
    SERVICE("stable-image-erase-object-v1:0"),
    SERVICE("stable-image-search-replace-v1:0"),
    SERVICE("stable-image-search-recolor-v1:0"),
    SERVICE("stable-image-remove-background-v1:0"),
    SERVICE("stable-fast-upscale-v1:0"),
    SERVICE("stable-conservative-upscale-v1:0"),
    SERVICE("stable-creative-upscale-v1:0"),
    SERVICE("stable-image-style-guide-v1:0"),
    SERVICE("stable-style-transfer-v1:0"),
    SERVICE("stable-image-control-sketch-v1:0"),
    SERVICE("stable-image-control-structure-v1:0"),
};
#define N_MODELS (sizeof bl_models / sizeof bl_models[0])

static unsigned region_bit(const char *region)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"us-east-1", US_EAST_1}, {"us-east-2", US_EAST_2}, {"us-west-2", US_WEST_2}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(region, known[i].name) == 0)
            return known[i].bit;
    return 0;
}

static int find_foundation(const char *id, unsigned region, bl_target *out)
{
    for (size_t i = 0; i < N_MODELS; i++) {
        if ((bl_models[i].regions & region) && strcmp(id, bl_models[i].id) == 0) {
            *out = (bl_target){&bl_models[i], bl_models[i].id};
            return 1;
        }
    }
    return 0;
}

static int find_profile(const char *id, unsigned region, bl_target *out)
{
    if (!(region & PROFILE_REGIONS))
        return 0;
    for (size_t i = 0; i < N_MODELS; i++) {
        if (bl_models[i].profile_id && strcmp(id, bl_models[i].profile_id) == 0) {
            *out = (bl_target){&bl_models[i], bl_models[i].profile_id};
            return 1;
        }
    }
    return 0;
}

/* After "arn:aws:bedrock:<region>:", an account id: 12 digits and a ':'. */
static const char *skip_account(const char *p)
{
    for (int i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return NULL;
    return p[12] == ':' ? p + 13 : NULL;
}

int bl_model_find(const char *model_id, const char *region, bl_target *out)
{
    static const char arn_head[] = "arn:aws:bedrock:";
    static const char foundation[] = ":foundation-model/";
    static const char profile[] = "inference-profile/";
    unsigned bit = region_bit(region);
    size_t rlen = strlen(region);
    if (strncmp(model_id, arn_head, sizeof arn_head - 1) != 0)
        return find_foundation(model_id, bit, out) || find_profile(model_id, bit, out);
    const char *r = model_id + sizeof arn_head - 1;
    if (strncmp(r, region, rlen) != 0 || r[rlen] != ':')
        return 0;
    const char *rest = r + rlen + 1; /* the account id ("" for foundation models), ':', resource */
    if (strncmp(rest, foundation, sizeof foundation - 1) == 0)
        return find_foundation(rest + sizeof foundation - 1, bit, out);
    const char *resource = skip_account(rest);
    if (resource && strncmp(resource, profile, sizeof profile - 1) == 0)
        return find_profile(resource + sizeof profile - 1, bit, out);
    return 0;
}

json_t *bl_models_served(const char *region)
{
    unsigned bit = region_bit(region);
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < N_MODELS; i++)
        if ((bl_models[i].regions & bit) && !bl_models[i].profile_only)
            json_array_append_new(ids, json_string(bl_models[i].id));
    for (size_t i = 0; ids && i < N_MODELS && (bit & PROFILE_REGIONS); i++)
        if (bl_models[i].profile_id)
            json_array_append_new(ids, json_string(bl_models[i].profile_id));
    return ids;
}

int bl_model_is_stability(const bl_model *m)
{
    return m->family == BL_STABILITY || m->family == BL_STABILITY_SERVICE;
}

int bl_target_needs_profile(const bl_target *t)
{
    return t->model->profile_only && t->id == t->model->id;
}

void bl_job_release(bl_job *job)
{
    bl_edit_free(job->edit);
    job->edit = NULL;
}

ig_err bl_model_validate(const bl_model *model, const json_t *body, bl_job *job, char *message,
                         size_t message_size)
{
    bl_msg m = {message, message_size};
    memset(job, 0, sizeof *job);
    job->text = "";
    ig_err e;
    if (model->family == BL_STABILITY_SERVICE)
        e = bl_service_validate(&m, model->id, NULL, body, job);
    else if (model->family == BL_STABILITY)
        e = bl_stability_validate(&m, model, body, job);
    else
        e = bl_amazon_validate(&m, model, body, job);
    if (e)
        bl_job_release(job);
    return e;
}

const char *bl_model_blocked_message(const bl_model *m)
{
    if (m->family == BL_NOVA_CANVAS)
        return "This request has been blocked by our content filters. Please adjust your text "
               "prompt to submit a new request.";
    return "This request has been blocked by our content filters. Our filters automatically "
           "flagged this prompt because it may conflict our AUP or AWS Responsible AI Policy. "
           "Please adjust your text prompt to submit a new request.";
}

const char *bl_model_output_filtered_message(const bl_model *m)
{
    if (m->family == BL_NOVA_CANVAS)
        return "This request has been blocked by our content filters. One or more generated "
               "images were withheld. Please adjust your text prompt to submit a new request.";
    return "This request has been blocked by our content filters. Our filters automatically "
           "flagged one or more generated images because they may conflict our AUP or AWS "
           "Responsible AI Policy. Please adjust your text prompt to submit a new request.";
}

void bl_model_malformed_json(const json_error_t *jerr, char *message, size_t message_size)
{
    bl_msg m = {message, message_size};
    bl_violation(&m, "#: the body is not valid JSON: %s (line %d, column %d)", jerr->text,
                 jerr->line, jerr->column);
}
