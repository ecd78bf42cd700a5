# Optional alarms on the three signals that say users are being failed: the API answering 5XX,
# Lambda throttling the function, and invocations running close to the timeout (next stop: 504).

locals {
  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.alarm_5xx_rate_percent}% of ${var.name} API requests answered 5XX over 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.alarm_5xx_rate_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5XX rate (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5XXError"
      period      = 300
      stat        = "Sum"
      dimensions = {
        ApiName = aws_api_gateway_rest_api.this.name
        Stage   = aws_api_gateway_stage.this.stage_name
      }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      period      = 300
      stat        = "Sum"
      dimensions = {
        ApiName = aws_api_gateway_rest_api.this.name
        Stage   = aws_api_gateway_stage.this.stage_name
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-lambda-throttles"
  alarm_description   = "Lambda throttled the ${var.name} function (concurrency limit reached) in the last 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_duration" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-lambda-duration-near-timeout"
  alarm_description   = "An invocation of ${var.name} ran longer than ${var.alarm_duration_percent}% of its ${local.lambda_timeout_seconds} s timeout in the last 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  # Duration is reported in milliseconds.
  threshold          = local.lambda_timeout_seconds * 1000 * var.alarm_duration_percent / 100
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
  tags               = local.tags
}
