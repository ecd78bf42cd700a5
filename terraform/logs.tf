# Log groups owned by Terraform, each with a retention. Left to themselves, Lambda and API Gateway
# create these groups on first use with no retention (logs kept and billed forever), and a later
# apply then fails because the group already exists. Policy-as-code rules that ask for a customer KMS
# key or a year of retention are skipped with the reason: the function does not log prompts unless
# log_prompts is on, CloudWatch Logs encrypts at rest with its own key, and retention is the operator's
# choice (log_retention_days).

#tfsec:ignore:aws-cloudwatch-log-group-customer-key
resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its service key; these logs hold no prompt unless log_prompts is on.
  #checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, 30 days by default), not a year by policy.

  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

#tfsec:ignore:aws-cloudwatch-log-group-customer-key
resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its service key; these logs hold no prompt unless log_prompts is on.
  #checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, 30 days by default), not a year by policy.

  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# API Gateway writes execution logs to this fixed name; creating it first gives it a retention.
#tfsec:ignore:aws-cloudwatch-log-group-customer-key
resource "aws_cloudwatch_log_group" "api_execution" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its service key; these logs hold no prompt unless log_prompts is on.
  #checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, 30 days by default), not a year by policy.

  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}
