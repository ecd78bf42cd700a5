# The remote-state example plans against the mocked provider (terraform test keeps its state in
# memory; the S3 backend is configured at init only).

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "plans_with_the_s3_backend_configured" {
  command = plan

  assert {
    condition     = module.imagegen.default_model == jsondecode(file("../../../build/lambda.manifest.json")).policy.settings.default_model
    error_message = "The module must plan with the default model of the package's config.lua."
  }
}
