# Variable validation: each run gives one bad value and expects the plan to stop at that variable,
# with the module's own error message instead of an API error during apply. The last runs check that
# the boundary values are accepted.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "dummy-lambda.zip"
}

run "rejects_timeout_above_api_gateway_limit" {
  command = plan

  variables {
    lambda_timeout_seconds = 30
  }

  expect_failures = [var.lambda_timeout_seconds]
}

run "rejects_timeout_fractional" {
  command = plan

  variables {
    lambda_timeout_seconds = 10.5
  }

  expect_failures = [var.lambda_timeout_seconds]
}

run "rejects_retention_not_in_cloudwatch_list" {
  command = plan

  variables {
    log_retention_days = 15
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_wildcard_model" {
  command = plan

  variables {
    allowed_models = ["*"]
  }

  expect_failures = [var.allowed_models]
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

run "rejects_bedrock_region_typo" {
  command = plan

  variables {
    bedrock_region = "us-west"
  }

  expect_failures = [var.bedrock_region]
}

run "rejects_profile_regions_for_unknown_geography" {
  command = plan

  variables {
    bedrock_profile_regions = { global = ["us-east-1"] }
  }

  expect_failures = [var.bedrock_profile_regions]
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

run "rejects_unknown_architecture" {
  command = plan

  variables {
    lambda_architecture = "arm"
  }

  expect_failures = [var.lambda_architecture]
}

run "rejects_prefix_without_trailing_slash" {
  command = plan

  variables {
    image_prefix = "images"
  }

  expect_failures = [var.image_prefix]
}

run "rejects_prefix_with_leading_slash" {
  command = plan

  variables {
    image_prefix = "/images/"
  }

  expect_failures = [var.image_prefix]
}

run "rejects_quota_period_hour" {
  command = plan

  variables {
    usage_plan_quota_period = "HOUR"
  }

  expect_failures = [var.usage_plan_quota_period]
}

run "rejects_missing_package" {
  command = plan

  variables {
    lambda_zip_path = "no-such-package.zip"
  }

  expect_failures = [var.lambda_zip_path]
}

run "rejects_kms_alias_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/imagegen"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_tracing_mode_on" {
  command = plan

  variables {
    lambda_tracing_mode = "On"
  }

  expect_failures = [var.lambda_tracing_mode]
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

run "rejects_upper_case_name" {
  command = plan

  variables {
    name = "ImageGen"
  }

  expect_failures = [var.name]
}

run "rejects_name_too_long_for_bucket_prefix" {
  command = plan

  variables {
    name = "imagegen-with-a-very-long-name"
  }

  expect_failures = [var.name]
}

run "rejects_url_ttl_seven_days" {
  command = plan

  variables {
    url_ttl_seconds = 604800
  }

  expect_failures = [var.url_ttl_seconds]
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

run "rejects_sns_topic_not_an_arn" {
  command = plan

  variables {
    alarm_sns_topic_arn = "imagegen-alerts"
  }

  expect_failures = [var.alarm_sns_topic_arn]
}

run "rejects_stage_name_with_space" {
  command = plan

  variables {
    stage_name = "my stage"
  }

  expect_failures = [var.stage_name]
}

run "rejects_memory_below_lambda_minimum" {
  command = plan

  variables {
    lambda_memory_mb = 64
  }

  expect_failures = [var.lambda_memory_mb]
}

run "rejects_logging_level_debug" {
  command = plan

  variables {
    api_logging_level = "DEBUG"
  }

  expect_failures = [var.api_logging_level]
}

run "rejects_negative_reserved_concurrency" {
  command = plan

  variables {
    lambda_reserved_concurrency = -1
  }

  expect_failures = [var.lambda_reserved_concurrency]
}

run "rejects_retention_zero_days" {
  command = plan

  variables {
    image_retention_days = 0
  }

  expect_failures = [var.image_retention_days]
}

run "rejects_region_typo" {
  command = plan

  variables {
    aws_region = "us-east"
  }

  expect_failures = [var.aws_region]
}

run "rejects_duration_alarm_percent_above_100" {
  command = plan

  variables {
    alarm_duration_percent = 120
  }

  expect_failures = [var.alarm_duration_percent]
}

run "accepts_boundary_values" {
  command = plan

  variables {
    lambda_timeout_seconds      = 29
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
    condition     = aws_lambda_function.this.timeout == 29 && aws_lambda_function.this.memory_size == 10240
    error_message = "The largest timeout and memory must be accepted."
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "PassThrough"
    error_message = "PassThrough tracing must be accepted."
  }

  assert {
    condition     = length(aws_api_gateway_gateway_response.cors) == 0
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
