# Who may call /generate-image, /edit-image, /uploads, /models, /jobs and /images. Closed by default: one API key
# ("default") attached to a usage plan with a per-key rate, burst and daily quota. Teams with an identity provider add a Cognito
# user pool or a Lambda (JWT) authorizer; allow_anonymous_access is the one switch that opens the API,
# and apigateway.tf refuses a configuration that would require nothing without it. /health and CORS
# preflights stay open.
#
# API key ids and tiers: the policy's rate-limit tiers map an API key *id* (API Gateway's
# identity.apiKeyId) to a tier (config.lua, rate_limit.keys). The id exists only once the key does, so
# the module outputs every key's id (api_key_ids) and the config.lua lines for the tiers given in
# api_keys (rate_limit_keys_lua), and the check below warns until the package's config.lua carries them.

locals {
  api_keys         = var.allow_anonymous_access ? {} : var.api_keys
  api_key_required = length(local.api_keys) > 0

  # The authorizer asked for, and the one in force (none when the API is opened).
  authorizer_requested = (
    length(var.cognito_user_pool_arns) > 0 ? "COGNITO_USER_POOLS" :
    var.lambda_authorizer_function_arn != null ? "CUSTOM" : "NONE"
  )
  authorizer_type = var.allow_anonymous_access ? "NONE" : local.authorizer_requested
  authorizer_id   = local.authorizer_type == "NONE" ? null : aws_api_gateway_authorizer.this[0].id

  # Key name -> id, and the rate-limit lines config.lua needs for the keys given a tier.
  api_key_ids = { for k, key in aws_api_gateway_api_key.this : k => key.id }
  tiered_keys = { for k, v in local.api_keys : k => v.tier if v.tier != null }
  rate_limit_keys_lua = join("\n", [
    for k in sort(keys(local.tiered_keys)) : "[\"${local.api_key_ids[k]}\"] = \"${local.tiered_keys[k]}\", -- ${k}"
  ])
  unknown_tiers = [for k, tier in local.tiered_keys : "${k} (${tier})" if !contains(local.policy_tiers, tier)]
  # Keys whose tier the package's config.lua does not give yet (known once the keys exist).
  keys_missing_tier = [for k, tier in local.tiered_keys : k if lookup(local.policy_tier_keys, local.api_key_ids[k], "") != tier]
}

resource "aws_api_gateway_api_key" "this" {
  for_each = local.api_keys

  name        = "${var.name}-${each.key}"
  description = "API key \"${each.key}\" of the ${var.name} image generation API."
  enabled     = each.value.enabled
  tags        = local.tags

  lifecycle {
    precondition {
      condition     = !local.manifest_ok || length(local.unknown_tiers) == 0
      error_message = "api_keys names tiers the policy does not define: ${join(", ", local.unknown_tiers)}. The package's config.lua defines: ${join(", ", local.policy_tiers)} (rate_limit.tiers)."
    }
  }
}

resource "aws_api_gateway_usage_plan" "this" {
  count = local.api_key_required ? 1 : 0

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

  tags = local.tags
}

resource "aws_api_gateway_usage_plan_key" "this" {
  for_each = local.api_keys

  key_id        = aws_api_gateway_api_key.this[each.key].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this[0].id
}

# Warns (the plan goes on) while config.lua does not map the keys' ids to the tiers asked for.
check "api_key_tiers_in_policy" {
  assert {
    condition     = length(local.keys_missing_tier) == 0
    error_message = "The package's config.lua does not give these API keys the tier api_keys asks for: ${join(", ", local.keys_missing_tier)}. Add these lines to rate_limit.keys in runtime/policy/config.lua, rebuild the package and apply again:\n${local.rate_limit_keys_lua}"
  }
}

# ---------------------------------------------------------------------------------------------------
# Authorizers (optional)
# ---------------------------------------------------------------------------------------------------

resource "aws_api_gateway_authorizer" "this" {
  count = local.authorizer_type == "NONE" ? 0 : 1

  name                             = "${var.name}-${local.authorizer_type == "CUSTOM" ? "jwt" : "cognito"}"
  rest_api_id                      = aws_api_gateway_rest_api.this.id
  type                             = local.authorizer_type == "CUSTOM" ? "TOKEN" : "COGNITO_USER_POOLS"
  provider_arns                    = local.authorizer_type == "COGNITO_USER_POOLS" ? var.cognito_user_pool_arns : null
  authorizer_uri                   = local.authorizer_type == "CUSTOM" ? "arn:${data.aws_partition.current.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${var.lambda_authorizer_function_arn}/invocations" : null
  identity_source                  = "method.request.header.Authorization"
  authorizer_result_ttl_in_seconds = var.authorizer_cache_ttl_seconds
}

# Lets this API (and only it) invoke the team's authorizer function.
resource "aws_lambda_permission" "authorizer" {
  count = local.authorizer_type == "CUSTOM" ? 1 : 0

  statement_id  = "AllowApiGatewayAuthorizer-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_authorizer_function_arn
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/authorizers/${aws_api_gateway_authorizer.this[0].id}"
}
