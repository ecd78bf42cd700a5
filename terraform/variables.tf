# Every input of the module, with its type and the checks that turn a bad value into a plan-time
# error naming the allowed values, rather than an API error halfway through an apply.

# ---------------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------------

variable "name" {
  description = "Name of the deployment: the Lambda function and DynamoDB table name, and the prefix of the bucket, role, API, key, web ACL and alarm names."
  type        = string
  default     = "imagegen"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.name))
    error_message = "name must be 2 to 24 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen (it prefixes the S3 bucket name)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module that takes tags, besides Application = name (the root may add more with the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------
# Lambda function
# ---------------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the deployment package built by scripts/package-lambda, relative to the directory where terraform runs. null: build/lambda.zip of this repository (path.module/../build/lambda.zip). It must exist at plan time, unless the function is deployed from S3 (lambda_s3_bucket)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null ? true : can(regex("\\.zip$", var.lambda_zip_path))
    error_message = "lambda_zip_path must be null or the path of a .zip file built by scripts/package-lambda."
  }
}

variable "manifest_path" {
  description = "Path of the package manifest scripts/package-lambda writes beside the zip (architecture, glibc floor, sha256, the policy's settings and model catalogue). null: beside lambda_zip_path (build/lambda.manifest.json). Required at plan time, also when deploying from S3."
  type        = string
  default     = null

  validation {
    condition     = var.manifest_path == null ? true : can(regex("\\.json$", var.manifest_path))
    error_message = "manifest_path must be null or the path of a .json manifest written by scripts/package-lambda."
  }
}

variable "lambda_s3_bucket" {
  description = "Deploy the function from an S3 object instead of the local zip (a CI-built artifact): the bucket, in the stack's region. Needs lambda_s3_key, and the manifest CI wrote with the zip (manifest_path); its sha256 decides when the function is updated."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_bucket == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lambda_s3_bucket))
    error_message = "lambda_s3_bucket must be null or an S3 bucket name."
  }
}

variable "lambda_s3_key" {
  description = "Key of the package object in lambda_s3_bucket, such as imagegen/lambda-<sha>.zip."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_key == null ? true : can(regex("\\.zip$", var.lambda_s3_key))
    error_message = "lambda_s3_key must be null or the key of a .zip object."
  }
}

variable "lambda_s3_object_version" {
  description = "Version id of the package object, for a versioned bucket; null takes the current version."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_object_version == null ? true : length(var.lambda_s3_object_version) > 0
    error_message = "lambda_s3_object_version must be null or a non-empty version id."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function (x86_64 or arm64). null follows the package's manifest; a value that differs from the package's stops the plan (its bootstrap would not start)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_architecture == null ? true : contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be null, x86_64 or arm64."
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
  description = "Function timeout in seconds (3 to 900). null: 900 with jobs (jobs_enabled), the time a job's worker may run, and 28 without. Synchronous requests stay under API Gateway's 29 s whatever the timeout: the runtime ends each at IMAGEGEN_REQUEST_BUDGET_MS (28,500 ms; lambda_environment may lower it, not raise it)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_timeout_seconds == null ? true : var.lambda_timeout_seconds >= 3 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be null or a whole number from 3 to 900 (Lambda's limit)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the function; null leaves it unreserved, 0 stops all invocations. The plan refuses more than the account's concurrent executions quota minus the 100 Lambda keeps unreserved (the quota is read from Service Quotas unless account_concurrency_limit gives it)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null ? true : (var.lambda_reserved_concurrency >= 0 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency)
    error_message = "lambda_reserved_concurrency must be null or a whole number >= 0."
  }
}

