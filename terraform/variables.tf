# Every input of the module, with its type and the checks that turn a bad value into a plan-time
# error naming the allowed values, rather than an API error halfway through an apply.

# ---------------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region to deploy the stack into (API, function, bucket, logs). Bedrock may be called in another one: see bedrock_region."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1 or eu-west-2."
  }
}

variable "name" {
  description = "Name of the deployment: the Lambda function name, and the prefix of the bucket, role, API and alarm names."
  type        = string
  default     = "imagegen"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.name))
    error_message = "name must be 2 to 24 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen (it prefixes the S3 bucket name)."
  }
}

variable "tags" {
  description = "Tags added to every resource (through the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------
# Lambda function
# ---------------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the deployment package built by scripts/package-lambda, relative to the directory where terraform runs. It must exist at plan time."
  type        = string
  default     = "../build/lambda.zip"

  validation {
    condition     = can(regex("\\.zip$", var.lambda_zip_path)) && fileexists(var.lambda_zip_path)
    error_message = "lambda_zip_path must name an existing .zip file: build it first with scripts/package-lambda (it writes build/lambda.zip)."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function; it must match the bootstrap binary inside the package (x86_64 or arm64)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the function in MB (CPU share grows with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Function timeout in seconds. At most 29: API Gateway's REST integration gives up after 29 s, so a longer timeout would only keep running after the client got a 504."
  type        = number
  default     = 28

  validation {
    condition     = var.lambda_timeout_seconds >= 3 && var.lambda_timeout_seconds <= 29 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number from 3 to 29 (API Gateway's integration timeout is 29 s)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the function; null leaves it unreserved, 0 stops all invocations."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null ? true : (var.lambda_reserved_concurrency >= 0 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency)
    error_message = "lambda_reserved_concurrency must be null or a whole number >= 0."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of the function: null (off), \"Active\" or \"PassThrough\". Active also enables tracing on the API stage."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_tracing_mode == null ? true : contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be null, \"Active\" or \"PassThrough\"."
  }
}

variable "lambda_log_level" {
  description = "Application log level Lambda passes to the runtime (AWS_LAMBDA_LOG_LEVEL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.lambda_log_level)
    error_message = "lambda_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "lambda_environment" {
  description = "Extra environment variables of the function (policy settings such as IMAGEGEN_LUA_MEMORY_MB). Variables the module sets itself, and AWS_* names, are not allowed here."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.lambda_environment) :
      can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_") && !contains([
        "IMAGEGEN_BUCKET", "IMAGEGEN_ALLOWED_MODELS", "IMAGEGEN_DEFAULT_MODEL", "IMAGEGEN_BEDROCK_REGION", "IMAGEGEN_URL_TTL",
        "IMAGEGEN_POLICY_DIR", "IMAGEGEN_LOG_PROMPTS", "IMAGEGEN_CORS_ORIGINS", "IMAGEGEN_SSE",
        "IMAGEGEN_KMS_KEY_ID", "IMAGEGEN_KEY_PREFIX", "IMAGEGEN_CACHE_KEY_PREFIX", "LD_LIBRARY_PATH",
      ], k)
    ])
    error_message = "lambda_environment keys must be valid variable names, must not start with AWS_ (reserved by Lambda) and must not be one the module sets (IMAGEGEN_BUCKET, IMAGEGEN_ALLOWED_MODELS, IMAGEGEN_DEFAULT_MODEL, IMAGEGEN_BEDROCK_REGION, IMAGEGEN_URL_TTL, IMAGEGEN_POLICY_DIR, IMAGEGEN_LOG_PROMPTS, IMAGEGEN_CORS_ORIGINS, IMAGEGEN_SSE, IMAGEGEN_KMS_KEY_ID, IMAGEGEN_KEY_PREFIX, IMAGEGEN_CACHE_KEY_PREFIX, LD_LIBRARY_PATH)."
  }
}

