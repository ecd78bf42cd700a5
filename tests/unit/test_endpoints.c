/* test_endpoints.c - region names, endpoint URL parsing, overrides and S3 addressing styles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/endpoints.h"
#include "testlib.h"

static void clear_env(void)
{
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_PROFILE");
    /* never the machine's own ~/.aws/config */
    setenv("AWS_CONFIG_FILE", "/nonexistent/imagegen-test/config", 1);
}

static void test_region_shapes(void)
{
    static const char *const good[] = {"us-east-1", "us-gov-west-1", "eu-central-2", "ap-southeast-4",
                                       "il-central-1", "cn-north-1", "us-iso-east-1", "ca-west-12"};
    static const char *const bad[] = {"", "us", "us-east", "us-east-", "useast1", "US-EAST-1", "us-east-1a",
                                      "u-east-1", "use-east-1", "us--east-1", "us-east-1 ", " us-east-1",
                                      "us-1", "us-east-1\n", "us-east-x1",
                                      "aa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ig_region_valid(good[i]))
            ig_test_fail(__FILE__, __LINE__, "\"%s\" should be a valid region", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ig_region_valid(bad[i]))
            ig_test_fail(__FILE__, __LINE__, "\"%s\" should be rejected", bad[i]);
    IG_CHECK(!ig_region_valid(NULL));
}

static void test_region_from_env(void)
{
    clear_env();
    char r[IG_REGION_MAX];
    ig_error err;
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_REGION);
    IG_CHECK(strstr(err.message, "AWS_REGION is not set") != NULL);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_OK);
    IG_CHECK_EQ_STR(r, "eu-west-1");
    setenv("AWS_REGION", "us-west-2", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_OK);
    IG_CHECK_EQ_STR(r, "us-west-2");
    setenv("AWS_REGION", "us-west-2\r\nX: y", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_REGION);
    IG_CHECK(strstr(err.message, "AWS_REGION \"us-west-2??X: y\" is not a region name") != NULL);
    IG_CHECK(strchr(err.message, '\n') == NULL);
    clear_env();
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_region_from_the_shared_config_file(void)
{
    clear_env();
    char dir[] = "/tmp/ig-config-XXXXXX";
    if (!mkdtemp(dir)) {
        ig_test_fail(__FILE__, __LINE__, "mkdtemp failed");
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/config", dir);
    write_text(path, "# the AWS CLI's file\n[default]\nregion = eu-west-1\noutput = json\n\n"
                     "[profile dev]\nregion=ap-south-1\ns3 =\n  addressing_style = path\n");
    setenv("AWS_CONFIG_FILE", path, 1);
    char r[IG_REGION_MAX];
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_OK);
    IG_CHECK_EQ_STR(r, "eu-west-1");
    setenv("AWS_PROFILE", "dev", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_OK);
    IG_CHECK_EQ_STR(r, "ap-south-1");
    /* the environment wins over the file */
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_OK);
    IG_CHECK_EQ_STR(r, "us-west-2");
    unsetenv("AWS_DEFAULT_REGION");
    /* a malformed line is named with its file and line, whichever profile it is in */
    write_text(path, "[profile dev]\nregion = ap-south-1\n[profile other]\nregion = us-east-1\r\nX\n");
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "line 5") != NULL);
    IG_CHECK(strstr(err.message, path) != NULL);
    write_text(path, "[default]\nregion = eu-west-1\n[profile odd]\nregion = not a region\n"
                     "[profile none]\noutput = text\n");
    setenv("AWS_PROFILE", "odd", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_REGION);
    IG_CHECK(strstr(err.message, "region in profile \"odd\"") != NULL);
    IG_CHECK(strstr(err.message, "is not a region name") != NULL);
    /* a profile without a region, or an unknown one: the usual sentence, naming the file */
    setenv("AWS_PROFILE", "none", 1);
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_REGION);
    IG_CHECK(strstr(err.message, "AWS_REGION is not set") != NULL);
    IG_CHECK(strstr(err.message, path) != NULL);
    setenv("AWS_PROFILE", "dev", 1); /* [dev] would be the credentials file's spelling */
    write_text(path, "[dev]\nregion = eu-north-1\n");
    IG_CHECK_EQ_INT(ig_region_from_env(r, &err), IG_ERR_REGION);
    unlink(path);
    rmdir(dir);
    clear_env();
}

