# A deployment for several clients: one API key per client, a partner key on the policy's premium
# rate-limit tier, a per-key daily quota, an AWS WAF per-IP rate limit in front of the stage, one
# browser origin (API Gateway's own errors carry it too) and alarms to an SNS topic.
#
# A key's tier is the policy's (runtime/policy/config.lua, rate_limit.keys, by key id): after the
# first apply, `terraform output rate_limit_keys_lua` prints the lines to add there; rebuild the
# package and apply again (until then the plan warns).

terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = { Environment = "production" }
  }
}

variable "aws_region" {
  description = "Region of the stack (API, function, bucket, logs)."
  type        = string
  default     = "us-east-1"
}

variable "lambda_zip_path" {
  description = "The package; null: build/lambda.zip of this repository."
  type        = string
  default     = null
}

variable "manifest_path" {
  description = "The package's manifest; null: beside the zip."
  type        = string
  default     = null
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the alarms; null creates them without notifications."
  type        = string
  default     = null
}

module "imagegen" {
  source = "../.."

  name            = "imagegen"
  lambda_zip_path = var.lambda_zip_path
  manifest_path   = var.manifest_path

  api_keys = {
    web     = {}
    mobile  = {}
    partner = { tier = "premium" }
  }
  usage_plan_rate_limit   = 2
  usage_plan_burst_limit  = 5
  usage_plan_quota_limit  = 500
  usage_plan_quota_period = "DAY"

  # 100 requests per IP per 5 minutes, then 429 throttled_by_firewall.
  waf_rate_limit                = 100
  waf_rate_limit_window_seconds = 300

  cors_allow_origins = ["https://app.example.com"]

  # The tiers are one budget per key across every warm execution environment, counted in the jobs
  # table (the default with jobs, stated here: the plan then refuses jobs_enabled = false instead of
  # falling back to per-environment buckets). Image records keep the prompt's hash, not its text:
  # "text" would store users' prompts in DynamoDB.
  rate_limit_backend = "dynamodb"
  record_prompts     = "sha256"

  create_alarms       = true
  alarm_sns_topic_arn = var.alarm_sns_topic_arn
}

output "generate_image_url" {
  description = "Invoke URL of /generate-image."
  value       = module.imagegen.generate_image_url
}

output "api_key_ids" {
  description = "Id of each API key, by name: what config.lua's rate_limit.keys names."
  value       = module.imagegen.api_key_ids
}

output "api_key_values" {
  description = "Value of each API key, by name (terraform output -json api_key_values)."
  value       = module.imagegen.api_key_values
  sensitive   = true
}

output "rate_limit_keys_lua" {
  description = "Lines for rate_limit.keys in runtime/policy/config.lua."
  value       = module.imagegen.rate_limit_keys_lua
}

output "web_acl_arn" {
  description = "The web ACL in front of the stage."
  value       = module.imagegen.web_acl_arn
}
