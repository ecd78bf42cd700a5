# Who may call, and what a client sees when API Gateway refuses: opening the API, keys and their tiers,
# the Cognito and Lambda authorizers, AWS WAF, the gateway responses in the API's error shape, and the
# organisation guardrails (role path and permissions boundary, S3 access logging, reserved
# concurrency against the account's quota). The closed default is in defaults.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "opening_the_api_takes_one_variable" {
  command = apply

  variables {
    allow_anonymous_access = true
  }

  assert {
    condition     = alltrue([for k, m in aws_api_gateway_method.route : m.api_key_required == false && m.authorization == "NONE"])
    error_message = "allow_anonymous_access must open every route."
  }

  assert {
    condition = (
      length(aws_api_gateway_api_key.this) == 0 && length(aws_api_gateway_usage_plan.this) == 0 &&
      length(aws_api_gateway_usage_plan_key.this) == 0 && output.api_key_value == null && output.api_key_ids == {}
    )
    error_message = "An open API has no keys and no usage plan."
  }
}

run "refuses_an_api_that_requires_nothing" {
  command = plan

  variables {
    api_keys = {}
  }

  expect_failures = [aws_api_gateway_rest_api.this]
}

run "refuses_an_open_api_with_an_authorizer" {
  command = plan

  variables {
    allow_anonymous_access = true
    cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
  }

  expect_failures = [aws_api_gateway_rest_api.this]
}

run "cognito_authorizer_without_keys" {
  command = apply

  variables {
    api_keys               = {}
    cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
    cognito_oauth_scopes   = ["imagegen/generate"]
  }

  assert {
    condition = (
      aws_api_gateway_authorizer.this[0].type == "COGNITO_USER_POOLS" &&
      aws_api_gateway_authorizer.this[0].provider_arns == toset(var.cognito_user_pool_arns) &&
      aws_api_gateway_authorizer.this[0].identity_source == "method.request.header.Authorization"
    )
    error_message = "The Cognito authorizer must check the Authorization header against the given pools."
  }

  assert {
    condition = {
      for k, m in aws_api_gateway_method.route : k => [m.authorization, m.api_key_required, m.authorizer_id != null]
      } == {
      "GET /generate-image"     = ["COGNITO_USER_POOLS", false, true]
      "POST /generate-image"    = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /generate-image" = ["NONE", false, false]
      "POST /edit-image"        = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /edit-image"     = ["NONE", false, false]
      "POST /uploads"           = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /uploads"        = ["NONE", false, false]
      "GET /models"             = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /models"         = ["NONE", false, false]
      "POST /jobs"              = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /jobs"           = ["NONE", false, false]
      "GET /jobs/{id}"          = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /jobs/{id}"      = ["NONE", false, false]
      "GET /images"             = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /images"         = ["NONE", false, false]
      "GET /images/{id}"        = ["COGNITO_USER_POOLS", false, true]
      "OPTIONS /images/{id}"    = ["NONE", false, false]
      "GET /health"             = ["NONE", false, false]
      "OPTIONS /health"         = ["NONE", false, false]
      "GET /"                   = ["NONE", false, false]
      "OPTIONS /"               = ["NONE", false, false]
      "GET /web/{file}"         = ["NONE", false, false]
      "OPTIONS /web/{file}"     = ["NONE", false, false]
    }
    error_message = "The authorizer protects /generate-image, /edit-image, /uploads, /models, /jobs and /images only; without keys none is required."
  }

  assert {
    condition     = aws_api_gateway_method.route["POST /generate-image"].authorization_scopes == toset(["imagegen/generate"])
    error_message = "Access tokens must carry the configured scope."
  }

  assert {
    condition = (
      aws_api_gateway_gateway_response.error["UNAUTHORIZED"].status_code == "401" &&
      jsondecode(aws_api_gateway_gateway_response.error["UNAUTHORIZED"].response_templates["application/json"]).error.code == "unauthorized"
    )
    error_message = "A missing or rejected token answers 401 unauthorized in the API's error shape."
  }
}

