# The web page (web_page, on by default): GET / on the REST API's root resource and GET /web/{file},
# OPTIONS on each, Lambda proxy integrations with no API key or authorizer even when the API
# requires them, a permission per method on the root's own source ARN, and the page's URL with its
# trailing slash; web_page = false leaves all of it out.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/lambda.zip"
}

run "page_routes_open_on_a_closed_api" {
  command = apply

  assert {
    condition = (
      aws_api_gateway_method.route["GET /"].resource_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_integration.route["GET /"].resource_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_integration.route["GET /"].type == "AWS_PROXY" &&
      aws_api_gateway_resource.route["web"].parent_id == aws_api_gateway_rest_api.this.root_resource_id &&
      aws_api_gateway_resource.route_depth2["web/{file}"].path_part == "{file}" &&
      aws_api_gateway_method.route["GET /web/{file}"].resource_id == aws_api_gateway_resource.route_depth2["web/{file}"].id
    )
    error_message = "GET / must be a proxy integration on the REST API's root resource, and GET /web/{file} on /web/{file}."
  }

  assert {
    condition = alltrue([
      for k in ["GET /", "OPTIONS /", "GET /web/{file}", "OPTIONS /web/{file}"] :
      aws_api_gateway_method.route[k].api_key_required == false && aws_api_gateway_method.route[k].authorization == "NONE"
    ]) && aws_api_gateway_method.route["POST /generate-image"].api_key_required
    error_message = "The page's routes need no key while /generate-image does."
  }

  assert {
    condition = (
      aws_lambda_permission.api["GET /"].statement_id == "AllowApiGateway-GET-root" &&
      aws_lambda_permission.api["GET /"].source_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/" &&
      aws_lambda_permission.api["GET /web/{file}"].statement_id == "AllowApiGateway-GET-web_file" &&
      aws_lambda_permission.api["GET /web/{file}"].source_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/web/*"
    )
    error_message = "API Gateway may invoke the function for GET on the stage's root and on /web/*, each under its own statement."
  }

  assert {
    condition     = output.web_page_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/"
    error_message = "web_page_url must be the stage's invoke URL with its trailing slash."
  }
}

run "web_page_off" {
  command = apply

  variables {
    web_page = false
  }

  assert {
    condition = (
      length([for k in keys(aws_api_gateway_method.route) : k if k == "GET /" || k == "OPTIONS /" || strcontains(k, "/web")]) == 0 &&
      !contains(keys(aws_api_gateway_resource.route), "web") && output.web_page_url == null &&
      !strcontains(jsondecode(aws_api_gateway_gateway_response.error["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"]).error.message, "/web/")
    )
    error_message = "Without web_page neither / nor /web/{file} is declared, named in the no-route answer, or given a URL."
  }
}
