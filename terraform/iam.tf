# The roles the module creates, each with the organisation's path and permissions boundary when given
# (iam_role_path, iam_permissions_boundary_arn). The function's role, with least privilege: invoke
# exactly the allowed Bedrock models and those of the policy's edit tasks (bedrock.tf computes their
# ARNs in the Bedrock region, and for a cross-region profile in its regions), read and write objects
# under the image prefix and the uploads prefix only, write to its own log group only, and with jobs
# (jobs.tf) use its table and invoke itself only. Statements are plain locals so that tests can read
# them both from the parsed configuration and from the planned policy document.

locals {
  lambda_statement_bedrock = {
    Sid      = "InvokeAllowedModels"
    Effect   = "Allow"
    Action   = ["bedrock:InvokeModel"]
    Resource = local.bedrock_invoke_arns
  }

  # GetObject also covers HEAD (the runtime's cache lookup) and the presigned GET URLs, which carry
  # this role's authority. Without s3:ListBucket, a HEAD on a missing key answers 403, not 404.
  lambda_statement_images = {
    Sid      = "ReadWriteGeneratedImages"
    Effect   = "Allow"
    Action   = ["s3:PutObject", "s3:GetObject"]
    Resource = ["${aws_s3_bucket.images.arn}/${local.image_prefix}*"]
  }

  # The images clients upload (POST /uploads), under the uploads prefix only. PutObject: the client's
  # browser-form POST is authorized by the credentials that signed its POST policy, the function's
  # ("Authenticating Requests in Browser-Based Uploads Using POST", Amazon S3 API reference,
  # https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html), so the role must be
  # allowed to put the object itself. GetObject: the function reads an upload when a request names it
  # by key. Nothing else: no ListBucket, no DeleteObject (the lifecycle rule deletes uploads).
  lambda_statement_uploads = {
    Sid      = "ReadWriteUploads"
    Effect   = "Allow"
    Action   = ["s3:PutObject", "s3:GetObject"]
    Resource = ["${aws_s3_bucket.images.arn}/${local.uploads_prefix}*"]
  }

  # The provider strips the ":*" suffix from log group ARNs; log streams need it back.
  lambda_statement_logs = {
    Sid      = "WriteOwnLogs"
    Effect   = "Allow"
    Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    Resource = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # Only with SSE-KMS: PutObject needs a data key, GetObject (and presigned GETs) need Decrypt.
  lambda_statement_kms = {
    Sid      = "UseBucketKey"
    Effect   = "Allow"
    Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
    Resource = [var.kms_key_arn]
  }

  # Only with tracing: X-Ray has no resource-level permissions, so these two actions take "*".
  lambda_statement_xray = {
    Sid      = "WriteTraces"
    Effect   = "Allow"
    Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    Resource = "*"
  }

  lambda_policy_statements = concat(
    [local.lambda_statement_bedrock, local.lambda_statement_images, local.lambda_statement_uploads, local.lambda_statement_logs],
    var.kms_key_arn == null ? [] : [local.lambda_statement_kms],
    var.lambda_tracing_mode == null ? [] : [local.lambda_statement_xray],
    # Jobs (jobs.tf): the table and its indexes, invoking itself, and the optional table key and
    # on-failure destination.
    local.lambda_jobs_statements,
  )

  lambda_trust_statement = {
    Effect    = "Allow"
    Principal = { Service = "lambda.amazonaws.com" }
    Action    = "sts:AssumeRole"
  }
}

resource "aws_iam_role" "lambda" {
  name_prefix          = "${var.name}-lambda-"
  description          = "Execution role of the ${var.name} image generation function."
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary_arn
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = [local.lambda_trust_statement] })
  tags                 = local.tags
}

#tfsec:ignore:aws-iam-no-policy-wildcards
resource "aws_iam_role_policy" "lambda" {
  #checkov:skip=CKV_AWS_290:The only "*" resource is X-Ray's (PutTraceSegments, PutTelemetryRecords), present only with tracing: X-Ray has no resource-level permissions.
  #checkov:skip=CKV_AWS_355:Same X-Ray statement: X-Ray actions cannot be scoped to a resource.

  name   = "least-privilege"
  role   = aws_iam_role.lambda.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.lambda_policy_statements })

  lifecycle {
    precondition {
      condition     = !local.manifest_ok || local.image_prefix != ""
      error_message = "The policy's storage.key_prefix (\"${local.policy_key_prefix}\") has no folder before its first strftime conversion, so the function's object access could not be limited to a prefix: set image_prefix (such as images/), or start key_prefix in config.lua with a folder."
    }

    precondition {
      condition     = !local.manifest_ok || var.image_prefix != null || !try(local.policy.cache_enabled, false) || startswith(try(local.policy.cache_key_prefix, ""), local.image_prefix)
      error_message = "The policy's image cache is on, but its cache.key_prefix (\"${try(local.policy.cache_key_prefix, "")}\") is outside the image prefix ${local.image_prefix} that IAM grants and the lifecycle rule expires: move it under ${local.image_prefix} in config.lua, or set image_prefix (which sets both prefixes)."
    }

    precondition {
      condition     = local.bedrock_region != ""
      error_message = "No single region serves every model the function invokes, the allowed models (${join(", ", local.allowed_models)}) and the models of the policy's edit tasks (${length(local.edit_models) == 0 ? "none" : join(", ", local.edit_models)}), as far as this module knows (bedrock.tf): set bedrock_region, or allow models that one region serves (the Stability models and image services: us-west-2; us.-prefixed profiles of them: us-east-1, us-east-2 or us-west-2)."
    }

    precondition {
      condition     = !local.manifest_ok || length(local.malformed_edit_models) == 0
      error_message = "The package's manifest lists edit models that are not Bedrock model ids (${join(", ", local.malformed_edit_models)}), and IAM would grant bedrock:InvokeModel on them: each must be a model id such as stability.stable-image-inpaint-v1:0, or a us., eu., apac., jp., au. or us-gov. profile of one. Fix the policy's edit tasks (runtime/policy) and rebuild the package with scripts/package-lambda."
    }

    precondition {
      condition     = !local.manifest_ok || local.uploads_prefix_agrees
      error_message = "The package's config.lua signs uploads under ${coalesce(local.policy_uploads_prefix, "?")} (uploads.prefix), but uploads_prefix is ${local.uploads_prefix}: the role may write and read uploads only under uploads_prefix, and the bucket expires only that prefix, so every upload would be refused by S3. Set uploads_prefix = \"${coalesce(local.policy_uploads_prefix, "?")}\", or set uploads.prefix = \"${local.uploads_prefix}\" in runtime/policy/config.lua and rebuild the package with scripts/package-lambda."
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# API Gateway's account-wide CloudWatch Logs role (only with manage_api_gateway_account)
# ---------------------------------------------------------------------------------------------------

locals {
  api_gateway_trust_statement = {
    Effect    = "Allow"
    Principal = { Service = "apigateway.amazonaws.com" }
    Action    = "sts:AssumeRole"
  }
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  name_prefix          = "${var.name}-apigw-logs-"
  description          = "Lets API Gateway write access and execution logs in this account and region."
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary_arn
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = [local.api_gateway_trust_statement] })
  tags                 = local.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}
