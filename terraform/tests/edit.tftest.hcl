# Editing images: POST /edit-image and POST /uploads locked like /generate-image, POST
# /v1/images/edits like /v1/images/generations, multipart/form-data as the API's binary media type,
# the uploads prefix (IAM and a one-day lifecycle rule) tied to the one config.lua signs uploads
# under, and the models of the policy's edit tasks granted and placed like the allowed models. The
# manifests tests/fixtures/edit-images, other-uploads, bad-edit-models and titan-edit carry the
# policy's uploads_prefix and edit_models; the shipped fixture manifest (lambda.manifest.json)
# carries neither, as a package built before they were recorded.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

# With an API key and a Cognito authorizer, so that the new routes show they take both.
run "editing_routes_locked_like_generation" {
  command = apply

  variables {
    cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
  }

  assert {
    condition = {
      for path in ["edit-image", "uploads"] : path => [
        aws_api_gateway_resource.route[path].parent_id, aws_api_gateway_resource.route[path].path_part,
      ]
      } == {
      "edit-image" = [aws_api_gateway_rest_api.this.root_resource_id, "edit-image"]
      "uploads"    = [aws_api_gateway_rest_api.this.root_resource_id, "uploads"]
    }
    error_message = "/edit-image and /uploads must hang below the API's root."
  }

  assert {
    condition = {
      for k in ["POST /edit-image", "POST /uploads", "OPTIONS /edit-image", "OPTIONS /uploads"] : k => [
        aws_api_gateway_method.route[k].authorization, aws_api_gateway_method.route[k].api_key_required,
        aws_api_gateway_method.route[k].authorizer_id == aws_api_gateway_authorizer.this[0].id,
      ]
      } == {
      "POST /edit-image"    = ["COGNITO_USER_POOLS", true, true]
      "POST /uploads"       = ["COGNITO_USER_POOLS", true, true]
      "OPTIONS /edit-image" = ["NONE", false, false]
      "OPTIONS /uploads"    = ["NONE", false, false]
    }
    error_message = "POST /edit-image and POST /uploads need the API key and the token, as POST /generate-image does; their CORS preflights need neither."
  }

  assert {
    condition = alltrue([
      for k in ["POST /edit-image", "POST /uploads"] : [
        aws_api_gateway_method.route[k].authorization, aws_api_gateway_method.route[k].api_key_required,
        aws_api_gateway_method.route[k].authorizer_id,
        ] == [
        aws_api_gateway_method.route["POST /generate-image"].authorization, aws_api_gateway_method.route["POST /generate-image"].api_key_required,
        aws_api_gateway_method.route["POST /generate-image"].authorizer_id,
      ]
    ])
    error_message = "The editing routes must take exactly the locks of POST /generate-image."
  }

  assert {
    condition = alltrue([
      for k in ["POST /edit-image", "OPTIONS /edit-image", "POST /uploads", "OPTIONS /uploads"] :
      aws_api_gateway_integration.route[k].type == "AWS_PROXY" && aws_api_gateway_integration.route[k].integration_http_method == "POST" &&
      aws_api_gateway_integration.route[k].uri == aws_lambda_function.this.invoke_arn &&
      aws_api_gateway_integration.route[k].resource_id == aws_api_gateway_resource.route[split(" /", k)[1]].id
    ])
    error_message = "Each editing method must be a Lambda proxy integration on its own resource."
  }

  assert {
    condition = {
      for k, p in aws_lambda_permission.api : k => [p.statement_id, p.source_arn] if strcontains(k, "edit-image") || strcontains(k, "uploads")
      } == {
      "POST /edit-image"    = ["AllowApiGateway-POST-edit-image", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/edit-image"]
      "OPTIONS /edit-image" = ["AllowApiGateway-OPTIONS-edit-image", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/edit-image"]
      "POST /uploads"       = ["AllowApiGateway-POST-uploads", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/uploads"]
      "OPTIONS /uploads"    = ["AllowApiGateway-OPTIONS-uploads", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/uploads"]
    }
    error_message = "API Gateway may invoke the function for each editing method on its path, and only there."
  }

  assert {
    condition     = aws_api_gateway_rest_api.this.binary_media_types == tolist(["multipart/form-data"])
    error_message = "The REST API's one binary media type must be multipart/form-data: forms reach the function base64-encoded, JSON stays text."
  }

  assert {
    condition = (
      aws_api_gateway_gateway_response.error["REQUEST_TOO_LARGE"].status_code == "413" &&
      jsondecode(aws_api_gateway_gateway_response.error["REQUEST_TOO_LARGE"].response_templates["application/json"]).error.code == "payload_too_large" &&
      strcontains(jsondecode(aws_api_gateway_gateway_response.error["REQUEST_TOO_LARGE"].response_templates["application/json"]).error.message, "upload large images with POST /uploads")
    )
    error_message = "A too large request answers 413 payload_too_large and tells the client to upload with POST /uploads."
  }

  assert {
    condition = (
      output.edit_image_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/edit-image" &&
      output.uploads_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/uploads"
    )
    error_message = "edit_image_url and uploads_url must be the stage's invoke URL followed by their paths."
  }
}

run "openai_edits_route_like_generations" {
  command = apply

  variables {
    openai_api    = true
    manifest_path = "tests/fixtures/openai-keys.manifest.json"
  }

  assert {
    condition = (
      aws_api_gateway_resource.route_depth3["v1/images/edits"].parent_id == aws_api_gateway_resource.route_depth2["v1/images"].id &&
      aws_api_gateway_resource.route_depth3["v1/images/edits"].path_part == "edits"
    )
    error_message = "/v1/images/edits must hang below /v1/images."
  }

  assert {
    condition = {
      for k in ["POST /v1/images/edits", "OPTIONS /v1/images/edits"] : k => [
        aws_api_gateway_method.route[k].authorization, aws_api_gateway_method.route[k].api_key_required, aws_api_gateway_method.route[k].authorizer_id == null,
      ]
      } == {
      "POST /v1/images/edits"    = ["NONE", false, true]
      "OPTIONS /v1/images/edits" = ["NONE", false, true]
    }
    error_message = "POST /v1/images/edits is locked as POST /v1/images/generations: no API key, no authorizer (the policy checks the bearer key)."
  }

  assert {
    condition = [
      aws_lambda_permission.api["POST /v1/images/edits"].source_arn, aws_api_gateway_integration.route["POST /v1/images/edits"].type,
      aws_api_gateway_integration.route["POST /v1/images/edits"].resource_id,
      ] == [
      "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/v1/images/edits", "AWS_PROXY",
      aws_api_gateway_resource.route_depth3["v1/images/edits"].id,
    ]
    error_message = "POST /v1/images/edits must be a Lambda proxy integration that API Gateway may invoke on its full path."
  }
}

# The policy records its uploads prefix and its edit models: the role's statements are exactly these.
run "edit_models_and_uploads_in_iam_and_lifecycle" {
  command = apply

  variables {
    manifest_path = "tests/fixtures/edit-images.manifest.json"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if !contains(["ReadWriteTable", "QueryTableIndexes", "InvokeSelfForJobs"], s.Sid)] == [
      {
        Sid    = "InvokeAllowedModels"
        Effect = "Allow"
        Action = ["bedrock:InvokeModel"]
        Resource = [
          "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
          "arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0",
          "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-ultra-v1:1",
          "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.stability.stable-image-inpaint-v1:0",
          "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-inpaint-v1:0",
          "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-inpaint-v1:0",
          "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-inpaint-v1:0",
          "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.stability.stable-image-remove-background-v1:0",
          "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-remove-background-v1:0",
          "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-remove-background-v1:0",
          "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-remove-background-v1:0",
        ]
      },
      {
        Sid      = "ReadWriteGeneratedImages"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject"]
        Resource = ["arn:aws:s3:::imagegen-images-20260101000000000000000001/images/*"]
      },
      {
        Sid      = "ReadWriteUploads"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject"]
        Resource = ["arn:aws:s3:::imagegen-images-20260101000000000000000001/uploads/*"]
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["arn:aws:logs:us-east-1:123456789012:log-group:mocked:*"]
      },
    ]
    error_message = "The role must hold exactly four statements besides the jobs' (tests/jobs.tftest.hcl): InvokeModel on the allowed and the edit models (SD3.5 Large once; each us. profile with its model in each us region), images and uploads each PutObject/GetObject under their prefix, and its own logs."
  }

  assert {
    condition = (
      output.edit_models == tolist(["stability.sd3-5-large-v1:0", "us.stability.stable-image-inpaint-v1:0", "us.stability.stable-image-remove-background-v1:0"]) &&
      output.bedrock_region == "us-west-2" && aws_lambda_function.this.environment[0].variables.IMAGEGEN_BEDROCK_REGION == "us-west-2" &&
      output.uploads_prefix == "uploads/"
    )
    error_message = "The edit models come from the manifest, and the Bedrock region serves them with the allowed models (us-west-2)."
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.images.rule : [
        # The whole-bucket rule's empty filter has a prefix only the mocked provider invents.
        r.id, r.status, length(r.expiration) == 0 ? "(whole bucket)" : one(r.filter).prefix, length(r.expiration) == 0 ? 0 : one(r.expiration).days,
        length(r.abort_incomplete_multipart_upload) == 0 ? 0 : one(r.abort_incomplete_multipart_upload).days_after_initiation,
      ]
      ] == [
      ["expire-generated-images", "Enabled", "images/", 30, 0],
      ["expire-uploads", "Enabled", "uploads/", 1, 0],
      ["abort-incomplete-multipart-uploads", "Enabled", "(whole bucket)", 0, 1],
    ]
    error_message = "The lifecycle rules must expire images after 30 days, uploads after one day, and abort incomplete multipart uploads after a day."
  }

  assert {
    condition = length(setintersection(keys(aws_lambda_function.this.environment[0].variables), [
      "IMAGEGEN_ALLOWED_MODELS", "IMAGEGEN_UPLOADS_PREFIX",
    ])) == 0
    error_message = "The edit models and the uploads prefix are the policy's: Terraform passes neither to the function."
  }
}

# A manifest written before package-lambda recorded the uploads prefix cannot disagree: the
# variable decides what IAM grants and what expires.
run "without_a_recorded_prefix_the_variable_decides" {
  command = plan

  variables {
    uploads_prefix = "in/uploads/"
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "ReadWriteUploads"][0] == ["arn:aws:s3:::imagegen-images-20260101000000000000000001/in/uploads/*"] &&
      [for r in aws_s3_bucket_lifecycle_configuration.images.rule : one(r.filter).prefix if r.id == "expire-uploads"] == ["in/uploads/"] &&
      length(output.edit_models) == 0
    )
    error_message = "Without the policy's uploads prefix in the manifest, IAM and the lifecycle rule follow uploads_prefix, and no edit model is granted."
  }
}

