/* answer.h - the 200 bodies of InvokeModel, in each family's shape, with the
 * pictures drawn (or taken from the cache) and base64-encoded in place.
 *
 *   Titan, Nova:  {"images": ["<base64 PNG>", ...]}, and when the output filter withheld some:
 *                 {"images": [...one fewer...], "error": "This request has been blocked ..."}
 *   Stability:    {"seeds": [s], "finish_reasons": [null], "images": ["<base64>"]}, or with a
 *                 reason ("Filter reason: output image", "Inference error") and no image;
 *                 a prompt the content filter blocked: {"finish_reasons": ["Filter reason: prompt"]}
 */
#ifndef BEDROCK_LOCAL_ANSWER_H
#define BEDROCK_LOCAL_ANSWER_H

#include "models.h"
#include "exchange.h"

#define BL_REASON_PROMPT "Filter reason: prompt"
#define BL_REASON_OUTPUT "Filter reason: output image"
#define BL_REASON_INFERENCE "Inference error"

/* Titan's or Nova's answer for job; the last `withheld` pictures are left out (and named in
 * "error"). Appends to body; counts pictures and cache hits in trace and the stats. */
ig_err bl_answer_amazon(bl_server *s, const bl_target *t, const bl_job *job, unsigned withheld,
                        ig_buf *body, bl_trace *trace, ig_error *err);

/* A Stability answer for job: its picture when reason is NULL, else that finish reason and no
 * picture. */
ig_err bl_answer_stability(bl_server *s, const bl_target *t, const bl_job *job,
                           const char *reason, ig_buf *body, bl_trace *trace, ig_error *err);

/* Stability's answer to a prompt its content filter blocked. */
ig_err bl_answer_stability_prompt_filtered(ig_buf *body);

#endif
