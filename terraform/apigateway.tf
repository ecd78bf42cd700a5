# The REST API in front of the function. Every route is a Lambda proxy integration: the Lua policy
# inside the function does routing, validation, CORS preflight answers and error shapes, so API
# Gateway only adds who may call (access.tf: keys, usage plan, authorizers), throttling and logs, and
# answers its own errors in the API's error shape (gateway_responses.tf). New routes are one more
# entry in local.api_route_list; a path of up to three parts ("v1/images/generations") gets its
# parent resources ("v1", "v1/images") without routes of their own.

locals {
  # The routes, in the order the no-route answer names them: path => methods served besides OPTIONS,
  # and whether the route is protected (API key and authorizer, access.tf) unless
  # allow_anonymous_access opens the API.
  # /edit-image (an edit task on an inline or uploaded image) and /uploads (a presigned S3 POST for
  # an image too large to send inline) cost what /generate-image costs, and are locked like it.
  api_routes_generation = [
    { path = "generate-image", methods = ["GET", "POST"], protected = true },
    { path = "edit-image", methods = ["POST"], protected = true },
    { path = "uploads", methods = ["POST"], protected = true },
    { path = "models", methods = ["GET"], protected = true },
  ]
  # The routes the table serves, only with jobs_enabled (jobs.tf), all locked like /generate-image:
  # POST /jobs (the body of /generate-image, answered 202) and GET /jobs/{id} (its status and fresh
  # URLs; {id} is a path parameter) cost what /generate-image costs; GET /images (the caller's image
  # records, newest first, ?limit=&next=) and GET /images/{id} (one record and a fresh URL) show
  # what was generated, to the callers who may generate.
  api_routes_table = [
    { path = "jobs", methods = ["POST"], protected = true },
    { path = "jobs/{id}", methods = ["GET"], protected = true },
    { path = "images", methods = ["GET"], protected = true },
    { path = "images/{id}", methods = ["GET"], protected = true },
  ]
  api_routes_public = [
    { path = "health", methods = ["GET"], protected = false },
  ]
  # The web page (web_page): its HTML at the stage's root ("" is the REST API's root resource) and
  # its files at /web/{file}. Never protected: the page holds no data and asks for the API key
  # itself (kept in the browser's session storage), then calls the protected routes with it.
  api_routes_page = [
    { path = "", methods = ["GET"], protected = false },
    { path = "web/{file}", methods = ["GET"], protected = false },
  ]
  api_routes_base = concat(local.api_routes_generation, local.jobs_enabled ? local.api_routes_table : [], local.api_routes_public,
  var.web_page ? local.api_routes_page : [])
  # The OpenAI-compatible routes (openai_api). Never protected by API Gateway: OpenAI clients send
  # only "Authorization: Bearer KEY", which the policy checks against the hashes in config.lua
  # (api_keys); an x-api-key requirement would refuse them and an authorizer would read the same
  # header. The precondition on the REST API below declares them only when the policy requires keys.
  api_routes_openai = [
    { path = "v1/images/generations", methods = ["POST"], protected = false },
    { path = "v1/images/edits", methods = ["POST"], protected = false },
    { path = "v1/models", methods = ["GET"], protected = false },
  ]
  api_route_list = concat(local.api_routes_base, var.openai_api ? local.api_routes_openai : [])
  api_routes     = { for r in local.api_route_list : r.path => r }

  # Every resource the routes need, by its full path: a route's own and each of its parents.
  api_resource_paths = distinct(flatten([
    for path in keys(local.api_routes) : [
      for depth in range(1, length(split("/", path)) + 1) : join("/", slice(split("/", path), 0, depth))
    ] if path != "" # the root resource comes with the REST API
  ]))
  # By depth (index 0: one part), each with its parent's path: a resource's parent_id must name
  # another instance, which one for_each cannot, so each depth is its own resource block below.
  api_resources = [
    for depth in [1, 2, 3] : {
      for path in local.api_resource_paths : path => {
        parent    = join("/", slice(split("/", path), 0, depth - 1))
        path_part = element(split("/", path), depth - 1)
      } if length(split("/", path)) == depth
    }
  ]
  api_resource_ids = merge(
    { "" = aws_api_gateway_rest_api.this.root_resource_id },
    { for path, r in aws_api_gateway_resource.route : path => r.id },
    { for path, r in aws_api_gateway_resource.route_depth2 : path => r.id },
    { for path, r in aws_api_gateway_resource.route_depth3 : path => r.id },
  )

  # One entry per (method, path), OPTIONS included. Browsers send no x-api-key and no Authorization
  # on a CORS preflight, so OPTIONS is never protected.
  api_methods = merge([
    for path, route in local.api_routes : {
      for method in concat(route.methods, ["OPTIONS"]) : "${method} /${path}" => {
        path      = path
        method    = method
        protected = route.protected && method != "OPTIONS"
      }
    }
  ]...)

  # What the no-route answer says the API serves (gateway_responses.tf), as the local gateway says
  # it: "GET and POST /generate-image, GET /models and GET /health", OPTIONS left out.
  api_routes_served_items = [
    for r in local.api_route_list : format("%s /%s", length(r.methods) == 1 ? r.methods[0] : format("%s and %s", join(", ", slice(r.methods, 0, length(r.methods) - 1)), r.methods[length(r.methods) - 1]), r.path)
  ]
  api_routes_served = length(local.api_routes_served_items) == 1 ? local.api_routes_served_items[0] : format(
    "%s and %s", join(", ", slice(local.api_routes_served_items, 0, length(local.api_routes_served_items) - 1)),
    local.api_routes_served_items[length(local.api_routes_served_items) - 1]
  )

  # Content-Types whose request bodies reach the function base64-encoded (isBase64Encoded = true)
  # instead of as UTF-8 text. A Lambda proxy integration passes a body as text unless its
  # Content-Type matches one of the REST API's binaryMediaTypes ("Binary media types for REST APIs
  # in API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html);
  # as text, the image bytes of a multipart/form-data body (POST /v1/images/edits) would reach the
  # function with every byte that is not UTF-8 replaced. The entry names the media type: the
  # boundary parameter every form carries ("multipart/form-data; boundary=...") does not stop it
  # from matching, which is how multipart uploads through Lambda proxy integrations are usually set
  # up (francismeynard/lambda-multipart-parser#2), and how the local gateway matches (its default
  # is this same list). No route takes a raw image body (images come inline in JSON as base64, in a
  # form, or by upload key), so image/* is not listed.
  # What this changes for the JSON routes: nothing. Their bodies are application/json, which matches
  # no entry and still arrives as text; and on the way back API Gateway decodes an answer only when
  # the function marks it isBase64Encoded (and the client's Accept matches), which the function never
  # does: it answers JSON text. "*/*" would have turned every JSON body into base64 as well.
  api_binary_media_types = ["multipart/form-data"]

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

  binary_media_types = local.api_binary_media_types

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = local.tags

  # Closed by default: a configuration that would let anyone generate (and bill) images stops here,
  # unless allow_anonymous_access says so.
  lifecycle {
    precondition {
      condition     = var.allow_anonymous_access || local.api_key_required || local.authorizer_type != "NONE"
      error_message = "This configuration requires neither an API key nor a token on /generate-image, /edit-image, /uploads, /models, /jobs and /images, so anyone could generate billed images: keep at least one entry in api_keys (the default), set cognito_user_pool_arns or lambda_authorizer_function_arn, or set allow_anonymous_access = true to open the API on purpose."
    }

    precondition {
      condition     = !var.allow_anonymous_access || local.authorizer_requested == "NONE"
      error_message = "allow_anonymous_access = true opens the API, but an authorizer is configured (cognito_user_pool_arns or lambda_authorizer_function_arn): remove the authorizer, or leave allow_anonymous_access false."
    }

    precondition {
      condition     = length(var.cognito_user_pool_arns) == 0 || var.lambda_authorizer_function_arn == null
      error_message = "Set cognito_user_pool_arns or lambda_authorizer_function_arn, not both: a method has one authorizer."
    }

    # The /v1 routes have no API Gateway key or authorizer: the policy's bearer keys are their only
    # lock, so they are declared only when the package's config.lua requires one.
    precondition {
      condition     = !var.openai_api || var.allow_anonymous_access || local.policy_bearer_keys_enforced
      error_message = "openai_api = true serves POST /v1/images/generations, POST /v1/images/edits and GET /v1/models without an API Gateway key or authorizer (OpenAI clients send only Authorization: Bearer KEY), so only the policy's bearer keys protect them, and the package's config.lua does not require one (${local.policy_bearer_keys_required == null ? "its manifest does not say: rebuild the package with scripts/package-lambda" : "api_keys.required = ${local.policy_bearer_keys_required}, ${local.policy_bearer_keys_count} keys listed"}). Add the SHA-256 of each key to api_keys.keys in runtime/policy/config.lua (printf %s KEY | sha256sum), set api_keys.required = true, rebuild the package (scripts/package-lambda) and plan again; or set allow_anonymous_access = true to open the whole API on purpose."
    }

    precondition {
      condition     = alltrue([for path in keys(local.api_routes) : length(split("/", path)) <= 3])
      error_message = "A route path has more than three parts; apigateway.tf declares resources three levels deep (add an aws_api_gateway_resource block for the next depth)."
    }
  }
}

