# Every optional feature switched on at once (each run expects the two warnings this configuration
# gives: legacy models allowed, a key tier config.lua does not map yet), applied against a mocked AWS provider: API keys with a
# usage plan, alarms to SNS, SSE-KMS, X-Ray, the account-wide logging role, several legacy models in a
# stack whose region does not serve them (so Bedrock is called elsewhere), another prefix. Each option
# must add exactly what it needs and keep the rest least-privilege.

mock_provider "aws" {
  source = "./tests/mocks"
}

# The provider's region (the stack's): eu-west-1, which serves none of the allowed models.
override_data {
  target = data.aws_region.current
  values = {
    name = "eu-west-1"
  }
}

variables {
  lambda_zip_path             = "tests/fixtures/lambda.zip"
  manifest_path               = "tests/fixtures/arm64.manifest.json"
  name                        = "imagegen-test"
  allowed_models              = ["amazon.titan-image-generator-v1", "amazon.nova-canvas-v1:0"]
  image_prefix                = "out/img/"
  image_retention_days        = 7
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
  lambda_tracing_mode         = "Active"
  lambda_reserved_concurrency = 5
  lambda_architecture         = "arm64"
  lambda_timeout_seconds      = 600
  manage_api_gateway_account  = true
  api_keys                    = { default = {}, partner = { tier = "premium" } }
  usage_plan_rate_limit       = 2
  usage_plan_burst_limit      = 4
  usage_plan_quota_limit      = 500
  usage_plan_quota_period     = "WEEK"
  create_alarms               = true
  alarm_sns_topic_arn         = "arn:aws:sns:eu-west-1:123456789012:imagegen-alerts"
  cors_allow_origins          = ["https://app.example.com"]
  log_prompts                 = true
  log_retention_days          = 90
  lambda_environment          = { IMAGEGEN_LUA_MEMORY_MB = "16" }
  url_ttl_seconds             = 600
  account_concurrency_limit   = 1000
}

run "kms_models_prefix_and_tracing" {
  command = apply

  # Legacy models warn; the partner key asks for a tier the fixture's config.lua does not map yet.
  expect_failures = [check.allowed_models_are_current, check.api_key_tiers_in_policy]

  assert {
    condition = (
      one(one(aws_s3_bucket_server_side_encryption_configuration.images.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.images.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn &&
      one(aws_s3_bucket_server_side_encryption_configuration.images.rule).bucket_key_enabled == true
    )
    error_message = "With a key the bucket must default to SSE-KMS with that key and a bucket key."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : [s.Action, s.Resource] if s.Sid == "UseBucketKey"
    ] == [[["kms:GenerateDataKey", "kms:Decrypt"], [var.kms_key_arn]]]
    error_message = "KMS permissions must be GenerateDataKey and Decrypt on that key only."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_SSE == "aws:kms" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_KMS_KEY_ID == var.kms_key_arn
    )
    error_message = "The function must name the key on its uploads."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1",
      "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0",
    ]
    error_message = "bedrock:InvokeModel must cover exactly the two allowed models in us-east-1, the one region that serves both, not in the stack's eu-west-1."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_ALLOWED_MODELS == "amazon.titan-image-generator-v1,amazon.nova-canvas-v1:0" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-east-1"
    )
    error_message = "The function must be told the same model list that IAM allows, and call Bedrock in the region IAM grants."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "ReadWriteGeneratedImages"
    ][0] == ["${aws_s3_bucket.images.arn}/out/img/*"]
    error_message = "Object access must follow the configured image prefix."
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.images.rule :
      [one(r.filter).prefix, one(r.expiration).days] if r.id == "expire-generated-images"
    ] == [["out/img/", 7]]
    error_message = "Expiration must follow the configured prefix and retention."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if s.Resource == "*"
      ] == [{
        Sid      = "WriteTraces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
    }]
    error_message = "The only \"*\" resource may be the X-Ray statement, present only with tracing."
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active" && aws_api_gateway_stage.this.xray_tracing_enabled
    error_message = "Active tracing must be set on the function and the stage."
  }

  assert {
    condition = (
      aws_lambda_function.this.reserved_concurrent_executions == 5 &&
      one(aws_lambda_function.this.architectures) == "arm64" &&
      aws_lambda_function.this.timeout == 600
    )
    error_message = "Reserved concurrency, architecture and timeout must follow the variables."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LUA_MEMORY_MB == "16" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LOG_PROMPTS == "1" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_CORS_ORIGINS == "https://app.example.com" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_URL_TTL == "600" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_KEY_PREFIX == "out/img/%Y/%m/%d/" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_CACHE_KEY_PREFIX == "out/img/cache/"
    )
    error_message = "Extra environment, prompt logging, the CORS origin, the URL lifetime and the key prefixes set in Terraform must reach the function."
  }

  # The policy's default (Stable Image Core) is not allowed here: the policy takes the first allowed
  # model, and the module says so without overriding it.
  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_DEFAULT_MODEL") && output.default_model == "amazon.titan-image-generator-v1"
    error_message = "Without default_model the policy's rule picks the first allowed model; Terraform must not set IMAGEGEN_DEFAULT_MODEL."
  }

  assert {
    condition     = aws_cloudwatch_log_group.lambda.retention_in_days == 90 && aws_cloudwatch_log_group.lambda.name == "/aws/lambda/imagegen-test"
    error_message = "Log retention and the log group name must follow the variables."
  }
}