variable "account_concurrency_limit" {
  description = "The account's Lambda concurrent executions quota in this region (Service Quotas L-B99A9384), to check lambda_reserved_concurrency against without reading Service Quotas at plan time. null reads it when a reservation is set."
  type        = number
  default     = null

  validation {
    condition     = var.account_concurrency_limit == null ? true : (var.account_concurrency_limit >= 1 && floor(var.account_concurrency_limit) == var.account_concurrency_limit)
    error_message = "account_concurrency_limit must be null or a whole number >= 1."
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
  description = "Extra environment variables of the function (policy settings such as IMAGEGEN_LUA_MEMORY_MB). Variables the module sets or has a variable for, and AWS_* names, are not allowed here."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.lambda_environment) :
      can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_") && !contains([
        "IMAGEGEN_BUCKET", "IMAGEGEN_ALLOWED_MODELS", "IMAGEGEN_DEFAULT_MODEL", "IMAGEGEN_BEDROCK_REGION", "IMAGEGEN_URL_TTL",
        "IMAGEGEN_POLICY_DIR", "IMAGEGEN_LOG_PROMPTS", "IMAGEGEN_CORS_ORIGINS", "IMAGEGEN_SSE",
        "IMAGEGEN_KMS_KEY_ID", "IMAGEGEN_KEY_PREFIX", "IMAGEGEN_CACHE_KEY_PREFIX", "IMAGEGEN_UPLOADS_PREFIX", "LD_LIBRARY_PATH",
        "IMAGEGEN_TABLE", "IMAGEGEN_JOB_TIMEOUT_S", "IMAGEGEN_IMAGE_RETENTION_DAYS", "IMAGEGEN_RATE_LIMIT_BACKEND",
        "IMAGEGEN_RECORD_PROMPTS",
      ], k)
    ])
    error_message = "lambda_environment keys must be valid variable names, must not start with AWS_ (reserved by Lambda) and must not be one the module sets or has a variable for (IMAGEGEN_BUCKET, IMAGEGEN_ALLOWED_MODELS, IMAGEGEN_DEFAULT_MODEL, IMAGEGEN_BEDROCK_REGION, IMAGEGEN_URL_TTL, IMAGEGEN_POLICY_DIR, IMAGEGEN_LOG_PROMPTS, IMAGEGEN_CORS_ORIGINS, IMAGEGEN_SSE, IMAGEGEN_KMS_KEY_ID, IMAGEGEN_KEY_PREFIX, IMAGEGEN_CACHE_KEY_PREFIX, IMAGEGEN_UPLOADS_PREFIX (uploads_prefix: IAM and the lifecycle rule must cover the prefix the function signs uploads under), LD_LIBRARY_PATH, IMAGEGEN_TABLE (jobs_enabled: IAM grants the module's table only), IMAGEGEN_JOB_TIMEOUT_S (job_timeout_seconds), IMAGEGEN_IMAGE_RETENTION_DAYS (image_retention_days: image records expire with their images), IMAGEGEN_RATE_LIMIT_BACKEND (rate_limit_backend: the counters need the table), IMAGEGEN_RECORD_PROMPTS (record_prompts))."
  }

  # The function's timeout may reach 900 s for jobs: the request budget is what keeps a synchronous
  # request under API Gateway's 29,000 ms, so it may be lowered but not raised above the runtime's
  # 28,500 ms, which leaves the answer half a second to reach API Gateway.
  validation {
    condition     = !contains(keys(var.lambda_environment), "IMAGEGEN_REQUEST_BUDGET_MS") || try(tonumber(var.lambda_environment["IMAGEGEN_REQUEST_BUDGET_MS"]) >= 1000 && tonumber(var.lambda_environment["IMAGEGEN_REQUEST_BUDGET_MS"]) <= 28500, false)
    error_message = "IMAGEGEN_REQUEST_BUDGET_MS in lambda_environment must be a number of milliseconds from 1000 to 28500: synchronous requests must end before API Gateway stops waiting (29 s), whatever the function's timeout (up to 900 s with jobs)."
  }
}

