# The package manifest (tests/fixtures/*.manifest.json, in the format scripts/package-lambda writes):
# config.lua is the one source of truth for what Terraform does not set, the module grants IAM exactly
# what the policy allows, and a package the function could not run stops the plan with a message
# that says what to do. Also the deployment from an S3 object.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

# config.lua edited: two models, another default, one origin, another key prefix with the cache on, a
# shorter URL lifetime, a key id mapped to a tier. Terraform sets none of them and follows them all.
run "the_policy_decides_and_iam_follows" {
  command = apply

  variables {
    manifest_path = "tests/fixtures/edited-policy.manifest.json"
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
    ]
    error_message = "IAM must grant exactly the two models config.lua allows."
  }

  assert {
    condition     = output.allowed_models == tolist(["stability.stable-image-ultra-v1:1", "stability.sd3-5-large-v1:0"]) && output.default_model == "stability.sd3-5-large-v1:0"
    error_message = "The outputs must show config.lua's models and default."
  }

  assert {
    condition = length(setintersection(keys(aws_lambda_function.this.environment[0].variables), [
      "IMAGEGEN_ALLOWED_MODELS", "IMAGEGEN_DEFAULT_MODEL", "IMAGEGEN_CORS_ORIGINS", "IMAGEGEN_KEY_PREFIX",
      "IMAGEGEN_CACHE_KEY_PREFIX", "IMAGEGEN_URL_TTL", "IMAGEGEN_LOG_PROMPTS",
    ])) == 0
    error_message = "Terraform must not override config.lua's settings when its variables are not set."
  }

  assert {
    condition = (
      output.image_prefix == "generated/" &&
      [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "ReadWriteGeneratedImages"][0] == ["${aws_s3_bucket.images.arn}/generated/*"] &&
      [for r in aws_s3_bucket_lifecycle_configuration.images.rule : one(r.filter).prefix if r.id == "expire-generated-images"] == ["generated/"]
    )
    error_message = "Object access and expiry must follow the folder of config.lua's storage.key_prefix (generated/%Y/%m/ gives generated/)."
  }

  assert {
    condition = alltrue([
      for t, r in aws_api_gateway_gateway_response.error :
      r.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://policy.example.com'"
    ])
    error_message = "API Gateway's own errors must carry the one origin config.lua allows."
  }
}

# The same policy, with the operator setting the models in Terraform: the variables win, and reach the
# function; the policy's default (SD3.5 Large) stays the default, since it is allowed.
run "terraform_variables_override_the_policy" {
  command = apply

  variables {
    manifest_path      = "tests/fixtures/edited-policy.manifest.json"
    allowed_models     = ["stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0"]
    cors_allow_origins = ["https://app.example.com"]
    image_prefix       = "img/"
    url_ttl_seconds    = 1200
    log_prompts        = false
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_ALLOWED_MODELS == "stability.stable-image-core-v1:1,stability.sd3-5-large-v1:0" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_DEFAULT_MODEL") &&
      output.default_model == "stability.sd3-5-large-v1:0" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_CORS_ORIGINS == "https://app.example.com" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_KEY_PREFIX == "img/%Y/%m/%d/" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_CACHE_KEY_PREFIX == "img/cache/" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_URL_TTL == "1200" &&
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_LOG_PROMPTS == "0"
    )
    error_message = "Each Terraform variable that is set must reach the function; the policy's default stays when it is allowed."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"
      ][0] == [
      "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
      "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
    ]
    error_message = "IAM must grant the models Terraform set."
  }
}

run "default_model_variable_reaches_the_function" {
  command = plan

  variables {
    default_model = "stability.stable-image-ultra-v1:1"
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.IMAGEGEN_DEFAULT_MODEL == "stability.stable-image-ultra-v1:1" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "IMAGEGEN_ALLOWED_MODELS")
    )
    error_message = "default_model alone sets IMAGEGEN_DEFAULT_MODEL and leaves the allowed models to config.lua."
  }
}

run "refuses_a_model_the_catalogue_does_not_hold" {
  command = plan

  variables {
    allowed_models = ["stability.stable-image-core-v1:1", "stability.stable-image-core-v2:0"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_default_model_that_is_not_allowed" {
  command = plan

  variables {
    default_model = "amazon.titan-image-generator-v1"
  }

  expect_failures = [aws_lambda_function.this]
}

run "follows_the_package_architecture" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/arm64.manifest.json"
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "With lambda_architecture null the function must take the package's architecture."
  }
}

run "refuses_a_package_of_another_architecture" {
  command = plan

  variables {
    manifest_path       = "tests/fixtures/arm64.manifest.json"
    lambda_architecture = "x86_64"
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_package_needing_a_newer_glibc" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/glibc-2.36.manifest.json"
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_manifest_of_another_zip" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/other-zip.manifest.json"
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_manifest_format_it_does_not_know" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/format-2.manifest.json"
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_missing_manifest_and_package" {
  command = plan

  variables {
    lambda_zip_path = "tests/fixtures/no-such-package.zip"
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_a_key_prefix_without_a_folder" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/no-folder.manifest.json"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

run "refuses_a_cache_outside_the_image_prefix" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/cache-outside.manifest.json"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

run "warns_about_a_model_past_its_end_of_life" {
  command = plan

  variables {
    allowed_models = ["example.retired-model-v1:0"]
  }

  expect_failures = [check.allowed_models_are_current]
}

# An active model whose end of life is announced but ahead plans without a warning (a warning would
# fail this run).
run "an_end_of_life_ahead_does_not_warn" {
  command = plan

  variables {
    allowed_models = ["example.future-eol-v1:0"]
  }

  assert {
    condition     = output.allowed_models == tolist(["example.future-eol-v1:0"])
    error_message = "The model must be allowed."
  }
}

run "warns_about_a_url_lifetime_beyond_the_credentials" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/long-url-ttl.manifest.json"
  }

  expect_failures = [check.url_lifetime_within_credentials]
}

# A CI-built artifact: the zip is in S3, only its manifest is here; the manifest's hash decides when
# the function is updated.
run "deploys_from_an_s3_object" {
  command = apply

  variables {
    lambda_zip_path          = "tests/fixtures/not-built-here.zip"
    manifest_path            = "tests/fixtures/lambda.manifest.json"
    lambda_s3_bucket         = "ci-artifacts"
    lambda_s3_key            = "imagegen/lambda-bcc7a1f5.zip"
    lambda_s3_object_version = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
  }

  assert {
    condition = (
      aws_lambda_function.this.filename == null &&
      aws_lambda_function.this.s3_bucket == "ci-artifacts" &&
      aws_lambda_function.this.s3_key == "imagegen/lambda-bcc7a1f5.zip" &&
      aws_lambda_function.this.s3_object_version == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" &&
      aws_lambda_function.this.source_code_hash == jsondecode(file("tests/fixtures/lambda.manifest.json")).package.source_code_hash
    )
    error_message = "The function must come from the S3 object, with the manifest's hash as source_code_hash."
  }
}

run "refuses_an_s3_bucket_without_a_key" {
  command = plan

  variables {
    lambda_s3_bucket = "ci-artifacts"
  }

  expect_failures = [aws_lambda_function.this]
}
