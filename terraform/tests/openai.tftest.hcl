# The OpenAI-compatible routes (openai_api): POST /v1/images/generations, POST /v1/images/edits (a
# multipart form, passed base64-encoded by the API's binary media type) and GET /v1/models, nested
# resources with their parents, Lambda proxy integrations and permissions for the full paths, and no
# API Gateway key or authorizer on them (their clients send only Authorization: Bearer KEY, which the
# policy checks). Closed by default: declared only when the package's config.lua requires a bearer key
# (openai-keys.manifest.json), or when allow_anonymous_access opens the API on purpose. Their absence
# by default is asserted in defaults.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
  openai_api      = true
}

# With an API key and a Cognito authorizer on the other routes, so that their absence on /v1 shows.
run "routes_with_bearer_keys_required" {
  command = apply

  variables {
    manifest_path          = "tests/fixtures/openai-keys.manifest.json"
    cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
  }

  assert {
    condition = (
      toset(keys(aws_api_gateway_resource.route)) == toset(["generate-image", "edit-image", "uploads", "models", "jobs", "images", "health", "web", "v1"]) &&
      toset(keys(aws_api_gateway_resource.route_depth2)) == toset(["jobs/{id}", "images/{id}", "web/{file}", "v1/images", "v1/models"]) &&
      toset(keys(aws_api_gateway_resource.route_depth3)) == toset(["v1/images/generations", "v1/images/edits"])
    )
    error_message = "openai_api must add /v1, /v1/images, /v1/images/generations, /v1/images/edits and /v1/models to the eleven routes."
  }

  assert {
    condition = (
      aws_api_gateway_resource.route["v1"].parent_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_resource.route["v1"].path_part == "v1" &&
      aws_api_gateway_resource.route_depth2["v1/images"].parent_id == aws_api_gateway_resource.route["v1"].id &&
      aws_api_gateway_resource.route_depth2["v1/images"].path_part == "images" &&
      aws_api_gateway_resource.route_depth2["v1/models"].parent_id == aws_api_gateway_resource.route["v1"].id &&
      aws_api_gateway_resource.route_depth2["v1/models"].path_part == "models" &&
      aws_api_gateway_resource.route_depth3["v1/images/generations"].parent_id == aws_api_gateway_resource.route_depth2["v1/images"].id &&
      aws_api_gateway_resource.route_depth3["v1/images/generations"].path_part == "generations" &&
      aws_api_gateway_resource.route_depth3["v1/images/edits"].parent_id == aws_api_gateway_resource.route_depth2["v1/images"].id &&
      aws_api_gateway_resource.route_depth3["v1/images/edits"].path_part == "edits"
    )
    error_message = "Each nested resource must hang below its parent, with its own path part."
  }

  assert {
    condition = {
      for k, m in aws_api_gateway_method.route : k => [m.authorization, m.api_key_required, m.authorizer_id == null, m.resource_id]
      if startswith(k, "POST /v1") || startswith(k, "GET /v1") || startswith(k, "OPTIONS /v1")
      } == {
      "POST /v1/images/generations"    = ["NONE", false, true, aws_api_gateway_resource.route_depth3["v1/images/generations"].id]
      "OPTIONS /v1/images/generations" = ["NONE", false, true, aws_api_gateway_resource.route_depth3["v1/images/generations"].id]
      "POST /v1/images/edits"          = ["NONE", false, true, aws_api_gateway_resource.route_depth3["v1/images/edits"].id]
      "OPTIONS /v1/images/edits"       = ["NONE", false, true, aws_api_gateway_resource.route_depth3["v1/images/edits"].id]
      "GET /v1/models"                 = ["NONE", false, true, aws_api_gateway_resource.route_depth2["v1/models"].id]
      "OPTIONS /v1/models"             = ["NONE", false, true, aws_api_gateway_resource.route_depth2["v1/models"].id]
    }
    error_message = "The /v1 routes are POST and OPTIONS on /v1/images/generations and /v1/images/edits, GET and OPTIONS on /v1/models, with no API key and no authorizer: the policy checks their bearer keys."
  }

  assert {
    condition = (
      aws_api_gateway_method.route["POST /generate-image"].authorization == "COGNITO_USER_POOLS" &&
      aws_api_gateway_method.route["POST /generate-image"].api_key_required &&
      aws_api_gateway_method.route["GET /models"].authorization == "COGNITO_USER_POOLS" &&
      aws_api_gateway_method.route["GET /models"].api_key_required &&
      aws_api_gateway_method.route["POST /edit-image"].authorization == "COGNITO_USER_POOLS" &&
      aws_api_gateway_method.route["POST /edit-image"].api_key_required &&
      aws_api_gateway_method.route["POST /uploads"].authorization == "COGNITO_USER_POOLS" &&
      aws_api_gateway_method.route["POST /uploads"].api_key_required &&
      length(aws_api_gateway_method.route) == 29
    )
    error_message = "The other routes keep their API key and authorizer, and /v1 adds six methods to the twenty-three."
  }

  assert {
    condition = alltrue([
      for k, i in aws_api_gateway_integration.route :
      i.type == "AWS_PROXY" && i.integration_http_method == "POST" && i.uri == aws_lambda_function.this.invoke_arn &&
      i.resource_id == aws_api_gateway_method.route[k].resource_id
    ]) && length(aws_api_gateway_integration.route) == 29
    error_message = "Every method, /v1 included, must be a Lambda proxy integration on its own resource."
  }

  assert {
    condition = {
      for k, p in aws_lambda_permission.api : k => [p.statement_id, p.source_arn] if strcontains(k, "/v1/")
      } == {
      "POST /v1/images/generations"    = ["AllowApiGateway-POST-v1_images_generations", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/v1/images/generations"]
      "OPTIONS /v1/images/generations" = ["AllowApiGateway-OPTIONS-v1_images_generations", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/v1/images/generations"]
      "POST /v1/images/edits"          = ["AllowApiGateway-POST-v1_images_edits", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/v1/images/edits"]
      "OPTIONS /v1/images/edits"       = ["AllowApiGateway-OPTIONS-v1_images_edits", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/v1/images/edits"]
      "GET /v1/models"                 = ["AllowApiGateway-GET-v1_models", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/v1/models"]
      "OPTIONS /v1/models"             = ["AllowApiGateway-OPTIONS-v1_models", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/OPTIONS/v1/models"]
    }
    error_message = "API Gateway may invoke the function for each /v1 method on its full path, and only there."
  }

  assert {
    condition = (
      aws_lambda_permission.api["GET /generate-image"].statement_id == "AllowApiGateway-GET-generate-image" &&
      aws_lambda_permission.api["GET /generate-image"].source_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/generate-image"
    )
    error_message = "The single-level routes keep their statement ids and source ARNs."
  }

  assert {
    condition = jsondecode(aws_api_gateway_gateway_response.error["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"]).error.message == (
      "No route matches this method and path: the API serves GET and POST /generate-image, POST /edit-image, POST /uploads, GET /models, POST /jobs, GET /jobs/{id}, GET /images, GET /images/{id}, GET /health, GET /, GET /web/{file}, POST /v1/images/generations, POST /v1/images/edits and GET /v1/models."
    )
    error_message = "The no-route answer must list the /v1 routes once they are declared."
  }

  assert {
    condition     = output.openai_base_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/v1"
    error_message = "openai_base_url must be the stage's invoke URL followed by /v1."
  }
}

# The shipped config.lua: no bearer key required, none listed.
run "refused_when_the_policy_requires_no_key" {
  command = plan

  expect_failures = [aws_api_gateway_rest_api.this]
}

# Keys listed but not required: a caller without one would still pass, as an anonymous caller.
run "refused_when_keys_are_listed_but_not_required" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/optional-keys.manifest.json"
  }

  expect_failures = [aws_api_gateway_rest_api.this]
}

# A manifest written before package-lambda recorded the policy's api_keys cannot vouch for them.
run "refused_when_the_manifest_does_not_say" {
  command = plan

  variables {
    manifest_path = "tests/fixtures/before-api-keys.manifest.json"
  }

  expect_failures = [aws_api_gateway_rest_api.this]
}

run "declared_on_an_api_opened_on_purpose" {
  command = plan

  variables {
    allow_anonymous_access = true
  }

  assert {
    condition = (
      length(aws_api_gateway_method.route) == 29 &&
      alltrue([for k, m in aws_api_gateway_method.route : m.authorization == "NONE" && m.api_key_required == false]) &&
      length(aws_api_gateway_resource.route_depth3) == 2
    )
    error_message = "allow_anonymous_access declares the /v1 routes with the shipped config.lua, every route open."
  }
}
