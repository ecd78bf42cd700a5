# What a user needs after apply: the URL to call, the keys to call it with, where images land, what the
# function runs with, what to look at when it fails. Secrets (the key values) are sensitive: terraform
# shows them only when asked by name (terraform output -json api_key_values); the state holds them in
# clear text, as it holds every attribute (README, "Secrets in the state").

output "generate_image_url" {
  description = "Invoke URL of /generate-image (GET with ?prompt=..., or POST with a JSON body)."
  value       = "${aws_api_gateway_stage.this.invoke_url}/generate-image"
}

output "edit_image_url" {
  description = "Invoke URL of /edit-image (POST with a JSON body naming a task and its image: inline base64, or the key of an upload)."
  value       = "${aws_api_gateway_stage.this.invoke_url}/edit-image"
}

output "uploads_url" {
  description = "Invoke URL of /uploads (POST): answers a presigned S3 POST (URL and form fields) for one image, uploaded under uploads_prefix and deleted a day later."
  value       = "${aws_api_gateway_stage.this.invoke_url}/uploads"
}

output "jobs_url" {
  description = "Invoke URL of /jobs (POST with the body of /generate-image: answers 202 with the job's id and its statusUrl, /jobs/{id}, to poll with GET); null without jobs_enabled."
  value       = local.jobs_enabled ? "${aws_api_gateway_stage.this.invoke_url}/jobs" : null
}

output "images_url" {
  description = "Invoke URL of /images (GET: the caller's image records, newest first, ?limit=&next=; /images/{id} answers one record and a fresh URL); null without jobs_enabled."
  value       = local.jobs_enabled ? "${aws_api_gateway_stage.this.invoke_url}/images" : null
}

output "web_page_url" {
  description = "The web page (the playground and the gallery): the stage's invoke URL with its trailing slash, which the page's relative URLs need; null without web_page."
  value       = var.web_page ? "${aws_api_gateway_stage.this.invoke_url}/" : null
}

output "table_name" {
  description = "Name of the DynamoDB table of jobs and image records (IMAGEGEN_TABLE); null without jobs_enabled."
  value       = one(aws_dynamodb_table.this[*].name)
}

output "api_base_url" {
  description = "Invoke URL of the API stage; /generate-image, /edit-image, /uploads, /models and /health hang below it, /jobs and /images with jobs_enabled, and /v1 with openai_api."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "openai_base_url" {
  description = "The base URL an OpenAI client or chat front end is given (the stage's invoke URL followed by /v1), with a bearer key of config.lua's api_keys; null without openai_api."
  value       = var.openai_api ? "${aws_api_gateway_stage.this.invoke_url}/v1" : null
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

output "api_key_ids" {
  description = "Id of each API key, by its name in api_keys: what the policy's rate_limit.keys (config.lua) and the access log's apiKeyId name. Not secret."
  value       = local.api_key_ids
}

output "api_key_values" {
  description = "Value of each API key, by its name in api_keys, to send as the x-api-key header. Sensitive: read with terraform output -json api_key_values."
  value       = { for k, key in aws_api_gateway_api_key.this : k => key.value }
  sensitive   = true
}

output "api_key_value" {
  description = "Value of the key named default (else of the first key by name), for a quick test: curl -H \"x-api-key: $(terraform output -raw api_key_value)\" ...; null when no key is created."
  value = length(aws_api_gateway_api_key.this) == 0 ? null : (
    contains(keys(aws_api_gateway_api_key.this), "default") ? aws_api_gateway_api_key.this["default"].value :
    aws_api_gateway_api_key.this[sort(keys(aws_api_gateway_api_key.this))[0]].value
  )
  sensitive = true
}

output "rate_limit_keys_lua" {
  description = "The lines to put in rate_limit.keys of runtime/policy/config.lua so that the keys given a tier in api_keys get it (the policy names keys by id); empty when no key has a tier."
  value       = local.rate_limit_keys_lua
}

output "allowed_models" {
  description = "The models the function serves and IAM grants: allowed_models, or the policy's config.lua (from the package manifest)."
  value       = local.allowed_models
}

output "edit_models" {
  description = "The Bedrock model ids of the policy's edit tasks (from the package manifest), which IAM grants and the Bedrock region serves alongside allowed_models; empty for a package that records none."
  value       = local.edit_models
}

output "uploads_prefix" {
  description = "The S3 key prefix uploads go under: the function may put and get objects there only, and the bucket deletes them a day after upload."
  value       = local.uploads_prefix
}

output "default_model" {
  description = "The model used when a request names none: default_model, or the policy's choice."
  value       = local.default_model
}

output "image_prefix" {
  description = "The S3 key prefix the function may write under and the lifecycle rule expires: image_prefix, or the literal start of the policy's storage.key_prefix."
  value       = local.image_prefix
}

output "rate_limit_backend" {
  description = "Where the function counts the policy's rate limits (IMAGEGEN_RATE_LIMIT_BACKEND): \"dynamodb\", one budget per client shared by every execution environment through the table, or \"memory\", per execution environment."
  value       = local.rate_limit_backend
}

output "web_acl_arn" {
  description = "ARN of the AWS WAF web ACL associated with the stage (the module's own or waf_web_acl_arn); null without WAF."
  value       = try(aws_wafv2_web_acl_association.this[0].web_acl_arn, null)
}

output "bedrock_region" {
  description = "Region whose Bedrock endpoint the function calls (IMAGEGEN_BEDROCK_REGION): bedrock_region, or the one chosen from the allowed models."
  value       = local.bedrock_region
}