static void check_url_ok(const char *url, const char *scheme, const char *host, const char *path)
{
    ig_endpoint e;
    ig_error err;
    ig_error_clear(&err);
    if (ig_endpoint_parse(url, &e, &err) != IG_OK) {
        ig_test_fail(__FILE__, __LINE__, "\"%s\" rejected: %s", url, err.message);
        return;
    }
    IG_CHECK_EQ_STR(e.scheme, scheme);
    IG_CHECK_EQ_STR(e.host, host);
    IG_CHECK_EQ_STR(e.base_path, path);
    ig_endpoint_free(&e);
}

static void check_url_bad(const char *url, const char *expect)
{
    ig_endpoint e;
    ig_error err;
    ig_error_clear(&err);
    ig_err rc = ig_endpoint_parse(url, &e, &err);
    if (rc != IG_ERR_ENDPOINT) {
        ig_test_fail(__FILE__, __LINE__, "\"%s\" gave %s, expected endpoint error", url ? url : "(null)",
                     ig_err_name(rc));
        if (rc == IG_OK)
            ig_endpoint_free(&e);
        return;
    }
    if (!strstr(err.message, expect))
        ig_test_fail(__FILE__, __LINE__, "\"%s\": expected \"%s\" in \"%s\"", url ? url : "(null)", expect,
                     err.message);
}

static void test_url_parsing(void)
{
    check_url_ok("http://127.0.0.1:4569", "http", "127.0.0.1:4569", "");
    check_url_ok("https://bedrock-runtime.us-east-1.amazonaws.com/", "https",
                 "bedrock-runtime.us-east-1.amazonaws.com", "");
    check_url_ok("HTTPS://Example.com/prefix/v1//", "https", "Example.com", "/prefix/v1");
    check_url_ok("http://[::1]:9000/s3", "http", "[::1]:9000", "/s3");
    check_url_ok("http://[2001:db8::7]", "http", "[2001:db8::7]", "");
    check_url_ok("http://s3rver_host:80", "http", "s3rver_host:80", "");

    check_url_bad(NULL, "empty");
    check_url_bad("", "empty");
    check_url_bad("ftp://host", "must start with http:// or https://");
    check_url_bad("localhost:4569", "must start with http:// or https://");
    check_url_bad("http://", "no host");
    check_url_bad("http:///path", "no host");
    check_url_bad("http://:8080", "no host");
    check_url_bad("http://user:pw@host", "user info");
    check_url_bad("http://host?x=1", "query");
    check_url_bad("http://host/p?x=1", "query");
    check_url_bad("http://host/p#frag", "fragment");
    check_url_bad("http://host:", "port after ':' is empty");
    check_url_bad("http://host:99999", "above 65535");
    check_url_bad("http://host:0", "port is 0");
    check_url_bad("http://host:8a", "not a number");
    check_url_bad("http://ho st", "white space");
    check_url_bad("http://host/\r\nX-Injected: 1", "control");
    check_url_bad("http://h\xc3\xa9st", "non-ASCII");
    check_url_bad("http://[::1", "must end with ']'");
    check_url_bad("http://[]", "no host");
    check_url_bad("http://[::g]", "IPv6");
    check_url_bad("http://[::1]x", "after the IPv6");
    check_url_bad("http://-host", "must start with a letter or a digit");
    check_url_bad("http://ho%st", "outside letters");
    char longurl[2100] = "http://h/";
    memset(longurl + 9, 'a', sizeof longurl - 10);
    longurl[sizeof longurl - 1] = '\0';
    check_url_bad(longurl, "longer than");
}

