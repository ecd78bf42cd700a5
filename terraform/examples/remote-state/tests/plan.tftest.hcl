# The remote-state example plans against the mocked provider (terraform test keeps its state in
# memory; the S3 backend is configured at init only).

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "plans_with_the_s3_backend_configured" {
  command = plan

  assert {
    condition     = module.imagegen.default_model == "stability.stable-image-core-v1:1"
    error_message = "The module must plan with the policy's default model."
  }
}
