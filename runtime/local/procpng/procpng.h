/* procpng.h - procedural pictures standing in for a text-to-image model's output.
 *
 * bedrock-local must answer with real PNGs of the requested size that differ visibly from
 * one prompt, seed or image index to the next, are reproducible, and weigh what a real
 * model's output weighs (about 1.4 MB at 1024x1024) so that benchmarks move realistic bytes.
 * These are not AI pictures: a SHA-256 of the inputs picks a palette, a scene (landscape,
 * bubbles, waves, blocks, rings) and its geometry; a fine per-pixel grain gives the weight.
 */
#ifndef PROCPNG_H
#define PROCPNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define PROCPNG_MAX_SIDE 4096u

typedef struct {
    const char *prompt;  /* any bytes; only its hash is used */
    size_t prompt_len;
    uint64_t seed;
    unsigned width;      /* 1 .. PROCPNG_MAX_SIDE */
    unsigned height;     /* 1 .. PROCPNG_MAX_SIDE */
    unsigned index;      /* which image of a multi-image answer */
} procpng_spec;

/* The scenes, for logs and tests. */
typedef enum {
    PROCPNG_LANDSCAPE,
    PROCPNG_BUBBLES,
    PROCPNG_WAVES,
    PROCPNG_BLOCKS,
    PROCPNG_RINGS,
    PROCPNG_SCENE_COUNT
} procpng_scene;

const char *procpng_scene_name(procpng_scene scene);
/* The scene a spec will draw. */
procpng_scene procpng_scene_of(const procpng_spec *spec);

/* Draws the picture into rgb (width * height * 3 bytes, rows top to bottom). */
ig_err procpng_render_rgb(const procpng_spec *spec, unsigned char *rgb, ig_error *err);

/* Draws and encodes: appends the PNG to out. */
ig_err procpng_render_png(const procpng_spec *spec, ig_buf *out, ig_error *err);

/* The encodings a picture can be delivered in (a model's output_format). */
typedef enum { PROCPNG_PNG, PROCPNG_JPEG, PROCPNG_WEBP } procpng_format;

/* "png", "jpeg", "webp". */
const char *procpng_format_name(procpng_format format);

/* Draws and encodes in the given format: appends the file to out. */
ig_err procpng_render(const procpng_spec *spec, procpng_format format, ig_buf *out, ig_error *err);

#endif
