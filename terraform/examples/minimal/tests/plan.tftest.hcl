# The minimal example plans against the mocked provider, with the package at the path the module
# expects (build/lambda.zip of the repository, put there by scripts/package-lambda; tests/terraform/run
# puts one there). Run with -var-file, the same plan follows terraform/README.md's deploy section.

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "plans_with_the_policy_models" {
  command = plan

  assert {
    condition     = module.imagegen.allowed_models == tolist(jsondecode(file("../../../build/lambda.manifest.json")).policy.settings.allowed_models)
    error_message = "The minimal example must serve the models the package's config.lua allows."
  }

  assert {
    condition     = module.imagegen.bedrock_region != ""
    error_message = "A Bedrock region must be chosen for the allowed models."
  }
}