variable "log_prompts" {
  description = "Whether the runtime may write prompt text to its logs (IMAGEGEN_LOG_PROMPTS=1). Off by default: prompts can carry personal data."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention in days of the function's log group and the API's access and execution log groups (0 keeps them forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (the values CloudWatch Logs accepts)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Bedrock and images
# ---------------------------------------------------------------------------------------------------

variable "allowed_models" {
  description = "Bedrock model ids the function may invoke; the first is the default model (IMAGEGEN_DEFAULT_MODEL). Each is a foundation-model id (stability.stable-image-core-v1:1) or a geographic cross-region inference profile id (us.stability.sd3-5-large-v1:0: us., eu., apac., jp., au. or us-gov. before a model id). The same list grants bedrock:InvokeModel on exactly these models in bedrock_region (a profile: its ARN and its model in every region it routes to) and reaches the policy as IMAGEGEN_ALLOWED_MODELS; each id must be in the policy's model catalogue (runtime/policy/models.lua). The default lists the active Stability models, Stable Image Core first."
  type        = list(string)
  default     = ["stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1"]

  validation {
    condition     = length(var.allowed_models) > 0 && length(var.allowed_models) == length(distinct(var.allowed_models))
    error_message = "allowed_models must list at least one model id, each once."
  }

  # A bare id is <provider>.<model>[:<version>]; a profile id puts one geography prefix before it.
  # Kept in step with the prefixes of bedrock_profile_geo_regions (bedrock.tf).
  validation {
    condition     = alltrue([for m in var.allowed_models : can(regex("^((us-gov|us|eu|apac|jp|au)\\.)?[a-z0-9-]+\\.[a-z0-9][a-z0-9-]*(:[0-9]+)?$", m))])
    error_message = "Each allowed_models entry must be a foundation-model id such as stability.stable-image-core-v1:1 or amazon.titan-image-generator-v1, or a geographic cross-region inference profile id: us., eu., apac., jp., au. or us-gov. followed by a model id, such as us.stability.sd3-5-large-v1:0. Wildcards, ARNs, application inference profiles and global. profiles (which route to every commercial region) are refused."
  }
}

variable "bedrock_region" {
  description = "Region of the Bedrock endpoint the function calls (IMAGEGEN_BEDROCK_REGION) and of the model ARNs IAM grants; S3, Lambda and the API stay in aws_region. null picks one: aws_region when it serves every allowed model the module knows (bedrock.tf), otherwise the region that does, which is us-west-2 for the default Stability models. The output bedrock_region shows the choice."
  type        = string
  default     = null

  validation {
    condition     = var.bedrock_region == null ? true : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.bedrock_region))
    error_message = "bedrock_region must be null (chosen from the allowed models) or a region code such as us-west-2."
  }
}

variable "bedrock_profile_regions" {
  description = "Destination regions of cross-region inference profiles by geography prefix (us, eu, apac, jp, au, us-gov), replacing the module's table (bedrock.tf) for that geography when a profile routes elsewhere: aws bedrock get-inference-profile --inference-profile-identifier <id> lists them. IAM grants the profile's model in each of these regions."
  type        = map(list(string))
  default     = {}

  validation {
    condition = alltrue([
      for geo, regions in var.bedrock_profile_regions :
      contains(["us", "eu", "apac", "jp", "au", "us-gov"], geo) && length(regions) > 0 &&
      alltrue([for r in regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    ])
    error_message = "bedrock_profile_regions keys must be geography prefixes (us, eu, apac, jp, au, us-gov), each with a non-empty list of region codes such as us-east-1."
  }
}

variable "image_prefix" {
  description = "S3 key prefix of generated images: the function may only read and write under it, and the lifecycle rule expires objects under it. It must be the literal start of the policy's storage.key_prefix (runtime/policy/config.lua, images/%Y/%m/%d/ as shipped)."
  type        = string
  default     = "images/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*/$", var.image_prefix))
    error_message = "image_prefix must be one or more lower-case path segments ending with a slash, such as images/ or out/images/."
  }
}

variable "image_retention_days" {
  description = "Days after which generated images are deleted by the bucket's lifecycle rule."
  type        = number
  default     = 30

  validation {
    condition     = var.image_retention_days >= 1 && var.image_retention_days <= 3650 && floor(var.image_retention_days) == var.image_retention_days
    error_message = "image_retention_days must be a whole number from 1 to 3650."
  }
}

variable "url_ttl_seconds" {
  description = "Lifetime in seconds of the presigned image URLs (IMAGEGEN_URL_TTL). A URL also stops working when the function's temporary credentials that signed it expire."
  type        = number
  default     = 3600

  validation {
    condition     = var.url_ttl_seconds >= 60 && var.url_ttl_seconds <= 43200 && floor(var.url_ttl_seconds) == var.url_ttl_seconds
    error_message = "url_ttl_seconds must be a whole number from 60 to 43200 (12 hours, beyond which the signing credentials have expired)."
  }
}

# ---------------------------------------------------------------------------------------------------
# S3 bucket
# ---------------------------------------------------------------------------------------------------

variable "bucket_force_destroy" {
  description = "Whether terraform destroy may delete the image bucket while it still holds objects."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the bucket's default encryption (SSE-KMS). null uses SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }
}

