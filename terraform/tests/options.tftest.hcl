# Every optional feature switched on at once, applied against a mocked AWS provider: API keys with a
# usage plan, alarms to SNS, SSE-KMS, X-Ray, the account-wide logging role, several legacy models in a
# stack whose region does not serve them (so Bedrock is called elsewhere), another prefix. Each option
# must add exactly what it needs and keep the rest least-privilege.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path             = "dummy-lambda.zip"
  name                        = "imagegen-test"
  allowed_models              = ["amazon.titan-image-generator-v1", "amazon.nova-canvas-v1:0"]
  aws_region                  = "eu-west-1"
  image_prefix                = "out/img/"
  image_retention_days        = 7
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
  lambda_tracing_mode         = "Active"
  lambda_reserved_concurrency = 5
  lambda_architecture         = "arm64"
  lambda_timeout_seconds      = 29
  manage_api_gateway_account  = true
  create_api_key              = true
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
}

run "kms_encryption_and_its_permissions" {
  command = apply

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
}

run "models_prefix_and_tracing_shape_the_role" {
  command = apply

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
      aws_lambda_function.this.timeout == 29
    )
    error_message = "Reserved concurrency, architecture and timeout must follow the variables."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LUA_MEMORY_MB == "16" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LOG_PROMPTS == "1" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_CORS_ORIGINS == "https://app.example.com" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_DEFAULT_MODEL == "amazon.titan-image-generator-v1"
    )
    error_message = "Extra environment, prompt logging, the CORS origin and the default model must reach the function."
  }

  assert {
    condition     = aws_cloudwatch_log_group.lambda.retention_in_days == 90 && aws_cloudwatch_log_group.lambda.name == "/aws/lambda/imagegen-test"
    error_message = "Log retention and the log group name must follow the variables."
  }
}

run "api_keys_and_usage_plan" {
  command = apply

  assert {
    condition = {
      for k, m in aws_api_gateway_method.route : k => m.api_key_required
      } == {
      "GET /generate-image"     = true
      "POST /generate-image"    = true
      "OPTIONS /generate-image" = false
      "GET /models"             = true
      "OPTIONS /models"         = false
      "GET /health"             = false
      "OPTIONS /health"         = false
    }
    error_message = "Keys are required on /generate-image and /models, never on /health or a CORS preflight."
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
      aws_api_gateway_usage_plan_key.this[0].key_id == aws_api_gateway_api_key.this[0].id &&
      aws_api_gateway_usage_plan_key.this[0].key_type == "API_KEY"
    )
    error_message = "The key must be attached to the usage plan of this stage."
  }

  assert {
    condition     = output.api_key_value == "mocked-api-key-value-0123456789abcdef"
    error_message = "The API key value must be an output."
  }

  assert {
    condition = alltrue([
      for k, r in aws_api_gateway_gateway_response.cors :
      r.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    ]) && toset(keys(aws_api_gateway_gateway_response.cors)) == toset(["DEFAULT_4XX", "DEFAULT_5XX"])
    error_message = "API Gateway's own errors must name the configured origin."
  }
}

run "account_logging_role" {
  command = apply

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
}

run "alarms_notify_the_topic" {
  command = apply

  assert {
    condition = alltrue([
      for a in [aws_cloudwatch_metric_alarm.api_5xx_rate[0], aws_cloudwatch_metric_alarm.lambda_throttles[0], aws_cloudwatch_metric_alarm.lambda_duration[0]] :
      tolist(a.alarm_actions) == tolist([var.alarm_sns_topic_arn]) && tolist(a.ok_actions) == tolist([var.alarm_sns_topic_arn])
    ])
    error_message = "Every alarm must notify the SNS topic when it fires and when it recovers."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_duration[0].threshold == 23200 && aws_cloudwatch_metric_alarm.lambda_duration[0].metric_name == "Duration"
    error_message = "The duration alarm must fire at 80% of the 29 s timeout (23200 ms)."
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
