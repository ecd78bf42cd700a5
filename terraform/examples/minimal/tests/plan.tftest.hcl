# The minimal example plans against the mocked provider, with the package at the path the module
# expects (build/lambda.zip of the repository, put there by scripts/package-lambda; tests/terraform/run
# puts one there). Run with -var-file, the same plan follows terraform/README.md's deploy section.

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "plans_closed_with_the_policy_models" {
  command = plan

  assert {
    condition     = module.imagegen.allowed_models == tolist(["stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1"])
    error_message = "The minimal example must serve the policy's allowed models."
  }

  assert {
    condition     = module.imagegen.bedrock_region == "us-west-2"
    error_message = "The Stability models must be called in us-west-2."
  }
}
