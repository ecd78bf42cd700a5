# Variable validation: each run gives bad values and expects the plan to stop at exactly those
# variables, each with the module's own error message instead of an API error during apply. Runs
# group several variables (every variable's validation is evaluated in one plan, and a run fails
# naming any variable that was not refused); the last runs check that the boundary values are
# accepted.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "rejects_bad_function_settings" {
  command = plan

  variables {
    lambda_timeout_seconds      = 901 # above Lambda's 900 s
    lambda_memory_mb            = 64  # below Lambda's minimum
    lambda_architecture         = "arm"
    lambda_tracing_mode         = "On"
    lambda_reserved_concurrency = -1
    log_retention_days          = 15 # not in CloudWatch's list
    lambda_log_level            = "VERBOSE"
  }

  expect_failures = [
    var.lambda_timeout_seconds, var.lambda_memory_mb, var.lambda_architecture, var.lambda_tracing_mode,
    var.lambda_reserved_concurrency, var.log_retention_days, var.lambda_log_level,
  ]
}

run "rejects_fractional_and_out_of_range_numbers" {
  command = plan

  variables {
    lambda_timeout_seconds    = 10.5
    image_retention_days      = 0
    url_ttl_seconds           = 604800 # seven days: beyond the signing credentials
    alarm_duration_percent    = 120
    account_concurrency_limit = 0
  }

  expect_failures = [
    var.lambda_timeout_seconds, var.image_retention_days, var.url_ttl_seconds, var.alarm_duration_percent,
    var.account_concurrency_limit,
  ]
}

run "rejects_wildcard_model_and_arn_default" {
  command = plan

  variables {
    allowed_models = ["*"]
    default_model  = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1"
  }

  expect_failures = [var.allowed_models, var.default_model]
}

