# Pins Terraform and the AWS provider. The provider range spans both majors (5.100 and 6.x), so the
# module only uses arguments that exist in both: no aws_api_gateway_deployment.stage_name, no inline
# S3 bucket blocks, no reset_on_delete, and no data.aws_region (whose `name` is deprecated in 6.x;
# the region comes from var.aws_region instead).
terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Application = var.name }, var.tags)
  }
}

# The partition (aws, aws-cn, aws-us-gov) is computed locally by the provider, without an API call.
data "aws_partition" "current" {}