run "refuses_a_prefix_other_than_the_policy_signs" {
  command = plan

  variables {
    manifest_path  = "tests/fixtures/edit-images.manifest.json"
    uploads_prefix = "incoming/"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

# The policy signs uploads under incoming/: the default uploads/ is refused, incoming/ accepted.
run "refuses_the_default_when_the_policy_signs_elsewhere" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/other-uploads.manifest.json"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

run "follows_the_policy_prefix_once_set" {
  command = plan

  variables {
    manifest_path  = "tests/fixtures/other-uploads.manifest.json"
    uploads_prefix = "incoming/"
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "ReadWriteUploads"][0] == ["arn:aws:s3:::imagegen-images-20260101000000000000000001/incoming/*"] &&
      [for r in aws_s3_bucket_lifecycle_configuration.images.rule : one(r.filter).prefix if r.id == "expire-uploads"] == ["incoming/"]
    )
    error_message = "With uploads_prefix set to the policy's, IAM and the lifecycle rule cover incoming/."
  }
}

# Uploads inside the image prefix, or images inside the uploads prefix: one rule would expire the other.
run "refuses_uploads_inside_the_image_prefix" {
  command = plan

  variables {
    uploads_prefix = "images/uploads/"
  }

  expect_failures = [aws_s3_bucket_lifecycle_configuration.images]
}

