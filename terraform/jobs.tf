# Jobs: generation that outlives API Gateway's 29 s wait. POST /jobs keeps the job in a DynamoDB
# table and the function invokes itself asynchronously (InvocationType Event) with the job's id;
# Lambda's own queue and retries run it under the function's timeout, and GET /jobs/{id} reads it
# (runtime/src/handler/jobs.h). The same table keeps one record per stored image, which GET /images
# (the caller's images, newest first) and GET /images/{id} read, and which expires with its object
# after image_retention_days, and the rate limits' counters shared by every execution environment
# (rate_limit_backend "dynamodb", the default with the table). This file holds the table, the
# function's asynchronous invocation settings, and the statements iam.tf adds to the role; the
# routes are entries of apigateway.tf's route list and the environment (IMAGEGEN_TABLE,
# IMAGEGEN_IMAGE_RETENTION_DAYS, IMAGEGEN_JOB_TIMEOUT_S, IMAGEGEN_RATE_LIMIT_BACKEND,
# IMAGEGEN_RECORD_PROMPTS) is set in lambda.tf. jobs_enabled = false creates none of it: /jobs and
# /images are not routed and the function, without IMAGEGEN_TABLE, keeps no image records, would
# answer 503 jobs_unavailable, and counts rate limits in memory.
#
# The table is the one runtime/local/README.md describes ("The table"): pk and sk strings, the index
# gsi1 on gsi1pk/gsi1sk (projection ALL) that the image listing reads, time to live on expires_at.

locals {
  jobs_enabled = var.jobs_enabled

  # The account, read from the function's role ARN (as bedrock.tf does), so that planning needs no
  # STS call.
  account_id = split(":", aws_iam_role.lambda.arn)[4]

  # The function's own ARN, built from its name rather than read from aws_lambda_function.this:
  # the role's policy must exist before the function (lambda.tf depends on it), so reading the
  # function's ARN here would be a cycle. Unqualified: the runtime invokes the function by name.
  lambda_self_arn = "arn:${data.aws_partition.current.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}"

  # The function's timeout: lambda_timeout_seconds, else Lambda's longest (900 s) with jobs, so
  # that a job's worker can run Ultra or several images, and 28 s without them. A synchronous
  # request never runs that long whatever the timeout: the runtime ends it at
  # IMAGEGEN_REQUEST_BUDGET_MS (28,500 ms unless lambda_environment lowers it; variables.tf refuses
  # more), before API Gateway's 29 s. Only a job's worker runs up to the function's timeout.
  lambda_timeout_seconds = var.lambda_timeout_seconds != null ? var.lambda_timeout_seconds : (local.jobs_enabled ? 900 : 28)

  # Where the policy counts rate limits: rate_limit_backend, else in the table when it exists, so that
  # every warm execution environment draws on one budget per client (per-container buckets grant N
  # times it with N environments), and in memory without it (the policy refuses "dynamodb" without
  # IMAGEGEN_TABLE, so the function would not start). Always set: config.lua's "memory" is right on
  # one machine, not behind Lambda. The counters are items of the table (pk "rl#...", sk "rl")
  # updated with UpdateItem (runtime/src/handler/ratelimit.c), which lambda_statement_table grants.
  rate_limit_backend = var.rate_limit_backend != null ? var.rate_limit_backend : (local.jobs_enabled ? "dynamodb" : "memory")

  # Where Lambda sends an event it gave up on (retries spent, or older than the maximum age): SQS
  # or SNS, by the ARN's service.
  jobs_failure_service = var.jobs_on_failure_destination_arn == null ? null : split(":", var.jobs_on_failure_destination_arn)[2]

  # The table's ARN; "" without jobs, when no statement below is used.
  table_arn = try(aws_dynamodb_table.this[0].arn, "")

  # The table and its indexes, no more: items are put, updated and read by key; Query is for
  # listings, on the table and on its indexes (gsi1: the image listing). No Scan, no DeleteItem
  # (the time to live deletes), no BatchWriteItem.
  lambda_statement_table = {
    Sid      = "ReadWriteTable"
    Effect   = "Allow"
    Action   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"]
    Resource = [local.table_arn]
  }

  lambda_statement_table_indexes = {
    Sid      = "QueryTableIndexes"
    Effect   = "Allow"
    Action   = ["dynamodb:Query"]
    Resource = ["${local.table_arn}/index/*"]
  }

  # A job's worker is the function's asynchronous invocation of itself, and only of itself.
  lambda_statement_invoke_self = {
    Sid      = "InvokeSelfForJobs"
    Effect   = "Allow"
    Action   = ["lambda:InvokeFunction"]
    Resource = [local.lambda_self_arn]
  }

  # A table encrypted with a customer managed key: the role may use the key only through DynamoDB
  # in this region (kms:ViaService), as the key policy that AWS documents for DynamoDB allows
  # ("How Amazon DynamoDB uses AWS KMS", AWS KMS developer guide). The key's own policy must let
  # this account's IAM policies grant it (the default key policy does).
  lambda_statement_table_kms = {
    Sid       = "UseTableKeyThroughDynamoDB"
    Effect    = "Allow"
    Action    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    Resource  = [var.table_kms_key_arn]
    Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
  }

  # Lambda sends a failed event to the destination with the function's execution role.
  lambda_statement_jobs_failure_sqs = {
    Sid      = "SendFailedJobEvents"
    Effect   = "Allow"
    Action   = ["sqs:SendMessage"]
    Resource = [var.jobs_on_failure_destination_arn]
  }

  lambda_statement_jobs_failure_sns = {
    Sid      = "PublishFailedJobEvents"
    Effect   = "Allow"
    Action   = ["sns:Publish"]
    Resource = [var.jobs_on_failure_destination_arn]
  }

  lambda_jobs_statements = concat(
    local.jobs_enabled ? [local.lambda_statement_table, local.lambda_statement_table_indexes, local.lambda_statement_invoke_self] : [],
    local.jobs_enabled && var.table_kms_key_arn != null ? [local.lambda_statement_table_kms] : [],
    local.jobs_enabled && local.jobs_failure_service == "sqs" ? [local.lambda_statement_jobs_failure_sqs] : [],
    local.jobs_enabled && local.jobs_failure_service == "sns" ? [local.lambda_statement_jobs_failure_sns] : [],
  )
}