run "keys_logging_role_and_alarms" {
  command = apply

  # Legacy models warn; the partner key asks for a tier the fixture's config.lua does not map yet.
  expect_failures = [check.allowed_models_are_current, check.api_key_tiers_in_policy]

  assert {
    condition = {
      for k, m in aws_api_gateway_method.route : k => m.api_key_required
      } == {
      "GET /generate-image"     = true
      "POST /generate-image"    = true
      "OPTIONS /generate-image" = false
      "POST /edit-image"        = true
      "OPTIONS /edit-image"     = false
      "POST /uploads"           = true
      "OPTIONS /uploads"        = false
      "GET /models"             = true
      "OPTIONS /models"         = false
      "POST /jobs"              = true
      "OPTIONS /jobs"           = false
      "GET /jobs/{id}"          = true
      "OPTIONS /jobs/{id}"      = false
      "GET /images"             = true
      "OPTIONS /images"         = false
      "GET /images/{id}"        = true
      "OPTIONS /images/{id}"    = false
      "GET /health"             = false
      "OPTIONS /health"         = false
      "GET /"                   = false
      "OPTIONS /"               = false
      "GET /web/{file}"         = false
      "OPTIONS /web/{file}"     = false
    }
    error_message = "Keys are required on /generate-image, /edit-image, /uploads, /models, /jobs and /images, never on /health or a CORS preflight."
  }

  assert {
    condition = (
      one(aws_api_gateway_usage_plan.this[0].throttle_settings).rate_limit == 2 &&
      one(aws_api_gateway_usage_plan.this[0].throttle_settings).burst_limit == 4 &&
      one(aws_api_gateway_usage_plan.this[0].quota_settings).limit == 500 &&
      one(aws_api_gateway_usage_plan.this[0].quota_settings).period == "WEEK"
    )
    error_message = "The usage plan must carry the configured rate, burst and quota."
  }

  assert {
    condition = (
      one(aws_api_gateway_usage_plan.this[0].api_stages).stage == aws_api_gateway_stage.this.stage_name &&
      toset(keys(aws_api_gateway_usage_plan_key.this)) == toset(["default", "partner"]) &&
      alltrue([for k, pk in aws_api_gateway_usage_plan_key.this : pk.key_id == aws_api_gateway_api_key.this[k].id && pk.key_type == "API_KEY"])
    )
    error_message = "Both keys must be attached to the usage plan of this stage."
  }

  assert {
    condition = (
      aws_api_gateway_api_key.this["partner"].name == "imagegen-test-partner" &&
      output.api_key_ids == { default = "k3yk3yk3y1", partner = "k3yk3yk3y1" } &&
      output.api_key_value == "mocked-api-key-value-0123456789abcdef"
    )
    error_message = "Each key is named after the deployment and its name in api_keys; ids and the default key's value are outputs."
  }

  assert {
    condition     = output.rate_limit_keys_lua == "[\"k3yk3yk3y1\"] = \"premium\", -- partner"
    error_message = "The config.lua line for the partner's premium tier must name its key id."
  }

  assert {
    condition = alltrue([
      for k, r in aws_api_gateway_gateway_response.error :
      r.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    ]) && length(aws_api_gateway_gateway_response.error) >= 12
    error_message = "API Gateway's own errors must name the configured origin."
  }

  assert {
    condition     = aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn
    error_message = "The account setting must use the role this stack creates."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.api_gateway_cloudwatch[0].assume_role_policy).Statement[0].Principal.Service == "apigateway.amazonaws.com" &&
      aws_iam_role_policy_attachment.api_gateway_cloudwatch[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )
    error_message = "The logging role must trust API Gateway and carry AmazonAPIGatewayPushToCloudWatchLogs."
  }

  assert {
    condition = alltrue([
      for a in [aws_cloudwatch_metric_alarm.api_5xx_rate[0], aws_cloudwatch_metric_alarm.lambda_throttles[0], aws_cloudwatch_metric_alarm.lambda_duration[0]] :
      tolist(a.alarm_actions) == tolist([var.alarm_sns_topic_arn]) && tolist(a.ok_actions) == tolist([var.alarm_sns_topic_arn])
    ])
    error_message = "Every alarm must notify the SNS topic when it fires and when it recovers."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_duration[0].threshold == 480000 && aws_cloudwatch_metric_alarm.lambda_duration[0].metric_name == "Duration"
    error_message = "The duration alarm must fire at 80% of the 600 s timeout (480000 ms)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lambda_throttles[0].metric_name == "Throttles" &&
      aws_cloudwatch_metric_alarm.lambda_throttles[0].dimensions.FunctionName == "imagegen-test"
    )
    error_message = "The throttle alarm must watch this function's Throttles metric."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.api_5xx_rate[0].threshold == 5 &&
      length([for q in aws_cloudwatch_metric_alarm.api_5xx_rate[0].metric_query : q if q.return_data == true]) == 1 &&
      toset(flatten([for q in aws_cloudwatch_metric_alarm.api_5xx_rate[0].metric_query : [for m in q.metric : m.metric_name]])) == toset(["5XXError", "Count"])
    )
    error_message = "The 5XX alarm must be the 5XXError/Count ratio in percent, above 5%."
  }
}
