# API Gateway's own errors, in the API's error shape. Whatever API Gateway refuses before the function
# runs (a missing or wrong key, an unknown route, throttling, a quota, a too large request, a token an
# authorizer rejects, a WAF block) or cannot get from it (timeout, failure) would otherwise answer in
# API Gateway's shape, {"message": "Forbidden"}. Each response below answers
#   {"error": {"code": "<code>", "message": "<sentence>", "requestId": "<API Gateway's request id>"}}
# with the CORS headers of the allowed origin, as the function's own errors do. The local gateway
# (runtime/local) answers the same codes; terraform/README.md lists every status a client can see.

locals {
  # response type => status (null keeps API Gateway's own status for the type), code, message.
  gateway_errors = merge(
    {
      # A missing or wrong x-api-key (INVALID_API_KEY), or a request an authorizer denies (ACCESS_DENIED).
      INVALID_API_KEY = { status = 403, code = "forbidden", message = "A valid API key is required: send it in the x-api-key header." }
      ACCESS_DENIED   = { status = 403, code = "forbidden", message = "The credentials of this request do not allow this call." }
      # REST APIs answer an unknown path or method this way, not with 404. The message names the
      # routes declared (apigateway.tf): "GET and POST /generate-image, POST /edit-image, POST
      # /uploads, GET /models and GET /health", and the /v1 routes with openai_api.
      MISSING_AUTHENTICATION_TOKEN = { status = 403, code = "missing_authentication_token", message = "No route matches this method and path: the API serves ${local.api_routes_served}." }
      RESOURCE_NOT_FOUND           = { status = 404, code = "not_found", message = "No route matches this method and path: the API serves ${local.api_routes_served}." }
      # The stage's or the usage plan's per-key throttle, and the usage plan's quota.
      THROTTLED      = { status = 429, code = "throttled_by_gateway", message = "Too many requests: the API's request rate limit was exceeded; retry after a short wait." }
      QUOTA_EXCEEDED = { status = 429, code = "quota_exceeded", message = "This API key has used its request quota for the current period; it is renewed at the start of the next one." }
      # A body over API Gateway's 10 MB ("Amazon API Gateway quotas", payload size, not adjustable:
      # https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). An image sent
      # inline travels base64-encoded, in JSON or in a form (binary media type), a third larger than
      # the file, and the whole proxy event must also fit Lambda's 6 MB synchronous invocation
      # payload ("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
      # the message sends large images the upload way. A body between the two limits passes API
      # Gateway and is refused by Lambda before the function runs (the Invoke API's
      # RequestEntityTooLargeException, "Request must be smaller than 6291456 bytes"). AWS does not
      # document which gateway response type API Gateway then uses; what is observed on a REST API
      # with a Lambda proxy integration is a 413 with API Gateway's own body, {"message": "Request
      # Too Long"}, and x-amzn-ErrorType BadRequestException (koki-develop/lgtm-generator#10), not
      # this template. Clients tell both cases by the status, 413; terraform/README.md says so.
      REQUEST_TOO_LARGE = { status = 413, code = "payload_too_large", message = "The request is larger than the API accepts (10 MB at API Gateway, about 6 MB at the function, where an inline image counts a third more as base64): upload large images with POST /uploads and edit them by their key." }
      # API Gateway answers this one "if strict passthrough behavior is enabled" ("Gateway response
      # types", https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
      # a setting of non-proxy integrations: not expected here; if it comes, it says what the API takes.
      UNSUPPORTED_MEDIA_TYPE = { status = 415, code = "unsupported_media_type", message = "API Gateway does not accept this Content-Type: send JSON (application/json), or a form (multipart/form-data) to POST /v1/images/edits." }
      # The function did not answer in API Gateway's 29 s, or failed without an answer.
      INTEGRATION_TIMEOUT = { status = 504, code = "gateway_timeout", message = "The image generation did not answer in time; retry, or ask for fewer images." }
      INTEGRATION_FAILURE = { status = 502, code = "bad_gateway", message = "The image generation function failed without an answer; retry, and report the requestId if it persists." }
      # Every other type: API Gateway's status, in our shape.
      DEFAULT_4XX = { status = null, code = "bad_request", message = "API Gateway refused the request before it reached the API." }
      DEFAULT_5XX = { status = null, code = "bad_gateway", message = "API Gateway could not get an answer from the image generation function; retry, and report the requestId if it persists." }
    },
    local.authorizer_type == "NONE" ? {} : {
      UNAUTHORIZED                   = { status = 401, code = "unauthorized", message = "A valid bearer token is required: send it in the Authorization header." }
      AUTHORIZER_FAILURE             = { status = 500, code = "authorizer_error", message = "The API's authorizer failed to check the token; retry, and report the requestId if it persists." }
      AUTHORIZER_CONFIGURATION_ERROR = { status = 500, code = "authorizer_error", message = "The API's authorizer failed to check the token; retry, and report the requestId if it persists." }
    },
    # The module's own web ACL has one rule, the per-IP rate: its blocks are rate limits. An
    # organisation's web ACL blocks for its own reasons.
    var.waf_rate_limit != null ? {
      WAF_FILTERED = { status = 429, code = "throttled_by_firewall", message = "Too many requests from this address: the firewall's rate limit was exceeded; retry in a few minutes." }
    } : {},
    var.waf_web_acl_arn != null ? {
      WAF_FILTERED = { status = 403, code = "blocked_by_firewall", message = "The firewall blocked this request." }
    } : {},
  )

  # A gateway response carries one static origin, so API Gateway's own errors get the CORS headers
  # only when exactly one origin (or "*") is allowed, by cors_allow_origins or by the policy.
  gateway_cors_origin = length(local.cors_origins) == 1 ? local.cors_origins[0] : ""
  gateway_cors_headers = local.gateway_cors_origin == "" ? {} : {
    "gatewayresponse.header.Access-Control-Allow-Origin"  = "'${local.gateway_cors_origin}'"
    "gatewayresponse.header.Access-Control-Allow-Headers" = "'Content-Type,X-Api-Key,Authorization'"
    "gatewayresponse.header.Access-Control-Allow-Methods" = "'GET,POST,OPTIONS'"
  }
}

resource "aws_api_gateway_gateway_response" "error" {
  for_each = local.gateway_errors

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  status_code   = each.value.status == null ? null : tostring(each.value.status)

  # $context.requestId is substituted by API Gateway inside the JSON string.
  response_templates = {
    "application/json" = jsonencode({
      error = {
        code      = each.value.code
        message   = each.value.message
        requestId = "$context.requestId"
      }
    })
  }

  response_parameters = merge(
    local.gateway_cors_headers,
    each.key == "THROTTLED" ? { "gatewayresponse.header.Retry-After" = "'1'" } : {},
  )
}
