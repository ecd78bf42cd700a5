# The module with its defaults, applied against a mocked AWS provider (region us-east-1) and the
# fixture package (tests/fixtures: a stand-in zip and the manifest of the shipped policy): the bucket
# is locked down, the role has exactly the least-privilege statements, the function runs with the
# policy's own settings, the API has exactly its routes and is closed (one API key, a usage plan with
# a daily quota), and nothing else optional is created.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

# One apply of the defaults, checked in two runs (each run costs a plan against the mocked provider).
run "storage_permissions_and_function" {
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
    condition     = length(aws_s3_bucket_lifecycle_configuration.images.rule) == 3 && alltrue([for r in aws_s3_bucket_lifecycle_configuration.images.rule : length(r.filter) == 1 && r.status == "Enabled"])
    error_message = "There must be three enabled lifecycle rules, each with a filter."
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.images.rule :
      [one(r.filter).prefix, one(r.expiration).days] if r.id == "expire-uploads"
    ] == [["uploads/", 1]]
    error_message = "Uploads under uploads/ must expire after one day."
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

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Sid] == [
      "InvokeAllowedModels", "ReadWriteGeneratedImages", "ReadWriteUploads", "WriteOwnLogs",
      "ReadWriteTable", "QueryTableIndexes", "InvokeSelfForJobs",
    ]
    error_message = "By default the role has exactly seven statements: Bedrock, images, uploads, logs, and for jobs the table, its indexes and invoking itself (jobs.tftest.hcl checks the last three)."
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
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if s.Sid == "ReadWriteUploads"
      ][0] == {
      Sid      = "ReadWriteUploads"
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:GetObject"]
      Resource = ["arn:aws:s3:::imagegen-images-20260101000000000000000001/uploads/*"]
    }
    error_message = "Uploads: PutObject (the presigned POST carries the role's authority) and GetObject under uploads/ only."
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

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "The function must run bootstrap on provided.al2023."
  }

  assert {
    condition     = one(aws_lambda_function.this.architectures) == "x86_64" && aws_lambda_function.this.timeout == 900 && aws_lambda_function.this.memory_size == 512
    error_message = "Default architecture, timeout and memory are x86_64, 900 s (jobs are on: a job's worker runs under it) and 512 MB."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/lambda.zip") && aws_lambda_function.this.filename == "tests/fixtures/lambda.zip"
    error_message = "The function must be deployed from the zip, with source_code_hash the hash of the package file."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BUCKET == aws_s3_bucket.images.id &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_POLICY_DIR == "/var/task/policy"
    )
    error_message = "The function's environment must carry the bucket, Bedrock's region us-west-2 and the policy directory."
  }

  # One source of truth: with no Terraform variable set, config.lua decides everything it knows,
  # except where rate limits are counted: config.lua's "memory" holds per execution environment
  # only, so the module always says (the table when it exists).
  assert {
    condition = toset(keys(aws_lambda_function.this.environment[0].variables)) == toset([
      "IMAGEGEN_BUCKET", "IMAGEGEN_BEDROCK_REGION", "IMAGEGEN_POLICY_DIR", "LD_LIBRARY_PATH", "IMAGEGEN_TABLE",
      "IMAGEGEN_IMAGE_RETENTION_DAYS", "IMAGEGEN_RATE_LIMIT_BACKEND",
    ])
    error_message = "By default the module must set no IMAGEGEN_* variable that overrides config.lua (allowed or default model, CORS origins, key prefixes, URL lifetime, prompt logging, what image records keep of the prompt), only the infrastructure: bucket, Bedrock region, policy directory, library path, the jobs table, how long image records live (the bucket's image lifecycle) and where rate limits are counted (the table, shared by every execution environment)."
  }

  assert {
    condition = (
      output.allowed_models == tolist(["stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1"]) &&
      output.default_model == "stability.stable-image-core-v1:1" && output.image_prefix == "images/"
    )
    error_message = "The module must read the policy's allowed models, default model and image folder from the manifest."
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

run "api_routes_closed_by_default" {
  command = apply

  assert {
    condition = (
      toset(keys(aws_api_gateway_resource.route)) == toset(["generate-image", "edit-image", "uploads", "models", "jobs", "images", "health", "web"]) &&
      toset(keys(aws_api_gateway_resource.route_depth2)) == toset(["jobs/{id}", "images/{id}", "web/{file}"]) && length(aws_api_gateway_resource.route_depth3) == 0
    )
    error_message = "The API must have /generate-image, /edit-image, /uploads, /models, /jobs, /jobs/{id}, /images, /images/{id}, /health and the web page's /web/{file} (its / is the root resource), and no /v1 route unless openai_api asks for it."
  }

  assert {
    condition = (
      jsondecode(aws_api_gateway_gateway_response.error["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"]).error.message ==
      "No route matches this method and path: the API serves GET and POST /generate-image, POST /edit-image, POST /uploads, GET /models, POST /jobs, GET /jobs/{id}, GET /images, GET /images/{id}, GET /health, GET / and GET /web/{file}." &&
      output.openai_base_url == null
    )
    error_message = "Without openai_api the no-route answer names the eleven routes (as the local gateway does), and there is no OpenAI base URL."
  }

  assert {
    condition = toset(keys(aws_api_gateway_method.route)) == toset([
      "GET /generate-image", "POST /generate-image", "OPTIONS /generate-image", "POST /edit-image", "OPTIONS /edit-image",
      "POST /uploads", "OPTIONS /uploads", "GET /models", "OPTIONS /models", "POST /jobs", "OPTIONS /jobs",
      "GET /jobs/{id}", "OPTIONS /jobs/{id}", "GET /images", "OPTIONS /images", "GET /images/{id}", "OPTIONS /images/{id}",
      "GET /health", "OPTIONS /health", "GET /", "OPTIONS /", "GET /web/{file}", "OPTIONS /web/{file}",
    ])
    error_message = "Methods must be GET and POST on /generate-image, POST on /edit-image, /uploads and /jobs, GET on /models, /jobs/{id}, /images, /images/{id}, /health, / and /web/{file}, OPTIONS on each."
  }

  assert {
    condition = {
      for k, m in aws_api_gateway_method.route : k => [m.api_key_required, m.authorization]
      } == {
      "GET /generate-image"     = [true, "NONE"]
      "POST /generate-image"    = [true, "NONE"]
      "OPTIONS /generate-image" = [false, "NONE"]
      "POST /edit-image"        = [true, "NONE"]
      "OPTIONS /edit-image"     = [false, "NONE"]
      "POST /uploads"           = [true, "NONE"]
      "OPTIONS /uploads"        = [false, "NONE"]
      "GET /models"             = [true, "NONE"]
      "OPTIONS /models"         = [false, "NONE"]
      "POST /jobs"              = [true, "NONE"]
      "OPTIONS /jobs"           = [false, "NONE"]
      "GET /jobs/{id}"          = [true, "NONE"]
      "OPTIONS /jobs/{id}"      = [false, "NONE"]
      "GET /images"             = [true, "NONE"]
      "OPTIONS /images"         = [false, "NONE"]
      "GET /images/{id}"        = [true, "NONE"]
      "OPTIONS /images/{id}"    = [false, "NONE"]
      "GET /health"             = [false, "NONE"]
      "OPTIONS /health"         = [false, "NONE"]
      "GET /"                   = [false, "NONE"]
      "OPTIONS /"               = [false, "NONE"]
      "GET /web/{file}"         = [false, "NONE"]
      "OPTIONS /web/{file}"     = [false, "NONE"]
    }
    error_message = "Closed by default: an API key is required on /generate-image, /edit-image, /uploads, /models, /jobs and /images, never on /health, the web page or a CORS preflight."
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
      p.source_arn == "${aws_api_gateway_rest_api.this.execution_arn}/prod/${aws_api_gateway_method.route[k].http_method}/${replace(split(" /", k)[1], "/\\{[^}/]+\\}/", "*")}"
    ]) && length(aws_lambda_permission.api) == 23
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
    condition = alltrue([
      for t, r in aws_api_gateway_gateway_response.error :
      length([for h in keys(r.response_parameters) : h if startswith(h, "gatewayresponse.header.Access-Control-")]) == 0
    ])
    error_message = "Without an allowed origin (the policy allows none as shipped), API Gateway's own answers carry no CORS headers."
  }

  assert {
    condition     = output.generate_image_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/generate-image"
    error_message = "generate_image_url must be the stage's invoke URL followed by /generate-image."
  }

  assert {
    condition = (
      keys(aws_api_gateway_api_key.this) == ["default"] && aws_api_gateway_api_key.this["default"].name == "imagegen-default" &&
      aws_api_gateway_api_key.this["default"].enabled && length(aws_api_gateway_usage_plan.this) == 1 &&
      aws_api_gateway_usage_plan_key.this["default"].key_id == aws_api_gateway_api_key.this["default"].id
    )
    error_message = "By default one API key, named default, is created and attached to the usage plan."
  }

  assert {
    condition = (
      one(aws_api_gateway_usage_plan.this[0].quota_settings).limit == 1000 &&
      one(aws_api_gateway_usage_plan.this[0].quota_settings).period == "DAY" &&
      one(aws_api_gateway_usage_plan.this[0].throttle_settings).rate_limit == 5 &&
      one(aws_api_gateway_usage_plan.this[0].api_stages).stage == aws_api_gateway_stage.this.stage_name
    )
    error_message = "The default usage plan caps each key at 5 requests per second and 1000 requests a day on this stage."
  }

  assert {
    condition     = output.api_key_ids == { default = "k3yk3yk3y1" } && output.api_key_value == "mocked-api-key-value-0123456789abcdef"
    error_message = "The key's id and value must be outputs."
  }

  assert {
    condition     = issensitive(output.api_key_value) && issensitive(output.api_key_values) && !issensitive(output.api_key_ids)
    error_message = "Key values are sensitive outputs; key ids are not secret."
  }

  assert {
    condition     = output.rate_limit_keys_lua == ""
    error_message = "Without a tier in api_keys there is nothing to add to config.lua."
  }

  assert {
    condition     = length(aws_api_gateway_authorizer.this) == 0 && length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0
    error_message = "No authorizer and no WAF by default."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 1 && aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn
    error_message = "The region's API Gateway logging role is set by default, so that the first apply succeeds in a fresh account."
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.api_5xx_rate) == 0 && length(aws_cloudwatch_metric_alarm.lambda_throttles) == 0 &&
      length(aws_cloudwatch_metric_alarm.lambda_duration) == 0 && length(aws_s3_bucket_logging.images) == 0 &&
      length(data.aws_servicequotas_service_quota.lambda_concurrency) == 0
    )
    error_message = "No alarms, no S3 access logging and no Service Quotas read by default."
  }

  assert {
    condition = alltrue([
      aws_iam_role.lambda.path == "/", aws_iam_role.lambda.permissions_boundary == null,
      aws_s3_bucket.images.tags.Application == "imagegen", aws_lambda_function.this.tags.Application == "imagegen",
      aws_api_gateway_rest_api.this.tags.Application == "imagegen",
    ])
    error_message = "Roles have the default path and no boundary; resources carry the Application tag."
  }
}