run "refuses_images_inside_the_uploads_prefix" {
  command = plan

  variables {
    image_prefix = "uploads/generated/"
  }

  expect_failures = [aws_s3_bucket_lifecycle_configuration.images]
}

# "stability.*" would become a wildcard in the IAM policy.
run "refuses_a_malformed_edit_model" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/bad-edit-models.manifest.json"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

# A Titan edit task (us-east-1 only) next to the Stability models (us-west-2 only): no region serves
# both, as for allowed_models; an explicit bedrock_region plans, with the warning naming the model.
run "edit_models_constrain_the_bedrock_region" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/titan-edit.manifest.json"
  }

  expect_failures = [aws_iam_role_policy.lambda]
}

run "explicit_region_warns_about_an_edit_model_it_does_not_serve" {
  command = plan

  variables {
    manifest_path  = "tests/fixtures/titan-edit.manifest.json"
    bedrock_region = "us-west-2"
  }

  expect_failures = [check.bedrock_region_serves_allowed_models]

  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s.Resource if s.Sid == "InvokeAllowedModels"][0], "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-image-generator-v2:0")
    error_message = "An edit model is granted in the Bedrock region like an allowed model."
  }
}

# The function must sign uploads where IAM grants and the lifecycle rule expires: the prefix is
# uploads_prefix's (checked against config.lua), never an environment override.
run "refuses_an_environment_override_of_the_uploads_prefix" {
  command = plan

  variables {
    lambda_environment = { IMAGEGEN_UPLOADS_PREFIX = "elsewhere/" }
  }

  expect_failures = [var.lambda_environment]
}

run "refuses_an_uploads_prefix_that_is_not_a_folder" {
  command = plan

  variables {
    uploads_prefix = "uploads"
  }

  expect_failures = [var.uploads_prefix]
}
