# The smallest deployment of imagegen: the module with its defaults, closed (one API key with a usage
# plan and a daily quota), the stack in aws_region and Bedrock in the region that serves the allowed
# models (us-west-2 for the Stability models of the shipped policy). The package comes from
# scripts/package-lambda (build/lambda.zip and build/lambda.manifest.json of this repository).
#
#   cd terraform/examples/minimal
#   terraform init
#   terraform apply -var aws_region=us-east-1
#
# terraform/README.md ("Deploying") walks through a first deployment from here.

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
}

variable "aws_region" {
  description = "Region of the stack (API, function, bucket, logs)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the deployment (function name, prefix of the other names)."
  type        = string
  default     = "imagegen"
}

variable "bedrock_region" {
  description = "Region of the Bedrock endpoint; null lets the module pick the one that serves the allowed models."
  type        = string
  default     = null
}

variable "manage_api_gateway_account" {
  description = "Whether this stack sets the region's API Gateway CloudWatch Logs role (false when another stack already does)."
  type        = bool
  default     = true
}

module "imagegen" {
  source = "../.."

  name                       = var.name
  bedrock_region             = var.bedrock_region
  manage_api_gateway_account = var.manage_api_gateway_account
}

output "generate_image_url" {
  description = "Invoke URL of /generate-image."
  value       = module.imagegen.generate_image_url
}

output "api_key_value" {
  description = "Value of the default API key, for the x-api-key header."
  value       = module.imagegen.api_key_value
  sensitive   = true
}

output "bedrock_region" {
  description = "Region whose Bedrock endpoint the function calls."
  value       = module.imagegen.bedrock_region
}

output "allowed_models" {
  description = "The models the function serves and IAM grants."
  value       = module.imagegen.allowed_models
}