#tfsec:ignore:aws-dynamodb-table-customer-key
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS owned key by default; table_kms_key_arn sets a customer managed key for organisations that require one.
  count = local.jobs_enabled ? 1 : 0

  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  # Key attributes only (the table's and the index's): DynamoDB is schemaless otherwise, and the
  # time to live attribute declared here would fail the plan ("all attributes must be indexed").
  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  # Epoch seconds: a job is kept one day (the policy's jobs.RETENTION_S).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # enabled = false is DynamoDB's default encryption with an AWS owned key (no KMS charge);
  # with table_kms_key_arn, that customer managed key.
  server_side_encryption {
    enabled     = var.table_kms_key_arn != null
    kms_key_arn = var.table_kms_key_arn
  }

  deletion_protection_enabled = var.table_deletion_protection

  tags = local.tags
}

# Lambda's queue for the function's asynchronous invocations (a job's worker): how often a failed
# worker is retried, how long an event may wait, and where an event Lambda gave up on goes. A
# worker that dies is retried and takes the job over; a job that no worker finishes reads as
# failed (timeout) once past its deadline.
resource "aws_lambda_function_event_invoke_config" "this" {
  count = local.jobs_enabled ? 1 : 0

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.jobs_max_retry_attempts
  maximum_event_age_in_seconds = var.jobs_max_event_age_seconds

  dynamic "destination_config" {
    for_each = var.jobs_on_failure_destination_arn == null ? [] : [var.jobs_on_failure_destination_arn]
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }

  # Lambda sends to the destination with the role's permission (iam.tf).
  depends_on = [aws_iam_role_policy.lambda]
}

# A job accepted at time t reads as failed (timeout) at t + IMAGEGEN_JOB_TIMEOUT_S. An event may
# wait up to the maximum event age in Lambda's queue and its worker then runs up to the function's
# timeout: a shorter job timeout makes a job that Lambda may still run read as failed. Unset, the
# runtime's 22,500 s covers the longest Lambda allows (21,600 s + 900 s).
check "job_timeout_covers_the_async_queue" {
  assert {
    condition     = !local.jobs_enabled || var.job_timeout_seconds == null || try(var.job_timeout_seconds >= var.jobs_max_event_age_seconds + local.lambda_timeout_seconds, true)
    error_message = "job_timeout_seconds (${coalesce(var.job_timeout_seconds, 0)}) is shorter than jobs_max_event_age_seconds (${var.jobs_max_event_age_seconds}) plus the function's timeout (${local.lambda_timeout_seconds} s): a job Lambda may still run would read as failed (timeout). Set it to at least ${var.jobs_max_event_age_seconds + local.lambda_timeout_seconds}, or leave it null."
  }
}

# Image records exist only in the table: without it record_prompts changes nothing.
check "record_prompts_needs_the_table" {
  assert {
    condition     = local.jobs_enabled || var.record_prompts == null
    error_message = "record_prompts = \"${var.record_prompts == null ? "" : var.record_prompts}\" has no effect with jobs_enabled = false: without the table the function keeps no image records, so IMAGEGEN_RECORD_PROMPTS is not set. Leave record_prompts null, or set jobs_enabled = true."
  }
}

# With jobs, a timeout of 29 s or less gives a job's worker no more time than a synchronous
# request: jobs would only add polling.
check "jobs_run_longer_than_requests" {
  assert {
    condition     = !local.jobs_enabled || local.lambda_timeout_seconds > 29
    error_message = "lambda_timeout_seconds is ${local.lambda_timeout_seconds}: a job's worker runs under the function's timeout, so jobs get no more time than /generate-image (29 s). Leave lambda_timeout_seconds null (900 s with jobs) or raise it."
  }
}
