# Where the function calls Bedrock, and what exactly it may invoke there. The Bedrock region is a
# choice of its own: the Stability models live in us-west-2 only, while the stack (S3, Lambda, API)
# may live anywhere. iam.tf grants bedrock:InvokeModel on local.bedrock_invoke_arns, lambda.tf passes
# local.bedrock_region to the function as IMAGEGEN_BEDROCK_REGION. The models are local.invoke_models
# (package.tf): the allowed text-to-image models and the models of the policy's edit tasks, treated
# alike.

locals {
  # Destination regions of the geographic cross-region inference profiles, by id prefix.
  # Sources: the Amazon Bedrock user guide no longer lists each profile's regions on one page
  # ("Supported Regions and models for inference profiles",
  # https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html, now points to
  # each model's card); its example there routes us.anthropic.claude-3-haiku-20240307-v1:0 from
  # us-east-2 to us-east-1, us-east-2 and us-west-2, and it warns that some profiles route to
  # different regions depending on the source region. The lists below are those of AWS's own CDK
  # (aws/aws-cdk, packages/@aws-cdk/aws-bedrock-alpha/bedrock/inference-profiles/
  # cross-region-inference-profile.ts: REGION_TO_GEO_AREA for us, eu and apac; the enum's comments
  # for jp, au and us-gov). That enum also says eu "might include" eu-west-2, eu-north-1,
  # eu-south-1, eu-south-2 and eu-central-2, and apac up to 13 regions, "according to the model
  # chosen": where a profile routes further, var.bedrock_profile_regions overrides a geography
  # (aws bedrock get-inference-profile --inference-profile-identifier <id> lists the real ones).
  bedrock_profile_geo_regions = merge({
    us       = ["us-east-1", "us-east-2", "us-west-2"]
    eu       = ["eu-central-1", "eu-west-1", "eu-west-3"]
    apac     = ["ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"]
    jp       = ["ap-northeast-1", "ap-northeast-3"]
    au       = ["ap-southeast-2", "ap-southeast-4"]
    "us-gov" = ["us-gov-east-1", "us-gov-west-1"]
  }, var.bedrock_profile_regions)

  # Regions that serve a model by its bare id (in-region), for the models of the policy's catalogue
  # (docs/models.md). Only used to pick the Bedrock region when var.bedrock_region is null, and to
  # warn when an explicit one does not serve a model; a model missing here constrains nothing.
  bedrock_model_regions = {
    "stability.sd3-5-large-v1:0"        = ["us-west-2"]
    "stability.stable-image-core-v1:1"  = ["us-west-2"]
    "stability.stable-image-ultra-v1:1" = ["us-west-2"]
    "amazon.titan-image-generator-v1"   = ["us-east-1", "us-west-2"] # Legacy
    "amazon.titan-image-generator-v2:0" = ["us-east-1"]              # end of life 2026-06-30
    "amazon.nova-canvas-v1:0"           = ["us-east-1"]              # end of life 2026-09-30
    # Not listed: the Stability AI Image Services (edit and control) that the policy's edit tasks call.
    # Their bare ids are not invokable on demand; they are invoked through their us. cross-region
    # inference profiles ("Stability AI Image Services",
    # https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html, whose examples
    # all use us.stability.<service>-v1:0; the facts and sources are in docs/edit-services.md), which
    # bedrock_profile_geo_regions places: callable from us-east-1, us-east-2 and us-west-2.
  }

  # Each id the function invokes (allowed and edit models), split: a profile id is
  # "<geography>.<model id>" (variables.tf and package.tf refuse any other prefix), a bare id has no
  # geography.
  bedrock_models = [
    for id in local.invoke_models : {
      id    = id
      geo   = try(regex("^(us-gov|us|eu|apac|jp|au)\\.", id)[0], null)
      model = try(regex("^(?:us-gov|us|eu|apac|jp|au)\\.(.+)$", id)[0], id)
    }
  ]

  # The regions from which each invoked id can be invoked: a profile from any region of its
  # geography, a bare id from the regions that serve it (unknown models: no constraint).
  bedrock_source_regions = [
    for m in local.bedrock_models : (
      m.geo != null ? local.bedrock_profile_geo_regions[m.geo] : lookup(local.bedrock_model_regions, m.id, null)
    )
  ]
  bedrock_region_constraints = [for regions in local.bedrock_source_regions : toset(regions) if regions != null]
  bedrock_region_candidates = (
    length(local.bedrock_region_constraints) == 0 ? toset([local.region]) : setintersection(local.bedrock_region_constraints...)
  )

  # An explicit bedrock_region wins. Otherwise the stack's region when it serves every invoked model,
  # else the first region (in alphabetical order) that does: us-west-2 for the Stability models.
  # Empty when no single region serves them all; the precondition in iam.tf then stops the plan.
  bedrock_region = (
    var.bedrock_region != null ? var.bedrock_region :
    contains(local.bedrock_region_candidates, local.region) ? local.region :
    try(sort(local.bedrock_region_candidates)[0], "")
  )

  # The account of a system-defined inference profile's ARN is the caller's: read it from the
  # function's role ARN rather than from aws_caller_identity, so that planning needs no STS call.
  bedrock_account_id = split(":", aws_iam_role.lambda.arn)[4]

  # What bedrock:InvokeModel is granted on, no wildcard: a bare id's foundation model in the Bedrock
  # region; a profile's ARN in the Bedrock region plus its model's foundation-model ARN in the Bedrock
  # region (the source) and in every destination region of its geography, as the user guide's
  # "IAM policy requirements for Geographic cross-Region inference" asks
  # (https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html).
  bedrock_invoke_arns = distinct(flatten([
    for m in local.bedrock_models : m.geo == null ? [
      "arn:${data.aws_partition.current.partition}:bedrock:${local.bedrock_region}::foundation-model/${m.id}",
      ] : concat(
      ["arn:${data.aws_partition.current.partition}:bedrock:${local.bedrock_region}:${local.bedrock_account_id}:inference-profile/${m.id}"],
      [
        for region in distinct(concat([local.bedrock_region], local.bedrock_profile_geo_regions[m.geo])) :
        "arn:${data.aws_partition.current.partition}:bedrock:${region}::foundation-model/${m.model}"
      ],
    )
  ]))

  # Invoked ids that the Bedrock region cannot invoke, as far as the tables above know.
  bedrock_unserved_models = [
    for i, m in local.bedrock_models : m.id
    if local.bedrock_source_regions[i] != null && !contains(coalesce(local.bedrock_source_regions[i], []), local.bedrock_region)
  ]
}

# An explicit bedrock_region that the tables above say cannot serve a model only warns: the tables
# may lag behind AWS. (Without an explicit region, the module picks one that serves them all, or the
# precondition in iam.tf stops the plan when none does.)
check "bedrock_region_serves_allowed_models" {
  assert {
    condition     = local.bedrock_region == "" || length(local.bedrock_unserved_models) == 0
    error_message = "bedrock_region ${local.bedrock_region} does not serve ${join(", ", local.bedrock_unserved_models)} as far as this module knows (bedrock.tf: bedrock_model_regions, bedrock_profile_geo_regions): the Stability models are served in us-west-2, us. profiles from us-east-1, us-east-2 and us-west-2. Check with: aws bedrock get-foundation-model --region <region> --model-identifier <id>."
  }
}