run "rejects_model_arn_instead_of_id" {
  command = plan

  variables {
    allowed_models = ["arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_global_profile" {
  command = plan

  variables {
    allowed_models = ["global.stability.stable-image-core-v1:1"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_unknown_geography_prefix" {
  command = plan

  variables {
    allowed_models = ["mars.stability.stable-image-core-v1:1"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_doubled_geography_prefix" {
  command = plan

  variables {
    allowed_models = ["us.us.stability.stable-image-core-v1:1"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_application_inference_profile_arn" {
  command = plan

  variables {
    allowed_models = ["arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5f6"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_duplicate_models" {
  command = plan

  variables {
    allowed_models = ["amazon.titan-image-generator-v1", "amazon.titan-image-generator-v1"]
  }

  expect_failures = [var.allowed_models]
}

run "rejects_no_models" {
  command = plan

  variables {
    allowed_models = []
  }

  expect_failures = [var.allowed_models]
}

run "rejects_bad_bedrock_regions" {
  command = plan

  variables {
    bedrock_region          = "us-west"
    bedrock_profile_regions = { global = ["us-east-1"] }
  }

  expect_failures = [var.bedrock_region, var.bedrock_profile_regions]
}

run "rejects_profile_regions_empty_list" {
  command = plan

  variables {
    bedrock_profile_regions = { us = [] }
  }

  expect_failures = [var.bedrock_profile_regions]
}

run "rejects_environment_overrides_bedrock_region" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_BEDROCK_REGION = "eu-west-1" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_reserved_aws_environment_name" {
  command = plan

  variables {
    lambda_environment = { AWS_REGION = "us-west-2" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_environment_overrides_bucket" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_BUCKET = "elsewhere" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_bad_names_and_prefixes" {
  command = plan

  variables {
    name                 = "ImageGen"
    image_prefix         = "images" # no trailing slash
    stage_name           = "my stage"
    s3_access_log_prefix = "logs with spaces/"
  }

  expect_failures = [var.name, var.image_prefix, var.stage_name, var.s3_access_log_prefix]
}

run "rejects_name_too_long_and_prefix_with_leading_slash" {
  command = plan

  variables {
    name         = "imagegen-with-a-very-long-name"
    image_prefix = "/images/"
  }

  expect_failures = [var.name, var.image_prefix]
}

run "rejects_bad_package_locations" {
  command = plan

  variables {
    lambda_zip_path          = "tests/fixtures/lambda.manifest.json"
    manifest_path            = "tests/fixtures/lambda.zip"
    lambda_s3_bucket         = "CI_Artifacts"
    lambda_s3_object_version = ""
  }

  expect_failures = [var.lambda_zip_path, var.manifest_path, var.lambda_s3_bucket, var.lambda_s3_object_version]
}

run "rejects_s3_key_that_is_not_a_zip" {
  command = plan

  variables {
    lambda_s3_bucket = "ci-artifacts"
    lambda_s3_key    = "imagegen/lambda.tar.gz"
  }

  expect_failures = [var.lambda_s3_key]
}

run "rejects_bad_arns" {
  command = plan

  variables {
    kms_key_arn                    = "alias/imagegen"
    alarm_sns_topic_arn            = "imagegen-alerts"
    iam_permissions_boundary_arn   = "arn:aws:iam::123456789012:role/boundary"
    cognito_user_pool_arns         = ["us-east-1_AbCdEf123"]
    lambda_authorizer_function_arn = "jwt-authorizer"
    waf_web_acl_arn                = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0f1e2d3c"
    s3_access_log_bucket           = "Logs_Bucket"
  }

  expect_failures = [
    var.kms_key_arn, var.alarm_sns_topic_arn, var.iam_permissions_boundary_arn, var.cognito_user_pool_arns,
    var.lambda_authorizer_function_arn, var.waf_web_acl_arn, var.s3_access_log_bucket,
  ]
}

run "rejects_bad_api_settings" {
  command = plan

  variables {
    api_logging_level             = "DEBUG"
    usage_plan_quota_period       = "HOUR"
    iam_role_path                 = "imagegen"
    waf_rate_limit                = 5
    waf_rate_limit_window_seconds = 90
    authorizer_cache_ttl_seconds  = 7200
    api_keys                      = { "my key" = {} }
    cognito_oauth_scopes          = ["two words"]
  }

  expect_failures = [
    var.api_logging_level, var.usage_plan_quota_period, var.iam_role_path, var.waf_rate_limit,
    var.waf_rate_limit_window_seconds, var.authorizer_cache_ttl_seconds, var.api_keys, var.cognito_oauth_scopes,
  ]
}

run "rejects_cors_origin_with_path" {
  command = plan

  variables {
    cors_allow_origins = ["https://app.example.com/path"]
  }

  expect_failures = [var.cors_allow_origins]
}

run "rejects_cors_star_among_origins" {
  command = plan

  variables {
    cors_allow_origins = ["*", "https://app.example.com"]
  }

  expect_failures = [var.cors_allow_origins]
}

run "accepts_boundary_values" {
  command = plan

  variables {
    lambda_timeout_seconds      = 900
    lambda_memory_mb            = 10240
    log_retention_days          = 0
    url_ttl_seconds             = 43200
    lambda_reserved_concurrency = 0
    name                        = "ab"
    image_prefix                = "a/b_c/d-e/"
    allowed_models              = ["stability.sd3-5-large-v1:0", "us.stability.stable-image-core-v1:1"]
    lambda_tracing_mode         = "PassThrough"
    cors_allow_origins          = ["https://a.example.com", "http://localhost:8080"]
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 900 && aws_lambda_function.this.memory_size == 10240
    error_message = "The largest timeout and memory must be accepted."
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "PassThrough"
    error_message = "PassThrough tracing must be accepted."
  }

  assert {
    condition = alltrue([
      for t, r in aws_api_gateway_gateway_response.error : !contains(keys(r.response_parameters), "gatewayresponse.header.Access-Control-Allow-Origin")
    ])
    error_message = "With several origins API Gateway's own answers cannot name one, so they carry none."
  }
}

# A profile id of every geography passes the variable's validation; only the check then warns that
# one Bedrock region cannot be a source region of all of them.
run "accepts_profile_ids_of_every_geography" {
  command = plan

  variables {
    bedrock_region = "us-west-2"
    allowed_models = [
      "us.stability.stable-image-core-v1:1", "eu.example.image-v1:0", "apac.example.image-v1",
      "jp.example.image-v1:2", "au.example.image-v1:0", "us-gov.example.image-v1:0",
    ]
  }

  expect_failures = [check.bedrock_region_serves_allowed_models]
}
