# The package and what its policy says. scripts/package-lambda writes a manifest beside the zip
# (build/lambda.manifest.json): the zip's sha256, its architecture and glibc floor, the policy files,
# the settings of the policy's config.lua and every model id of its catalogue. The module reads it at
# plan time, so that:
#   - config.lua is the one source of truth: a setting Terraform also exposes (allowed models, default
#     model, CORS origins, key prefixes, URL lifetime, prompt logging) reaches the function as an
#     IMAGEGEN_* variable only when the operator sets the Terraform variable; otherwise the policy
#     decides, and the module reads its choice here to grant IAM exactly that;
#   - a model the catalogue does not hold, a zip of the wrong architecture or glibc, or a manifest of
#     another zip stops the plan (lambda.tf's preconditions) instead of the function's first start;
#   - the OpenAI-compatible routes, whose keys only the policy checks, are declared only when its
#     config.lua requires one (apigateway.tf);
#   - the models of the policy's edit tasks are granted like the allowed models (bedrock.tf, iam.tf),
#     and the uploads prefix Terraform grants and expires is the one the policy signs uploads under.

locals {
  lambda_zip_path = var.lambda_zip_path != null ? var.lambda_zip_path : "${path.module}/../build/lambda.zip"
  manifest_path   = var.manifest_path != null ? var.manifest_path : "${trimsuffix(local.lambda_zip_path, ".zip")}.manifest.json"

  # Deployed from an S3 object (CI-built artifacts) instead of the local zip.
  package_from_s3 = var.lambda_s3_bucket != null

  manifest_found = fileexists(local.manifest_path)
  manifest       = local.manifest_found ? jsondecode(file(local.manifest_path)) : null
  # Every check below that reads the manifest is guarded by this: a missing or unreadable manifest is
  # reported once, by its own precondition, not as a cascade of null errors.
  manifest_ok = local.manifest_found && try(local.manifest.format_version == 1, false)

  manifest_architecture = try(local.manifest.architecture, "")
  manifest_glibc_floor  = try(local.manifest.glibc.floor, "0")
  manifest_sha256       = try(local.manifest.package.sha256, "")
  policy                = try(local.manifest.policy.settings, {})
  catalogue             = { for m in try(local.manifest.models, []) : m.id => m }

  # ---------------------------------------------------------------------------------------------------
  # The settings the function runs with: the Terraform variable when set, else config.lua's.
  # ---------------------------------------------------------------------------------------------------

  allowed_models = var.allowed_models != null ? var.allowed_models : try(tolist(local.policy.allowed_models), [])

  # The policy's own rule (schema.lua): IMAGEGEN_DEFAULT_MODEL wins; otherwise config.lua's default
  # stays when it is among the allowed models, else the first allowed model becomes the default.
  policy_default_model = try(local.policy.default_model, "")
  default_model = (
    var.default_model != null ? var.default_model :
    contains(local.allowed_models, local.policy_default_model) ? local.policy_default_model :
    try(local.allowed_models[0], "")
  )

  cors_origins = length(var.cors_allow_origins) > 0 ? var.cors_allow_origins : try(tolist(local.policy.cors_origins), [])

  # The folder the function writes images under: image_prefix, else the literal start of config.lua's
  # storage.key_prefix up to its last "/" before the first strftime conversion ("images/%Y/%m/%d/"
  # gives "images/"). IAM grants object access under it only, and the lifecycle rule expires it.
  policy_key_prefix = try(local.policy.key_prefix, "")
  image_prefix      = var.image_prefix != null ? var.image_prefix : try(regex("^[^%]*/", local.policy_key_prefix), "")

  url_ttl_seconds = var.url_ttl_seconds != null ? var.url_ttl_seconds : try(local.policy.url_ttl, 3600)

  # Rate-limit tiers of the policy, and its API key id -> tier table (rate_limit.keys).
  policy_tiers     = try(tolist(local.policy.rate_limit.tiers), [])
  policy_tier_keys = try(tomap(local.policy.rate_limit.keys), {})

  # The bearer keys of the OpenAI-compatible routes (config.lua's api_keys): whether one is required
  # and how many are listed; null from a manifest written before package-lambda recorded them. The
  # /v1 routes are closed only when a key is required and at least one exists (apigateway.tf).
  policy_bearer_keys_required = try(local.policy.api_keys.required, null)
  policy_bearer_keys_count    = try(local.policy.api_keys.count, null)
  policy_bearer_keys_enforced = local.policy_bearer_keys_required == true && try(local.policy_bearer_keys_count > 0, false)

  # Editing images. edit_models: the Bedrock model ids the policy's edit tasks may invoke (config.lua's
  # tasks and the catalogue decide; Terraform has no override), empty from a manifest written before
  # package-lambda recorded them. Every Bedrock call of the function is to one of local.invoke_models:
  # IAM grants them and the Bedrock region must serve them (bedrock.tf).
  edit_models   = try(tolist(local.policy.edit_models), [])
  invoke_models = distinct(concat(local.allowed_models, local.edit_models))
  # An id that is not a plain model or profile id (a wildcard, an ARN) would reach the IAM policy.
  malformed_edit_models = [for id in local.edit_models : id if !can(regex("^((us-gov|us|eu|apac|jp|au)\\.)?[a-z0-9-]+\\.[a-z0-9][a-z0-9-]*(:[0-9]+)?$", id))]

  # The prefix clients upload images under (POST /uploads): uploads_prefix, which must be config.lua's
  # uploads.prefix when the manifest records one (null before package-lambda recorded it, or for a
  # policy without uploads), since the function signs POST policies for keys under the policy's.
  uploads_prefix        = var.uploads_prefix
  policy_uploads_prefix = try(local.policy.uploads_prefix, null)
  uploads_prefix_agrees = local.policy_uploads_prefix == null || local.policy_uploads_prefix == local.uploads_prefix
  # One prefix inside the other would put generated images under the one-day expiry of uploads, or
  # uploads under the image rule: refused (s3.tf).
  prefixes_overlap = local.image_prefix != "" && (startswith(local.uploads_prefix, local.image_prefix) || startswith(local.image_prefix, local.uploads_prefix))

  # ---------------------------------------------------------------------------------------------------
  # Checks on the package (used by the preconditions in lambda.tf)
  # ---------------------------------------------------------------------------------------------------

  unknown_models = [for id in local.allowed_models : id if !contains(keys(local.catalogue), id)]

  # Allowed models Bedrock has retired or will retire: legacy status, or an end of life on or before
  # the day of the plan (dates compared as numbers: 2026-09-30 -> 20260930). Only warned about (check below): the runtime answers model_retired for them.
  plan_day = formatdate("YYYY-MM-DD", plantimestamp())
  outdated_models = [
    for id in local.allowed_models : "${id} (${local.catalogue[id].status}${try(local.catalogue[id].end_of_life, null) == null ? "" : ", end of life ${local.catalogue[id].end_of_life}"})"
    if contains(keys(local.catalogue), id) && (
      try(local.catalogue[id].status, "active") != "active" ||
      try(local.catalogue[id].end_of_life, null) != null && try(tonumber(replace(local.catalogue[id].end_of_life, "-", "")) <= tonumber(replace(local.plan_day, "-", "")), false)
    )
  ]

  # "2.34" -> [2, 34]. provided.al2023 has glibc 2.34: a package that needs more fails its first
  # start with "version `GLIBC_2.3x' not found".
  runtime_glibc     = [2, 34]
  glibc_floor_parts = [for p in split(".", local.manifest_glibc_floor) : try(tonumber(p), 999)]
  glibc_floor_ok = (
    local.glibc_floor_parts[0] < local.runtime_glibc[0] ||
    local.glibc_floor_parts[0] == local.runtime_glibc[0] && try(local.glibc_floor_parts[1], 0) <= local.runtime_glibc[1]
  )
}

# Warnings, not errors: the plan goes on.
check "allowed_models_are_current" {
  assert {
    condition     = length(local.outdated_models) == 0
    error_message = "These allowed models are legacy or past their end of life in the package's catalogue (runtime/policy/models.lua): ${join(", ", local.outdated_models)}. Bedrock may refuse them (the function then answers model_retired or model_unavailable); prefer the active models."
  }
}

check "url_lifetime_within_credentials" {
  assert {
    condition     = local.url_ttl_seconds <= 43200
    error_message = "The policy's storage.url_ttl is ${local.url_ttl_seconds} s, but a presigned URL stops working when the function's temporary credentials that signed it expire (at most 12 hours): set url_ttl_seconds or lower storage.url_ttl in config.lua."
  }
}
