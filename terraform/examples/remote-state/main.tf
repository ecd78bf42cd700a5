# The minimal deployment with its state in S3, as a team shares it: the state (which holds the API
# key values, see terraform/README.md "Secrets in the state") in a versioned, encrypted bucket,
# locked while a plan or apply runs with S3's own lock file (use_lockfile, Terraform 1.10 and later;
# older versions use a DynamoDB table, dynamodb_table = "<table>", instead).
#
# The bucket is created once, outside this configuration (a state bucket cannot hold its own
# creation's state):
#   aws s3api create-bucket --bucket <state bucket> --region us-east-1
#   aws s3api put-bucket-versioning --bucket <state bucket> --versioning-configuration Status=Enabled
# then:
#   terraform init -backend-config="bucket=<state bucket>"
#   terraform apply

terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # bucket comes from -backend-config at init (a backend block takes no variables).
  backend "s3" {
    key          = "imagegen/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
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

module "imagegen" {
  source = "../.."
}

output "generate_image_url" {
  description = "Invoke URL of /generate-image."
  value       = module.imagegen.generate_image_url
}

output "api_key_value" {
  description = "Value of the default API key."
  value       = module.imagegen.api_key_value
  sensitive   = true
}