static void test_bedrock_endpoints(void)
{
    clear_env();
    ig_endpoint e;
    ig_error err;
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.scheme, "https");
    IG_CHECK_EQ_STR(e.host, "bedrock-runtime.us-east-1.amazonaws.com");
    IG_CHECK_EQ_STR(e.base_path, "");
    IG_CHECK_EQ_INT(e.overridden, 0);
    ig_endpoint_free(&e);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("cn-north-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "bedrock-runtime.cn-north-1.amazonaws.com.cn");
    ig_endpoint_free(&e);

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1000", 1);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:1000");
    IG_CHECK_EQ_INT(e.overridden, 1);
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:2000/br", 1);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:2000");
    IG_CHECK_EQ_STR(e.base_path, "/br");
    ig_endpoint_free(&e);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("us-east-1", &e, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "bedrock-runtime.us-east-1.amazonaws.com");
    IG_CHECK_EQ_INT(e.overridden, 0);
    ig_endpoint_free(&e);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://user@127.0.0.1:2000", 1);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("us-east-1", &e, &err), IG_ERR_ENDPOINT);
    IG_CHECK(strstr(err.message, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME is not a usable endpoint") != NULL);
    IG_CHECK(strstr(err.message, "user info") != NULL);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock("nowhere", &e, &err), IG_ERR_REGION);
    IG_CHECK_EQ_INT(ig_endpoint_bedrock(NULL, &e, &err), IG_ERR_REGION);
    clear_env();
}

static void test_s3_endpoints(void)
{
    clear_env();
    ig_endpoint e;
    ig_error err;
    int path_style = -1;
    IG_CHECK_EQ_INT(ig_endpoint_s3("eu-central-1", "my-images", &e, &path_style, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "my-images.s3.eu-central-1.amazonaws.com");
    IG_CHECK_EQ_INT(path_style, 0);
    ig_endpoint_free(&e);
    IG_CHECK_EQ_INT(ig_endpoint_s3("eu-central-1", "my.images", &e, &path_style, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "s3.eu-central-1.amazonaws.com");
    IG_CHECK_EQ_INT(path_style, 1);
    ig_endpoint_free(&e);

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1000", 1);
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4569/", 1);
    IG_CHECK_EQ_INT(ig_endpoint_s3("us-east-1", "bucket", &e, &path_style, &err), IG_OK);
    IG_CHECK_EQ_STR(e.host, "127.0.0.1:4569");
    IG_CHECK_EQ_STR(e.base_path, "");
    IG_CHECK_EQ_INT(path_style, 1);
    IG_CHECK_EQ_INT(e.overridden, 1);
    ig_endpoint_free(&e);
    setenv("AWS_ENDPOINT_URL_S3", "s3rver:4569", 1);
    IG_CHECK_EQ_INT(ig_endpoint_s3("us-east-1", "bucket", &e, &path_style, &err), IG_ERR_ENDPOINT);
    IG_CHECK(strstr(err.message, "AWS_ENDPOINT_URL_S3 is not a usable endpoint: the URL must start with") != NULL);
    clear_env();
}

static void check_bucket_bad(const char *bucket, const char *expect)
{
    ig_endpoint e;
    ig_error err;
    int ps;
    ig_error_clear(&err);
    ig_err rc = ig_endpoint_s3("us-east-1", bucket, &e, &ps, &err);
    IG_CHECK_EQ_INT(rc, IG_ERR_CONFIG);
    if (rc == IG_OK)
        ig_endpoint_free(&e);
    if (!strstr(err.message, expect))
        ig_test_fail(__FILE__, __LINE__, "bucket \"%s\": expected \"%s\" in \"%s\"", bucket ? bucket : "(null)",
                     expect, err.message);
}

static void test_bucket_names(void)
{
    clear_env();
    check_bucket_bad(NULL, "3 to 63");
    check_bucket_bad("ab", "3 to 63");
    check_bucket_bad("Bucket", "may only contain");
    check_bucket_bad("bu_cket", "may only contain");
    check_bucket_bad("bucket/evil", "may only contain");
    check_bucket_bad("-bucket", "start and end");
    check_bucket_bad("bucket.", "start and end");
    check_bucket_bad("a..b", "\"..\"");
    check_bucket_bad("192.168.5.4", "IP address");
    check_bucket_bad("bucket\r\nx", "may only contain");
}

int main(void)
{
    IG_RUN(test_region_shapes);
    IG_RUN(test_region_from_env);
    IG_RUN(test_region_from_the_shared_config_file);
    IG_RUN(test_url_parsing);
    IG_RUN(test_bedrock_endpoints);
    IG_RUN(test_s3_endpoints);
    IG_RUN(test_bucket_names);
    return ig_test_finish("endpoints");
}
