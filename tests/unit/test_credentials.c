/* test_credentials.c - the environment first, then the shared credentials file; malformed
 * files give a line number and never a secret. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/credentials.h"
#include "testlib.h"

static char g_dir[] = "/tmp/ig-creds-XXXXXX";
static char g_path[256];

static void clear_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static void write_file(const char *text)
{
    FILE *f = fopen(g_path, "wb");
    fputs(text, f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", g_path, 1);
}

static void test_environment_wins(void)
{
    clear_env();
    write_file("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.access_key_id, "AKIDENV");
    IG_CHECK_EQ_STR(c.secret_access_key, "envsecret");
    IG_CHECK_EQ_STR(c.session_token, "envtoken");
    IG_CHECK_EQ_STR(c.source, "environment");
    ig_sigv4_credentials v = ig_credentials_view(&c);
    IG_CHECK(v.access_key_id == c.access_key_id && v.secret_access_key == c.secret_access_key &&
             v.session_token == c.session_token);
    ig_credentials_free(&c);
    IG_CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
}

static void test_environment_without_token(void)
{
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "", 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_OK);
    IG_CHECK(c.session_token == NULL);
    ig_credentials_free(&c);
}

static void test_half_a_pair_in_the_environment(void)
{
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK_EQ_STR(err.message, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    clear_env();
    setenv("AWS_SECRET_ACCESS_KEY", "topsecretvalue", 1);
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK_EQ_STR(err.message, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
}

static void test_environment_secret_with_newline(void)
{
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "sec\nret-VALUE", 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK(strstr(err.message, "secret access key") != NULL);
    IG_CHECK(strstr(err.message, "VALUE") == NULL);
}

static void test_file_profiles_comments_and_whitespace(void)
{
    clear_env();
    write_file("# my keys\r\n"
               "; another comment\n"
               "\n"
               "[default]\n"
               "aws_access_key_id=DEFAULTKEY\n"
               "aws_secret_access_key=defaultsecret\n"
               "\n"
               "[ work ]  \n"
               "   aws_access_key_id   =   WORKKEY   \r\n"
               "   aws_secret_access_key\t=\twork/secret+with=equals\r\n"
               "   aws_session_token = worktoken\n"
               "region = eu-west-1\n"
               "s3 =\n"
               "    max_concurrent_requests = 20\n"
               "[other]\n"
               "aws_access_key_id = OTHERKEY\n");
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.access_key_id, "DEFAULTKEY");
    IG_CHECK_EQ_STR(c.secret_access_key, "defaultsecret");
    IG_CHECK(c.session_token == NULL);
    IG_CHECK_EQ_STR(c.source, "shared credentials file");
    ig_credentials_free(&c);
    setenv("AWS_PROFILE", "work", 1);
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.access_key_id, "WORKKEY");
    IG_CHECK_EQ_STR(c.secret_access_key, "work/secret+with=equals");
    IG_CHECK_EQ_STR(c.session_token, "worktoken");
    ig_credentials_free(&c);
}

static void test_home_default_path(void)
{
    clear_env();
    char aws_dir[300], home_file[320];
    snprintf(aws_dir, sizeof aws_dir, "%s/.aws", g_dir);
    snprintf(home_file, sizeof home_file, "%s/credentials", aws_dir);
    mkdir(aws_dir, 0700);
    FILE *f = fopen(home_file, "wb");
    fputs("[default]\naws_access_key_id = HOMEKEY\naws_secret_access_key = homesecret\n", f);
    fclose(f);
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", g_dir, 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_OK);
    IG_CHECK_EQ_STR(c.access_key_id, "HOMEKEY");
    ig_credentials_free(&c);
    unlink(home_file);
    rmdir(aws_dir);
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK(strstr(err.message, "does not exist") != NULL);
    IG_CHECK(strstr(err.message, "AWS_ACCESS_KEY_ID") != NULL);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
}

static void test_missing_profile_and_keys(void)
{
    clear_env();
    write_file("[default]\naws_access_key_id = K\naws_secret_access_key = S\n[nosecret]\naws_access_key_id = K2\n");
    setenv("AWS_PROFILE", "absent", 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK(strstr(err.message, "profile \"absent\" is not in") != NULL);
    setenv("AWS_PROFILE", "nosecret", 1);
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK(strstr(err.message, "has no aws_secret_access_key") != NULL);
}

static void check_malformed(const char *text, const char *expect_in_message, const char *secret)
{
    clear_env();
    write_file(text);
    ig_credentials c;
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_credentials_load(&c, &err);
    IG_CHECK_EQ_INT(e, IG_ERR_CONFIG);
    if (!strstr(err.message, expect_in_message))
        ig_test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", expect_in_message, err.message);
    if (secret && strstr(err.message, secret))
        ig_test_fail(__FILE__, __LINE__, "message reveals the secret: %s", err.message);
    if (e == IG_OK)
        ig_credentials_free(&c);
}

static void test_malformed_files(void)
{
    check_malformed("[default]\naws_access_key_id = K\nwJalrXUtnFEMI-no-equals-sign\n", "line 3", "wJalrXUtnFEMI");
    check_malformed("[default\naws_access_key_id = K\n", "line 1: a section header must end with ']'", NULL);
    check_malformed("aws_secret_access_key = hunter2secret\n[default]\n", "line 1: a setting before any [section]",
                    "hunter2secret");
    check_malformed("[default]\naws_access_key_id = A\naws_access_key_id = B\naws_secret_access_key = S\n",
                    "line 3: aws_access_key_id appears twice", NULL);
    check_malformed("[]\n", "line 1: empty section name", NULL);
    check_malformed("[default]\n= orphanvalue\n", "line 2", "orphanvalue");
    check_malformed("[default]\naws_access_key_id = K\naws_secret_access_key = S\n[default]\n",
                    "line 4: profile \"default\" is defined twice", NULL);
}

static void test_binary_file_and_directory(void)
{
    clear_env();
    FILE *f = fopen(g_path, "wb");
    fwrite("[default]\0\x01\x02", 1, 12, f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", g_path, 1);
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "NUL") != NULL);
    setenv("AWS_SHARED_CREDENTIALS_FILE", g_dir, 1);
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CONFIG);
    IG_CHECK(strstr(err.message, "not a regular file") != NULL);
}

static void test_file_secret_with_space_is_refused_quietly(void)
{
    clear_env();
    write_file("[default]\naws_access_key_id = K\naws_secret_access_key = two words-SECRETPART\n");
    ig_credentials c;
    ig_error err;
    IG_CHECK_EQ_INT(ig_credentials_load(&c, &err), IG_ERR_CREDENTIALS);
    IG_CHECK(strstr(err.message, "secret access key") != NULL);
    IG_CHECK(strstr(err.message, "SECRETPART") == NULL);
}

int main(void)
{
    if (!mkdtemp(g_dir))
        return 1;
    snprintf(g_path, sizeof g_path, "%s/credentials", g_dir);
    IG_RUN(test_environment_wins);
    IG_RUN(test_environment_without_token);
    IG_RUN(test_half_a_pair_in_the_environment);
    IG_RUN(test_environment_secret_with_newline);
    IG_RUN(test_file_profiles_comments_and_whitespace);
    IG_RUN(test_home_default_path);
    IG_RUN(test_missing_profile_and_keys);
    IG_RUN(test_malformed_files);
    IG_RUN(test_binary_file_and_directory);
    IG_RUN(test_file_secret_with_space_is_refused_quietly);
    unlink(g_path);
    rmdir(g_dir);
    return ig_test_finish("credentials");
}
