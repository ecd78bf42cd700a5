# The module with its defaults, applied against a mocked AWS provider: the bucket is locked down,
# the role has exactly the least-privilege statements, the API has exactly its routes, and nothing
# optional is created.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "dummy-lambda.zip"
}

run "bucket_is_private_encrypted_and_expiring" {
  command = apply

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.images.block_public_acls,
      aws_s3_bucket_public_access_block.images.block_public_policy,
      aws_s3_bucket_public_access_block.images.ignore_public_acls,
      aws_s3_bucket_public_access_block.images.restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be true."
  }

  assert {
    condition     = aws_s3_bucket.images.bucket_prefix == "imagegen-images-" && aws_s3_bucket.images.force_destroy == false
    error_message = "The bucket must be named from a prefix and must not be force-destroyed by default."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.images.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "Object ownership must be BucketOwnerEnforced (ACLs disabled)."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.images.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Without a KMS key the bucket must default to SSE-S3 (AES256)."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.images.rule) == 2 && alltrue([for r in aws_s3_bucket_lifecycle_configuration.images.rule : length(r.filter) == 1 && r.status == "Enabled"])
    error_message = "There must be two enabled lifecycle rules, each with a filter."
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.images.rule :
      [one(r.filter).prefix, one(r.expiration).days] if r.id == "expire-generated-images"
    ] == [["images/", 30]]
    error_message = "Images under images/ must expire after 30 days."
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.images.rule :
      [length(r.filter), one(r.abort_incomplete_multipart_upload).days_after_initiation] if r.id == "abort-incomplete-multipart-uploads"
    ] == [[1, 1]]
    error_message = "Incomplete multipart uploads must be aborted after one day."
  }

  assert {
    condition = [
      for s in jsondecode(aws_s3_bucket_policy.images.policy).Statement : s if try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
      ] == [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.images.arn, "${aws_s3_bucket.images.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
    error_message = "The bucket policy must deny every non-TLS request on the bucket and its objects."
  }
}

run "role_has_least_privilege" {
  command = apply

  assert {
    condition     = length(jsondecode(aws_iam_role_policy.lambda.policy).Statement) == 3
    error_message = "By default the role has exactly three statements: Bedrock, images, logs."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
    ]
    error_message = "By default bedrock:InvokeModel must be granted on exactly the three active Stability models, in us-west-2 where Bedrock serves them (the stack stays in us-east-1)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement :
      length([for a in s.Action : a if startswith(a, "bedrock:")]) == 0 || s.Action == ["bedrock:InvokeModel"]
    ])
    error_message = "The only Bedrock action may be bedrock:InvokeModel."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if s.Sid == "ReadWriteGeneratedImages"
      ][0] == {
      Sid      = "ReadWriteGeneratedImages"
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:GetObject"]
      Resource = ["arn:aws:s3:::imagegen-images-20260101000000000000000001/images/*"]
    }
    error_message = "S3 access must be PutObject and GetObject under the image prefix only."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "WriteOwnLogs"
    ][0] == ["${aws_cloudwatch_log_group.lambda.arn}:*"]
    error_message = "Log writes must be limited to the function's own log group."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement :
      s.Resource != "*" && !contains(flatten([s.Resource]), "*") && !contains(flatten([s.Action]), "*")
    ])
    error_message = "No statement may use a \"*\" action or resource by default."
  }

  assert {
    condition     = jsondecode(aws_iam_role.lambda.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "Only Lambda may assume the function's role."
  }
}

run "function_runs_the_custom_runtime" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "The function must run bootstrap on provided.al2023."
  }

  assert {
    condition     = one(aws_lambda_function.this.architectures) == "x86_64" && aws_lambda_function.this.timeout == 28 && aws_lambda_function.this.memory_size == 512
    error_message = "Default architecture, timeout and memory are x86_64, 28 s and 512 MB."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("dummy-lambda.zip")
    error_message = "source_code_hash must be the hash of the package file."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BUCKET == aws_s3_bucket.images.id &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_ALLOWED_MODELS == "stability.stable-image-core-v1:1,stability.sd3-5-large-v1:0,stability.stable-image-ultra-v1:1" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_DEFAULT_MODEL == "stability.stable-image-core-v1:1" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_URL_TTL == "3600" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LOG_PROMPTS == "0" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_POLICY_DIR == "/var/task/policy"
    )
    error_message = "The function's environment must carry the bucket, the active models with Stable Image Core as the default, Bedrock's region us-west-2, the URL lifetime, the policy directory and prompt logging off."
  }

  assert {
    condition = length(setintersection(keys(aws_lambda_function.this.environment[0].variables), [
      "IMAGEGEN_CORS_ORIGINS", "IMAGEGEN_SSE", "IMAGEGEN_KMS_KEY_ID",
    ])) == 0
    error_message = "Without origins or a KMS key, the policy's CORS setting and the bucket's default encryption apply."
  }

  assert {
    condition     = output.bedrock_region == "us-west-2"
    error_message = "The bedrock_region output must show the region the function calls."
  }

  assert {
    condition     = startswith(aws_lambda_function.this.environment[0].variables.LD_LIBRARY_PATH, "/var/task/lib:")
    error_message = "The package's lib/ must come first on the library path."
  }

  assert {
    condition     = length(aws_lambda_function.this.tracing_config) == 0 && aws_api_gateway_stage.this.xray_tracing_enabled == false
    error_message = "Tracing is off by default."
  }

  assert {
    condition     = one(aws_lambda_function.this.logging_config).log_group == aws_cloudwatch_log_group.lambda.name
    error_message = "The function must log to the log group Terraform manages."
  }

  assert {
    condition = alltrue([
      aws_cloudwatch_log_group.lambda.retention_in_days == 30,
      aws_cloudwatch_log_group.api_access.retention_in_days == 30,
      aws_cloudwatch_log_group.api_execution.retention_in_days == 30,
    ])
    error_message = "Every log group must have the 30-day default retention."
  }

  assert {
    condition     = aws_cloudwatch_log_group.lambda.name == "/aws/lambda/imagegen"
    error_message = "The function's log group must have the name Lambda writes to."
  }
}

