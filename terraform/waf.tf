# Optional AWS WAF in front of the stage: either a web ACL of the module's own with one rate-based rule
# (waf_rate_limit requests per client IP per window, then blocked: answered 429 throttled_by_firewall,
# gateway_responses.tf), or an organisation's existing web ACL (waf_web_acl_arn). The per-IP limit
# holds across every execution environment, unlike the policy's per-container token buckets.

#tfsec:ignore:aws-waf-enable-logging
resource "aws_wafv2_web_acl" "this" {
  #checkov:skip=CKV2_AWS_31:WAF logging needs a Firehose stream or log group named aws-waf-logs-*, which organisations keep centrally; the rule's CloudWatch metrics are on.
  #checkov:skip=CKV_AWS_192:The Log4j managed rule protects Java applications; the function is C and Lua.
  count = var.waf_rate_limit == null ? 0 : 1

  name        = "${var.name}-rate-limit"
  description = "Per-IP rate limit of the ${var.name} image generation API."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "per-ip-rate-limit"
    priority = 1

    # A plain block: API Gateway then answers with its WAF_FILTERED gateway response, in the API's
    # error shape (a WAF custom response would take precedence and could not carry the request id).
    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_rate_limit
        evaluation_window_sec = var.waf_rate_limit_window_seconds
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-per-ip-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-web-acl"
    sampled_requests_enabled   = true
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.waf_web_acl_arn == null
      error_message = "Set waf_rate_limit (a web ACL of this module) or waf_web_acl_arn (an existing one), not both: a stage has one web ACL."
    }
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_rate_limit != null || var.waf_web_acl_arn != null ? 1 : 0

  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = var.waf_rate_limit != null ? aws_wafv2_web_acl.this[0].arn : var.waf_web_acl_arn
}
