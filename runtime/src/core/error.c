/* error.c - names and sentences for ig_err. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
} ig_err_table[IG_ERR__COUNT] = {
    [IG_OK] = {"ok", "success"},
    [IG_ERR_NOMEM] = {"nomem", "out of memory"},
    [IG_ERR_INVALID_ARG] = {"invalid_arg", "invalid argument"},
    [IG_ERR_BASE64] = {"base64", "malformed base64 input"},
    [IG_ERR_TOO_LARGE] = {"too_large", "input or response too large"},
    [IG_ERR_EMPTY] = {"empty", "empty input"},
    [IG_ERR_BAD_KEY] = {"bad_key", "object key or metadata value cannot be sent safely"},
    [IG_ERR_REGION] = {"region", "missing or invalid AWS region"},
    [IG_ERR_ENDPOINT] = {"endpoint", "invalid endpoint URL"},
    [IG_ERR_CREDENTIALS] = {"credentials", "no usable AWS credentials"},
    [IG_ERR_CONFIG] = {"config", "invalid configuration"},
    [IG_ERR_CONNECT] = {"connect", "connection failed"},
    [IG_ERR_TIMEOUT] = {"timeout", "operation timed out"},
    [IG_ERR_DEADLINE] = {"deadline", "deadline reached"},
    [IG_ERR_HTTP] = {"http", "HTTP transfer failed"},
    [IG_ERR_AWS] = {"aws", "the AWS service returned an error"},
    [IG_ERR_PARSE] = {"parse", "could not parse the document"},
    [IG_ERR_SIGNATURE] = {"signature", "signature does not match"},
    [IG_ERR_IMAGE] = {"image", "not a PNG or JPEG image"},
    [IG_ERR_POLICY] = {"policy", "policy script failed"},
    [IG_ERR_IO] = {"io", "file input/output failed"},
};

const char *ig_err_name(ig_err err)
{
    if ((unsigned)err >= IG_ERR__COUNT)
        return "unknown";
    return ig_err_table[err].name;
}

const char *ig_strerror(ig_err err)
{
    if ((unsigned)err >= IG_ERR__COUNT)
        return "unknown error";
    return ig_err_table[err].text;
}

ig_err ig_error_set(ig_error *err, ig_err code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ig_error_clear(ig_error *err)
{
    if (err) {
        err->code = IG_OK;
        err->message[0] = '\0';
    }
}