variable "log_prompts" {
  description = "Whether the runtime may write prompt text to its logs (IMAGEGEN_LOG_PROMPTS). null: the policy's logging.prompts decides (off as shipped: prompts can carry personal data)."
  type        = bool
  default     = null
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
  description = "Bedrock model ids the function may invoke (IMAGEGEN_ALLOWED_MODELS). null: the policy's config.lua decides (allowed_models, read from the package manifest). Either way IAM grants bedrock:InvokeModel on exactly these models in bedrock_region (a cross-region profile: its ARN and its model in every region it routes to), and each id must be in the package's model catalogue (runtime/policy/models.lua) or the plan stops. Each is a foundation-model id (stability.stable-image-core-v1:1) or a geographic cross-region inference profile id (us., eu., apac., jp., au. or us-gov. before a model id)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_models == null ? true : length(var.allowed_models) > 0 && length(var.allowed_models) == length(distinct(var.allowed_models))
    error_message = "allowed_models must be null (the policy decides) or list at least one model id, each once."
  }

  # A bare id is <provider>.<model>[:<version>]; a profile id puts one geography prefix before it.
  # Kept in step with the prefixes of bedrock_profile_geo_regions (bedrock.tf).
  validation {
    condition     = var.allowed_models == null ? true : alltrue([for m in var.allowed_models : can(regex("^((us-gov|us|eu|apac|jp|au)\\.)?[a-z0-9-]+\\.[a-z0-9][a-z0-9-]*(:[0-9]+)?$", m))])
    error_message = "Each allowed_models entry must be a foundation-model id such as stability.stable-image-core-v1:1 or amazon.titan-image-generator-v1, or a geographic cross-region inference profile id: us., eu., apac., jp., au. or us-gov. followed by a model id, such as us.stability.sd3-5-large-v1:0. Wildcards, ARNs, application inference profiles and global. profiles (which route to every commercial region) are refused."
  }
}

variable "default_model" {
  description = "The model used when a request names none (IMAGEGEN_DEFAULT_MODEL). null: the policy's default_model when it is among the allowed models, else the first allowed model (the policy's own rule). It must be one of the allowed models."
  type        = string
  default     = null

  validation {
    condition     = var.default_model == null ? true : can(regex("^((us-gov|us|eu|apac|jp|au)\\.)?[a-z0-9-]+\\.[a-z0-9][a-z0-9-]*(:[0-9]+)?$", var.default_model))
    error_message = "default_model must be null or a model id such as stability.stable-image-core-v1:1."
  }
}

variable "bedrock_region" {
  description = "Region of the Bedrock endpoint the function calls (IMAGEGEN_BEDROCK_REGION) and of the model ARNs IAM grants; S3, Lambda and the API stay in the provider's region. null picks one: the stack's region when it serves every allowed model the module knows (bedrock.tf), otherwise the region that does, which is us-west-2 for the default Stability models. The output bedrock_region shows the choice."
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
  description = "S3 key prefix of generated images: the function may only read and write under it, and the lifecycle rule expires objects under it. null: the literal start of the policy's storage.key_prefix (images/ for images/%Y/%m/%d/ as shipped). Set, it also replaces the policy's key prefixes (IMAGEGEN_KEY_PREFIX = <prefix>%Y/%m/%d/, IMAGEGEN_CACHE_KEY_PREFIX = <prefix>cache/)."
  type        = string
  default     = null

  validation {
    condition     = var.image_prefix == null ? true : can(regex("^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*/$", var.image_prefix))
    error_message = "image_prefix must be null or one or more lower-case path segments ending with a slash, such as images/ or out/images/."
  }
}

variable "image_retention_days" {
  description = "Days after which generated images are deleted by the bucket's lifecycle rule; with jobs_enabled, their records in the table (GET /images) expire after as many days (IMAGEGEN_IMAGE_RETENTION_DAYS)."
  type        = number
  default     = 30

  validation {
    condition     = var.image_retention_days >= 1 && var.image_retention_days <= 3650 && floor(var.image_retention_days) == var.image_retention_days
    error_message = "image_retention_days must be a whole number from 1 to 3650."
  }
}

