# Log groups owned by Terraform, each with a retention. Left to themselves, Lambda and API Gateway
# create these groups on first use with no retention (logs kept and billed forever), and a later
# apply then fails because the group already exists.

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
}

# API Gateway writes execution logs to this fixed name; creating it first gives it a retention.
resource "aws_cloudwatch_log_group" "api_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
}