# The API's resources, one block per depth, each keyed by its full path ("v1/images").
resource "aws_api_gateway_resource" "route" {
  for_each = local.api_resources[0]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "route_depth2" {
  for_each = local.api_resources[1]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.route[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "route_depth3" {
  for_each = local.api_resources[2]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.route_depth2[each.value.parent].id
  path_part   = each.value.path_part
}

#tfsec:ignore:aws-api-gateway-no-public-access
resource "aws_api_gateway_method" "route" {
  #checkov:skip=CKV_AWS_59:OPTIONS (CORS preflight) and /health are open by design; /generate-image, /edit-image, /uploads, /models, /jobs and /images require an API key or a token unless allow_anonymous_access opens them; the /v1 routes (openai_api) are checked by the policy's bearer keys, which a precondition requires.
  #checkov:skip=CKV2_AWS_53:Requests are validated by the function's policy, which answers every error in the API's error shape.
  for_each = local.api_methods

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.api_resource_ids[each.value.path]
  http_method          = each.value.method
  authorization        = each.value.protected ? local.authorizer_type : "NONE"
  authorizer_id        = each.value.protected ? local.authorizer_id : null
  authorization_scopes = each.value.protected && local.authorizer_type == "COGNITO_USER_POOLS" && length(var.cognito_oauth_scopes) > 0 ? var.cognito_oauth_scopes : null
  api_key_required     = each.value.protected && local.api_key_required
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.api_methods

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = local.api_resource_ids[each.value.path]
  http_method = aws_api_gateway_method.route[each.key].http_method

  type = "AWS_PROXY"
  # Lambda is always invoked with POST, whatever the client's method.
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this.invoke_arn
  timeout_milliseconds    = 29000
}

# Lets API Gateway invoke the function for exactly these stage, method and path triples (the full
# path: .../prod/POST/v1/images/generations). A statement id takes no "/": "_" stands for it, and no
# braces. API Gateway names the request's own path in the source ARN (.../GET/jobs/3f2a...), so a
# path parameter is "*" there (aws/serverless-application-model#110: "{userId}" in the source ARN
# fails with "Invalid permissions on Lambda function"; "*" works).
resource "aws_lambda_permission" "api" {
  for_each = local.api_methods

  statement_id  = "AllowApiGateway-${each.value.method}-${each.value.path == "" ? "root" : replace(replace(each.value.path, "/", "_"), "/[{}]/", "")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${var.stage_name}/${each.value.method}/${replace(each.value.path, "/\\{[^}/]+\\}/", "*")}"
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Managed by Terraform."

  # A deployment is a snapshot: hashing the whole route configuration makes any edit redeploy. The
  # binary media types are a setting of the REST API, hashed too so that a change of them is
  # redeployed rather than left to whether the stage reads them live.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_rest_api.this.binary_media_types,
      aws_api_gateway_resource.route,
      aws_api_gateway_resource.route_depth2,
      aws_api_gateway_resource.route_depth3,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
      aws_api_gateway_gateway_response.error,
      aws_api_gateway_authorizer.this,
    ]))
  }

  # The stage moves to the new deployment before the old one is deleted.
  lifecycle {
    create_before_destroy = true
  }
}