variable "uploads_prefix" {
  description = "S3 key prefix of the images clients upload to edit (POST /uploads answers a presigned POST for a key under it): the function may put objects under it (its credentials sign the POST) and read them, nothing else there, and the bucket deletes them a day after upload. It must be the uploads.prefix of the package's config.lua (the plan stops otherwise, once the manifest records it) and must not overlap the image prefix."
  type        = string
  default     = "uploads/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*/$", var.uploads_prefix))
    error_message = "uploads_prefix must be one or more lower-case path segments ending with a slash, such as uploads/ or in/uploads/."
  }
}

variable "url_ttl_seconds" {
  description = "Lifetime in seconds of the presigned image URLs (IMAGEGEN_URL_TTL). null: the policy's storage.url_ttl (3600 as shipped). A URL also stops working when the function's temporary credentials that signed it expire."
  type        = number
  default     = null

  validation {
    condition     = var.url_ttl_seconds == null ? true : var.url_ttl_seconds >= 60 && var.url_ttl_seconds <= 43200 && floor(var.url_ttl_seconds) == var.url_ttl_seconds
    error_message = "url_ttl_seconds must be null or a whole number from 60 to 43200 (12 hours, beyond which the signing credentials have expired)."
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

variable "s3_access_log_bucket" {
  description = "Name of an existing bucket that receives the image bucket's S3 server access logs (it must let the logging service write: a bucket policy for logging.s3.amazonaws.com). null: no access logging (each presigned GET would be one log line)."
  type        = string
  default     = null

  validation {
    condition     = var.s3_access_log_bucket == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_access_log_bucket))
    error_message = "s3_access_log_bucket must be null or an S3 bucket name."
  }
}

variable "s3_access_log_prefix" {
  description = "Key prefix of the access logs in s3_access_log_bucket."
  type        = string
  default     = "imagegen/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()/-]*$", var.s3_access_log_prefix))
    error_message = "s3_access_log_prefix may hold only letters, digits and !_.*'()/-."
  }
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
# Jobs: the DynamoDB table and the function's asynchronous invocations
# ---------------------------------------------------------------------------------------------------

variable "jobs_enabled" {
  description = "Whether the API serves jobs, generation past API Gateway's 29 s, and image records: POST /jobs, GET /jobs/{id}, GET /images and GET /images/{id} (locked like /generate-image), a DynamoDB table (IMAGEGEN_TABLE; records expire after image_retention_days, IMAGEGEN_IMAGE_RETENTION_DAYS), the function's asynchronous invocation of itself and its settings, and a 900 s function timeout unless lambda_timeout_seconds says otherwise. On by default: the runtime serves jobs, and an idle on-demand table costs next to nothing. false creates none of it."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Whether the DynamoDB table has deletion protection: true (the default) makes a destroy, or jobs_enabled = false, fail until it is set false and applied, so that a plan cannot silently delete the jobs and the image records."
  type        = bool
  default     = true
}

variable "table_kms_key_arn" {
  description = "ARN of a customer managed KMS key to encrypt the DynamoDB table with. null: DynamoDB's default encryption with an AWS owned key. With a key, the function's role may use it through DynamoDB only (kms:ViaService), and the key's policy must let this account's IAM policies grant it."
  type        = string
  default     = null

  validation {
    condition     = var.table_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.table_kms_key_arn))
    error_message = "table_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "job_timeout_seconds" {
  description = "Seconds after its acceptance at which a job not yet finished reads as failed (timeout) (IMAGEGEN_JOB_TIMEOUT_S, 60 to 86400). null: the runtime's 22,500 s, Lambda's longest event age (6 h) plus the longest function timeout. A value below jobs_max_event_age_seconds plus the function's timeout is warned about at plan time."
  type        = number
  default     = null

  validation {
    condition     = var.job_timeout_seconds == null ? true : var.job_timeout_seconds >= 60 && var.job_timeout_seconds <= 86400 && floor(var.job_timeout_seconds) == var.job_timeout_seconds
    error_message = "job_timeout_seconds must be null or a whole number from 60 to 86400."
  }
}

