# The Bedrock region and the models the function may invoke there, applied against a mocked AWS
# provider (whose role ARN carries the account 123456789012; the stack's region is the provider's,
# us-east-1 unless a run overrides data.aws_region.current). The fixture catalogue holds the example.*
# ids next to the shipped models. Each run reads the one statement that
# grants bedrock:InvokeModel and compares its resources, in order, with the exact list expected.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "stack_in_us_west_2_calls_bedrock_there" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }


  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
    ]
    error_message = "The grant must list exactly the three allowed models' foundation-model ARNs in us-west-2."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2" && output.bedrock_region == "us-west-2"
    error_message = "A stack region that serves the models is the Bedrock region."
  }
}

run "explicit_bedrock_region_reaches_the_function_and_the_grant" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = {
      name = "eu-central-1"
    }
  }

  variables {
    bedrock_region = "us-west-2"
    allowed_models = ["stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1"]
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
    ]
    error_message = "The grant must list exactly the allowed models in bedrock_region, not in the stack's region."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2" &&
      output.default_model == "stability.sd3-5-large-v1:0"
    )
    error_message = "bedrock_region must reach the function as IMAGEGEN_BEDROCK_REGION; the first allowed model becomes the default (the policy's own default is not allowed)."
  }
}

run "legacy_titan_in_us_east_1_stays_in_the_stack_region" {
  command = apply

  # Titan G1 is legacy: the plan warns.
  expect_failures = [check.allowed_models_are_current]

  variables {
    allowed_models = ["amazon.titan-image-generator-v1"]
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
    ][0] == ["arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1"]
    error_message = "The seed's Titan flow keeps calling Bedrock in the stack's region us-east-1."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-east-1"
    error_message = "The Bedrock region must be the stack's region when it serves the models."
  }
}

run "model_the_module_does_not_know_uses_the_stack_region" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = {
      name = "eu-west-1"
    }
  }

  variables {
    allowed_models = ["example.image-model-v2:0"]
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
    ][0] == ["arn:aws:bedrock:eu-west-1::foundation-model/example.image-model-v2:0"]
    error_message = "A model outside the module's region table constrains nothing: the stack's region is used."
  }
}

run "us_profile_grants_the_profile_and_its_model_in_every_us_region" {
  command = apply

  variables {
    allowed_models = ["us.stability.stable-image-core-v1:1"]
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
    ]
    error_message = "A us. profile invoked from us-east-1 must grant the profile's ARN there and its model's foundation-model ARN in us-east-1, us-east-2 and us-west-2, nothing more."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-east-1" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_ALLOWED_MODELS == "us.stability.stable-image-core-v1:1"
    )
    error_message = "A us. profile can be invoked from the stack's us-east-1, and the policy gets the profile id as allowed."
  }
}

run "profile_and_bare_model_meet_in_the_region_serving_both" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = {
      name = "eu-west-1"
    }
  }

  variables {
    allowed_models = ["stability.sd3-5-large-v1:0", "us.stability.stable-image-ultra-v1:1"]
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.stability.stable-image-ultra-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
      "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-ultra-v1:1",
      "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-ultra-v1:1",
    ]
    error_message = "SD3.5 Large (us-west-2 only) and a us. profile meet in us-west-2: the profile's ARN there, its model in us-west-2 (the source) and the other US regions, each ARN once."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2"
    error_message = "The Bedrock region must be us-west-2."
  }
}

run "profile_regions_can_be_overridden_per_geography" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = {
      name = "eu-west-3"
    }
  }

  variables {
    allowed_models          = ["eu.example.image-model-v1:0"]
    bedrock_profile_regions = { eu = ["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"] }
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:eu-west-3:123456789012:inference-profile/eu.example.image-model-v1:0",
      "arn:aws:bedrock:eu-west-3::foundation-model/example.image-model-v1:0",
      "arn:aws:bedrock:eu-central-1::foundation-model/example.image-model-v1:0",
      "arn:aws:bedrock:eu-north-1::foundation-model/example.image-model-v1:0",
      "arn:aws:bedrock:eu-west-1::foundation-model/example.image-model-v1:0",
    ]
    error_message = "An eu. profile invoked from eu-west-3 must grant its model in the overriding list of regions (eu-north-1 included)."
  }
}

run "explicit_region_that_does_not_serve_the_models_warns" {
  command = plan

  variables {
    bedrock_region = "us-east-1"
  }

  expect_failures = [check.bedrock_region_serves_allowed_models]
}

run "profile_from_outside_its_geography_warns" {
  command = plan

  variables {
    bedrock_region = "us-west-2"
    allowed_models = ["eu.example.image-model-v1:0"]
  }

  expect_failures = [check.bedrock_region_serves_allowed_models]
}

run "no_single_region_for_all_models_stops_the_plan" {
  command = plan

  variables {
    allowed_models = ["stability.stable-image-core-v1:1", "amazon.nova-canvas-v1:0"]
  }

  # Nova Canvas is also legacy: the plan warns about it as well.
  expect_failures = [aws_iam_role_policy.lambda, check.allowed_models_are_current]
}
