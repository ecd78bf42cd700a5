/* options.h - a local program's command line as data: a table of options, one entry each.
 *
 * Every program of the local stack (imagegen-gateway, bedrock-local, s3-verify) describes its
 * flags in such a table: the name ("port" for --port), whether it takes a value, the
 * environment variable that may set it too, and the function that checks and stores a value.
 * One parser reads them all the same way:
 *
 *   - variables first, in table order; then the flags, which win ("--name value" or
 *     "--name=value"; a switch takes no value);
 *   - "--help" or "-h" stops with LO_HELP;
 *   - "--" ends the flags when the program takes a command after them (see lo_parse);
 *   - a refusal is one sentence naming what the user typed: "unknown option \"--x\" (see
 *     --help)", "--port needs a value", "--no-verify takes no value", or the apply function's
 *     own ("--port must be a whole number from 0 to 65535, not \"x\"").
 */
#ifndef LO_OPTIONS_H
#define LO_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* How one value reached the program, for the apply function and its messages. */
typedef struct lo_option lo_option;
typedef struct {
    const lo_option *opt;
    const char *as; /* what the user wrote: "--port" or "IMAGEGEN_PORT" */
    int from_env;   /* 1 when it came from the environment */
} lo_source;

/* Checks and stores value (NULL for a switch) in target; a sentence in err on refusal. */
typedef ig_err (*lo_apply_fn)(void *target, const lo_source *src, const char *value, ig_error *err);

enum {
    LO_VALUE = 1u << 0,     /* takes a value; without it the option is a switch */
    LO_ENV_EMPTY = 1u << 1, /* an empty variable counts (it sets an empty value) */
};

struct lo_option {
    const char *name;  /* the flag without "--" */
    unsigned flags;    /* LO_VALUE, LO_ENV_EMPTY */
    const char *env;   /* the variable that sets it too, or NULL */
    lo_apply_fn apply;
    intptr_t arg;      /* the apply function's own datum (a field, a kind) */
};

typedef enum { LO_RUN, LO_HELP, LO_ERROR } lo_outcome;

/* Applies the table's variables, then argv[1..argc). command: NULL when the program takes no
 * command; else "--" ends the flags and *command is the index of the word after it (-1 when
 * there is no "--"). */
lo_outcome lo_parse(const lo_option *table, size_t n, void *target, int argc, char **argv, int *command,
                    ig_error *err);

/* Value checks the programs share: a whole number in [min, max]. */
ig_err lo_whole_number(const lo_source *src, const char *value, long long min, long long max, long long *out,
                       ig_error *err);

/* An apply function for a port on 127.0.0.1 (0 to 65535; 0: any free one), stored in the
 * unsigned at the option's arg (an offset in the target). */
ig_err lo_apply_port(void *target, const lo_source *src, const char *value, ig_error *err);

/* An apply function for an AWS region ("us-east-1": 1 to 63 of a-z, 0-9 and '-'), stored in
 * the char[LO_REGION_MAX] at the option's arg (an offset in the target). */
#define LO_REGION_MAX 64
ig_err lo_apply_region(void *target, const lo_source *src, const char *value, ig_error *err);

#endif
