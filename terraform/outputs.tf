# What a user needs after apply: the URL to call, where images land, what to look at when it fails.

output "generate_image_url" {
  description = "Invoke URL of /generate-image (GET with ?prompt=..., or POST with a JSON body)."
  value       = "${aws_api_gateway_stage.this.invoke_url}/generate-image"
}

output "api_base_url" {
  description = "Invoke URL of the API stage; /generate-image, /models and /health hang below it."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "bucket_name" {
  description = "Name of the S3 bucket holding generated images."
  value       = aws_s3_bucket.images.id
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_log_group" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "api_access_log_group" {
  description = "CloudWatch log group of the API's access logs."
  value       = aws_cloudwatch_log_group.api_access.name
}

output "rest_api_id" {
  description = "Id of the API Gateway REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "api_key_value" {
  description = "Value of the generated API key, to send as the x-api-key header; null unless create_api_key is true."
  value       = var.create_api_key ? aws_api_gateway_api_key.this[0].value : null
  sensitive   = true
}

output "bedrock_region" {
  description = "Region whose Bedrock endpoint the function calls (IMAGEGEN_BEDROCK_REGION): bedrock_region, or the one chosen from the allowed models."
  value       = local.bedrock_region
}