# ---------------------------------------------------------------------------------------------------
# API Gateway
# ---------------------------------------------------------------------------------------------------

variable "stage_name" {
  description = "Name of the API Gateway stage; it is part of the invoke URL."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1 to 128 letters, digits, hyphens or underscores."
  }
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second the stage accepts across all clients, before API Gateway answers 429."
  type        = number
  default     = 10

  validation {
    condition     = var.api_throttling_rate_limit > 0 && var.api_throttling_rate_limit <= 10000
    error_message = "api_throttling_rate_limit must be greater than 0 and at most 10000."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests the stage accepts across all clients above the rate limit."
  type        = number
  default     = 20

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && var.api_throttling_burst_limit <= 5000 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "api_logging_level" {
  description = "API Gateway execution logging level (OFF, ERROR or INFO). Full request and response data logging stays off: it would log prompts."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.api_logging_level)
    error_message = "api_logging_level must be OFF, ERROR or INFO."
  }
}

variable "manage_api_gateway_account" {
  description = "Whether this stack sets the region-wide API Gateway CloudWatch Logs role (aws_api_gateway_account). Needed once per account and region before any stage can log; leave false when another stack already manages it."
  type        = bool
  default     = false
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (IMAGEGEN_CORS_ORIGINS): [\"*\"], or origins such as https://app.example.com. Empty leaves the choice to the policy's config.lua. With exactly one entry, API Gateway's own 4XX/5XX answers carry it too (a gateway response cannot pick among several)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allow_origins : o == "*" || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "Each cors_allow_origins entry must be \"*\" or an origin such as https://app.example.com (scheme, host and optional port, no path)."
  }

  validation {
    condition     = !contains(var.cors_allow_origins, "*") || length(var.cors_allow_origins) == 1
    error_message = "\"*\" already allows every origin: list it alone."
  }
}

# ---------------------------------------------------------------------------------------------------
# API keys and usage plan
# ---------------------------------------------------------------------------------------------------

variable "create_api_key" {
  description = "Whether to require an API key (x-api-key header) on /generate-image and /models, with one generated key and a usage plan. /health and CORS preflight stay open."
  type        = bool
  default     = false
}

variable "usage_plan_rate_limit" {
  description = "Requests per second allowed per API key by the usage plan."
  type        = number
  default     = 5

  validation {
    condition     = var.usage_plan_rate_limit > 0 && var.usage_plan_rate_limit <= 10000
    error_message = "usage_plan_rate_limit must be greater than 0 and at most 10000."
  }
}

variable "usage_plan_burst_limit" {
  description = "Burst of requests allowed per API key by the usage plan."
  type        = number
  default     = 10

  validation {
    condition     = var.usage_plan_burst_limit >= 1 && var.usage_plan_burst_limit <= 5000 && floor(var.usage_plan_burst_limit) == var.usage_plan_burst_limit
    error_message = "usage_plan_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "usage_plan_quota_limit" {
  description = "Requests allowed per API key in each quota period."
  type        = number
  default     = 1000

  validation {
    condition     = var.usage_plan_quota_limit >= 1 && floor(var.usage_plan_quota_limit) == var.usage_plan_quota_limit
    error_message = "usage_plan_quota_limit must be a whole number >= 1."
  }
}

variable "usage_plan_quota_period" {
  description = "Period of the usage plan quota: DAY, WEEK or MONTH."
  type        = string
  default     = "DAY"

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.usage_plan_quota_period)
    error_message = "usage_plan_quota_period must be DAY, WEEK or MONTH."
  }
}

# ---------------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------------

variable "create_alarms" {
  description = "Whether to create CloudWatch alarms on the API's 5XX rate, the function's throttles, and its duration nearing the timeout."
  type        = bool
  default     = false
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic ARN notified when an alarm fires and recovers; null creates the alarms without notifications."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be null or an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)."
  }
}

variable "alarm_5xx_rate_percent" {
  description = "5XX answers of the API, in percent of requests over 5 minutes, above which the 5XX alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_5xx_rate_percent > 0 && var.alarm_5xx_rate_percent <= 100
    error_message = "alarm_5xx_rate_percent must be greater than 0 and at most 100."
  }
}

variable "alarm_duration_percent" {
  description = "Function duration, in percent of its timeout, above which the duration alarm fires (maximum over 5 minutes)."
  type        = number
  default     = 80

  validation {
    condition     = var.alarm_duration_percent >= 10 && var.alarm_duration_percent <= 100
    error_message = "alarm_duration_percent must be from 10 to 100."
  }
}
