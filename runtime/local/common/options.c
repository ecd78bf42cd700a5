/* options.c - the one command-line parser of the local programs. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lo_option *find(const lo_option *table, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0)
            return &table[i];
    return NULL;
}

static ig_err apply_env(const lo_option *table, size_t n, void *target, ig_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const lo_option *o = &table[i];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (!v || (!*v && !(o->flags & LO_ENV_EMPTY)))
            continue;
        lo_source src = {o, o->env, 1};
        ig_err e = o->apply(target, &src, (o->flags & LO_VALUE) ? v : NULL, err);
        if (e)
            return e;
    }
    return IG_OK;
}

/* One flag at argv[*i]; advances *i past its value. */
static ig_err apply_flag(const lo_option *table, size_t n, void *target, int argc, char **argv, int *i,
                         ig_error *err)
{
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const lo_option *o = find(table, n, name, len);
    if (!o)
        return ig_error_set(err, IG_ERR_CONFIG, "unknown option \"--%.*s\" (see --help)", (int)(len < 64 ? len : 64),
                            name);
    char as[80];
    snprintf(as, sizeof as, "--%s", o->name);
    lo_source src = {o, as, 0};
    if (!(o->flags & LO_VALUE)) {
        if (eq)
            return ig_error_set(err, IG_ERR_CONFIG, "%s takes no value", as);
        return o->apply(target, &src, NULL, err);
    }
    if (eq)
        return o->apply(target, &src, eq + 1, err);
    if (*i + 1 >= argc)
        return ig_error_set(err, IG_ERR_CONFIG, "%s needs a value", as);
    (*i)++;
    return o->apply(target, &src, argv[*i], err);
}

lo_outcome lo_parse(const lo_option *table, size_t n, void *target, int argc, char **argv, int *command,
                    ig_error *err)
{
    if (command)
        *command = -1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return LO_HELP;
        else if (command && strcmp(argv[i], "--") == 0)
            break;
    if (apply_env(table, n, target, err))
        return LO_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (command && strcmp(arg, "--") == 0) {
            *command = i + 1;
            return LO_RUN;
        }
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            ig_error_set(err, IG_ERR_CONFIG, "unexpected argument \"%.64s\" (see --help)", arg);
            return LO_ERROR;
        }
        if (apply_flag(table, n, target, argc, argv, &i, err))
            return LO_ERROR;
    }
    return LO_RUN;
}

ig_err lo_whole_number(const lo_source *src, const char *value, long long min, long long max, long long *out,
                       ig_error *err)
{
    char *end = NULL;
    errno = 0;
    long long v = (value[0] >= '0' && value[0] <= '9') || value[0] == '-' ? strtoll(value, &end, 10) : 0;
    if (!end || end == value || *end || errno || v < min || v > max)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a whole number from %lld to %lld, not \"%.32s\"", src->as,
                            min, max, value);
    *out = v;
    return IG_OK;
}

ig_err lo_apply_port(void *target, const lo_source *src, const char *value, ig_error *err)
{
    long long n;
    ig_err e = lo_whole_number(src, value, 0, 65535, &n, err);
    if (!e)
        *(unsigned *)((char *)target + (size_t)src->opt->arg) = (unsigned)n;
    return e;
}

ig_err lo_apply_region(void *target, const lo_source *src, const char *value, ig_error *err)
{
    size_t n = strlen(value);
    int ok = n > 0 && n < LO_REGION_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (value[i] >= 'a' && value[i] <= 'z') || (value[i] >= '0' && value[i] <= '9') || value[i] == '-';
    if (!ok)
        return ig_error_set(err, IG_ERR_CONFIG,
                            "%s must be a region such as us-east-1 (1 to 63 of a-z, 0-9 and '-'), not \"%.64s\"",
                            src->as, value);
    snprintf((char *)target + (size_t)src->opt->arg, LO_REGION_MAX, "%s", value);
    return IG_OK;
}
