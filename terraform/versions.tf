# Pins Terraform and the AWS provider, and reads the two facts every file needs from the provider.
#
# The module has no provider block: the root that calls it configures the provider (region,
# credentials, default tags), as examples/ shows. That is what lets a caller use it with count,
# for_each or a provider alias, and lets `terraform test` mock the provider in examples/ too.
#
# The provider is pinned to the major version this module is tested with (5.x, at least 5.100):
# `tests/terraform/run` validates, plans and tests it against hashicorp/aws 5.100.0. The module
# avoids what 6.x removed (aws_api_gateway_deployment.stage_name, reset_on_delete, the inline S3
# bucket blocks), so moving to 6.x means widening this pin and testing against a 6.x plugin; until
# then a 6.x provider is refused at init. .terraform.lock.hcl records the tested build.
terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

# The partition (aws, aws-cn, aws-us-gov) and the region of the caller's provider, both computed by
# the provider locally, without an API call.
data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # The region of the stack: API, function, bucket and logs. Bedrock may be called elsewhere (bedrock.tf).
  region = data.aws_region.current.name

  # Added to every resource that takes tags (a root may add more with the provider's default_tags).
  tags = merge({ Application = var.name }, var.tags)
}
