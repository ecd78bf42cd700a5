/* test_plan.c - reading admit()'s generation plan: the attempts and calls form, the older
 * single-body form, and every rule a broken policy can break, each answered by a sentence that
 * names the member at fault. */
#include <stdlib.h>
#include <string.h>

#include "handler/plan.h"
#include "testlib.h"

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        ig_test_fail(__FILE__, __LINE__, "bad test JSON: %s", e.text);
    return v;
}

#define STORAGE "\"key_prefix\":\"images/2026/12/06/\",\"url_ttl\":600"

static void test_attempts_and_calls(void)
{
    json_t *g = load("{\"model\":\"stability.stable-image-core-v1:1\",\"expected_images\":3," STORAGE ","
                     "\"metadata\":{\"model\":\"core\"},\"context\":{\"seeds\":[5,6,7]},\"attempts\":["
                     "{\"model\":\"stability.stable-image-core-v1:1\",\"images\":\"images\",\"error_field\":\"finish_reasons\","
                     "\"calls\":[{\"body\":{\"prompt\":\"a\",\"seed\":5},\"metadata\":{\"seed\":\"5\"}},"
                     "{\"body\":{\"prompt\":\"a\",\"seed\":6},\"metadata\":{\"seed\":\"6\"}},"
                     "{\"body\":\"{\\\"prompt\\\":\\\"a\\\",\\\"seed\\\":7}\"}]},"
                     "{\"model\":\"stability.stable-image-ultra-v1:1\",\"calls\":[{\"body\":{\"prompt\":\"a\"}}],"
                     "\"context\":{\"model\":\"ultra\"}}]}");
    ig_plan p;
    ig_error err;
    IG_CHECK_EQ_INT(ig_plan_parse(g, &p, &err), IG_OK);
    IG_CHECK_EQ_INT(p.n_attempts, 2);
    IG_CHECK_EQ_INT(p.expected, 3);
    IG_CHECK_EQ_INT(p.url_ttl, 600);
    IG_CHECK_EQ_STR(p.key_prefix, "images/2026/12/06/");
    const ig_plan_attempt *a = &p.attempts[0];
    IG_CHECK_EQ_STR(a->model, "stability.stable-image-core-v1:1");
    IG_CHECK_EQ_STR(a->error_field, "finish_reasons");
    IG_CHECK_EQ_INT(a->n_calls, 3);
    IG_CHECK_EQ_STR(a->calls[0].body, "{\"prompt\":\"a\",\"seed\":5}");
    IG_CHECK_EQ_INT(a->calls[0].body_len, strlen(a->calls[0].body));
    IG_CHECK_EQ_STR(json_string_value(json_object_get(a->calls[1].metadata, "seed")), "6");
    IG_CHECK_EQ_STR(a->calls[2].body, "{\"prompt\":\"a\",\"seed\":7}"); /* a string is sent as it is */
    IG_CHECK(a->calls[2].metadata == NULL);
    IG_CHECK(a->context == NULL);
    IG_CHECK_EQ_STR(p.attempts[1].model, "stability.stable-image-ultra-v1:1");
    IG_CHECK_EQ_STR(p.attempts[1].images_path, "images"); /* the default path */
    IG_CHECK(p.attempts[1].context != NULL);
    ig_plan_free(&p);
    json_decref(g);
}

static void test_single_body_form(void)
{
    json_t *g = load("{\"model\":\"amazon.titan-image-generator-v1\",\"body\":{\"taskType\":\"TEXT_IMAGE\"},"
                     "\"images\":\"images\",\"error_field\":\"error\",\"expected_images\":2," STORAGE "}");
    ig_plan p;
    ig_error err;
    IG_CHECK_EQ_INT(ig_plan_parse(g, &p, &err), IG_OK);
    IG_CHECK_EQ_INT(p.n_attempts, 1);
    IG_CHECK_EQ_INT(p.attempts[0].n_calls, 1);
    IG_CHECK_EQ_STR(p.attempts[0].model, "amazon.titan-image-generator-v1");
    IG_CHECK_EQ_STR(p.attempts[0].calls[0].body, "{\"taskType\":\"TEXT_IMAGE\"}");
    IG_CHECK_EQ_STR(p.attempts[0].error_field, "error");
    IG_CHECK_EQ_INT(p.expected, 2);
    ig_plan_free(&p);
    json_decref(g);
}

