# Jobs (jobs.tf): the DynamoDB table as runtime/local/README.md describes it (pk/sk strings, the index
# gsi1 on gsi1pk/gsi1sk with projection ALL, time to live on expires_at), on demand, with
# point-in-time recovery, encryption and deletion protection; the role's statements for it, exact;
# the function's environment (the table, and image_retention_days for the image records) and its
# 900 s timeout; its asynchronous invocation settings; the routes the table serves, POST /jobs,
# GET /jobs/{id}, GET /images and GET /images/{id}, locked like POST /generate-image; the refusals;
# and jobs_enabled = false, which leaves none of it.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "table_role_function_and_async_settings" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.this[0].name == "imagegen" && aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this[0].hash_key == "pk" && aws_dynamodb_table.this[0].range_key == "sk"
    )
    error_message = "The table is named after the deployment, billed on demand, with the keys pk and sk."
  }

  assert {
    condition = { for a in aws_dynamodb_table.this[0].attribute : a.name => a.type } == {
      pk = "S", sk = "S", gsi1pk = "S", gsi1sk = "S"
    }
    error_message = "Exactly the key attributes, all strings: pk, sk and the index's gsi1pk, gsi1sk (expires_at is no key: declaring it fails the plan)."
  }

  assert {
    condition = [for g in aws_dynamodb_table.this[0].global_secondary_index : [g.name, g.hash_key, g.range_key, g.projection_type]] == [
      ["gsi1", "gsi1pk", "gsi1sk", "ALL"],
    ]
    error_message = "One global secondary index, gsi1 on gsi1pk/gsi1sk projecting ALL, for the image listing."
  }

  assert {
    condition = (
      one(aws_dynamodb_table.this[0].ttl).attribute_name == "expires_at" && one(aws_dynamodb_table.this[0].ttl).enabled &&
      one(aws_dynamodb_table.this[0].point_in_time_recovery).enabled
    )
    error_message = "Time to live on expires_at, and point-in-time recovery on."
  }

  assert {
    condition = (
      one(aws_dynamodb_table.this[0].server_side_encryption).enabled == false &&
      aws_dynamodb_table.this[0].deletion_protection_enabled == true &&
      aws_dynamodb_table.this[0].tags.Application == "imagegen"
    )
    error_message = "By default the AWS owned key encrypts the table, deletion protection is on, and the table carries the tags."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s
      if contains(["ReadWriteTable", "QueryTableIndexes", "InvokeSelfForJobs"], s.Sid)
      ] == [
      {
        Sid      = "ReadWriteTable"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"]
        Resource = ["arn:aws:dynamodb:us-east-1:123456789012:table/imagegen"]
      },
      {
        Sid      = "QueryTableIndexes"
        Effect   = "Allow"
        Action   = ["dynamodb:Query"]
        Resource = ["arn:aws:dynamodb:us-east-1:123456789012:table/imagegen/index/*"]
      },
      {
        Sid      = "InvokeSelfForJobs"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = ["arn:aws:lambda:us-east-1:123456789012:function:imagegen"]
      },
    ]
    error_message = "The role may put, update, get and query items of its table, query its indexes, and invoke the function itself: nothing else of DynamoDB or Lambda."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeSelfForJobs"])[0] == aws_lambda_function.this.arn
    error_message = "The ARN built from the function's name is the function's own ARN."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if anytrue([for a in s.Action : startswith(a, "dynamodb:") || startswith(a, "lambda:") || startswith(a, "sqs:") || startswith(a, "sns:") || startswith(a, "kms:")])]) == 3
    error_message = "By default no statement other than those three grants DynamoDB, Lambda, SQS, SNS or KMS actions."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_TABLE == aws_dynamodb_table.this[0].name &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_IMAGE_RETENTION_DAYS == "30" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_JOB_TIMEOUT_S") &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_REQUEST_BUDGET_MS")
    )
    error_message = "The function gets the table's name and image_retention_days (30) as its image records' lifetime; the job timeout only when job_timeout_seconds is set; the request budget stays the runtime's 28,500 ms."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 900
    error_message = "With jobs the function's timeout is 900 s: a job's worker runs under it (synchronous requests end at the runtime's request budget)."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].function_name == aws_lambda_function.this.function_name &&
      aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 21600 &&
      length(aws_lambda_function_event_invoke_config.this[0].destination_config) == 0
    )
    error_message = "The asynchronous invocations keep Lambda's defaults (2 retries, 6 hours) and have no destination unless one is given."
  }

  assert {
    condition = (
      output.table_name == "imagegen" && output.jobs_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/jobs" &&
      output.images_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/images"
    )
    error_message = "table_name is the table's name, jobs_url and images_url the stage's invoke URL followed by /jobs and /images."
  }
}