# The account-wide CloudWatch Logs role API Gateway needs before any stage can log: without it the
# first apply fails with "CloudWatch Logs role ARN must be set in account settings". One per account
# and region, shared by every API there: the last stack to set it wins, and (with provider 5, pinned
# here) destroying this resource leaves the setting as it is, pointing at a role that no longer exists
# if this stack's role was the one set. Manage it from one stack per region (README, "Several stacks
# in one region").
resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

#tfsec:ignore:aws-api-gateway-enable-tracing
#tfsec:ignore:aws-api-gateway-enable-cache
resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_73:X-Ray tracing is optional (lambda_tracing_mode = "Active" turns it on for the stage too).
  #checkov:skip=CKV_AWS_120:Caching is off on purpose: every request is a new generation, and cached answers would carry expired URLs.
  #checkov:skip=CKV2_AWS_51:A public API for API-key or token clients; client certificates authenticate API Gateway to a backend, which Lambda proxy does not use.
  #checkov:skip=CKV2_AWS_29:A WAF web ACL is optional (waf_rate_limit or waf_web_acl_arn).

  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.lambda_tracing_mode == "Active"

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.api_access_log_format
  }

  tags = local.tags

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]
}

#tfsec:ignore:aws-api-gateway-enable-cache
#tfsec:ignore:aws-api-gateway-enable-cache-encryption
resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Caching is off on purpose: every request is a new generation.
  #checkov:skip=CKV_AWS_308:No cache, so nothing to encrypt.

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