variable "jobs_max_retry_attempts" {
  description = "How many times Lambda retries a job's worker that failed (its asynchronous invocation), 0 to 2; Lambda's default is 2. A retried worker takes the job over."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.jobs_max_retry_attempts)
    error_message = "jobs_max_retry_attempts must be 0, 1 or 2 (Lambda's range)."
  }
}

variable "jobs_max_event_age_seconds" {
  description = "Longest time in seconds a job's event may wait in Lambda's asynchronous queue before Lambda drops it (60 to 21600); Lambda's default is 21600 (6 hours). A dropped job reads as failed (timeout) once past its deadline."
  type        = number
  default     = 21600

  validation {
    condition     = var.jobs_max_event_age_seconds >= 60 && var.jobs_max_event_age_seconds <= 21600 && floor(var.jobs_max_event_age_seconds) == var.jobs_max_event_age_seconds
    error_message = "jobs_max_event_age_seconds must be a whole number from 60 to 21600 (Lambda's range)."
  }
}

variable "jobs_on_failure_destination_arn" {
  description = "ARN of a standard SQS queue or SNS topic where Lambda sends a job's event it gave up on (retries spent, or older than jobs_max_event_age_seconds), for alerting or replay; null: none. The role gets sqs:SendMessage or sns:Publish on it only. A queue or topic encrypted with a customer managed key also needs that key's policy to allow the role."
  type        = string
  default     = null

  validation {
    condition     = var.jobs_on_failure_destination_arn == null ? true : can(regex("^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.jobs_on_failure_destination_arn))
    error_message = "jobs_on_failure_destination_arn must be null or the ARN of a standard SQS queue (arn:aws:sqs:<region>:<account>:<queue>) or a standard SNS topic (arn:aws:sns:<region>:<account>:<topic>); Lambda's destinations take no FIFO queue or topic."
  }
}

# The policy's settings that need the table: where rate limits are counted, and what an image record
# keeps of the prompt. Each reaches the function as its IMAGEGEN_* variable (lambda.tf).
variable "rate_limit_backend" {
  description = "Where the policy counts its rate limits (IMAGEGEN_RATE_LIMIT_BACKEND, config.lua's rate_limit.backend): \"dynamodb\", one counter per client and window in the jobs table, shared by every execution environment (one UpdateItem per counted request); or \"memory\", token buckets in each execution environment, so that N warm environments grant N times the budget. null: \"dynamodb\" with jobs_enabled (the table exists), \"memory\" without. \"dynamodb\" needs the table: the plan refuses it with jobs_enabled = false. When the table cannot be reached, config.lua's rate_limit.on_store_error decides (\"open\" as shipped: the request is served uncounted, and logged)."
  type        = string
  default     = null

  validation {
    condition     = var.rate_limit_backend == null ? true : contains(["memory", "dynamodb"], var.rate_limit_backend)
    error_message = "rate_limit_backend must be null, \"dynamodb\" (one limit shared by every execution environment, counted in the jobs table) or \"memory\" (limits per execution environment)."
  }
}

variable "record_prompts" {
  description = "What each image record in the jobs table keeps of the prompt (IMAGEGEN_RECORD_PROMPTS, config.lua's images.prompt), with jobs_enabled only: \"sha256\" (its hash: a known prompt can be matched to its records, and a short or common one guessed), \"text\" (the hash and the prompt itself: users' prompts, which may be personal data, are stored in DynamoDB for image_retention_days, in point-in-time recovery backups for up to 35 days more, and are answered by GET /images to their owner), or \"none\". null: config.lua decides (\"sha256\" as shipped). Without the table no record is kept, and a value set here is warned about."
  type        = string
  default     = null

  validation {
    condition     = var.record_prompts == null ? true : contains(["sha256", "text", "none"], var.record_prompts)
    error_message = "record_prompts must be null (config.lua decides), \"sha256\" (the prompt's hash), \"text\" (the hash and the prompt itself) or \"none\"."
  }
}

# ---------------------------------------------------------------------------------------------------
# IAM guardrails
# ---------------------------------------------------------------------------------------------------

variable "iam_role_path" {
  description = "Path of the IAM roles the module creates (the function's, and API Gateway's logging role), for organisations whose policies allow CreateRole only under a path."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.iam_role_path)) && length(var.iam_role_path) <= 512
    error_message = "iam_role_path must start and end with a slash, such as / or /workloads/imagegen/."
  }
}

