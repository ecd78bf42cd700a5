# The policy's settings that live in the jobs table (variables.tf: rate_limit_backend and
# record_prompts): where the rate limits are counted (IMAGEGEN_RATE_LIMIT_BACKEND: the table by
# default when it exists, so that every warm execution environment shares one budget, memory
# without it), the role's grant of the UpdateItem the counters use, what an image record keeps of
# the prompt (IMAGEGEN_RECORD_PROMPTS, only when set and only with the table), and the refusals:
# "dynamodb" without the table, values out of range, and lambda_environment overriding either.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "shared_limits_in_the_table_by_default" {
  command = apply

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_RATE_LIMIT_BACKEND == "dynamodb" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_TABLE == aws_dynamodb_table.this[0].name
    )
    error_message = "With the table (jobs_enabled, the default) the function counts rate limits in it (IMAGEGEN_RATE_LIMIT_BACKEND = dynamodb), next to IMAGEGEN_TABLE: one budget for every warm execution environment."
  }

  assert {
    condition     = output.rate_limit_backend == "dynamodb"
    error_message = "The output rate_limit_backend shows the backend in force."
  }

  # The counters are items of the table itself (pk "rl#<client>#<window>", sk "rl"), each taken
  # with one conditional UpdateItem (runtime/src/handler/ratelimit.c).
  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement :
      s.Effect == "Allow" && contains(s.Action, "dynamodb:UpdateItem") && contains(s.Resource, aws_dynamodb_table.this[0].arn)
    ])
    error_message = "The role may UpdateItem the table the function counts rate limits in."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_RECORD_PROMPTS")
    error_message = "record_prompts null leaves IMAGEGEN_RECORD_PROMPTS unset: config.lua's images.prompt decides (sha256 as shipped)."
  }
}

run "memory_limits_without_the_table" {
  command = apply

  variables {
    jobs_enabled = false
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_RATE_LIMIT_BACKEND == "memory" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_TABLE") &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_RECORD_PROMPTS")
    )
    error_message = "Without the table rate_limit_backend null counts in memory (the policy refuses dynamodb without IMAGEGEN_TABLE), and no record setting is passed."
  }

  assert {
    condition     = output.rate_limit_backend == "memory"
    error_message = "The output rate_limit_backend shows memory without the table."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]) == 0
    error_message = "Without the table the role has no DynamoDB statement."
  }
}

run "memory_limits_chosen_with_the_table" {
  command = apply

  variables {
    rate_limit_backend = "memory"
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_RATE_LIMIT_BACKEND == "memory" &&
      length(aws_dynamodb_table.this) == 1 &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_TABLE == aws_dynamodb_table.this[0].name
    )
    error_message = "rate_limit_backend = memory counts per execution environment even with the table, which jobs and records keep using."
  }
}

run "prompts_kept_as_text" {
  command = apply

  variables {
    record_prompts     = "text"
    rate_limit_backend = "dynamodb"
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_RECORD_PROMPTS == "text" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_RATE_LIMIT_BACKEND == "dynamodb"
    )
    error_message = "record_prompts = text reaches the function as IMAGEGEN_RECORD_PROMPTS=text; rate_limit_backend = dynamodb as IMAGEGEN_RATE_LIMIT_BACKEND=dynamodb."
  }
}

run "prompts_not_kept" {
  command = plan

  variables {
    record_prompts = "none"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMAGEGEN_RECORD_PROMPTS == "none"
    error_message = "record_prompts = none reaches the function as IMAGEGEN_RECORD_PROMPTS=none."
  }
}

run "prompts_hashed" {
  command = plan

  variables {
    record_prompts = "sha256"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMAGEGEN_RECORD_PROMPTS == "sha256"
    error_message = "record_prompts = sha256 reaches the function as IMAGEGEN_RECORD_PROMPTS=sha256."
  }
}

# The plan stops at the function with the message naming what to set (lambda.tf's precondition):
# without IMAGEGEN_TABLE the policy would refuse to load and the function would not start.
run "rejects_shared_limits_without_the_table" {
  command = plan

  variables {
    jobs_enabled       = false
    rate_limit_backend = "dynamodb"
  }

  expect_failures = [aws_lambda_function.this]
}

# A warning, not an error: without the table there are no records, and the variable is not passed.
run "warns_about_record_prompts_without_the_table" {
  command = plan

  variables {
    jobs_enabled   = false
    record_prompts = "text"
  }

  expect_failures = [check.record_prompts_needs_the_table]
}

run "rejects_values_out_of_range" {
  command = plan

  variables {
    rate_limit_backend = "redis"
    record_prompts     = "plain"
  }

  expect_failures = [var.rate_limit_backend, var.record_prompts]
}

run "rejects_values_in_the_wrong_case" {
  command = plan

  variables {
    rate_limit_backend = "DynamoDB"
    record_prompts     = "SHA256"
  }

  expect_failures = [var.rate_limit_backend, var.record_prompts]
}

# The module owns both variables: an override through lambda_environment would be silently replaced
# (the module's values are merged last), so it is refused instead.
run "rejects_environment_override_of_the_backend" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_RATE_LIMIT_BACKEND = "memory" }
  }

  expect_failures = [var.lambda_environment]
}

run "rejects_environment_override_of_record_prompts" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_RECORD_PROMPTS = "text" }
  }

  expect_failures = [var.lambda_environment]
}
