/* ini.c - the AWS shared files' INI format (see ini.h). */
#include "aws/ini.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
    const char *path;
    const char *section;
    const char *label;
    ig_ini_value *want;
    size_t n_want;
    int found;
} ig_ini_scan;

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

static const char *trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return end;
}

static ig_err ini_key(ig_ini_scan *sc, unsigned line, const char *key, size_t key_len,
                         const char *val, size_t val_len, ig_error *err)
{
    for (size_t i = 0; i < sc->n_want; i++) {
        ig_ini_value *w = &sc->want[i];
        if (strlen(w->key) != key_len || strncasecmp(key, w->key, key_len) != 0)
            continue;
        if (w->val)
            return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: %s appears twice in %s", sc->path, line,
                                w->key, sc->label);
        w->val = val;
        w->len = val_len;
        return IG_OK;
    }
    return IG_OK;
}

static ig_err ini_section(ig_ini_scan *sc, unsigned line, const char *s, const char *end,
                            int *in_section, ig_error *err)
{
    if (end - s < 2 || end[-1] != ']')
        return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: a section header must end with ']'",
                            sc->path, line);
    const char *name = skip_ws(s + 1, end - 1);
    const char *name_end = trim_end(name, end - 1);
    if (name == name_end)
        return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: empty section name", sc->path, line);
    *in_section = (size_t)(name_end - name) == strlen(sc->section) &&
                  memcmp(name, sc->section, (size_t)(name_end - name)) == 0;
    if (*in_section) {
        if (sc->found)
            return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: %s is defined twice", sc->path, line,
                                sc->label);
        sc->found = 1;
    }
    return IG_OK;
}

ig_err ig_ini_lookup(const char *path, const char *text, size_t len, const char *section,
                     const char *label, ig_ini_value *want, size_t n_want, int *found, ig_error *err)
{
    ig_ini_scan sc = {.path = path, .section = section, .label = label, .want = want, .n_want = n_want};
    for (size_t i = 0; i < n_want; i++)
        want[i].val = NULL, want[i].len = 0;
    *found = 0;
    const char *p = text, *end = text + len;
    unsigned line = 0;
    int any_section = 0, in_section = 0, after_key = 0;
    size_t key_indent = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *s = skip_ws(p, eol);
        const char *e = trim_end(s, eol);
        size_t indent = (size_t)(s - p);
        ig_err rc = IG_OK;
        if (s == e || *s == '#' || *s == ';') {
            /* blank or comment */
        } else if (after_key && indent > key_indent) {
            /* deeper than the key above: a continuation (nested settings), not a value */
        } else if (*s == '[') {
            rc = ini_section(&sc, line, s, e, &in_section, err);
            any_section = 1;
            after_key = 0;
        } else {
            const char *eq = memchr(s, '=', (size_t)(e - s));
            if (!eq || eq == s)
                return ig_error_set(err, IG_ERR_CONFIG,
                                    "%s line %u: expected \"key = value\", a [section] or a comment", path,
                                    line);
            if (!any_section)
                return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: a setting before any [section]", path,
                                    line);
            const char *key_end = trim_end(s, eq);
            const char *val = skip_ws(eq + 1, e);
            if (in_section)
                rc = ini_key(&sc, line, s, (size_t)(key_end - s), val, (size_t)(e - val), err);
            after_key = 1;
            key_indent = indent;
        }
        if (rc != IG_OK)
            return rc;
        p = eol < end ? eol + 1 : end;
    }
    *found = sc.found;
    return IG_OK;
}

ig_err ig_ini_read(const char *path, char **text, size_t *len, int *missing, ig_error *err)
{
    *text = NULL;
    *len = 0;
    *missing = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            *missing = 1;
            return IG_ERR_IO;
        }
        return ig_error_set(err, IG_ERR_IO, "%s cannot be read", path);
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IG_INI_FILE_MAX) {
        fclose(f);
        return ig_error_set(err, IG_ERR_CONFIG, "%s is not a regular file of at most %d bytes", path,
                            IG_INI_FILE_MAX);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    buf[got] = '\0';
    if (memchr(buf, '\0', got)) {
        ig_ini_free(buf, got);
        return ig_error_set(err, IG_ERR_CONFIG, "%s contains a NUL byte: not a text file", path);
    }
    *text = buf;
    *len = got;
    return IG_OK;
}

void ig_ini_free(char *text, size_t len)
{
    if (!text)
        return;
    OPENSSL_cleanse(text, len);
    free(text);
}