variable "iam_permissions_boundary_arn" {
  description = "ARN of a managed policy set as the permissions boundary of every role the module creates; null sets none. Organisations that allow CreateRole only with a boundary require it."
  type        = string
  default     = null

  validation {
    condition     = var.iam_permissions_boundary_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_permissions_boundary_arn))
    error_message = "iam_permissions_boundary_arn must be null or an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)."
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
  description = "Whether this stack sets the region-wide API Gateway CloudWatch Logs role (aws_api_gateway_account), which every stage with logging needs. true (the default) makes the first apply succeed in a fresh account and region. Set false when another stack already manages it: the setting is one per account and region, and the last stack to set it wins."
  type        = bool
  default     = true
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (IMAGEGEN_CORS_ORIGINS): [\"*\"], or origins such as https://app.example.com. Empty: the policy's cors.origins decides (read from the package manifest). With exactly one origin in effect, API Gateway's own error answers carry it too (a gateway response cannot pick among several)."
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
# Who may call: API keys and usage plan, authorizers, opening the API
# ---------------------------------------------------------------------------------------------------

variable "allow_anonymous_access" {
  description = "The one switch that opens the API: true lets anyone call /generate-image, /edit-image, /uploads, /models, /jobs and /images without a key or token (only the stage throttle, the policy's per-IP buckets and an optional WAF limit them), and creates no keys; with openai_api it also accepts a package whose config.lua does not require bearer keys on the /v1 routes. false (the default) requires what api_keys and the authorizer variables configure, and refuses a configuration that would require nothing."
  type        = bool
  default     = false
}

variable "web_page" {
  description = "Whether the API serves the web page (the playground and the gallery, shipped in the package's web/): GET / at the stage's root and GET /web/{file}, OPTIONS on each, both without an API key or authorizer (the page asks for the key and keeps it in the browser's session storage only). Open the page at the output web_page_url, with its trailing slash: the page loads its files and calls the API by relative URLs."
  type        = bool
  default     = true
}

variable "openai_api" {
  description = "Whether the API serves the OpenAI-compatible routes, POST /v1/images/generations, POST /v1/images/edits (a multipart form: its body reaches the function base64-encoded, the binary media type the module sets) and GET /v1/models (OPTIONS on each). API Gateway requires no x-api-key and runs no authorizer there (OpenAI clients send only Authorization: Bearer KEY): the policy checks the bearer key against the SHA-256 hashes of config.lua's api_keys. true is refused unless the package's manifest says config.lua requires a key (api_keys.required = true, at least one key), or allow_anonymous_access opens the API."
  type        = bool
  default     = false
}

variable "api_keys" {
  description = "API keys to create, by name (the key's name in API Gateway is <name>-<key name>). Each is attached to the usage plan (rate, burst, daily quota) and required in the x-api-key header on /generate-image, /edit-image, /uploads, /models, /jobs and /images. tier optionally names the policy's rate-limit tier for the key (a tier of config.lua's rate_limit.tiers): the policy maps key ids to tiers, so the output rate_limit_keys_lua gives the lines to paste into config.lua's rate_limit.keys, and a check warns until the package carries them. Empty: no key is required (an authorizer, or allow_anonymous_access, must then decide)."
  type = map(object({
    tier    = optional(string)
    enabled = optional(bool, true)
  }))
  default = { default = {} }

  validation {
    condition     = alltrue([for k in keys(var.api_keys) : can(regex("^[A-Za-z0-9_-]{1,64}$", k))])
    error_message = "api_keys names must be 1 to 64 letters, digits, hyphens or underscores."
  }

  validation {
    condition     = alltrue([for k, v in var.api_keys : v.tier == null ? true : can(regex("^[A-Za-z0-9_-]+$", v.tier))])
    error_message = "An api_keys tier must be the name of a tier of the policy's rate_limit.tiers, such as premium."
  }
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
  description = "Requests allowed per API key in each quota period (a day by default): the cap on what one key can spend, since each request may generate up to five billed images."
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

variable "cognito_user_pool_arns" {
  description = "ARNs of Cognito user pools whose tokens (Authorization: <ID or access token>) an authorizer checks on /generate-image, /edit-image, /uploads, /models, /jobs and /images; empty: no Cognito authorizer. Combined with api_keys, a caller needs both."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.cognito_user_pool_arns : can(regex("^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[A-Za-z0-9_-]+$", a))])
    error_message = "Each cognito_user_pool_arns entry must be a user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<id>)."
  }
}