static void refused(const char *text, const char *words)
{
    json_t *g = load(text);
    ig_plan p;
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_plan_parse(g, &p, &err);
    if (e != IG_ERR_POLICY || !strstr(err.message, words))
        ig_test_fail(__FILE__, __LINE__, "%s: got %d \"%s\", expected a policy error naming \"%s\"", text, (int)e,
                     err.message, words);
    ig_plan_free(&p);
    json_decref(g);
}

static void test_broken_plans_name_the_member(void)
{
    refused("[1]", "generate must be a table");
    refused("{\"body\":{}," STORAGE "}", "generate.model must be a model id");
    refused("{\"model\":\"m\",\"body\":7," STORAGE "}", "generate.body must be a table or a string");
    refused("{\"model\":\"m\",\"body\":\"\"," STORAGE "}", "generate.body is empty");
    refused("{\"model\":\"m\",\"body\":{},\"url_ttl\":60}", "generate.key_prefix must be set");
    refused("{\"model\":\"m\",\"body\":{},\"key_prefix\":\"a/\"}", "generate.url_ttl must be");
    refused("{\"model\":\"m\",\"body\":{},\"key_prefix\":\"/abs\",\"url_ttl\":60}", "relative key prefix");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"url_ttl\":604801}", "url_ttl");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"expected_images\":11}", "expected_images must be 1 to 10");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"expected_images\":\"2\"}", "expected_images must be an integer");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"cache_key\":\"a/b\"}", "cache_key");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"metadata\":{\"Seed\":\"1\"}}", "generate.metadata[\"Seed\"]");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"metadata\":{\"seed\":1}}", "generate.metadata[\"seed\"]");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"deliver\":\"email\"}", "generate.deliver must be");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"deliver\":1}", "generate.deliver must be");
    refused("{\"model\":\"m\",\"body\":{}," STORAGE ",\"deliver\":\"inline\",\"cache_key\":\"k\"}",
            "cache_key serves stored images");
    refused("{" STORAGE ",\"attempts\":[]}", "generate.attempts must be a list of 1 to 4");
    refused("{" STORAGE ",\"attempts\":{}}", "generate.attempts must be a list");
    refused("{" STORAGE ",\"attempts\":[{},{},{},{},{}]}", "1 to 4 attempts");
    refused("{" STORAGE ",\"attempts\":[7]}", "generate.attempts[1] must be a table");
    refused("{" STORAGE ",\"attempts\":[{\"calls\":[{\"body\":{}}]}]}", "generate.attempts[1].model");
    refused("{" STORAGE ",\"attempts\":[{\"model\":\"m\"}]}", "generate.attempts[1].calls must be a list of 1 to 10");
    refused("{" STORAGE ",\"attempts\":[{\"model\":\"m\",\"calls\":[]}]}", "calls must be a list");
    refused("{" STORAGE ",\"attempts\":[{\"model\":\"m\",\"calls\":[{\"body\":{}}]},{\"model\":\"n\",\"calls\":[7]}]}",
            "generate.attempts[2].calls[1] must be a table");
    refused("{" STORAGE ",\"attempts\":[{\"model\":\"m\",\"calls\":[{\"body\":{}},{\"body\":false}]}]}",
            "generate.attempts[1].calls[2].body must be a table or a string");
    refused("{" STORAGE ",\"attempts\":[{\"model\":\"m\",\"calls\":[{\"body\":{},\"metadata\":{\"a b\":\"x\"}}]}]}",
            "generate.attempts[1].calls[1].metadata[\"a b\"]");
    char eleven[512] = "{" STORAGE ",\"attempts\":[{\"model\":\"m\",\"calls\":[{\"body\":{}}";
    for (int i = 0; i < 10; i++)
        strcat(eleven, ",{\"body\":{}}");
    strcat(eleven, "]}]}");
    refused(eleven, "1 to 10 calls");
}

int main(void)
{
    IG_RUN(test_attempts_and_calls);
    IG_RUN(test_single_body_form);
    IG_RUN(test_broken_plans_name_the_member);
    return ig_test_finish("plan");
}
