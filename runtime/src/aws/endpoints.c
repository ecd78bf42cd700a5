/* endpoints.c - which host an AWS call goes to: the region's public endpoint, or an override
 * from AWS_ENDPOINT_URL* (the local stack, a VPC endpoint). Overrides are parsed strictly
 * because their host and path end up in the signed request. */
#include "aws/endpoints.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/ini.h"

#define IG_ENDPOINT_URL_MAX 2048

/* Copies untrusted text into a message: printable ASCII only, at most 64 bytes shown. */
static const char *show_untrusted(const char *s, char out[80])
{
    size_t i = 0;
    for (; s[i] && i < 64; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = (ch >= 0x20 && ch < 0x7f && ch != '"') ? (char)ch : '?';
    }
    if (s[i])
        memcpy(out + i, "...", 4);
    else
        out[i] = '\0';
    return out;
}

/* ---- regions --------------------------------------------------------------------------- */

/* ^[a-z]{2}(-[a-z]+)+-[0-9]+$ */
int ig_region_valid(const char *r)
{
    if (!r || strlen(r) >= IG_REGION_MAX)
        return 0;
    if (!islower((unsigned char)r[0]) || !islower((unsigned char)r[1]) || r[2] != '-')
        return 0;
    const char *p = r + 2;
    int word_parts = 0;
    while (*p == '-' && islower((unsigned char)p[1])) {
        p++;
        while (islower((unsigned char)*p))
            p++;
        word_parts++;
    }
    if (word_parts < 1 || *p != '-' || !isdigit((unsigned char)p[1]))
        return 0;
    for (p++; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

/* The region of the profile (AWS_PROFILE, else "default") in the shared config file
 * (AWS_CONFIG_FILE, else ~/.aws/config): IG_OK with *found 0 when there is none. */
static ig_err region_from_config(char out[IG_REGION_MAX], int *found, char *where, size_t where_len,
                                    ig_error *err)
{
    *found = 0;
    const char *path = getenv("AWS_CONFIG_FILE");
    char buf[4096];
    if (!path || !*path) {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return IG_OK;
        int n = snprintf(buf, sizeof buf, "%s/.aws/config", home);
        if (n < 0 || (size_t)n >= sizeof buf)
            return IG_OK;
        path = buf;
    }
    const char *profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    char section[256], label[300];
    if (strlen(profile) > 128)
        return ig_error_set(err, IG_ERR_CONFIG, "AWS_PROFILE is longer than 128 bytes");
    /* The config file names every profile but the default one "profile NAME". */
    snprintf(section, sizeof section, strcmp(profile, "default") == 0 ? "%s" : "profile %s", profile);
    snprintf(label, sizeof label, "profile \"%s\"", profile);
    snprintf(where, where_len, "region in profile \"%s\" of %s", profile, path);
    char *text = NULL;
    size_t len = 0;
    int missing = 0;
    ig_err e = ig_ini_read(path, &text, &len, &missing, err);
    if (e != IG_OK)
        return missing ? IG_OK : e;
    ig_ini_value v = {"region", NULL, 0};
    int has_section = 0;
    e = ig_ini_lookup(path, text, len, section, label, &v, 1, &has_section, err);
    if (e == IG_OK && v.val && v.len) {
        char r[IG_REGION_MAX];
        size_t n = v.len < sizeof r - 1 ? v.len : sizeof r - 1;
        memcpy(r, v.val, n);
        r[n] = '\0';
        if (v.len >= sizeof r || !ig_region_valid(r)) {
            char shown[80];
            e = ig_error_set(err, IG_ERR_REGION, "the %s, \"%s\", is not a region name like us-east-1", where,
                             show_untrusted(r, shown));
        } else {
            memcpy(out, r, n + 1);
            *found = 1;
        }
    }
    ig_ini_free(text, len);
    return e;
}

ig_err ig_region_from_env(char out[IG_REGION_MAX], ig_error *err)
{
    const char *name = "AWS_REGION";
    const char *r = getenv(name);
    if (!r || !*r) {
        name = "AWS_DEFAULT_REGION";
        r = getenv(name);
    }
    if (!r || !*r) {
        int found = 0;
        char where[4400] = "";
        ig_err e = region_from_config(out, &found, where, sizeof where, err);
        if (e != IG_OK || found)
            return e;
        return ig_error_set(err, IG_ERR_REGION, "AWS_REGION is not set (nor AWS_DEFAULT_REGION%s%s)",
                            where[0] ? ", nor a " : "", where);
    }
    if (!ig_region_valid(r)) {
        char shown[80];
        return ig_error_set(err, IG_ERR_REGION,
                            "%s \"%s\" is not a region name like us-east-1 or eu-central-2", name,
                            show_untrusted(r, shown));
    }
    snprintf(out, IG_REGION_MAX, "%s", r);
    return IG_OK;
}

/* ---- URLs ------------------------------------------------------------------------------ */

void ig_endpoint_free(ig_endpoint *e)
{
    if (!e)
        return;
    free(e->scheme);
    free(e->host);
    free(e->base_path);
    e->scheme = e->host = e->base_path = NULL;
}

static ig_err endpoint_set(ig_endpoint *out, const char *scheme, const char *host, size_t host_len,
                              const char *path, size_t path_len, int overridden, ig_error *err)
{
    out->scheme = strdup(scheme);
    out->host = strndup(host, host_len);
    out->base_path = strndup(path, path_len);
    out->overridden = overridden;
    if (!out->scheme || !out->host || !out->base_path) {
        ig_endpoint_free(out);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    return IG_OK;
}

static int is_hostchar(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static ig_err check_port(const char *p, const char *end, ig_error *err)
{
    if (p == end)
        return ig_error_set(err, IG_ERR_ENDPOINT, "the port after ':' is empty");
    long port = 0;
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return ig_error_set(err, IG_ERR_ENDPOINT, "the port is not a number");
        port = port * 10 + (*p - '0');
        if (port > 65535)
            return ig_error_set(err, IG_ERR_ENDPOINT, "the port is above 65535");
    }
    if (port == 0)
        return ig_error_set(err, IG_ERR_ENDPOINT, "the port is 0");
    return IG_OK;
}

/* host, [v6], host:port or [v6]:port in a..end. */
static ig_err check_authority(const char *a, const char *end, ig_error *err)
{
    if (a == end)
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL has no host");
    if (memchr(a, '@', (size_t)(end - a)))
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL must not contain user info (user@host)");
    const char *host_end;
    if (*a == '[') {
        const char *close = memchr(a, ']', (size_t)(end - a));
        if (!close)
            return ig_error_set(err, IG_ERR_ENDPOINT, "an IPv6 address must end with ']'");
        if (close == a + 1)
            return ig_error_set(err, IG_ERR_ENDPOINT, "the URL has no host");
        for (const char *p = a + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return ig_error_set(err, IG_ERR_ENDPOINT, "the IPv6 address has a character outside 0-9 a-f : .");
        host_end = close + 1;
        if (host_end < end && *host_end != ':')
            return ig_error_set(err, IG_ERR_ENDPOINT, "unexpected text after the IPv6 address");
    } else {
        host_end = a;
        while (host_end < end && *host_end != ':')
            host_end++;
        if (host_end == a)
            return ig_error_set(err, IG_ERR_ENDPOINT, "the URL has no host");
        for (const char *p = a; p < host_end; p++)
            if (!is_hostchar(*p))
                return ig_error_set(err, IG_ERR_ENDPOINT,
                                    "the host has a character outside letters, digits, '.', '-' and '_'");
        if (*a == '.' || *a == '-')
            return ig_error_set(err, IG_ERR_ENDPOINT, "the host must start with a letter or a digit");
    }
    if (host_end < end)
        return check_port(host_end + 1, end, err);
    return IG_OK;
}

ig_err ig_endpoint_parse(const char *url, ig_endpoint *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL is empty");
    size_t len = strlen(url);
    if (len > IG_ENDPOINT_URL_MAX)
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL is longer than %d bytes", IG_ENDPOINT_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return ig_error_set(err, IG_ERR_ENDPOINT,
                                "the URL contains white space, a control or a non-ASCII character at byte %zu", i);
    const char *scheme;
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0)
        scheme = "https", rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        scheme = "http", rest = url + 7;
    else
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL must start with http:// or https://");
    const char *auth_end = rest + strcspn(rest, "/?#");
    ig_err e = check_authority(rest, auth_end, err);
    if (e != IG_OK)
        return e;
    const char *path = auth_end;
    if (strchr(path, '?'))
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL must not have a query ('?')");
    if (strchr(path, '#'))
        return ig_error_set(err, IG_ERR_ENDPOINT, "the URL must not have a fragment ('#')");
    size_t path_len = strlen(path);
    while (path_len && path[path_len - 1] == '/')
        path_len--;
    return endpoint_set(out, scheme, rest, (size_t)(auth_end - rest), path, path_len, 0, err);
}

/* ---- overrides ------------------------------------------------------------------------- */

static int overrides_ignored(void)
{
    const char *v = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    return v && strcasecmp(v, "true") == 0;
}

/* The override for a service (its own variable first, then AWS_ENDPOINT_URL); 0 when none,
 * 1 when parsed into out, an error when it is malformed. */
static ig_err endpoint_override(const char *service_var, ig_endpoint *out, int *found, ig_error *err)
{
    *found = 0;
    if (overrides_ignored())
        return IG_OK;
    const char *var = service_var;
    const char *url = getenv(var);
    if (!url || !*url) {
        var = "AWS_ENDPOINT_URL";
        url = getenv(var);
    }
    if (!url || !*url)
        return IG_OK;
    ig_error inner;
    ig_error_clear(&inner);
    ig_err e = ig_endpoint_parse(url, out, &inner);
    if (e != IG_OK)
        return ig_error_set(err, e, "%s is not a usable endpoint: %s", var, inner.message);
    out->overridden = 1;
    *found = 1;
    return IG_OK;
}

static const char *dns_suffix(const char *region)
{
    return strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

static ig_err check_region_arg(const char *region, ig_error *err)
{
    if (ig_region_valid(region))
        return IG_OK;
    char shown[80];
    return ig_error_set(err, IG_ERR_REGION, "\"%s\" is not a region name like us-east-1",
                        region ? show_untrusted(region, shown) : "(null)");
}

ig_err ig_endpoint_regional(const char *region, const char *host_prefix, const char *override_var,
                            ig_endpoint *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    ig_err e = check_region_arg(region, err);
    if (e != IG_OK)
        return e;
    int found;
    if ((e = endpoint_override(override_var, out, &found, err)) != IG_OK || found)
        return e;
    char host[128];
    snprintf(host, sizeof host, "%s.%s.%s", host_prefix, region, dns_suffix(region));
    return endpoint_set(out, "https", host, strlen(host), "", 0, 0, err);
}

ig_err ig_endpoint_bedrock(const char *region, ig_endpoint *out, ig_error *err)
{
    return ig_endpoint_regional(region, "bedrock-runtime", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", out, err);
}

ig_err ig_endpoint_dynamodb(const char *region, ig_endpoint *out, ig_error *err)
{
    return ig_endpoint_regional(region, "dynamodb", "AWS_ENDPOINT_URL_DYNAMODB", out, err);
}

ig_err ig_endpoint_lambda(const char *region, ig_endpoint *out, ig_error *err)
{
    return ig_endpoint_regional(region, "lambda", "AWS_ENDPOINT_URL_LAMBDA", out, err);
}

/* S3's rules for bucket names usable in a host name: 3 to 63 of a-z 0-9 . -, starting and
 * ending with a letter or digit, no "..", not shaped like an IP address. */
static ig_err bucket_check(const char *b, ig_error *err)
{
    char shown[80];
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return ig_error_set(err, IG_ERR_CONFIG, "bucket name \"%s\" must be 3 to 63 characters long",
                            b ? show_untrusted(b, shown) : "");
    int digits_and_dots = 1;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-'))
            return ig_error_set(err, IG_ERR_CONFIG,
                                "bucket name \"%s\" may only contain a-z, 0-9, '.' and '-'", show_untrusted(b, shown));
        if (!isdigit((unsigned char)c) && c != '.')
            digits_and_dots = 0;
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return ig_error_set(err, IG_ERR_CONFIG, "bucket name \"%s\" must start and end with a letter or digit",
                            show_untrusted(b, shown));
    if (strstr(b, "..") || digits_and_dots)
        return ig_error_set(err, IG_ERR_CONFIG,
                            "bucket name \"%s\" must not contain \"..\" or look like an IP address",
                            show_untrusted(b, shown));
    return IG_OK;
}

ig_err ig_endpoint_s3(const char *region, const char *bucket, ig_endpoint *out, int *path_style,
                      ig_error *err)
{
    memset(out, 0, sizeof *out);
    *path_style = 1;
    ig_err e = check_region_arg(region, err);
    if (e != IG_OK || (e = bucket_check(bucket, err)) != IG_OK)
        return e;
    int found;
    if ((e = endpoint_override("AWS_ENDPOINT_URL_S3", out, &found, err)) != IG_OK || found)
        return e; /* custom endpoints (s3rver, MinIO) only know path style */
    char host[192];
    if (strchr(bucket, '.')) {
        /* A dotted bucket would break the wildcard certificate of virtual-hosted style. */
        snprintf(host, sizeof host, "s3.%s.%s", region, dns_suffix(region));
    } else {
        snprintf(host, sizeof host, "%s.s3.%s.%s", bucket, region, dns_suffix(region));
        *path_style = 0;
    }
    return endpoint_set(out, "https", host, strlen(host), "", 0, 0, err);
}
