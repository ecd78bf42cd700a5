/* ini.h - the AWS shared files (~/.aws/credentials and ~/.aws/config) as INI.
 *
 * "[section]" lines, "key = value" lines, full-line comments starting with '#' or ';', blank
 * lines, and indented continuation lines (nested settings, skipped). Keys compare without
 * case. Errors name the file, the line number and the key, never a value: a malformed line
 * may well hold a secret.
 */
#ifndef IG_INI_H
#define IG_INI_H

#include <stddef.h>

#include "core/error.h"

#define IG_INI_FILE_MAX (1024 * 1024)

/* Reads path (a regular text file of at most IG_INI_FILE_MAX bytes) into *text, which
 * ig_ini_free wipes and frees. A file that does not exist sets *missing and returns IG_ERR_IO
 * with err untouched; other failures are IG_ERR_IO or IG_ERR_CONFIG with a sentence. */
ig_err ig_ini_read(const char *path, char **text, size_t *len, int *missing, ig_error *err);
void ig_ini_free(char *text, size_t len);

typedef struct {
    const char *key;   /* in: the key to find */
    const char *val;   /* out: its value inside the text (trimmed), NULL when absent */
    size_t len;
} ig_ini_value;

/* Looks up the keys in section `section` of text (the file at path). *found says whether the
 * section exists; values point into text. `label` names the section in messages ("profile
 * \"dev\""). IG_ERR_CONFIG, naming file and line: a malformed line, a setting before any
 * section, a wanted key twice in the section, the section twice. */
ig_err ig_ini_lookup(const char *path, const char *text, size_t len, const char *section,
                     const char *label, ig_ini_value *want, size_t n_want, int *found, ig_error *err);

#endif
