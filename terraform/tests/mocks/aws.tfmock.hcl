# Values the mocked AWS provider returns for computed attributes. Random strings would fail the
# provider's ARN checks on arguments built from them, and fixed values make assertions exact.

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    id  = "imagegen-images-20260101000000000000000001"
    arn = "arn:aws:s3:::imagegen-images-20260101000000000000000001"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    id   = "imagegen-role-20260101000000000000000001"
    name = "imagegen-role-20260101000000000000000001"
    arn  = "arn:aws:iam::123456789012:role/imagegen-role-20260101000000000000000001"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:mocked"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:imagegen"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:imagegen/invocations"
  }
}

mock_resource "aws_api_gateway_rest_api" {
  defaults = {
    id               = "a1b2c3d4e5"
    root_resource_id = "r00tr00t01"
    execution_arn    = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
  }
}

mock_resource "aws_api_gateway_stage" {
  defaults = {
    arn           = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    execution_arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod"
    invoke_url    = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
  }
}

mock_resource "aws_api_gateway_api_key" {
  defaults = {
    id    = "k3yk3yk3y1"
    value = "mocked-api-key-value-0123456789abcdef"
  }
}

# The provider's region: us-east-1 unless a run overrides data.aws_region.current.
mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
    id   = "us-east-1"
  }
}

mock_data "aws_servicequotas_service_quota" {
  defaults = {
    value = 1000
  }
}

mock_resource "aws_api_gateway_authorizer" {
  defaults = {
    id  = "auth01"
    arn = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/authorizers/auth01"
  }
}

mock_resource "aws_api_gateway_usage_plan" {
  defaults = {
    id = "plan01"
  }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = {
    id  = "0f1e2d3c-0000-4000-8000-000000000001"
    arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/imagegen-rate-limit/0f1e2d3c-0000-4000-8000-000000000001"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    id  = "imagegen"
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/imagegen"
  }
}