run "lambda_authorizer_with_keys" {
  command = apply

  variables {
    lambda_authorizer_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:jwt-authorizer"
  }

  assert {
    condition = (
      aws_api_gateway_authorizer.this[0].type == "TOKEN" &&
      aws_api_gateway_authorizer.this[0].authorizer_uri == "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:jwt-authorizer/invocations" &&
      aws_api_gateway_authorizer.this[0].authorizer_result_ttl_in_seconds == 300
    )
    error_message = "The Lambda authorizer must be a TOKEN authorizer invoking the given function."
  }

  assert {
    condition = (
      aws_lambda_permission.authorizer[0].function_name == var.lambda_authorizer_function_arn &&
      aws_lambda_permission.authorizer[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.authorizer[0].source_arn == "${aws_api_gateway_rest_api.this.execution_arn}/authorizers/${aws_api_gateway_authorizer.this[0].id}"
    )
    error_message = "Only this API's authorizer may invoke the authorizer function."
  }

  assert {
    condition = alltrue([
      for k in ["GET /generate-image", "POST /edit-image", "POST /uploads"] :
      aws_api_gateway_method.route[k].authorization == "CUSTOM" && aws_api_gateway_method.route[k].api_key_required
    ])
    error_message = "With keys and an authorizer, a caller needs both."
  }
}

run "refuses_two_authorizers" {
  command = plan

  variables {
    cognito_user_pool_arns         = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
    lambda_authorizer_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:jwt-authorizer"
  }

  expect_failures = [aws_api_gateway_rest_api.this]
}

# The fixture's edited config.lua maps key id k3yk3yk3y1 (the mocked id of every key) to premium.
run "key_tiers_in_config_lua_stop_the_warning" {
  command = apply

  variables {
    manifest_path = "tests/fixtures/edited-policy.manifest.json"
    api_keys      = { partner = { tier = "premium" }, batch = { enabled = false } }
  }

  assert {
    condition = (
      output.api_key_ids == { partner = "k3yk3yk3y1", batch = "k3yk3yk3y1" } &&
      output.rate_limit_keys_lua == "[\"k3yk3yk3y1\"] = \"premium\", -- partner" &&
      aws_api_gateway_api_key.this["batch"].enabled == false && output.api_key_value != null
    )
    error_message = "Key ids, the tier lines and a disabled key must follow api_keys."
  }
}

run "warns_while_config_lua_lacks_a_key_tier" {
  command = apply

  variables {
    api_keys = { partner = { tier = "premium" } }
  }

  expect_failures = [check.api_key_tiers_in_policy]
}

run "refuses_a_tier_the_policy_does_not_define" {
  command = plan

  variables {
    api_keys = { partner = { tier = "gold" } }
  }

  expect_failures = [aws_api_gateway_api_key.this]
}

run "waf_rate_limit_of_its_own" {
  command = apply

  variables {
    waf_rate_limit                = 300
    waf_rate_limit_window_seconds = 60
  }

  assert {
    condition = (
      one(one(one(aws_wafv2_web_acl.this[0].rule).statement).rate_based_statement).limit == 300 &&
      one(one(one(aws_wafv2_web_acl.this[0].rule).statement).rate_based_statement).evaluation_window_sec == 60 &&
      one(one(one(aws_wafv2_web_acl.this[0].rule).statement).rate_based_statement).aggregate_key_type == "IP" &&
      length(one(one(aws_wafv2_web_acl.this[0].rule).action).block) == 1 &&
      aws_wafv2_web_acl.this[0].scope == "REGIONAL" && length(one(aws_wafv2_web_acl.this[0].default_action).allow) == 1
    )
    error_message = "The web ACL must allow by default and block an IP past 300 requests a minute."
  }

  assert {
    condition = (
      aws_wafv2_web_acl_association.this[0].resource_arn == aws_api_gateway_stage.this.arn &&
      aws_wafv2_web_acl_association.this[0].web_acl_arn == aws_wafv2_web_acl.this[0].arn &&
      output.web_acl_arn == aws_wafv2_web_acl.this[0].arn
    )
    error_message = "The web ACL must be associated with the stage."
  }

  assert {
    condition = (
      aws_api_gateway_gateway_response.error["WAF_FILTERED"].status_code == "429" &&
      jsondecode(aws_api_gateway_gateway_response.error["WAF_FILTERED"].response_templates["application/json"]).error.code == "throttled_by_firewall"
    )
    error_message = "A block by the module's rate rule answers 429 throttled_by_firewall."
  }
}

run "waf_web_acl_of_the_organisation" {
  command = apply

  variables {
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/org-baseline/0f1e2d3c-aaaa-4bbb-8ccc-000000000002"
  }

  assert {
    condition = (
      length(aws_wafv2_web_acl.this) == 0 &&
      aws_wafv2_web_acl_association.this[0].web_acl_arn == var.waf_web_acl_arn &&
      aws_api_gateway_gateway_response.error["WAF_FILTERED"].status_code == "403"
    )
    error_message = "An existing web ACL is associated as it is, and its blocks answer 403."
  }
}

run "refuses_two_web_acls" {
  command = plan

  variables {
    waf_rate_limit  = 300
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/org-baseline/0f1e2d3c-aaaa-4bbb-8ccc-000000000002"
  }

  expect_failures = [aws_wafv2_web_acl.this]
}

# Every gateway response a client can see, in the API's error shape, with the codes the local gateway
# answers too, and the CORS headers of the single allowed origin.
run "gateway_errors_answer_in_the_api_error_shape" {
  command = apply

  variables {
    cors_allow_origins = ["https://app.example.com"]
  }

  assert {
    condition = {
      # DEFAULT_4XX and DEFAULT_5XX set no status: each response that falls back to them keeps its own.
      for t, r in aws_api_gateway_gateway_response.error : t => [
        startswith(t, "DEFAULT_") ? "own status" : r.status_code, jsondecode(r.response_templates["application/json"]).error.code,
      ]
      } == {
      ACCESS_DENIED                = ["403", "forbidden"]
      INVALID_API_KEY              = ["403", "forbidden"]
      MISSING_AUTHENTICATION_TOKEN = ["403", "missing_authentication_token"]
      RESOURCE_NOT_FOUND           = ["404", "not_found"]
      THROTTLED                    = ["429", "throttled_by_gateway"]
      QUOTA_EXCEEDED               = ["429", "quota_exceeded"]
      REQUEST_TOO_LARGE            = ["413", "payload_too_large"]
      UNSUPPORTED_MEDIA_TYPE       = ["415", "unsupported_media_type"]
      INTEGRATION_TIMEOUT          = ["504", "gateway_timeout"]
      INTEGRATION_FAILURE          = ["502", "bad_gateway"]
      DEFAULT_4XX                  = ["own status", "bad_request"]
      DEFAULT_5XX                  = ["own status", "bad_gateway"]
    }
    error_message = "Each gateway response type must answer its documented status and code (no authorizer, no WAF: no UNAUTHORIZED, AUTHORIZER_* or WAF_FILTERED)."
  }

  assert {
    condition = alltrue([
      for t, r in aws_api_gateway_gateway_response.error :
      keys(jsondecode(r.response_templates["application/json"])) == ["error"] &&
      keys(jsondecode(r.response_templates["application/json"]).error) == ["code", "message", "requestId"] &&
      jsondecode(r.response_templates["application/json"]).error.requestId == "$context.requestId" &&
      length(jsondecode(r.response_templates["application/json"]).error.message) > 20
    ])
    error_message = "Every body must be {\"error\": {\"code\", \"message\", \"requestId\"}} with API Gateway's request id and a sentence."
  }

  assert {
    condition = alltrue([
      for t, r in aws_api_gateway_gateway_response.error :
      r.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'" &&
      strcontains(r.response_parameters["gatewayresponse.header.Access-Control-Allow-Headers"], "X-Api-Key")
    ])
    error_message = "Every gateway error must carry the CORS headers of the allowed origin."
  }

  assert {
    condition     = aws_api_gateway_gateway_response.error["THROTTLED"].response_parameters["gatewayresponse.header.Retry-After"] == "'1'"
    error_message = "A throttled request is told when to retry."
  }

  assert {
    condition     = aws_api_gateway_deployment.this.triggers.redeployment != ""
    error_message = "The deployment must carry a trigger that covers the gateway responses."
  }
}

run "roles_take_the_organisation_path_and_boundary" {
  command = apply

  variables {
    iam_role_path                = "/workloads/imagegen/"
    iam_permissions_boundary_arn = "arn:aws:iam::123456789012:policy/workload-boundary"
    s3_access_log_bucket         = "org-s3-access-logs"
    tags                         = { CostCenter = "ml-42" }
  }

  assert {
    condition = alltrue([
      for r in [aws_iam_role.lambda, aws_iam_role.api_gateway_cloudwatch[0]] :
      r.path == "/workloads/imagegen/" && r.permissions_boundary == "arn:aws:iam::123456789012:policy/workload-boundary"
    ])
    error_message = "Every role the module creates must have the path and the permissions boundary."
  }

  assert {
    condition = (
      aws_s3_bucket_logging.images[0].target_bucket == "org-s3-access-logs" &&
      aws_s3_bucket_logging.images[0].target_prefix == "imagegen/" &&
      aws_s3_bucket_logging.images[0].bucket == aws_s3_bucket.images.id
    )
    error_message = "S3 access logging must go to the given bucket and prefix."
  }

  assert {
    condition     = aws_iam_role.lambda.tags == tomap({ Application = "imagegen", CostCenter = "ml-42" })
    error_message = "Tags must be merged with the Application tag."
  }
}

run "reserved_concurrency_within_the_quota" {
  command = apply

  variables {
    lambda_reserved_concurrency = 900
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 900 && length(data.aws_servicequotas_service_quota.lambda_concurrency) == 1
    error_message = "900 of the mocked quota of 1000 can be reserved; the quota is read from Service Quotas."
  }
}

run "refuses_reserved_concurrency_beyond_the_quota" {
  command = plan

  variables {
    lambda_reserved_concurrency = 950
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_reserved_concurrency_in_a_new_account" {
  command = plan

  variables {
    lambda_reserved_concurrency = 5
    account_concurrency_limit   = 10
  }

  expect_failures = [aws_lambda_function.this]
}