run "api_has_exactly_its_routes" {
  command = apply

  assert {
    condition     = toset(keys(aws_api_gateway_resource.route)) == toset(["generate-image", "models", "health"])
    error_message = "The API must have /generate-image, /models and /health."
  }

  assert {
    condition = toset(keys(aws_api_gateway_method.route)) == toset([
      "GET /generate-image", "POST /generate-image", "OPTIONS /generate-image",
      "GET /models", "OPTIONS /models", "GET /health", "OPTIONS /health",
    ])
    error_message = "Methods must be GET and POST on /generate-image, GET on /models and /health, OPTIONS on each."
  }

  assert {
    condition     = alltrue([for k, m in aws_api_gateway_method.route : m.api_key_required == false && m.authorization == "NONE"])
    error_message = "Without create_api_key no method requires a key."
  }

  assert {
    condition = alltrue([
      for k, i in aws_api_gateway_integration.route :
      i.type == "AWS_PROXY" && i.integration_http_method == "POST" && i.uri == aws_lambda_function.this.invoke_arn
    ])
    error_message = "Every route must be a Lambda proxy integration invoked with POST."
  }

  assert {
    condition = alltrue([
      for k, p in aws_lambda_permission.api :
      p.principal == "apigateway.amazonaws.com" && p.action == "lambda:InvokeFunction" &&
      p.source_arn == "${aws_api_gateway_rest_api.this.execution_arn}/prod/${aws_api_gateway_method.route[k].http_method}/${split(" /", k)[1]}"
    ]) && length(aws_lambda_permission.api) == 7
    error_message = "API Gateway may invoke the function only for this API's stage, methods and paths."
  }

  assert {
    condition     = aws_api_gateway_deployment.this.triggers.redeployment != "" && aws_api_gateway_stage.this.deployment_id == aws_api_gateway_deployment.this.id
    error_message = "The stage must point at a deployment that carries a redeployment trigger."
  }

  assert {
    condition     = one(aws_api_gateway_stage.this.access_log_settings).destination_arn == aws_cloudwatch_log_group.api_access.arn
    error_message = "The stage must write access logs to its log group."
  }

  assert {
    condition = (
      one(aws_api_gateway_method_settings.all.settings).throttling_rate_limit == 10 &&
      one(aws_api_gateway_method_settings.all.settings).throttling_burst_limit == 20 &&
      one(aws_api_gateway_method_settings.all.settings).data_trace_enabled == false &&
      aws_api_gateway_method_settings.all.method_path == "*/*"
    )
    error_message = "All methods must be throttled at 10 rps, burst 20, without request/response data logging."
  }

  assert {
    condition     = length(aws_api_gateway_gateway_response.cors) == 0
    error_message = "Without a configured origin, API Gateway's own answers carry no CORS headers."
  }

  assert {
    condition     = output.generate_image_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/generate-image"
    error_message = "generate_image_url must be the stage's invoke URL followed by /generate-image."
  }
}

run "nothing_optional_by_default" {
  command = apply

  assert {
    condition = (
      length(aws_api_gateway_api_key.this) == 0 && length(aws_api_gateway_usage_plan.this) == 0 &&
      length(aws_api_gateway_usage_plan_key.this) == 0 && output.api_key_value == null
    )
    error_message = "No API key or usage plan without create_api_key."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.api_gateway_cloudwatch) == 0
    error_message = "The account-wide API Gateway setting is left alone by default."
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.api_5xx_rate) == 0 && length(aws_cloudwatch_metric_alarm.lambda_throttles) == 0 &&
      length(aws_cloudwatch_metric_alarm.lambda_duration) == 0
    )
    error_message = "No alarms without create_alarms."
  }
}