# With an API key and a Cognito authorizer, so that the routes show they take both.
run "routes_locked_like_generation" {
  command = apply

  variables {
    cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
  }

  assert {
    condition = (
      aws_api_gateway_resource.route["jobs"].parent_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_resource.route["jobs"].path_part == "jobs" &&
      aws_api_gateway_resource.route_depth2["jobs/{id}"].parent_id == aws_api_gateway_resource.route["jobs"].id &&
      aws_api_gateway_resource.route_depth2["jobs/{id}"].path_part == "{id}" &&
      aws_api_gateway_resource.route["images"].parent_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_resource.route["images"].path_part == "images" &&
      aws_api_gateway_resource.route_depth2["images/{id}"].parent_id == aws_api_gateway_resource.route["images"].id &&
      aws_api_gateway_resource.route_depth2["images/{id}"].path_part == "{id}"
    )
    error_message = "/jobs and /images hang below the root, /jobs/{id} and /images/{id} (path parameters) below them."
  }

  assert {
    condition = {
      for k in ["POST /jobs", "OPTIONS /jobs", "GET /jobs/{id}", "OPTIONS /jobs/{id}", "GET /images", "OPTIONS /images", "GET /images/{id}", "OPTIONS /images/{id}"] : k => [
        aws_api_gateway_method.route[k].authorization, aws_api_gateway_method.route[k].api_key_required,
        aws_api_gateway_method.route[k].authorizer_id == aws_api_gateway_authorizer.this[0].id,
      ]
      } == {
      "POST /jobs"           = ["COGNITO_USER_POOLS", true, true]
      "OPTIONS /jobs"        = ["NONE", false, false]
      "GET /jobs/{id}"       = ["COGNITO_USER_POOLS", true, true]
      "OPTIONS /jobs/{id}"   = ["NONE", false, false]
      "GET /images"          = ["COGNITO_USER_POOLS", true, true]
      "OPTIONS /images"      = ["NONE", false, false]
      "GET /images/{id}"     = ["COGNITO_USER_POOLS", true, true]
      "OPTIONS /images/{id}" = ["NONE", false, false]
    }
    error_message = "POST /jobs, GET /jobs/{id}, GET /images and GET /images/{id} need the API key and the token; their CORS preflights need neither."
  }

  assert {
    condition = alltrue([
      for k in ["POST /jobs", "GET /jobs/{id}", "GET /images", "GET /images/{id}"] : [
        aws_api_gateway_method.route[k].authorization, aws_api_gateway_method.route[k].api_key_required,
        aws_api_gateway_method.route[k].authorizer_id, aws_api_gateway_method.route[k].authorization_scopes,
        ] == [
        aws_api_gateway_method.route["POST /generate-image"].authorization, aws_api_gateway_method.route["POST /generate-image"].api_key_required,
        aws_api_gateway_method.route["POST /generate-image"].authorizer_id, aws_api_gateway_method.route["POST /generate-image"].authorization_scopes,
      ]
    ])
    error_message = "The job and image routes take exactly the locks of POST /generate-image."
  }

  assert {
    condition = (
      alltrue([
        for k in ["POST /jobs", "OPTIONS /jobs", "GET /jobs/{id}", "OPTIONS /jobs/{id}", "GET /images", "OPTIONS /images", "GET /images/{id}", "OPTIONS /images/{id}"] :
        aws_api_gateway_integration.route[k].type == "AWS_PROXY" && aws_api_gateway_integration.route[k].integration_http_method == "POST" &&
        aws_api_gateway_integration.route[k].uri == aws_lambda_function.this.invoke_arn &&
        aws_api_gateway_integration.route[k].resource_id == aws_api_gateway_method.route[k].resource_id
      ]) &&
      aws_api_gateway_method.route["GET /jobs/{id}"].resource_id == aws_api_gateway_resource.route_depth2["jobs/{id}"].id &&
      aws_api_gateway_method.route["GET /images"].resource_id == aws_api_gateway_resource.route["images"].id &&
      aws_api_gateway_method.route["GET /images/{id}"].resource_id == aws_api_gateway_resource.route_depth2["images/{id}"].id
    )
    error_message = "Each job and image method is a Lambda proxy integration on its own resource."
  }

  # A statement id takes no braces, and API Gateway names the request's own path in the source ARN,
  # so the path parameter is "*".
  assert {
    condition = {
      for k, p in aws_lambda_permission.api : k => [p.statement_id, p.source_arn] if strcontains(k, " /jobs") || strcontains(k, " /images")
      } == {
      "POST /jobs"           = ["AllowApiGateway-POST-jobs", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/jobs"]
      "OPTIONS /jobs"        = ["AllowApiGateway-OPTIONS-jobs", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/jobs"]
      "GET /jobs/{id}"       = ["AllowApiGateway-GET-jobs_id", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/jobs/*"]
      "OPTIONS /jobs/{id}"   = ["AllowApiGateway-OPTIONS-jobs_id", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/jobs/*"]
      "GET /images"          = ["AllowApiGateway-GET-images", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/images"]
      "OPTIONS /images"      = ["AllowApiGateway-OPTIONS-images", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/images"]
      "GET /images/{id}"     = ["AllowApiGateway-GET-images_id", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/images/*"]
      "OPTIONS /images/{id}" = ["AllowApiGateway-OPTIONS-images_id", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/images/*"]
    }
    error_message = "API Gateway may invoke the function for each job and image method on its path (any job or image id), and only there."
  }
}

run "opened_on_purpose_like_generation" {
  command = plan

  variables {
    allow_anonymous_access = true
  }

  assert {
    condition = alltrue([
      for k in ["POST /jobs", "GET /jobs/{id}", "GET /images", "GET /images/{id}", "POST /generate-image"] :
      aws_api_gateway_method.route[k].authorization == "NONE" && aws_api_gateway_method.route[k].api_key_required == false
    ])
    error_message = "allow_anonymous_access opens the job and image routes as it opens POST /generate-image."
  }
}

run "every_jobs_option" {
  command = apply

  variables {
    lambda_timeout_seconds          = 600
    job_timeout_seconds             = 4200
    jobs_max_retry_attempts         = 0
    jobs_max_event_age_seconds      = 3600
    jobs_on_failure_destination_arn = "arn:aws:sqs:us-east-1:123456789012:imagegen-failed-jobs"
    table_kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
    table_deletion_protection       = false
    lambda_environment              = { IMAGEGEN_REQUEST_BUDGET_MS = "20000" }
    image_retention_days            = 7
  }

  assert {
    condition = (
      one(aws_dynamodb_table.this[0].server_side_encryption).enabled == true &&
      one(aws_dynamodb_table.this[0].server_side_encryption).kms_key_arn == var.table_kms_key_arn &&
      aws_dynamodb_table.this[0].deletion_protection_enabled == false
    )
    error_message = "table_kms_key_arn encrypts the table with that key; table_deletion_protection = false lifts the protection."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s
      if contains(["UseTableKeyThroughDynamoDB", "SendFailedJobEvents", "PublishFailedJobEvents"], s.Sid)
      ] == [
      {
        Sid       = "UseTableKeyThroughDynamoDB"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource  = ["arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"]
        Condition = { StringEquals = { "kms:ViaService" = "dynamodb.us-east-1.amazonaws.com" } }
      },
      {
        Sid      = "SendFailedJobEvents"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = ["arn:aws:sqs:us-east-1:123456789012:imagegen-failed-jobs"]
      },
    ]
    error_message = "The table's key may be used through DynamoDB only, and the failed events may be sent to that queue only."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 0 &&
      aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600 &&
      one(one(aws_lambda_function_event_invoke_config.this[0].destination_config).on_failure).destination == var.jobs_on_failure_destination_arn
    )
    error_message = "Retries, event age and the on-failure destination follow the variables."
  }

  assert {
    condition = (
      aws_lambda_function.this.timeout == 600 &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_JOB_TIMEOUT_S == "4200" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_REQUEST_BUDGET_MS == "20000"
    )
    error_message = "The timeout, the job timeout and a lower request budget reach the function."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_IMAGE_RETENTION_DAYS == "7" &&
      [for r in aws_s3_bucket_lifecycle_configuration.images.rule : one(r.expiration).days if r.id == "expire-generated-images"] == [7]
    )
    error_message = "Image records live as long as their images: image_retention_days sets both the records' lifetime and the bucket's expiry of the image prefix."
  }
}

run "sns_destination" {
  command = apply

  variables {
    jobs_on_failure_destination_arn = "arn:aws:sns:us-east-1:123456789012:imagegen-failed-jobs"
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : [s.Action, s.Resource]
      if contains(["SendFailedJobEvents", "PublishFailedJobEvents"], s.Sid)
    ] == [[["sns:Publish"], ["arn:aws:sns:us-east-1:123456789012:imagegen-failed-jobs"]]]
    error_message = "An SNS topic as destination gets sns:Publish on it, and no SQS statement."
  }
}

run "off_switch" {
  command = apply

  variables {
    jobs_enabled = false
  }

  assert {
    condition = (
      length(aws_dynamodb_table.this) == 0 && length(aws_lambda_function_event_invoke_config.this) == 0 &&
      output.table_name == null && output.jobs_url == null && output.images_url == null
    )
    error_message = "Without jobs there is no table, no asynchronous invocation config, and no jobs or images outputs."
  }

  assert {
    condition = (
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_TABLE") &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_IMAGE_RETENTION_DAYS") &&
      aws_lambda_function.this.timeout == 28 &&
      [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Sid] == ["InvokeAllowedModels", "ReadWriteGeneratedImages", "ReadWriteUploads", "WriteOwnLogs"]
    )
    error_message = "Without jobs the function has no table and no records' lifetime, a 28 s timeout, and the role its four statements only."
  }

  assert {
    condition = (
      !contains(keys(aws_api_gateway_resource.route), "jobs") && !contains(keys(aws_api_gateway_resource.route), "images") &&
      keys(aws_api_gateway_resource.route_depth2) == ["web/{file}"] &&
      length([for k in keys(aws_api_gateway_method.route) : k if strcontains(k, " /jobs") || strcontains(k, " /images")]) == 0 &&
      length(aws_lambda_permission.api) == 15 &&
      !strcontains(jsondecode(aws_api_gateway_gateway_response.error["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"]).error.message, "/jobs") &&
      !strcontains(jsondecode(aws_api_gateway_gateway_response.error["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"]).error.message, " /images")
    )
    error_message = "Without jobs no /jobs or /images route is declared, permitted or named in the no-route answer."
  }
}

# Refusals: each value is out of its range.
run "rejects_bad_jobs_settings" {
  command = plan

  variables {
    job_timeout_seconds             = 59
    jobs_max_retry_attempts         = 3
    jobs_max_event_age_seconds      = 21601
    jobs_on_failure_destination_arn = "arn:aws:sqs:us-east-1:123456789012:failed.fifo"
    table_kms_key_arn               = "alias/imagegen"
    lambda_timeout_seconds          = 901
  }

  expect_failures = [
    var.job_timeout_seconds, var.jobs_max_retry_attempts, var.jobs_max_event_age_seconds,
    var.jobs_on_failure_destination_arn, var.table_kms_key_arn, var.lambda_timeout_seconds,
  ]
}

run "rejects_a_destination_other_than_sqs_or_sns" {
  command = plan

  variables {
    jobs_on_failure_destination_arn = "arn:aws:lambda:us-east-1:123456789012:function:other"
  }

  expect_failures = [var.jobs_on_failure_destination_arn]
}

# The module owns the table variable, and the request budget keeps synchronous requests under 29 s.
run "rejects_environment_overrides_of_the_table" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_TABLE = "another-table" }
  }

  expect_failures = [var.lambda_environment]
}

# image_retention_days sets the records' lifetime with the bucket's: an override would let them part.
run "rejects_environment_overrides_of_the_image_retention" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_IMAGE_RETENTION_DAYS = "90" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_a_request_budget_past_api_gateway" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_REQUEST_BUDGET_MS = "29000" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_a_request_budget_that_is_no_number" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_REQUEST_BUDGET_MS = "28s" }
  }

  expect_failures = [var.lambda_environment]
}

# Warnings (the plan goes on): a job timeout shorter than Lambda may keep an event, and a timeout
# that gives a job's worker no more time than a synchronous request.
run "warns_about_a_job_timeout_shorter_than_the_queue" {
  command = plan

  variables {
    job_timeout_seconds = 3600
  }

  expect_failures = [check.job_timeout_covers_the_async_queue]
}

run "warns_about_a_timeout_that_gives_jobs_nothing" {
  command = plan

  variables {
    lambda_timeout_seconds = 28
  }

  expect_failures = [check.jobs_run_longer_than_requests]
}
