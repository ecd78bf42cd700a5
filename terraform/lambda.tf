# The function: our C custom runtime (bootstrap) on provided.al2023, deployed from the zip that
# scripts/package-lambda builds before terraform runs (Terraform is not the build tool here).

locals {
  # Lambda's default library path lists /lib64 and /usr/lib64 before /var/task/lib, so a library that
  # Amazon Linux also ships (OpenSSL, zlib, libcurl) would be taken from the system instead of from the
  # package. The package's lib/ goes first: the function runs with the libraries it was tested with.
  lambda_library_path = "/var/task/lib:/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/opt/lib"

  lambda_environment = merge(
    var.lambda_environment,
    {
      IMAGEGEN_BUCKET         = aws_s3_bucket.images.id
      IMAGEGEN_ALLOWED_MODELS = join(",", var.allowed_models)
      IMAGEGEN_DEFAULT_MODEL  = var.allowed_models[0]
      # Signs and routes the Bedrock calls; S3 stays in the stack's region (AWS_REGION).
      IMAGEGEN_BEDROCK_REGION = local.bedrock_region
      IMAGEGEN_URL_TTL        = tostring(var.url_ttl_seconds)
      IMAGEGEN_POLICY_DIR     = "/var/task/policy"
      IMAGEGEN_LOG_PROMPTS    = var.log_prompts ? "1" : "0"
      # The IAM policy allows writes under image_prefix only: the policy's keys follow it.
      IMAGEGEN_KEY_PREFIX       = "${var.image_prefix}%Y/%m/%d/"
      IMAGEGEN_CACHE_KEY_PREFIX = "${var.image_prefix}cache/"
      LD_LIBRARY_PATH           = local.lambda_library_path
    },
    # Empty: the policy's config.lua decides.
    length(var.cors_allow_origins) == 0 ? {} : { IMAGEGEN_CORS_ORIGINS = join(",", var.cors_allow_origins) },
    # The bucket encrypts with the key by default; naming it on every PutObject as well makes an
    # upload fail rather than fall back to another key if the bucket setting drifts.
    var.kms_key_arn == null ? {} : { IMAGEGEN_SSE = "aws:kms", IMAGEGEN_KMS_KEY_ID = var.kms_key_arn },
  )
}

resource "aws_lambda_function" "this" {
  function_name = var.name
  description   = "imagegen: text-to-image through Amazon Bedrock, images stored in S3 behind presigned URLs."
  role          = aws_iam_role.lambda.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.lambda_architecture]

  filename = var.lambda_zip_path
  # Read at plan time: a changed package is a planned update.
  source_code_hash = filebase64sha256(var.lambda_zip_path)

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.lambda.name
    application_log_level = var.lambda_log_level
    system_log_level      = "INFO"
  }

  dynamic "tracing_config" {
    for_each = var.lambda_tracing_mode == null ? [] : [var.lambda_tracing_mode]
    content {
      mode = tracing_config.value
    }
  }

  # The role must carry its policy, and the log group must exist with its retention, before the
  # first invocation; otherwise Lambda creates the group itself, without retention.
  depends_on = [aws_iam_role_policy.lambda, aws_cloudwatch_log_group.lambda]
}
