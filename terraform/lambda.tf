# The function: our C custom runtime (bootstrap) on provided.al2023, deployed from the zip that
# scripts/package-lambda builds before terraform runs (Terraform is not the build tool here), or from
# the same zip uploaded to S3 by CI. Its preconditions refuse, at plan time, a package the function
# could not run: the wrong architecture or glibc, a manifest of another zip, a model the policy's
# catalogue does not hold, a reserved concurrency the account cannot give.

locals {
  # Lambda's default library path lists /lib64 and /usr/lib64 before /var/task/lib, so a library that
  # Amazon Linux also ships (OpenSSL, zlib, libcurl) would be taken from the system instead of from the
  # package. The package's lib/ goes first: the function runs with the libraries it was tested with.
  lambda_library_path = "/var/task/lib:/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/opt/lib"

  # The architecture of the function: lambda_architecture, else the package's.
  lambda_architecture = var.lambda_architecture != null ? var.lambda_architecture : (
    contains(["x86_64", "arm64"], local.manifest_architecture) ? local.manifest_architecture : "x86_64"
  )

  # Only what the operator set in Terraform overrides config.lua (package.tf); the rest is
  # infrastructure the policy cannot know (the bucket, the Bedrock region, the package layout).
  lambda_environment = merge(
    var.lambda_environment,
    {
      IMAGEGEN_BUCKET = aws_s3_bucket.images.id
      # Signs and routes the Bedrock calls; S3 stays in the stack's region (AWS_REGION).
      IMAGEGEN_BEDROCK_REGION = local.bedrock_region
      IMAGEGEN_POLICY_DIR     = "/var/task/policy"
      LD_LIBRARY_PATH         = local.lambda_library_path
    },
    var.allowed_models == null ? {} : { IMAGEGEN_ALLOWED_MODELS = join(",", var.allowed_models) },
    var.default_model == null ? {} : { IMAGEGEN_DEFAULT_MODEL = var.default_model },
    length(var.cors_allow_origins) == 0 ? {} : { IMAGEGEN_CORS_ORIGINS = join(",", var.cors_allow_origins) },
    var.url_ttl_seconds == null ? {} : { IMAGEGEN_URL_TTL = tostring(var.url_ttl_seconds) },
    var.log_prompts == null ? {} : { IMAGEGEN_LOG_PROMPTS = var.log_prompts ? "1" : "0" },
    # The IAM policy allows writes under image_prefix only: the policy's keys follow it.
    var.image_prefix == null ? {} : {
      IMAGEGEN_KEY_PREFIX       = "${var.image_prefix}%Y/%m/%d/"
      IMAGEGEN_CACHE_KEY_PREFIX = "${var.image_prefix}cache/"
    },
    # The bucket encrypts with the key by default; naming it on every PutObject as well makes an
    # upload fail rather than fall back to another key if the bucket setting drifts.
    var.kms_key_arn == null ? {} : { IMAGEGEN_SSE = "aws:kms", IMAGEGEN_KMS_KEY_ID = var.kms_key_arn },
    # Jobs and image records (jobs.tf): the table; the records' lifetime, the bucket's image
    # lifecycle (s3.tf), so that a record expires with its object; the job timeout only when set
    # (the runtime's default, 22,500 s, covers Lambda's longest queueing plus the longest timeout).
    local.jobs_enabled ? { IMAGEGEN_TABLE = aws_dynamodb_table.this[0].name } : {},
    local.jobs_enabled ? { IMAGEGEN_IMAGE_RETENTION_DAYS = tostring(var.image_retention_days) } : {},
    local.jobs_enabled && var.job_timeout_seconds != null ? { IMAGEGEN_JOB_TIMEOUT_S = tostring(var.job_timeout_seconds) } : {},
    # Rate limits shared by every execution environment through the table when it exists (jobs.tf's
    # local.rate_limit_backend); what a record keeps of the prompt only when set, and only with the
    # table that holds the records.
    { IMAGEGEN_RATE_LIMIT_BACKEND = local.rate_limit_backend },
    local.jobs_enabled && var.record_prompts != null ? { IMAGEGEN_RECORD_PROMPTS = var.record_prompts } : {},
  )

  # Lambda keeps this many executions unreserved in every account ("leave at least 100 simultaneous
  # executions unreserved", PutFunctionConcurrency in the Lambda API reference).
  lambda_unreserved_minimum = 100
  account_concurrency_limit = (
    var.account_concurrency_limit != null ? var.account_concurrency_limit :
    try(data.aws_servicequotas_service_quota.lambda_concurrency[0].value, null)
  )
}

# The account's concurrent executions quota in this region, read only when a reservation is asked
# for and account_concurrency_limit does not give it (needs servicequotas:GetServiceQuota).
data "aws_servicequotas_service_quota" "lambda_concurrency" {
  count = var.lambda_reserved_concurrency != null && var.account_concurrency_limit == null ? 1 : 0

  service_code = "lambda"
  quota_code   = "L-B99A9384" # Concurrent executions
}

