# The REST API in front of the function. Every route is a Lambda proxy integration: the Lua policy
# inside the function does routing, validation, CORS preflight answers and error shapes, so API
# Gateway only adds keys, throttling and logs. New routes are one more entry in local.api_routes.

locals {
  # path part => methods served besides OPTIONS, and whether an API key is required when keys are on.
  api_routes = {
    "generate-image" = { methods = ["GET", "POST"], api_key = true }
    "models"         = { methods = ["GET"], api_key = true }
    "health"         = { methods = ["GET"], api_key = false }
  }

  # One entry per (method, path), OPTIONS included. Browsers send no x-api-key on a CORS preflight,
  # so OPTIONS never requires a key.
  api_methods = merge([
    for path, route in local.api_routes : {
      for method in concat(route.methods, ["OPTIONS"]) : "${method} /${path}" => {
        path             = path
        method           = method
        api_key_required = var.create_api_key && route.api_key && method != "OPTIONS"
      }
    }
  ]...)

  # A gateway response carries one static origin, so API Gateway's own errors get CORS headers only
  # when exactly one origin (or "*") is allowed.
  api_cors_origin = length(var.cors_allow_origins) == 1 ? var.cors_allow_origins[0] : ""
  api_cors_headers = {
    "gatewayresponse.header.Access-Control-Allow-Origin"  = "'${local.api_cors_origin}'"
    "gatewayresponse.header.Access-Control-Allow-Headers" = "'Content-Type,X-Api-Key,Authorization'"
    "gatewayresponse.header.Access-Control-Allow-Methods" = "'GET,POST,OPTIONS'"
  }

  # One JSON object per request in the access log; no query string or body: they carry prompts.
  api_access_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTimeEpoch"
    ip                 = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    apiKeyId           = "$context.identity.apiKeyId"
    httpMethod         = "$context.httpMethod"
    resourcePath       = "$context.resourcePath"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationStatus  = "$context.integration.status"
    integrationLatency = "$context.integration.latency"
    errorMessage       = "$context.error.message"
    errorType          = "$context.error.responseType"
  })
}

resource "aws_api_gateway_rest_api" "this" {
  name           = var.name
  description    = "imagegen image generation API."
  api_key_source = "HEADER"

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_resource" "route" {
  for_each = local.api_routes

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.key
}

resource "aws_api_gateway_method" "route" {
  for_each = local.api_methods

  rest_api_id      = aws_api_gateway_rest_api.this.id
  resource_id      = aws_api_gateway_resource.route[each.value.path].id
  http_method      = each.value.method
  authorization    = "NONE"
  api_key_required = each.value.api_key_required
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.api_methods

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_resource.route[each.value.path].id
  http_method = aws_api_gateway_method.route[each.key].http_method

  type = "AWS_PROXY"
  # Lambda is always invoked with POST, whatever the client's method.
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this.invoke_arn
  timeout_milliseconds    = 29000
}

# Lets API Gateway invoke the function for exactly these stage, method and path triples.
resource "aws_lambda_permission" "api" {
  for_each = local.api_methods

  statement_id  = "AllowApiGateway-${each.value.method}-${each.value.path}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${var.stage_name}/${each.value.method}/${each.value.path}"
}

# API Gateway's own errors (missing key 403, throttling 429, integration failures 5XX) carry the CORS
# headers too, so a browser can read them.
resource "aws_api_gateway_gateway_response" "cors" {
  for_each = local.api_cors_origin == "" ? toset([]) : toset(["DEFAULT_4XX", "DEFAULT_5XX"])

  rest_api_id         = aws_api_gateway_rest_api.this.id
  response_type       = each.key
  response_parameters = local.api_cors_headers
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Managed by Terraform."

  # A deployment is a snapshot: hashing the whole route configuration makes any edit redeploy.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.route,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
      aws_api_gateway_gateway_response.cors,
    ]))
  }

  # The stage moves to the new deployment before the old one is deleted.
  lifecycle {
    create_before_destroy = true
  }
}

# The account-wide CloudWatch Logs role API Gateway needs before any stage can log. Region-wide: with
# provider 6.x, destroying it resets the account setting, so only one stack should manage it.
resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.lambda_tracing_mode == "Active"

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.api_access_log_format
  }

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]
}

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.api_logging_level
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }
}

# ---------------------------------------------------------------------------------------------------
# API key and usage plan (only with create_api_key)
# ---------------------------------------------------------------------------------------------------

resource "aws_api_gateway_api_key" "this" {
  count = var.create_api_key ? 1 : 0

  name        = "${var.name}-default"
  description = "API key of the ${var.name} image generation API."
  enabled     = true
}

resource "aws_api_gateway_usage_plan" "this" {
  count = var.create_api_key ? 1 : 0

  name        = "${var.name}-default"
  description = "Per-key rate, burst and quota of the ${var.name} image generation API."

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = var.usage_plan_rate_limit
    burst_limit = var.usage_plan_burst_limit
  }

  quota_settings {
    limit  = var.usage_plan_quota_limit
    period = var.usage_plan_quota_period
  }
}

resource "aws_api_gateway_usage_plan_key" "this" {
  count = var.create_api_key ? 1 : 0

  key_id        = aws_api_gateway_api_key.this[0].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this[0].id
}
