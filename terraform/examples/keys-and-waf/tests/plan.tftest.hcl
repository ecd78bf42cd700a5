# The keys-and-WAF example applies against the mocked provider: three keys on one usage plan, the WAF
# rate rule associated with the stage, alarms. The package is the test fixture whose config.lua
# already maps the mocked key id to the premium tier, as an operator's does after the first apply
# (otherwise the module warns, and a warning fails a test run).

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  lambda_zip_path = "../../tests/fixtures/lambda.zip"
  manifest_path   = "../../tests/fixtures/edited-policy.manifest.json"
}

run "keys_waf_and_alarms" {
  command = apply

  assert {
    condition     = keys(module.imagegen.api_key_ids) == ["mobile", "partner", "web"]
    error_message = "One key per client."
  }

  assert {
    condition     = module.imagegen.web_acl_arn != null && module.imagegen.rate_limit_keys_lua == "[\"k3yk3yk3y1\"] = \"premium\", -- partner"
    error_message = "A web ACL must be associated, and the partner's tier line given."
  }

  assert {
    condition     = module.imagegen.rate_limit_backend == "dynamodb" && module.imagegen.table_name == "imagegen"
    error_message = "The tiers are counted in the jobs table, shared by every execution environment."
  }
}