#tfsec:ignore:aws-lambda-enable-tracing
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function calls only public AWS endpoints (Bedrock, S3); a VPC would add NAT or endpoints and no protection.
  #checkov:skip=CKV_AWS_116:The only asynchronous invocations are jobs' workers, whose failures the job records; jobs_on_failure_destination_arn sends a given-up event to SQS or SNS (aws_lambda_function_event_invoke_config).
  #checkov:skip=CKV_AWS_173:The environment holds no secret (bucket name, model ids, region); Lambda encrypts it at rest with its service key.
  #checkov:skip=CKV_AWS_272:The package is checked against its manifest's sha256 at plan time; code signing is not offered by this module.
  #checkov:skip=CKV_AWS_50:X-Ray tracing is optional (lambda_tracing_mode); it is off by default to avoid its cost.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (lambda_reserved_concurrency): reserving takes capacity from the account's other functions.

  function_name = var.name
  description   = "imagegen: text-to-image through Amazon Bedrock, images stored in S3 behind presigned URLs."
  role          = aws_iam_role.lambda.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [local.lambda_architecture]

  # Either the local zip (its hash read at plan time: a changed package is a planned update), or the
  # S3 object CI uploaded, whose hash comes from its manifest.
  filename          = local.package_from_s3 ? null : local.lambda_zip_path
  s3_bucket         = var.lambda_s3_bucket
  s3_key            = var.lambda_s3_key
  s3_object_version = var.lambda_s3_object_version
  source_code_hash = (
    local.package_from_s3 ? try(local.manifest.package.source_code_hash, null) :
    fileexists(local.lambda_zip_path) ? filebase64sha256(local.lambda_zip_path) : null
  )

  memory_size                    = var.lambda_memory_mb
  timeout                        = local.lambda_timeout_seconds
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

  tags = local.tags

  # The role must carry its policy, and the log group must exist with its retention, before the
  # first invocation; otherwise Lambda creates the group itself, without retention.
  depends_on = [aws_iam_role_policy.lambda, aws_cloudwatch_log_group.lambda]

  lifecycle {
    precondition {
      condition     = local.manifest_ok
      error_message = "No readable package manifest at ${local.manifest_path}: scripts/package-lambda writes it beside the zip (build/lambda.manifest.json), and the module reads the architecture, the policy's settings and its model catalogue from it. Rebuild the package, or set manifest_path (with lambda_s3_bucket: the manifest CI wrote with the uploaded zip)."
    }

    precondition {
      condition     = !local.package_from_s3 || var.lambda_s3_key != null
      error_message = "lambda_s3_bucket is set without lambda_s3_key: name the package object (such as imagegen/lambda-<sha>.zip)."
    }

    precondition {
      condition     = local.package_from_s3 || fileexists(local.lambda_zip_path)
      error_message = "No package at ${local.lambda_zip_path}: build it first with scripts/package-lambda (it writes build/lambda.zip), set lambda_zip_path, or deploy from S3 with lambda_s3_bucket and lambda_s3_key."
    }

    precondition {
      condition     = !local.manifest_ok || local.package_from_s3 || !fileexists(local.lambda_zip_path) || local.manifest_sha256 == (fileexists(local.lambda_zip_path) ? filesha256(local.lambda_zip_path) : "")
      error_message = "The manifest ${local.manifest_path} describes another zip (sha256 ${local.manifest_sha256}) than ${local.lambda_zip_path}: rebuild both with scripts/package-lambda, or point manifest_path at the manifest written with this zip."
    }

    precondition {
      condition     = !local.manifest_ok || local.manifest_architecture == local.lambda_architecture
      error_message = "The package is built for ${local.manifest_architecture} (its manifest says so), but the function would run on ${local.lambda_architecture}: its bootstrap would fail at the first invocation. Set lambda_architecture = \"${local.manifest_architecture}\" (or leave it null to follow the package), or rebuild the package on an ${local.lambda_architecture} machine."
    }

    precondition {
      condition     = !local.manifest_ok || local.glibc_floor_ok
      error_message = "The package needs GLIBC_${local.manifest_glibc_floor} (its manifest's glibc floor), newer than the 2.34 of provided.al2023: the function would fail its first start. Build the package on Amazon Linux 2023 (terraform/README.md, \"Building on Amazon Linux 2023\")."
    }

    precondition {
      condition     = !local.manifest_ok || length(local.unknown_models) == 0
      error_message = "allowed_models names ${join(", ", local.unknown_models)}, which the package's model catalogue (runtime/policy/models.lua) does not hold; the function would refuse to start. The catalogue holds: ${join(", ", keys(local.catalogue))}."
    }

    precondition {
      condition     = !local.manifest_ok || length(local.allowed_models) > 0 && contains(local.allowed_models, local.default_model)
      error_message = "The default model \"${local.default_model}\" is not among the allowed models (${join(", ", local.allowed_models)}): set default_model to one of them, or leave it null."
    }

    precondition {
      condition     = local.rate_limit_backend != "dynamodb" || local.jobs_enabled
      error_message = "rate_limit_backend = \"dynamodb\" counts the rate limits in the jobs table, which jobs_enabled = false does not create: the function would refuse to start (its policy needs IMAGEGEN_TABLE for the shared counters). Set jobs_enabled = true to keep one limit shared by every execution environment, or set rate_limit_backend = \"memory\" (or leave it null) to count per execution environment, where N warm environments grant N times the budget."
    }

    precondition {
      condition = (
        var.lambda_reserved_concurrency == null || local.account_concurrency_limit == null ||
        try(var.lambda_reserved_concurrency <= local.account_concurrency_limit - local.lambda_unreserved_minimum, true)
      )
      error_message = "lambda_reserved_concurrency = ${coalesce(var.lambda_reserved_concurrency, 0)} is more than this account can reserve in ${local.region}: its concurrent executions quota is ${coalesce(local.account_concurrency_limit, 0)}, and Lambda keeps ${local.lambda_unreserved_minimum} of them unreserved for other functions, so at most ${max(coalesce(local.account_concurrency_limit, 0) - local.lambda_unreserved_minimum, 0)} can be reserved (less what other functions already reserve). Lower it, leave it null, or raise the quota (Service Quotas, Lambda, L-B99A9384 \"Concurrent executions\")."
    }
  }
}