variable "cognito_oauth_scopes" {
  description = "OAuth scopes an access token must carry (any one of them) when the Cognito authorizer is on; empty accepts ID tokens and access tokens without a scope check."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.cognito_oauth_scopes : can(regex("^[!-~]+$", s))])
    error_message = "cognito_oauth_scopes entries must be scope names without spaces, such as imagegen/generate."
  }
}

variable "lambda_authorizer_function_arn" {
  description = "ARN of a Lambda function that validates the Authorization header as a TOKEN authorizer, for a JWT issuer other than Cognito (a REST API has no built-in JWT authorizer); null: none. The module lets API Gateway invoke it. Combined with api_keys, a caller needs both."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_authorizer_function_arn == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", var.lambda_authorizer_function_arn))
    error_message = "lambda_authorizer_function_arn must be null or a Lambda function ARN."
  }
}

variable "authorizer_cache_ttl_seconds" {
  description = "How long API Gateway caches an authorizer's decision for the same token (0 to 3600 s; 0 turns caching off)."
  type        = number
  default     = 300

  validation {
    condition     = var.authorizer_cache_ttl_seconds >= 0 && var.authorizer_cache_ttl_seconds <= 3600 && floor(var.authorizer_cache_ttl_seconds) == var.authorizer_cache_ttl_seconds
    error_message = "authorizer_cache_ttl_seconds must be a whole number from 0 to 3600."
  }
}

# ---------------------------------------------------------------------------------------------------
# AWS WAF
# ---------------------------------------------------------------------------------------------------

variable "waf_rate_limit" {
  description = "Requests one client IP may make in waf_rate_limit_window_seconds before AWS WAF blocks it (answered 429 throttled_by_firewall): creates a regional web ACL with this rate-based rule and associates it with the stage. null: no web ACL from this module. WAF is billed per web ACL, rule and request."
  type        = number
  default     = null

  validation {
    condition     = var.waf_rate_limit == null ? true : var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000 && floor(var.waf_rate_limit) == var.waf_rate_limit
    error_message = "waf_rate_limit must be null or a whole number from 10 to 2000000000 (AWS WAF's range for rate-based rules)."
  }
}

variable "waf_rate_limit_window_seconds" {
  description = "Evaluation window of the WAF rate-based rule: 60, 120, 300 or 600 seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 120, 300, 600], var.waf_rate_limit_window_seconds)
    error_message = "waf_rate_limit_window_seconds must be 60, 120, 300 or 600."
  }
}

variable "waf_web_acl_arn" {
  description = "ARN of an existing regional AWS WAF web ACL (an organisation's own) to associate with the stage instead of creating one; null: none. Its blocks are answered 403 blocked_by_firewall. Not together with waf_rate_limit."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null ? true : can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be null or a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)."
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
