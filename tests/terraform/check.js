// Static checks of the Terraform module from its parsed configuration (@cdktf/hcl2json): the security
// and wiring properties the deployment depends on, checked without a terraform binary or provider.
// Prints one line per check, "PASS <name>" or "FAIL <name>: <why>", and exits 1 if any failed.
"use strict";

const fs = require("fs");
const path = require("path");
const { moduleDir, moduleFiles, parseFile, loadModule, unwrap } = require("./lib");
const { renderTables } = require("./docs");

const results = [];
function check(name, fn) {
  try {
    const why = fn();
    results.push(why ? { name, ok: false, why } : { name, ok: true });
  } catch (err) {
    results.push({ name, ok: false, why: `check crashed: ${err && err.stack ? err.stack : err}` });
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers over the parsed configuration
// ---------------------------------------------------------------------------------------------------

const asArray = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

function resources(config, type) {
  return Object.entries((config.resource || {})[type] || {}).map(([name, blocks]) => ({ name, body: blocks[0] }));
}

// A block attribute as hcl2json gives it: an array of one object.
function block(body, name) {
  return asArray(body && body[name])[0];
}

// Replaces a whole "${local.x}" with the value of local x (repeatedly), so statements whose
// Resource is a local list are checked on what the local holds.
function resolve(config, value, depth = 0) {
  const inner = unwrap(value);
  if (depth < 8 && typeof inner === "string" && /^local\.[A-Za-z0-9_]+$/.test(inner)) {
    const local = (config.locals || {})[inner.slice(6)];
    if (local !== undefined) return resolve(config, local, depth + 1);
  }
  return value;
}

// The text of a value with every ${ ... } interpolation removed: what is left is literal.
function literalText(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      let depth = 0;
      for (i += 1; i < text.length; i++) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}" && --depth === 0) break;
      }
      out += "<expr>";
    } else {
      out += text[i];
    }
  }
  return out;
}

// Every IAM statement written as an HCL object (Effect + Action) anywhere in the configuration.
function iamStatements(config) {
  const found = [];
  const walk = (node, where) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node && typeof node === "object") {
      if ("Effect" in node && ("Action" in node || "NotAction" in node)) found.push({ where, st: node });
      for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
    }
  };
  walk(config.locals || {}, "local");
  walk(config.resource || {}, "resource");
  walk(config.data || {}, "data");
  return found;
}

function actionsOf(config, st) {
  return asArray(resolve(config, st.Action)).map((a) => resolve(config, a));
}

function resourcesOf(config, st) {
  return asArray(resolve(config, st.Resource)).map((r) => resolve(config, r));
}

// ---------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------

async function main() {
  // Every HCL file parses (the .tf files, the tests and the mocks).
  for (const file of moduleFiles()) {
    const rel = path.relative(moduleDir, file);
    let error = null;
    try {
      await parseFile(file);
    } catch (err) {
      error = String(err && err.message ? err.message : err);
    }
    check(`parse ${rel}`, () => error);
  }

  const { config, files } = await loadModule();
  const examplesDir = path.join(moduleDir, "examples");
  const examples = [];
  for (const name of fs.existsSync(examplesDir) ? fs.readdirSync(examplesDir).sort() : []) {
    const dir = path.join(examplesDir, name);
    if (!fs.statSync(dir).isDirectory()) continue;
    const loaded = await loadModule(dir);
    examples.push({ name, dir, config: loaded.config, error: loaded.files.some((f) => f.error) });
  }
  if (files.some((f) => f.error) || examples.some((e) => e.error)) {
    report();
    return;
  }
  const locals = config.locals || {};
  const variables = config.variable || {};
  const outputs = config.output || {};
  const rawTf = fs
    .readdirSync(moduleDir)
    .filter((n) => n.endsWith(".tf"))
    .map((n) => path.join(moduleDir, n))
    .map((f) => fs.readFileSync(f, "utf8"))
    .join("\n");

  // --- versions -----------------------------------------------------------------------------------
  // The provider is pinned to the tested major; the module and every example pin the same, and the
  // committed lock files record the build the tests ran with.
  check("versions: terraform and the AWS provider ~> 5.100 (the tested major) are pinned, in the module and every example, with a committed lock file", () => {
    const bad = [];
    const pinOf = (cfg, where) => {
      const tf = asArray(cfg.terraform)[0] || {};
      const aws = (asArray(tf.required_providers)[0] || {}).aws || {};
      if (!tf.required_version) bad.push(`${where}: no required_version`);
      if (aws.source !== "hashicorp/aws") bad.push(`${where}: aws provider source is ${aws.source}`);
      if (String(aws.version).replace(/\s/g, "") !== "~>5.100") bad.push(`${where}: aws provider version is ${aws.version}`);
    };
    pinOf(config, "module");
    for (const ex of examples) pinOf(ex.config, `examples/${ex.name}`);
    for (const dir of [moduleDir, ...examples.map((e) => e.dir)]) {
      const lock = path.join(dir, ".terraform.lock.hcl");
      const rel = path.relative(moduleDir, lock);
      if (!fs.existsSync(lock)) { bad.push(`no ${rel}`); continue; }
      const text = fs.readFileSync(lock, "utf8");
      if (!/provider "registry\.terraform\.io\/hashicorp\/aws"/.test(text) || !/constraints\s*=\s*"~> 5\.100"/.test(text) || !/"h1:[A-Za-z0-9+/=]+"/.test(text)) bad.push(`${rel} does not lock hashicorp/aws ~> 5.100 with a hash`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("module: no provider block (the caller configures the provider), and every example configures one", () => {
    const bad = [];
    if (config.provider) bad.push("the module has a provider block");
    if (examples.length < 3) bad.push(`only ${examples.length} examples`);
    for (const ex of examples) {
      if (!ex.config.provider) bad.push(`examples/${ex.name} has no provider block`);
      const mod = Object.values(ex.config.module || {})[0];
      if (!mod || mod[0].source !== "../..") bad.push(`examples/${ex.name} does not call the module at ../..`);
      if (!fs.existsSync(path.join(ex.dir, "tests")) || !fs.readdirSync(path.join(ex.dir, "tests")).some((f) => f.endsWith(".tftest.hcl"))) bad.push(`examples/${ex.name} has no test`);
    }
    const remote = examples.find((e) => e.name === "remote-state");
    const backend = remote && block(asArray(remote.config.terraform)[0] || {}, "backend");
    if (!backend || !backend.s3 || asArray(backend.s3)[0].use_lockfile !== true || asArray(backend.s3)[0].encrypt !== true) bad.push("examples/remote-state has no encrypted S3 backend with use_lockfile");
    return bad.length ? bad.join("; ") : null;
  });

  check("provider 6: no construct that provider 6 removed (data.aws_region.name, deprecated there, is the one thing to change with the pin)", () => {
    const bad = [];
    for (const { name, body } of resources(config, "aws_api_gateway_deployment")) {
      for (const arg of ["stage_name", "stage_description", "canary_settings"]) if (arg in body) bad.push(`aws_api_gateway_deployment.${name}.${arg}`);
    }
    for (const { name, body } of resources(config, "aws_api_gateway_account")) if ("reset_on_delete" in body) bad.push(`aws_api_gateway_account.${name}.reset_on_delete`);
    const inlineS3 = ["acl", "policy", "lifecycle_rule", "server_side_encryption_configuration", "versioning", "logging", "cors_rule", "website", "grant", "replication_configuration", "object_lock_configuration", "acceleration_status", "request_payer"];
    for (const { name, body } of resources(config, "aws_s3_bucket")) for (const arg of inlineS3) if (arg in body) bad.push(`aws_s3_bucket.${name}.${arg} (inline, deprecated)`);
    for (const { name, body } of resources(config, "aws_iam_role")) for (const arg of ["inline_policy", "managed_policy_arns"]) if (arg in body) bad.push(`aws_iam_role.${name}.${arg}`);
    if (/aws_api_gateway_deployment\.[A-Za-z0-9_]+\.(execution_arn|invoke_url)/.test(rawTf)) bad.push("execution_arn/invoke_url read from a deployment");
    if ((rawTf.match(/data\.aws_region\.[A-Za-z0-9_]+\.name\b/g) || []).length > 1) bad.push("data.aws_region.*.name read more than once (read it into local.region only)");
    return bad.length ? bad.join("; ") : null;
  });

  // --- IAM ----------------------------------------------------------------------------------------
  const statements = iamStatements(config);

  check("iam: policy documents are built only from statement objects this check can read", () => {
    const bad = [];
    for (const type of ["aws_iam_role_policy", "aws_iam_policy", "aws_s3_bucket_policy", "aws_iam_role"]) {
      for (const { name, body } of resources(config, type)) {
        for (const attr of ["policy", "assume_role_policy"]) {
          if (typeof body[attr] === "string" && /"?Action"?\s*=/.test(body[attr])) bad.push(`${type}.${name}.${attr} writes statements inline`);
        }
      }
    }
    return bad.length ? bad.join("; ") : statements.length === 0 ? "no IAM statement found" : null;
  });

  // Deny statements may be broad (the bucket's TLS-only policy denies s3:*); grants may not.
  check("iam: no \"*\" action in any grant, and no \"*\" resource except for X-Ray (which has no resource-level permissions)", () => {
    const bad = [];
    for (const { where, st } of statements) {
      if (st.Effect !== "Allow") continue;
      const actions = actionsOf(config, st);
      if (actions.some((a) => typeof a === "string" && (a === "*" || /^[a-z0-9-]+:\*$/.test(a)))) bad.push(`${where}: wildcard action ${JSON.stringify(actions)}`);
      const res = resourcesOf(config, st);
      const star = res.some((r) => r === "*");
      if (star && !actions.every((a) => typeof a === "string" && a.startsWith("xray:"))) bad.push(`${where}: Resource "*" for ${JSON.stringify(actions)}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  // The grant is built in bedrock.tf from var.allowed_models: a bare id gives its foundation-model ARN
  // in the Bedrock region; a profile id gives its inference-profile ARN there and its model's
  // foundation-model ARN in the Bedrock region and in each region of its geography. Every ARN the
  // expression can produce must have one of those three shapes, with no wildcard.
  check("iam: Bedrock actions are exactly bedrock:InvokeModel on the ARNs of the allowed models (var.allowed_models, else the policy's) and of the policy's edit models (foundation models and inference profiles) in the Bedrock region", () => {
    const bedrock = statements.filter(({ st }) => actionsOf(config, st).some((a) => typeof a === "string" && /^bedrock:/i.test(a)));
    if (bedrock.length === 0) return "no statement grants a Bedrock action";
    const partition = String.raw`arn:\$\{data\.aws_partition\.current\.partition\}:bedrock:`;
    const shapes = [
      new RegExp(`^${partition}\\$\\{local\\.bedrock_region\\}::foundation-model/\\$\\{(\\w+)\\.id\\}$`),
      new RegExp(`^${partition}\\$\\{local\\.bedrock_region\\}:\\$\\{local\\.bedrock_account_id\\}:inference-profile/\\$\\{(\\w+)\\.id\\}$`),
      new RegExp(`^${partition}\\$\\{(\\w+)\\}::foundation-model/\\$\\{(\\w+)\\.model\\}$`),
    ];
    const bad = [];
    for (const { where, st } of bedrock) {
      const actions = actionsOf(config, st);
      if (st.Effect !== "Allow" || JSON.stringify(actions) !== JSON.stringify(["bedrock:InvokeModel"])) bad.push(`${where}: actions ${JSON.stringify(actions)}`);
      for (const r of resourcesOf(config, st)) {
        const text = typeof r === "string" ? r : JSON.stringify(r);
        if (literalText(text).includes("*") || text === "*") bad.push(`${where}: wildcard resource ${text}`);
        if (!/for\s+(\w+)\s+in\s+local\.bedrock_models\b/.test(text)) bad.push(`${where}: resource is not built per entry of local.bedrock_models`);
        const arns = [...text.matchAll(/"(arn:[^"]*)"/g)].map((m) => m[1]);
        if (arns.length === 0) bad.push(`${where}: no ARN template in ${text}`);
        for (const arn of arns) if (!shapes.some((re) => re.test(arn))) bad.push(`${where}: unexpected ARN shape ${arn}`);
        if (!shapes.every((re) => arns.some((arn) => re.test(arn)))) bad.push(`${where}: missing one of the three ARN shapes (model, profile, profile's model per region)`);
        if (!/for\s+region\s+in\s+distinct\(concat\(\[local\.bedrock_region\],\s*local\.bedrock_profile_geo_regions\[\w+\.geo\]\)\)/.test(text)) {
          bad.push(`${where}: a profile's model is not granted in the Bedrock region plus its geography's regions`);
        }
      }
    }
    if (!/for\s+id\s+in\s+local\.invoke_models\b/.test(JSON.stringify(locals.bedrock_models || ""))) bad.push("local.bedrock_models is not built from local.invoke_models");
    // The models the function invokes: the allowed ones and the edit tasks', alike, each once.
    if (!/^\$\{distinct\(concat\(local\.allowed_models,\s*local\.edit_models\)\)\}$/.test(String(locals.invoke_models || ""))) bad.push(`local.invoke_models is not the allowed and edit models: ${locals.invoke_models}`);
    if (!/local\.policy\.edit_models/.test(String(locals.edit_models || ""))) bad.push(`local.edit_models is not read from the manifest's policy.settings.edit_models: ${locals.edit_models}`);
    // local.allowed_models: the variable when set, else the policy's list from the package manifest.
    if (!/var\.allowed_models\s*!=\s*null\s*\?\s*var\.allowed_models\s*:.*local\.policy\.allowed_models/.test(String(locals.allowed_models || ""))) bad.push(`local.allowed_models is not var.allowed_models or the policy's list: ${locals.allowed_models}`);
    return bad.length ? bad.join("; ") : null;
  });

  // The geographies must agree in four places: the variable's validation regex, the split in
  // local.bedrock_models, the region table, and the override variable's allowed keys.
  check("bedrock: allowed_models validation, the id split, the profile region table and the override agree on the geographies", () => {
    const geos = (text) => {
      const m = /\(((?:[a-z-]+\|)+[a-z-]+)\)\\+\./.exec(text || "");
      return m ? m[1].split("|").sort() : null;
    };
    const validation = asArray((variables.allowed_models || [{}])[0].validation).map((v) => v.condition).join(" ");
    const fromValidation = geos(validation);
    const fromSplit = geos(JSON.stringify(locals.bedrock_models || ""));
    const table = String(locals.bedrock_profile_geo_regions || "");
    const fromTable = [...table.matchAll(/^\s*"?([a-z-]+)"?\s*=\s*\[/gm)].map((m) => m[1]).sort();
    const override = asArray((variables.bedrock_profile_regions || [{}])[0].validation).map((v) => v.condition).join(" ");
    const om = /contains\(\[([^\]]*)\],\s*geo\)/.exec(override);
    const fromOverride = om ? [...om[1].matchAll(/"([a-z-]+)"/g)].map((m) => m[1]).sort() : null;
    const all = { validation: fromValidation, split: fromSplit, table: fromTable, override: fromOverride };
    const want = JSON.stringify(fromTable);
    if (!fromTable.length || Object.values(all).some((g) => JSON.stringify(g) !== want)) return `geographies differ: ${JSON.stringify(all)}`;
    if (!/var\.bedrock_profile_regions/.test(table)) return "bedrock_profile_geo_regions does not merge var.bedrock_profile_regions";
    return null;
  });

  // Two grants, each exactly PutObject and GetObject on one prefix: generated images, and uploads
  // (the presigned POST carries the role's authority, and the function reads what was uploaded).
  check("iam: S3 access is exactly PutObject/GetObject under the image prefix, and under the uploads prefix, nothing else", () => {
    const s3 = statements.filter(({ st }) => st.Effect === "Allow" && actionsOf(config, st).some((a) => /^s3:/.test(a)));
    if (s3.length === 0) return "no statement grants S3 access";
    const bad = [];
    const prefixes = [];
    for (const { where, st } of s3) {
      const actions = actionsOf(config, st);
      if (JSON.stringify(actions) !== JSON.stringify(["s3:PutObject", "s3:GetObject"])) bad.push(`${where}: actions ${JSON.stringify(actions)}`);
      const res = resourcesOf(config, st);
      if (res.length !== 1) bad.push(`${where}: ${res.length} resources`);
      for (const r of res) {
        const m = /^\$\{aws_s3_bucket\.images\.arn\}\/\$\{local\.(image_prefix|uploads_prefix)\}\*$/.exec(r);
        if (!m) bad.push(`${where}: resource ${r}`);
        else prefixes.push(m[1]);
      }
    }
    if (JSON.stringify(prefixes.sort()) !== JSON.stringify(["image_prefix", "uploads_prefix"])) bad.push(`S3 grants cover ${JSON.stringify(prefixes)}, not the image and uploads prefixes once each`);
    const list = unwrap(locals.lambda_policy_statements || "");
    if (!/local\.lambda_statement_uploads\b/.test(list)) bad.push("the uploads statement is not in the function's policy");
    if (unwrap(locals.uploads_prefix || "") !== "var.uploads_prefix") bad.push(`local.uploads_prefix is ${locals.uploads_prefix}`);
    return bad.length ? bad.join("; ") : null;
  });

  // The uploads prefix is Terraform's variable; the plan stops when the package's config.lua signs
  // uploads elsewhere (the manifest's policy.settings.uploads_prefix, when it has one), when the
  // two prefixes overlap, and when the manifest's edit models are not plain model ids.
  check("iam and s3: preconditions tie uploads_prefix to the manifest's, keep it apart from the image prefix, and refuse malformed edit model ids", () => {
    const rp = resources(config, "aws_iam_role_policy").find((r) => r.name === "lambda");
    const pre = asArray(block(rp && rp.body, "lifecycle")?.precondition);
    const bad = [];
    const find = (re) => pre.find((p) => re.test(String(p.condition)));
    const agree = find(/local\.uploads_prefix_agrees/);
    if (!agree || !/local\.manifest_ok/.test(agree.condition)) bad.push("no precondition on local.uploads_prefix_agrees (guarded by local.manifest_ok)");
    else if (!/uploads_prefix = /.test(agree.error_message) || !/scripts\/package-lambda/.test(agree.error_message)) bad.push("the uploads prefix refusal does not say what to set");
    const agrees = String(locals.uploads_prefix_agrees || "");
    if (!/local\.policy_uploads_prefix\s*==\s*null\s*\|\|\s*local\.policy_uploads_prefix\s*==\s*local\.uploads_prefix/.test(agrees)) bad.push(`local.uploads_prefix_agrees ${agrees}`);
    if (!/local\.policy\.uploads_prefix/.test(String(locals.policy_uploads_prefix || ""))) bad.push("the policy's uploads prefix is not read from the manifest's policy.settings.uploads_prefix");
    const lc = resources(config, "aws_s3_bucket_lifecycle_configuration").find((r) => r.name === "images");
    if (!asArray(block(lc && lc.body, "lifecycle")?.precondition).some((p) => /^\$\{!local\.prefixes_overlap\}$/.test(String(p.condition)))) bad.push("no precondition on the lifecycle configuration refusing overlapping prefixes");
    const overlap = String(locals.prefixes_overlap || "");
    if (!/startswith\(local\.uploads_prefix,\s*local\.image_prefix\)/.test(overlap) || !/startswith\(local\.image_prefix,\s*local\.uploads_prefix\)/.test(overlap)) bad.push(`local.prefixes_overlap ${overlap}`);
    if (!find(/local\.malformed_edit_models/)) bad.push("no precondition refusing malformed edit model ids");
    // The same id grammar as the allowed_models validation.
    const idRe = (text) => (/regex\("(\^\(\(us-gov[^"]*)"/.exec(text || "") || [])[1];
    const validation = asArray((variables.allowed_models || [{}])[0].validation).map((v) => v.condition).join(" ");
    if (!idRe(validation) || idRe(validation) !== idRe(String(locals.malformed_edit_models || ""))) bad.push("edit model ids are not checked with the allowed_models id grammar");
    const v = (variables.uploads_prefix || [{}])[0];
    if (v.default !== "uploads/") bad.push(`uploads_prefix defaults to ${JSON.stringify(v.default)}`);
    return bad.length ? bad.join("; ") : null;
  });

  check("iam: log writes only to the function's own log group", () => {
    const logs = statements.filter(({ st }) => st.Effect === "Allow" && actionsOf(config, st).some((a) => /^logs:/.test(a)));
    if (logs.length === 0) return "no statement grants log writes";
    const bad = [];
    for (const { where, st } of logs) {
      const actions = actionsOf(config, st);
      if (actions.includes("logs:CreateLogGroup")) bad.push(`${where}: CreateLogGroup (Terraform owns the group)`);
      for (const r of resourcesOf(config, st)) if (!/^\$\{aws_cloudwatch_log_group\.lambda\.arn\}:\*$/.test(r)) bad.push(`${where}: resource ${r}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("iam: KMS permissions only on the given keys (the bucket's; the table's through DynamoDB only), and only when one is given", () => {
    const kms = statements.filter(({ st }) => actionsOf(config, st).some((a) => /^kms:/.test(a)));
    const bad = [];
    for (const { where, st } of kms) {
      const res = resourcesOf(config, st);
      const viaDynamo = JSON.stringify(st.Condition || null) === JSON.stringify({ StringEquals: { "kms:ViaService": "dynamodb.${local.region}.amazonaws.com" } });
      for (const r of res) {
        if (r === "${var.table_kms_key_arn}") { if (!viaDynamo) bad.push(`${where}: the table's key without kms:ViaService = dynamodb.<region>`); }
        else if (r !== "${var.kms_key_arn}") bad.push(`${where}: resource ${r}`);
      }
    }
    if (!/local\.jobs_enabled\s*&&\s*var\.table_kms_key_arn\s*!=\s*null\s*\?\s*\[local\.lambda_statement_table_kms\]\s*:\s*\[\]/.test(String(locals.lambda_jobs_statements || ""))) bad.push("the table key statement is not conditional on jobs and var.table_kms_key_arn");
    const list = unwrap(locals.lambda_policy_statements || "");
    if (kms.length && !/var\.kms_key_arn\s*==\s*null\s*\?\s*\[\]\s*:\s*\[local\.lambda_statement_kms\]/.test(list)) bad.push("the KMS statement is not conditional on var.kms_key_arn");
    return bad.length ? bad.join("; ") : null;
  });

  check("iam: the function's policy is attached to its role, which only Lambda may assume", () => {
    const rp = resources(config, "aws_iam_role_policy").find((r) => r.name === "lambda");
    if (!rp) return "no aws_iam_role_policy.lambda";
    if (rp.body.role !== "${aws_iam_role.lambda.id}") return `role is ${rp.body.role}`;
    if (!/Statement\s*=\s*local\.lambda_policy_statements/.test(rp.body.policy)) return `policy is ${rp.body.policy}`;
    const trust = locals.lambda_trust_statement || {};
    if (JSON.stringify(trust.Principal) !== JSON.stringify({ Service: "lambda.amazonaws.com" }) || trust.Action !== "sts:AssumeRole") return "trust statement does not name lambda.amazonaws.com";
    return null;
  });

  // --- S3 -----------------------------------------------------------------------------------------
  const buckets = resources(config, "aws_s3_bucket");
  const bucketRef = (name) => `\${aws_s3_bucket.${name}.id}`;

  check("s3: the bucket is named from a prefix, with force_destroy from a variable", () => {
    if (buckets.length === 0) return "no aws_s3_bucket";
    const bad = [];
    for (const { name, body } of buckets) {
      if ("bucket" in body || !body.bucket_prefix) bad.push(`${name}: no bucket_prefix`);
      if (body.force_destroy !== "${var.bucket_force_destroy}") bad.push(`${name}: force_destroy is ${body.force_destroy}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("s3: public access block has all four settings true", () => {
    const bad = [];
    for (const { name } of buckets) {
      const pab = resources(config, "aws_s3_bucket_public_access_block").find((r) => r.body.bucket === bucketRef(name));
      if (!pab) { bad.push(`${name}: no public access block`); continue; }
      for (const k of ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]) {
        if (pab.body[k] !== true) bad.push(`${name}: ${k} = ${JSON.stringify(pab.body[k])}`);
      }
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("s3: object ownership is BucketOwnerEnforced", () => {
    const bad = [];
    for (const { name } of buckets) {
      const oc = resources(config, "aws_s3_bucket_ownership_controls").find((r) => r.body.bucket === bucketRef(name));
      const rule = oc && block(oc.body, "rule");
      if (!rule || rule.object_ownership !== "BucketOwnerEnforced") bad.push(`${name}: ${rule ? rule.object_ownership : "no ownership controls"}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("s3: default encryption is SSE-S3, or SSE-KMS with the given key", () => {
    const bad = [];
    for (const { name } of buckets) {
      const sse = resources(config, "aws_s3_bucket_server_side_encryption_configuration").find((r) => r.body.bucket === bucketRef(name));
      const def = sse && block(block(sse.body, "rule"), "apply_server_side_encryption_by_default");
      if (!def) { bad.push(`${name}: no default encryption`); continue; }
      if (!/"AES256"/.test(def.sse_algorithm) || !/"aws:kms"/.test(def.sse_algorithm)) bad.push(`${name}: sse_algorithm ${def.sse_algorithm}`);
      if (def.kms_master_key_id !== "${var.kms_key_arn}") bad.push(`${name}: kms_master_key_id ${def.kms_master_key_id}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("s3: the bucket policy denies every non-TLS request, after the public access block", () => {
    const bad = [];
    for (const { name } of buckets) {
      const pol = resources(config, "aws_s3_bucket_policy").find((r) => r.body.bucket === bucketRef(name));
      if (!pol) { bad.push(`${name}: no bucket policy`); continue; }
      const used = [...pol.body.policy.matchAll(/local\.([A-Za-z0-9_]+)/g)].map((m) => locals[m[1]]).filter(Boolean);
      const tls = used.find((st) => st.Effect === "Deny" && st.Principal === "*" && st.Action === "s3:*" &&
        st.Condition && st.Condition.Bool && st.Condition.Bool["aws:SecureTransport"] === "false");
      if (!tls) bad.push(`${name}: no Deny s3:* statement on aws:SecureTransport = false`);
      else {
        const res = asArray(tls.Resource);
        if (!res.includes(`\${aws_s3_bucket.${name}.arn}`) || !res.includes(`\${aws_s3_bucket.${name}.arn}/*`)) bad.push(`${name}: TLS deny does not cover the bucket and its objects: ${JSON.stringify(res)}`);
      }
      if (!asArray(pol.body.depends_on).some((d) => /aws_s3_bucket_public_access_block\./.test(d))) bad.push(`${name}: the policy does not depend on the public access block`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("s3: one lifecycle configuration; every rule has a filter; images expire; uploads expire after one day; incomplete uploads are aborted", () => {
    const bad = [];
    for (const { name } of buckets) {
      const lcs = resources(config, "aws_s3_bucket_lifecycle_configuration").filter((r) => r.body.bucket === bucketRef(name));
      if (lcs.length !== 1) { bad.push(`${name}: ${lcs.length} lifecycle configurations`); continue; }
      const rules = asArray(lcs[0].body.rule);
      rules.forEach((r, i) => {
        if (!("filter" in r) || "prefix" in r) bad.push(`${name}: rule ${r.id || i} has no filter (or a deprecated rule-level prefix)`);
        if (r.status !== "Enabled") bad.push(`${name}: rule ${r.id || i} status ${r.status}`);
      });
      const expire = rules.find((r) => block(r, "expiration"));
      if (!expire || block(expire, "filter").prefix !== "${local.image_prefix}" || block(expire, "expiration").days !== "${var.image_retention_days}") bad.push(`${name}: no expiration of local.image_prefix after var.image_retention_days`);
      if (!rules.some((r) => block(r, "abort_incomplete_multipart_upload"))) bad.push(`${name}: no abort_incomplete_multipart_upload rule`);
      const uploads = rules.find((r) => block(r, "expiration") && block(r, "filter").prefix === "${local.uploads_prefix}");
      if (!uploads || block(uploads, "expiration").days !== "${local.uploads_retention_days}" || locals.uploads_retention_days !== 1) bad.push(`${name}: no expiration of local.uploads_prefix after one day`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  // --- Logs ---------------------------------------------------------------------------------------
  check("logs: every log group has a retention from var.log_retention_days, validated against CloudWatch's list", () => {
    const bad = [];
    const groups = resources(config, "aws_cloudwatch_log_group");
    if (groups.length < 3) bad.push(`only ${groups.length} log groups (function, access, execution expected)`);
    for (const { name, body } of groups) if (body.retention_in_days !== "${var.log_retention_days}") bad.push(`${name}: retention ${body.retention_in_days}`);
    const v = (variables.log_retention_days || [])[0];
    const cond = v && asArray(v.validation).map((x) => x.condition).join(" ");
    for (const n of [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]) {
      if (!cond || !new RegExp(`[\\[ ,]${n}[,\\]]`).test(cond)) { bad.push(`validation misses ${n}`); break; }
    }
    return bad.length ? bad.join("; ") : null;
  });

  // --- Lambda -------------------------------------------------------------------------------------
  check("lambda: provided.al2023, handler bootstrap, the zip (hash read at plan time) or the S3 object (hash from its manifest), preconditions on the manifest", () => {
    const fn = resources(config, "aws_lambda_function")[0];
    if (!fn) return "no aws_lambda_function";
    const b = fn.body;
    const bad = [];
    if (b.runtime !== "provided.al2023") bad.push(`runtime ${b.runtime}`);
    if (b.handler !== "bootstrap") bad.push(`handler ${b.handler}`);
    if (!/local\.package_from_s3\s*\?\s*null\s*:\s*local\.lambda_zip_path/.test(b.filename)) bad.push(`filename ${b.filename}`);
    if (b.s3_bucket !== "${var.lambda_s3_bucket}" || b.s3_key !== "${var.lambda_s3_key}" || b.s3_object_version !== "${var.lambda_s3_object_version}") bad.push("s3_bucket/s3_key/s3_object_version are not the variables");
    if (!/filebase64sha256\(local\.lambda_zip_path\)/.test(b.source_code_hash) || !/local\.manifest\.package\.source_code_hash/.test(b.source_code_hash)) bad.push(`source_code_hash ${b.source_code_hash}`);
    if (JSON.stringify(b.architectures) !== JSON.stringify(["${local.lambda_architecture}"])) bad.push(`architectures ${JSON.stringify(b.architectures)}`);
    const pre = asArray(block(b, "lifecycle")?.precondition).map((p) => String(p.condition)).join("\n");
    for (const [what, re] of [
      ["manifest present", /local\.manifest_ok/],
      ["architecture", /local\.manifest_architecture\s*==\s*local\.lambda_architecture/],
      ["glibc floor", /local\.glibc_floor_ok/],
      ["zip hash", /local\.manifest_sha256\s*==/],
      ["catalogue", /length\(local\.unknown_models\)\s*==\s*0/],
      ["reserved concurrency", /var\.lambda_reserved_concurrency\s*<=\s*local\.account_concurrency_limit\s*-\s*local\.lambda_unreserved_minimum/],
    ]) if (!re.test(pre)) bad.push(`no ${what} precondition`);
    if (!asArray(b.depends_on).includes("${aws_cloudwatch_log_group.lambda}")) bad.push("does not depend on its log group");
    return bad.length ? bad.join("; ") : null;
  });

  // Jobs need the function's timeout up to 900 s while API Gateway still waits 29 s: the runtime's
  // request budget (IMAGEGEN_REQUEST_BUDGET_MS, 28,500 ms by default) is what ends a synchronous
  // request in time, so lambda_environment may lower it but not raise it past 28,500.
  check("lambda: timeout is lambda_timeout_seconds (at most 900 s), else 900 s with jobs and 28 s without; integrations wait 29 s; the request budget cannot be raised past 28,500 ms", () => {
    const fn = resources(config, "aws_lambda_function")[0];
    const v = (variables.lambda_timeout_seconds || [])[0];
    if (!fn || fn.body.timeout !== "${local.lambda_timeout_seconds}") return `timeout is ${fn && fn.body.timeout}, not local.lambda_timeout_seconds`;
    if (!/^\$\{var\.lambda_timeout_seconds\s*!=\s*null\s*\?\s*var\.lambda_timeout_seconds\s*:\s*\(local\.jobs_enabled\s*\?\s*900\s*:\s*28\)\}$/.test(String(locals.lambda_timeout_seconds || ""))) return `local.lambda_timeout_seconds ${locals.lambda_timeout_seconds}`;
    const cond = v && asArray(v.validation).map((x) => x.condition).join(" ");
    if (v.default !== null) return `lambda_timeout_seconds defaults to ${JSON.stringify(v.default)}`;
    if (!cond || !/var\.lambda_timeout_seconds\s*<=\s*900\b/.test(cond) || !/>=\s*3\b/.test(cond)) return `validation does not hold it to 3..900: ${cond}`;
    const integ = resources(config, "aws_api_gateway_integration");
    if (!integ.every((i) => i.body.timeout_milliseconds === 29000)) return "integrations do not set timeout_milliseconds = 29000";
    const env = asArray((variables.lambda_environment || [{}])[0].validation).map((x) => x.condition).join(" ");
    if (!/IMAGEGEN_REQUEST_BUDGET_MS"\]\)\s*<=\s*28500/.test(env)) return "lambda_environment does not refuse IMAGEGEN_REQUEST_BUDGET_MS above 28500";
    for (const n of ["IMAGEGEN_TABLE", "IMAGEGEN_JOB_TIMEOUT_S", "IMAGEGEN_IMAGE_RETENTION_DAYS"]) if (!env.includes(`"${n}"`)) return `lambda_environment does not refuse ${n}`;
    return null;
  });

  // One source of truth: a setting the policy's config.lua has reaches the function only when its
  // Terraform variable is set ("var.x == null ? {} : { IMAGEGEN_X = ... }").
  check("lambda: IMAGEGEN_* settings of config.lua are set only from a Terraform variable that is set; IMAGEGEN_BEDROCK_REGION and the Bedrock grant share one region", () => {
    const env = locals.lambda_environment || "";
    const bad = [];
    for (const [name, v] of [
      ["IMAGEGEN_ALLOWED_MODELS", "allowed_models"], ["IMAGEGEN_DEFAULT_MODEL", "default_model"], ["IMAGEGEN_URL_TTL", "url_ttl_seconds"],
      ["IMAGEGEN_LOG_PROMPTS", "log_prompts"], ["IMAGEGEN_KEY_PREFIX", "image_prefix"], ["IMAGEGEN_CACHE_KEY_PREFIX", "image_prefix"],
    ]) {
      // The branch taken when var.<v> is set: from its "var.<v> == null ? {} : {" to the next branch.
      const head = new RegExp(`var\\.${v}\\s*==\\s*null\\s*\\?\\s*\\{\\}\\s*:\\s*\\{`).exec(env);
      const rest = head ? env.slice(head.index + head[0].length) : "";
      const branch = rest.slice(0, Math.max(0, rest.search(/\?\s*\{\}\s*:/) >= 0 ? rest.search(/\?\s*\{\}\s*:/) : rest.length));
      if (!new RegExp(`\\b${name}\\s*=`).test(branch)) bad.push(`${name} is not set only when var.${v} is`);
      if ((env.match(new RegExp(`\\b${name}\\s*=`, "g")) || []).length !== 1) bad.push(`${name} is set in more than one place`);
    }
    if (!/length\(var\.cors_allow_origins\)\s*==\s*0\s*\?\s*\{\}\s*:\s*\{\s*IMAGEGEN_CORS_ORIGINS/.test(env)) bad.push("IMAGEGEN_CORS_ORIGINS is not set only when cors_allow_origins is");
    if (bad.length) return bad.join("; ");
    if (!/IMAGEGEN_BEDROCK_REGION\s*=\s*local\.bedrock_region\b/.test(env)) return "IMAGEGEN_BEDROCK_REGION is not local.bedrock_region";
    if (!/IMAGEGEN_BUCKET\s*=\s*aws_s3_bucket\.images\.id/.test(env)) return "IMAGEGEN_BUCKET is not the bucket";
    const arns = JSON.stringify(locals.bedrock_invoke_arns || "");
    if (!/local\.bedrock_models/.test(arns) || !/local\.bedrock_region/.test(arns)) return "bedrock_invoke_arns does not use local.bedrock_models and local.bedrock_region";
    if (!/var\.bedrock_region/.test(JSON.stringify(locals.bedrock_region || ""))) return "local.bedrock_region ignores var.bedrock_region";
    return null;
  });

  // --- API Gateway --------------------------------------------------------------------------------
  check("api: routes /generate-image (GET, POST), /edit-image (POST), /uploads (POST), /models (GET), with the table /jobs (POST), /jobs/{id} (GET), /images (GET) and /images/{id} (GET), /health (GET), OPTIONS on each; all but /health protected", () => {
    const base = [...asArray(locals.api_routes_generation), ...asArray(locals.api_routes_table), ...asArray(locals.api_routes_public)];
    const want = { "generate-image": ["GET", "POST"], "edit-image": ["POST"], uploads: ["POST"], models: ["GET"], jobs: ["POST"], "jobs/{id}": ["GET"], images: ["GET"], "images/{id}": ["GET"], health: ["GET"] };
    const bad = [];
    if (JSON.stringify(base.map((r) => r.path)) !== JSON.stringify(Object.keys(want))) bad.push(`api_routes_generation, api_routes_table, api_routes_public paths ${JSON.stringify(base.map((r) => r.path))}`);
    if (!/^\$\{concat\(local\.api_routes_generation,\s*local\.jobs_enabled\s*\?\s*local\.api_routes_table\s*:\s*\[\],\s*local\.api_routes_public,\s*var\.web_page\s*\?\s*local\.api_routes_page\s*:\s*\[\]\)\}$/.test(String(locals.api_routes_base || ""))) bad.push(`local.api_routes_base does not add the table's routes only with jobs and the page's only with web_page: ${locals.api_routes_base}`);
    for (const [p, methods] of Object.entries(want)) {
      const route = base.find((r) => r.path === p);
      if (!route || JSON.stringify(route.methods) !== JSON.stringify(methods)) bad.push(`${p}: ${JSON.stringify(route)}`);
      else if (route.protected !== (p !== "health")) bad.push(`${p}: protected = ${route.protected}`);
    }
    if (!/^\$\{\{\s*for\s+r\s+in\s+local\.api_route_list\s*:\s*r\.path\s*=>\s*r\s*\}\}$/.test(String(locals.api_routes || ""))) bad.push(`local.api_routes is not keyed by path from local.api_route_list: ${locals.api_routes}`);
    const m = String(locals.api_methods || "");
    if (!/for\s+path,\s*route\s+in\s+local\.api_routes\b/.test(m)) bad.push("local.api_methods is not built from local.api_routes");
    if (!/concat\(route\.methods,\s*\["OPTIONS"\]\)/.test(m)) bad.push("OPTIONS is not added to every route");
    if (!/method\s*!=\s*"OPTIONS"/.test(m)) bad.push("OPTIONS is not exempt from API keys");
    for (const type of ["aws_api_gateway_method", "aws_api_gateway_integration", "aws_lambda_permission"]) {
      const r = resources(config, type).filter((x) => x.name !== "authorizer");
      if (r.length !== 1 || r[0].body.for_each !== "${local.api_methods}") bad.push(`${type} is not one resource per local.api_methods entry`);
    }
    for (const type of ["aws_api_gateway_method", "aws_api_gateway_integration"]) {
      const r = resources(config, type)[0];
      if (r && r.body.resource_id !== "${local.api_resource_ids[each.value.path]}") bad.push(`${type}.resource_id is ${r.body.resource_id}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  // The web page: GET / on the REST API's root resource and GET /web/{file}, never protected (the
  // page asks for the key itself), only with web_page (on by default).
  check("api: the web page's routes GET / (the root resource) and GET /web/{file}, unprotected, only with web_page", () => {
    const page = asArray(locals.api_routes_page);
    const bad = [];
    const got = page.map((r) => [r.path, r.methods, r.protected]);
    if (JSON.stringify(got) !== JSON.stringify([["", ["GET"], false], ["web/{file}", ["GET"], false]])) bad.push(`api_routes_page is ${JSON.stringify(page)}`);
    if (!/^\$\{merge\(\s*\{\s*""\s*=\s*aws_api_gateway_rest_api\.this\.root_resource_id\s*\}/.test(String(locals.api_resource_ids || ""))) bad.push("local.api_resource_ids does not map \"\" to the root resource");
    if (!/if\s+path\s*!=\s*""/.test(String(locals.api_resource_paths || ""))) bad.push("local.api_resource_paths would declare a resource for the root");
    const v = (variables.web_page || [{}])[0];
    if (unwrap(v.type) !== "bool" || v.default !== true) bad.push(`web_page is not a bool defaulting to true: ${JSON.stringify(v)}`);
    return bad.length ? bad.join("; ") : null;
  });

  // Nested paths: one resource block per depth, each keyed by its full path and hanging below the
  // block of the depth above; every route's parents are declared (local.api_resource_paths).
  check("api: nested resources, one block per depth (route, route_depth2, route_depth3), each below its parent; every one in local.api_resource_ids", () => {
    const blocks = resources(config, "aws_api_gateway_resource");
    const byName = Object.fromEntries(blocks.map((b) => [b.name, b.body]));
    const want = [
      ["route", "${local.api_resources[0]}", "${aws_api_gateway_rest_api.this.root_resource_id}"],
      ["route_depth2", "${local.api_resources[1]}", "${aws_api_gateway_resource.route[each.value.parent].id}"],
      ["route_depth3", "${local.api_resources[2]}", "${aws_api_gateway_resource.route_depth2[each.value.parent].id}"],
    ];
    const bad = [];
    if (blocks.length !== want.length) bad.push(`${blocks.length} aws_api_gateway_resource blocks`);
    for (const [name, forEach, parent] of want) {
      const b = byName[name];
      if (!b) { bad.push(`no aws_api_gateway_resource.${name}`); continue; }
      if (b.for_each !== forEach) bad.push(`${name}.for_each ${b.for_each}`);
      if (b.parent_id !== parent) bad.push(`${name}.parent_id ${b.parent_id}`);
      if (b.path_part !== "${each.value.path_part}") bad.push(`${name}.path_part ${b.path_part}`);
      if (!String(locals.api_resource_ids || "").includes(`aws_api_gateway_resource.${name} :`)) bad.push(`local.api_resource_ids misses ${name}`);
    }
    const paths = String(locals.api_resource_paths || "");
    if (!/for\s+depth\s+in\s+range\(1,\s*length\(split\("\/",\s*path\)\)\s*\+\s*1\)/.test(paths) || !/keys\(local\.api_routes\)/.test(paths)) bad.push("local.api_resource_paths does not hold every route's parents");
    const api = resources(config, "aws_api_gateway_rest_api")[0];
    const pre = asArray(block(api && api.body, "lifecycle")?.precondition).map((p) => String(p.condition)).join(" ");
    if (!/length\(split\("\/",\s*path\)\)\s*<=\s*3/.test(pre)) bad.push("no precondition refusing a route deeper than the three blocks");
    for (const route of [...asArray(locals.api_routes_generation), ...asArray(locals.api_routes_table), ...asArray(locals.api_routes_public), ...asArray(locals.api_routes_openai)]) {
      if (String(route.path).split("/").length > 3) bad.push(`${route.path} is deeper than three parts`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  // The OpenAI-compatible routes: only with openai_api (false by default), never behind an API key
  // or an authorizer (their clients send only Authorization: Bearer), and refused unless the
  // package's config.lua requires a bearer key or allow_anonymous_access opens the API.
  check("api: the /v1 routes (POST /v1/images/generations, POST /v1/images/edits, GET /v1/models) only with openai_api (default false), unprotected by API Gateway, refused unless the policy requires bearer keys or allow_anonymous_access", () => {
    const bad = [];
    const v = (variables.openai_api || [{}])[0];
    if (unwrap(v.type) !== "bool" || v.default !== false) bad.push(`openai_api is not a bool defaulting to false: ${JSON.stringify(v)}`);
    const openai = asArray(locals.api_routes_openai);
    const want = { "v1/images/generations": ["POST"], "v1/images/edits": ["POST"], "v1/models": ["GET"] };
    if (JSON.stringify(openai.map((r) => r.path).sort()) !== JSON.stringify(Object.keys(want).sort())) bad.push(`api_routes_openai paths ${JSON.stringify(openai.map((r) => r.path))}`);
    for (const r of openai) {
      if (JSON.stringify(r.methods) !== JSON.stringify(want[r.path])) bad.push(`${r.path} methods ${JSON.stringify(r.methods)}`);
      if (r.protected !== false) bad.push(`${r.path} is protected by API Gateway (an x-api-key or an authorizer would refuse OpenAI clients)`);
    }
    if (!/^\$\{concat\(local\.api_routes_base,\s*var\.openai_api\s*\?\s*local\.api_routes_openai\s*:\s*\[\]\)\}$/.test(String(locals.api_route_list || ""))) bad.push(`local.api_route_list ${locals.api_route_list}`);
    const api = resources(config, "aws_api_gateway_rest_api")[0];
    const pre = asArray(block(api && api.body, "lifecycle")?.precondition);
    const guard = pre.find((p) => /var\.openai_api/.test(String(p.condition)));
    if (!guard || !/^\$\{!var\.openai_api\s*\|\|\s*var\.allow_anonymous_access\s*\|\|\s*local\.policy_bearer_keys_enforced\}$/.test(String(guard.condition))) bad.push(`no precondition refusing openai_api unless the policy requires bearer keys: ${guard && guard.condition}`);
    else if (!/api_keys\.required = true/.test(guard.error_message) || !/allow_anonymous_access = true/.test(guard.error_message)) bad.push("the refusal does not say what to do (api_keys.required = true, or allow_anonymous_access = true)");
    const enforced = String(locals.policy_bearer_keys_enforced || "");
    if (!/local\.policy_bearer_keys_required\s*==\s*true/.test(enforced) || !/local\.policy_bearer_keys_count\s*>\s*0/.test(enforced)) bad.push(`local.policy_bearer_keys_enforced ${enforced}`);
    if (!/local\.policy\.api_keys\.required/.test(String(locals.policy_bearer_keys_required || "")) || !/local\.policy\.api_keys\.count/.test(String(locals.policy_bearer_keys_count || ""))) bad.push("the bearer key settings are not read from the manifest's policy.settings.api_keys");
    // The no-route answers name the routes declared, /v1 included when it is.
    const table = String(locals.gateway_errors || "");
    for (const type of ["MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND"]) {
      const m = new RegExp(`\\b${type}\\s*=\\s*\\{[^\\n]*message\\s*=\\s*"([^"]*)"`).exec(table);
      if (!m || !m[1].includes("${local.api_routes_served}")) bad.push(`the ${type} message does not name the routes declared (local.api_routes_served)`);
    }
    if (!/for\s+r\s+in\s+local\.api_route_list\b/.test(String(locals.api_routes_served_items || ""))) bad.push("local.api_routes_served_items is not built from local.api_route_list");
    return bad.length ? bad.join("; ") : null;
  });

  check("api: every integration is AWS_PROXY invoked with POST on the function", () => {
    const integ = resources(config, "aws_api_gateway_integration");
    if (integ.length === 0) return "no integrations";
    const bad = integ.filter((i) => i.body.type !== "AWS_PROXY" || i.body.integration_http_method !== "POST" || i.body.uri !== "${aws_lambda_function.this.invoke_arn}");
    return bad.length ? bad.map((i) => `${i.name}: ${i.body.type} ${i.body.integration_http_method} ${i.body.uri}`).join("; ") : null;
  });

  check("api: the Lambda permission is scoped to this API's execution ARN", () => {
    const perms = resources(config, "aws_lambda_permission");
    if (perms.length === 0) return "no aws_lambda_permission";
    const bad = [];
    for (const { name, body } of perms) {
      if (body.principal !== "apigateway.amazonaws.com" || body.action !== "lambda:InvokeFunction") bad.push(`${name}: ${body.principal} ${body.action}`);
      if (!/^\$\{aws_api_gateway_(rest_api|stage)\.this\.execution_arn\}\//.test(body.source_arn || "")) bad.push(`${name}: source_arn ${body.source_arn}`);
    }
    // API Gateway names the request's own path in the source ARN: a path parameter ({id}) is "*"
    // there, and a statement id takes no braces.
    const api = perms.find((p) => p.name === "api");
    if (!api || !String(api.body.source_arn).includes('replace(each.value.path, "/\\\\{[^}/]+\\\\}/", "*")')) bad.push(`api: source_arn does not put "*" for path parameters: ${api && api.body.source_arn}`);
    if (!api || !/"\/\[\{\}\]\/",\s*""\)/.test(api.body.statement_id)) bad.push(`api: statement_id does not drop braces: ${api && api.body.statement_id}`);
    return bad.length ? bad.join("; ") : null;
  });

  check("api: the deployment redeploys on change (triggers hash, create_before_destroy) and has no stage_name", () => {
    const d = resources(config, "aws_api_gateway_deployment")[0];
    if (!d) return "no deployment";
    const trig = (d.body.triggers || {}).redeployment || "";
    if (!/sha1\(jsonencode\(/.test(trig)) return `triggers: ${trig}`;
    for (const r of ["aws_api_gateway_method.route", "aws_api_gateway_integration.route", "aws_api_gateway_resource.route", "aws_api_gateway_resource.route_depth2", "aws_api_gateway_resource.route_depth3"]) {
      if (!new RegExp(`${r.replace(/\./g, "\\.")}\\b(?!_)`).test(trig)) return `triggers miss ${r}`;
    }
    if (block(d.body, "lifecycle")?.create_before_destroy !== true) return "no create_before_destroy";
    return null;
  });

  check("api: the stage writes access logs, methods are throttled, data tracing is off", () => {
    const st = resources(config, "aws_api_gateway_stage")[0];
    if (!st) return "no stage";
    const als = block(st.body, "access_log_settings");
    if (!als || als.destination_arn !== "${aws_cloudwatch_log_group.api_access.arn}" || !als.format) return "no access log settings";
    if (!asArray(st.body.depends_on).includes("${aws_api_gateway_account.this}")) return "the stage does not depend on the account logging role";
    const ms = resources(config, "aws_api_gateway_method_settings")[0];
    const s = ms && block(ms.body, "settings");
    if (!s || s.throttling_rate_limit !== "${var.api_throttling_rate_limit}" || s.throttling_burst_limit !== "${var.api_throttling_burst_limit}") return "no method throttling";
    if (s.data_trace_enabled !== false) return "data_trace_enabled is not false";
    return null;
  });

  check("api: the account CloudWatch role is opt-in (count)", () => {
    const acc = resources(config, "aws_api_gateway_account")[0];
    if (!acc) return "no aws_api_gateway_account";
    return /var\.manage_api_gateway_account/.test(acc.body.count || "") ? null : `count is ${acc.body.count}`;
  });

  // Every response type a client can see answers in the API's error shape; README lists each code.
  check("api: gateway responses for every client-visible type, in the {\"error\": {code, message, requestId}} shape with CORS headers, each code in terraform/README.md", () => {
    const gr = resources(config, "aws_api_gateway_gateway_response");
    if (gr.length !== 1) return `${gr.length} gateway response resources`;
    const body = gr[0].body;
    if (body.for_each !== "${local.gateway_errors}") return `for_each ${body.for_each}`;
    const table = String(locals.gateway_errors || "");
    const bad = [];
    for (const type of ["ACCESS_DENIED", "INVALID_API_KEY", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "QUOTA_EXCEEDED", "INTEGRATION_TIMEOUT",
      "INTEGRATION_FAILURE", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "WAF_FILTERED", "RESOURCE_NOT_FOUND", "UNSUPPORTED_MEDIA_TYPE"]) {
      if (!new RegExp(`\\b${type}\\s*=\\s*\\{`).test(table)) bad.push(`no ${type}`);
    }
    const tmpl = JSON.stringify(body.response_templates || "");
    if (!/error\s*=\s*\{[^}]*code\s*=\s*each\.value\.code[^}]*message\s*=\s*each\.value\.message[^}]*requestId\s*=\s*\\"\$context\.requestId\\"/.test(tmpl)) bad.push(`template ${tmpl}`);
    if (!/local\.gateway_cors_headers/.test(String(body.response_parameters))) bad.push("response_parameters do not carry local.gateway_cors_headers");
    const readme = fs.readFileSync(path.join(moduleDir, "README.md"), "utf8");
    const codes = [...new Set([...table.matchAll(/code\s*=\s*"([a-z_]+)"/g)].map((m) => m[1]))];
    for (const code of codes) if (!readme.includes(`\`${code}\``)) bad.push(`code ${code} is not in terraform/README.md`);
    return bad.length ? bad.join("; ") : null;
  });

  // Forms (POST /v1/images/edits) reach the function base64-encoded and intact; JSON stays text.
  check("api: the REST API's binary media types are exactly multipart/form-data (no */*, no image/*: no route takes a raw image), and a change of them redeploys", () => {
    const api = resources(config, "aws_api_gateway_rest_api")[0];
    const bad = [];
    if (!api || api.body.binary_media_types !== "${local.api_binary_media_types}") bad.push(`binary_media_types is ${api && api.body.binary_media_types}`);
    if (JSON.stringify(locals.api_binary_media_types) !== JSON.stringify(["multipart/form-data"])) bad.push(`local.api_binary_media_types ${JSON.stringify(locals.api_binary_media_types)}`);
    const d = resources(config, "aws_api_gateway_deployment")[0];
    const trig = String(((d && d.body.triggers) || {}).redeployment || "");
    if (!/aws_api_gateway_rest_api\.this\.binary_media_types/.test(trig)) bad.push("the deployment's triggers do not hash the binary media types");
    return bad.length ? bad.join("; ") : null;
  });

  // A too large request answers 413 in the API's shape, and tells the client to upload instead.
  check("api: REQUEST_TOO_LARGE answers 413 payload_too_large and sends large images to POST /uploads", () => {
    const table = String(locals.gateway_errors || "");
    const m = /\bREQUEST_TOO_LARGE\s*=\s*\{\s*status\s*=\s*(\d+),\s*code\s*=\s*"([^"]*)",\s*message\s*=\s*"([^"]*)"\s*\}/.exec(table);
    if (!m) return "no one-line REQUEST_TOO_LARGE entry";
    const bad = [];
    if (m[1] !== "413" || m[2] !== "payload_too_large") bad.push(`status ${m[1]} code ${m[2]}`);
    for (const words of ["10 MB", "6 MB", "POST /uploads"]) if (!m[3].includes(words)) bad.push(`the message does not say "${words}": ${m[3]}`);
    return bad.length ? bad.join("; ") : null;
  });

  check("access: closed by default (one key, usage plan with a daily quota); allow_anonymous_access is the one switch that opens it", () => {
    const v = (n) => (variables[n] || [{}])[0];
    const bad = [];
    if (v("allow_anonymous_access").default !== false) bad.push("allow_anonymous_access does not default to false");
    if (JSON.stringify(v("api_keys").default) !== JSON.stringify({ default: {} })) bad.push(`api_keys default ${JSON.stringify(v("api_keys").default)}`);
    if (v("usage_plan_quota_period").default !== "DAY") bad.push("the quota is not daily by default");
    if (!/var\.allow_anonymous_access\s*\?\s*\{\}\s*:\s*var\.api_keys/.test(String(locals.api_keys))) bad.push(`local.api_keys ${locals.api_keys}`);
    const api = resources(config, "aws_api_gateway_rest_api")[0];
    const pre = asArray(block(api && api.body, "lifecycle")?.precondition).map((p) => String(p.condition)).join(" ");
    if (!/var\.allow_anonymous_access\s*\|\|\s*local\.api_key_required\s*\|\|\s*local\.authorizer_type\s*!=\s*"NONE"/.test(pre)) bad.push("no precondition refusing an API that requires nothing");
    return bad.length ? bad.join("; ") : null;
  });

  check("api: API keys (for_each over local.api_keys) with a usage plan (rate, burst, quota) and a usage plan key each", () => {
    const up = resources(config, "aws_api_gateway_usage_plan")[0];
    if (!up) return "no usage plan";
    const th = block(up.body, "throttle_settings");
    const q = block(up.body, "quota_settings");
    if (!th || !th.rate_limit || !th.burst_limit) return "no throttle settings";
    if (!q || !q.limit || !q.period) return "no quota settings";
    if (block(up.body, "api_stages")?.stage !== "${aws_api_gateway_stage.this.stage_name}") return "api_stages.stage is not taken from the stage";
    if (!resources(config, "aws_api_gateway_usage_plan_key")[0]) return "no usage plan key";
    for (const t of ["aws_api_gateway_api_key", "aws_api_gateway_usage_plan_key"]) {
      if (resources(config, t)[0]?.body.for_each !== "${local.api_keys}") return `${t} is not one per local.api_keys entry`;
    }
    if (!/local\.api_key_required/.test(up.body.count || "")) return "the usage plan is not conditional on keys";
    return null;
  });

  check("alarms: optional 5XX rate, throttles and duration alarms notify var.alarm_sns_topic_arn", () => {
    const alarms = resources(config, "aws_cloudwatch_metric_alarm");
    const names = alarms.map((a) => a.name).sort().join(",");
    if (names !== "api_5xx_rate,lambda_duration,lambda_throttles") return `alarms: ${names}`;
    for (const a of alarms) {
      if (!/var\.create_alarms/.test(a.body.count || "")) return `${a.name} is not optional`;
      if (a.body.alarm_actions !== "${local.alarm_actions}") return `${a.name} alarm_actions ${a.body.alarm_actions}`;
    }
    return /var\.alarm_sns_topic_arn/.test(locals.alarm_actions || "") ? null : "alarm actions do not use var.alarm_sns_topic_arn";
  });

  // --- Jobs ---------------------------------------------------------------------------------------
  // The table the runtime's jobs and image records live in, as runtime/local/README.md
  // describes it; the function's asynchronous invocation of itself; all of it behind jobs_enabled.
  check("jobs: the table is on demand, keys pk/sk (S), index gsi1 on gsi1pk/gsi1sk projecting ALL, TTL on expires_at (not an attribute), point-in-time recovery, SSE (AWS owned key, or table_kms_key_arn), deletion protection from a variable, only with jobs_enabled", () => {
    const t = resources(config, "aws_dynamodb_table");
    if (t.length !== 1) return `${t.length} aws_dynamodb_table resources`;
    const b = t[0].body;
    const bad = [];
    if (b.count !== "${local.jobs_enabled ? 1 : 0}") bad.push(`count ${b.count}`);
    if (b.billing_mode !== "PAY_PER_REQUEST") bad.push(`billing_mode ${b.billing_mode}`);
    if (b.hash_key !== "pk" || b.range_key !== "sk") bad.push(`keys ${b.hash_key}/${b.range_key}`);
    const attrs = asArray(b.attribute).map((a) => `${a.name}:${a.type}`).sort();
    if (JSON.stringify(attrs) !== JSON.stringify(["gsi1pk:S", "gsi1sk:S", "pk:S", "sk:S"])) bad.push(`attributes ${JSON.stringify(attrs)} (only key attributes: a TTL attribute here fails the plan)`);
    const gsi = asArray(b.global_secondary_index);
    if (gsi.length !== 1 || gsi[0].name !== "gsi1" || gsi[0].hash_key !== "gsi1pk" || gsi[0].range_key !== "gsi1sk" || gsi[0].projection_type !== "ALL") bad.push(`global_secondary_index ${JSON.stringify(gsi)}`);
    const ttl = block(b, "ttl");
    if (!ttl || ttl.attribute_name !== "expires_at" || ttl.enabled !== true) bad.push(`ttl ${JSON.stringify(ttl)}`);
    if (block(b, "point_in_time_recovery")?.enabled !== true) bad.push("point-in-time recovery is not on");
    const sse = block(b, "server_side_encryption");
    if (!sse || sse.enabled !== "${var.table_kms_key_arn != null}" || sse.kms_key_arn !== "${var.table_kms_key_arn}") bad.push(`server_side_encryption ${JSON.stringify(sse)}`);
    if (b.deletion_protection_enabled !== "${var.table_deletion_protection}") bad.push(`deletion_protection_enabled ${b.deletion_protection_enabled}`);
    if (b.name !== "${var.name}") bad.push(`name ${b.name}`);
    const v = (n) => (variables[n] || [{}])[0];
    if (v("jobs_enabled").default !== true || unwrap(v("jobs_enabled").type) !== "bool") bad.push("jobs_enabled is not a bool defaulting to true");
    if (v("table_deletion_protection").default !== true) bad.push("table_deletion_protection does not default to true");
    if (v("table_kms_key_arn").default !== null) bad.push("table_kms_key_arn does not default to null (the AWS owned key)");
    if (locals.jobs_enabled !== "${var.jobs_enabled}") bad.push(`local.jobs_enabled ${locals.jobs_enabled}`);
    return bad.length ? bad.join("; ") : null;
  });

  check("jobs: the role may PutItem/UpdateItem/GetItem/Query the table and Query its indexes, invoke only the function itself (its ARN built from var.name), and send failed events only to the given SQS queue or SNS topic", () => {
    const bad = [];
    const byAction = (re) => statements.filter(({ st }) => st.Effect === "Allow" && actionsOf(config, st).some((a) => re.test(a)));
    const dynamo = byAction(/^dynamodb:/);
    const shapes = dynamo.map(({ st }) => JSON.stringify([actionsOf(config, st), resourcesOf(config, st)])).sort();
    const table = String(locals.table_arn || "");
    if (table !== '${try(aws_dynamodb_table.this[0].arn, "")}') bad.push(`local.table_arn ${table}`);
    const want = [
      JSON.stringify([["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"], [table]]),
      JSON.stringify([["dynamodb:Query"], ["${local.table_arn}/index/*"]]),
    ].sort();
    if (JSON.stringify(shapes) !== JSON.stringify(want)) bad.push(`DynamoDB statements ${JSON.stringify(shapes)}`);
    const lambda = byAction(/^lambda:/);
    if (lambda.length !== 1 || JSON.stringify(actionsOf(config, lambda[0].st)) !== JSON.stringify(["lambda:InvokeFunction"]) ||
      JSON.stringify(resourcesOf(config, lambda[0].st)) !== JSON.stringify([locals.lambda_self_arn])) bad.push(`Lambda statements ${JSON.stringify(lambda.map((x) => x.st))}`);
    if (locals.lambda_self_arn !== "arn:${data.aws_partition.current.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}") bad.push(`local.lambda_self_arn ${locals.lambda_self_arn}`);
    if (/aws_lambda_function\.this/.test(String(locals.lambda_self_arn))) bad.push("the function's own ARN is read from the function (a cycle)");
    for (const [re, action] of [[/^sqs:/, "sqs:SendMessage"], [/^sns:/, "sns:Publish"]]) {
      const st = byAction(re);
      if (st.length !== 1 || JSON.stringify(actionsOf(config, st[0].st)) !== JSON.stringify([action]) || JSON.stringify(resourcesOf(config, st[0].st)) !== JSON.stringify(["${var.jobs_on_failure_destination_arn}"])) bad.push(`${action} statements ${JSON.stringify(st.map((x) => x.st))}`);
    }
    const list = String(locals.lambda_jobs_statements || "");
    if (!/local\.jobs_enabled\s*\?\s*\[local\.lambda_statement_table,\s*local\.lambda_statement_table_indexes,\s*local\.lambda_statement_invoke_self\]\s*:\s*\[\]/.test(list)) bad.push("the table and self-invoke statements are not conditional on jobs");
    if (!/local\.jobs_enabled\s*&&\s*local\.jobs_failure_service\s*==\s*"sqs"/.test(list) || !/local\.jobs_enabled\s*&&\s*local\.jobs_failure_service\s*==\s*"sns"/.test(list)) bad.push("the destination statements are not conditional on jobs and the destination's service");
    if (!/local\.lambda_jobs_statements/.test(unwrap(locals.lambda_policy_statements || ""))) bad.push("the jobs statements are not in the function's policy");
    return bad.length ? bad.join("; ") : null;
  });

  check("jobs: the function gets IMAGEGEN_TABLE (the table's name) and IMAGEGEN_IMAGE_RETENTION_DAYS (image_retention_days, so records expire with their images) with jobs, and IMAGEGEN_JOB_TIMEOUT_S only when job_timeout_seconds is set; its asynchronous invocations keep Lambda's defaults (2 retries, 21600 s) unless set, with an optional on-failure destination", () => {
    const env = String(locals.lambda_environment || "");
    const bad = [];
    if (!/local\.jobs_enabled\s*\?\s*\{\s*IMAGEGEN_TABLE\s*=\s*aws_dynamodb_table\.this\[0\]\.name\s*\}\s*:\s*\{\}/.test(env)) bad.push("IMAGEGEN_TABLE is not the table's name, with jobs only");
    if (!/local\.jobs_enabled\s*\?\s*\{\s*IMAGEGEN_IMAGE_RETENTION_DAYS\s*=\s*tostring\(var\.image_retention_days\)\s*\}\s*:\s*\{\}/.test(env)) bad.push("IMAGEGEN_IMAGE_RETENTION_DAYS is not image_retention_days (the bucket's image lifecycle), with the table only");
    if (!/local\.jobs_enabled\s*&&\s*var\.job_timeout_seconds\s*!=\s*null\s*\?\s*\{\s*IMAGEGEN_JOB_TIMEOUT_S\s*=\s*tostring\(var\.job_timeout_seconds\)\s*\}\s*:\s*\{\}/.test(env)) bad.push("IMAGEGEN_JOB_TIMEOUT_S is not set only when job_timeout_seconds is");
    const c = resources(config, "aws_lambda_function_event_invoke_config");
    if (c.length !== 1) return `${c.length} aws_lambda_function_event_invoke_config resources`;
    const b = c[0].body;
    if (b.count !== "${local.jobs_enabled ? 1 : 0}") bad.push(`event invoke config count ${b.count}`);
    if (b.function_name !== "${aws_lambda_function.this.function_name}") bad.push(`function_name ${b.function_name}`);
    if (b.maximum_retry_attempts !== "${var.jobs_max_retry_attempts}" || b.maximum_event_age_in_seconds !== "${var.jobs_max_event_age_seconds}") bad.push("retries and event age are not the variables");
    const dyn = block((b.dynamic || {}), "destination_config") || asArray((b.dynamic || {}).destination_config)[0];
    if (!dyn || !/var\.jobs_on_failure_destination_arn\s*==\s*null\s*\?\s*\[\]/.test(dyn.for_each || "")) bad.push("the on-failure destination is not optional on var.jobs_on_failure_destination_arn");
    const v = (n) => (variables[n] || [{}])[0];
    if (v("jobs_max_retry_attempts").default !== 2 || v("jobs_max_event_age_seconds").default !== 21600) bad.push("retries and event age do not default to Lambda's 2 and 21600");
    if (v("job_timeout_seconds").default !== null) bad.push("job_timeout_seconds does not default to null (the runtime's own)");
    const dest = asArray(v("jobs_on_failure_destination_arn").validation).map((x) => x.condition).join(" ");
    if (!/\(sqs\|sns\)/.test(dest) || /fifo/.test(dest)) bad.push("the destination is not validated as a standard SQS queue or SNS topic");
    for (const n of ["jobs_url", "images_url", "table_name"]) if (!outputs[n]) bad.push(`no output ${n}`);
    return bad.length ? bad.join("; ") : null;
  });

  // Rate limits behind Lambda: per-container buckets grant N times the budget with N warm
  // execution environments, so the function counts them in the table when it exists; "dynamodb"
  // without the table is refused at plan time (the policy would refuse to start), and the role
  // grants every DynamoDB operation the runtime's counters call (runtime/src/handler/ratelimit.c).
  check("ratelimit: IMAGEGEN_RATE_LIMIT_BACKEND is always set (rate_limit_backend, else dynamodb with the table, memory without), dynamodb without jobs is refused naming what to set, the table's statement grants every DynamoDB call of the counters; IMAGEGEN_RECORD_PROMPTS only from record_prompts, with the table", () => {
    const bad = [];
    const env = String(locals.lambda_environment || "");
    if (!/,\s*(?:#[^\n]*\n\s*)*\{\s*IMAGEGEN_RATE_LIMIT_BACKEND\s*=\s*local\.rate_limit_backend\s*\}\s*[,)]/.test(env)) bad.push("IMAGEGEN_RATE_LIMIT_BACKEND is not set from local.rate_limit_backend unconditionally");
    if (!/^\$\{var\.rate_limit_backend\s*!=\s*null\s*\?\s*var\.rate_limit_backend\s*:\s*\(local\.jobs_enabled\s*\?\s*"dynamodb"\s*:\s*"memory"\)\}$/.test(String(locals.rate_limit_backend || ""))) bad.push(`local.rate_limit_backend ${locals.rate_limit_backend}`);
    if (!/local\.jobs_enabled\s*&&\s*var\.record_prompts\s*!=\s*null\s*\?\s*\{\s*IMAGEGEN_RECORD_PROMPTS\s*=\s*var\.record_prompts\s*\}\s*:\s*\{\}/.test(env)) bad.push("IMAGEGEN_RECORD_PROMPTS is not set only from record_prompts, with the table");
    const v = (n) => (variables[n] || [{}])[0];
    for (const [n, values] of [["rate_limit_backend", ["memory", "dynamodb"]], ["record_prompts", ["sha256", "text", "none"]]]) {
      if (v(n).default !== null) bad.push(`${n} does not default to null`);
      const cond = asArray(v(n).validation).map((x) => x.condition).join(" ");
      for (const x of values) if (!cond.includes(`"${x}"`)) bad.push(`${n}'s validation does not accept "${x}"`);
    }
    const fn = resources(config, "aws_lambda_function")[0];
    const refusal = asArray(block(fn && fn.body, "lifecycle")?.precondition).find((p) => /local\.rate_limit_backend\s*!=\s*"dynamodb"\s*\|\|\s*local\.jobs_enabled/.test(String(p.condition)));
    if (!refusal) bad.push("no precondition of the function refusing dynamodb without jobs");
    else for (const fix of ["jobs_enabled = true", 'rate_limit_backend = \\"memory\\"']) if (!String(JSON.stringify(refusal.error_message)).includes(fix)) bad.push(`the refusal does not say to set ${fix}`);
    const lambdaEnv = asArray(v("lambda_environment").validation).map((x) => x.condition).join(" ");
    for (const n of ["IMAGEGEN_RATE_LIMIT_BACKEND", "IMAGEGEN_RECORD_PROMPTS"]) if (!lambdaEnv.includes(`"${n}"`)) bad.push(`lambda_environment does not refuse ${n}`);
    // Each ig_dynamodb_<call> of the counters, as the IAM action it needs, on the table's ARN.
    const source = fs.readFileSync(path.join(moduleDir, "..", "runtime", "src", "handler", "ratelimit.c"), "utf8");
    const ACTIONS = { put_item: "dynamodb:PutItem", update_item: "dynamodb:UpdateItem", get_item: "dynamodb:GetItem", query_page: "dynamodb:Query" };
    const calls = [...new Set([...source.matchAll(/\big_dynamodb_([a-z_]+)\s*\(\s*r->db\s*,/g)].map((m) => m[1]))];
    if (calls.length === 0) bad.push("found no DynamoDB call in runtime/src/handler/ratelimit.c");
    const table = statements.filter(({ st }) => st.Effect === "Allow" && locals.table_arn && resourcesOf(config, st).includes(String(locals.table_arn)));
    const granted = new Set(table.flatMap(({ st }) => actionsOf(config, st)));
    for (const c of calls) if (!ACTIONS[c] || !granted.has(ACTIONS[c])) bad.push(`the counters call ig_dynamodb_${c} (${ACTIONS[c] || "an operation this check does not know"}), which no statement on the table grants`);
    return bad.length ? bad.join("; ") : null;
  });

  // --- Organisation guardrails ---------------------------------------------------------------------
  check("iam: every role takes iam_role_path and iam_permissions_boundary_arn", () => {
    const roles = resources(config, "aws_iam_role");
    const bad = roles.filter((r) => r.body.path !== "${var.iam_role_path}" || r.body.permissions_boundary !== "${var.iam_permissions_boundary_arn}").map((r) => r.name);
    return roles.length === 0 ? "no roles" : bad.length ? `roles without path or boundary: ${bad.join(", ")}` : null;
  });

  // Resource types that take tags: each must carry local.tags (the module has no provider default_tags).
  const TAGGABLE = ["aws_s3_bucket", "aws_iam_role", "aws_lambda_function", "aws_cloudwatch_log_group", "aws_api_gateway_rest_api",
    "aws_api_gateway_stage", "aws_api_gateway_api_key", "aws_api_gateway_usage_plan", "aws_cloudwatch_metric_alarm", "aws_wafv2_web_acl", "aws_dynamodb_table"];
  check("tags: every resource that takes tags carries local.tags", () => {
    const bad = [];
    for (const type of TAGGABLE) for (const { name, body } of resources(config, type)) if (body.tags !== "${local.tags}") bad.push(`${type}.${name}`);
    return bad.length ? `untagged: ${bad.join(", ")}` : null;
  });

  // The deliberate choices a policy-as-code gate flags, each skipped in the resource with its reason
  // (checkov: "#checkov:skip=<id>:<reason>" inside the block; tfsec: "#tfsec:ignore:<rule>" above it).
  const SKIPS = {
    "aws_s3_bucket.images": { checkov: ["CKV_AWS_21", "CKV_AWS_18", "CKV_AWS_144", "CKV_AWS_145", "CKV2_AWS_62"], tfsec: ["aws-s3-enable-versioning", "aws-s3-enable-bucket-logging", "aws-s3-encryption-customer-key"] },
    "aws_lambda_function.this": { checkov: ["CKV_AWS_117", "CKV_AWS_116", "CKV_AWS_173", "CKV_AWS_272", "CKV_AWS_50", "CKV_AWS_115"], tfsec: ["aws-lambda-enable-tracing"] },
    "aws_api_gateway_method.route": { checkov: ["CKV_AWS_59", "CKV2_AWS_53"], tfsec: ["aws-api-gateway-no-public-access"] },
    "aws_api_gateway_stage.this": { checkov: ["CKV_AWS_73", "CKV_AWS_120", "CKV2_AWS_51", "CKV2_AWS_29"], tfsec: ["aws-api-gateway-enable-tracing", "aws-api-gateway-enable-cache"] },
    "aws_api_gateway_method_settings.all": { checkov: ["CKV_AWS_225", "CKV_AWS_308"], tfsec: ["aws-api-gateway-enable-cache", "aws-api-gateway-enable-cache-encryption"] },
    "aws_cloudwatch_log_group.lambda": { checkov: ["CKV_AWS_158", "CKV_AWS_338"], tfsec: ["aws-cloudwatch-log-group-customer-key"] },
    "aws_cloudwatch_log_group.api_access": { checkov: ["CKV_AWS_158", "CKV_AWS_338"], tfsec: ["aws-cloudwatch-log-group-customer-key"] },
    "aws_cloudwatch_log_group.api_execution": { checkov: ["CKV_AWS_158", "CKV_AWS_338"], tfsec: ["aws-cloudwatch-log-group-customer-key"] },
    "aws_iam_role_policy.lambda": { checkov: ["CKV_AWS_290", "CKV_AWS_355"], tfsec: ["aws-iam-no-policy-wildcards"] },
    "aws_wafv2_web_acl.this": { checkov: ["CKV2_AWS_31", "CKV_AWS_192"], tfsec: ["aws-waf-enable-logging"] },
    "aws_dynamodb_table.this": { checkov: ["CKV_AWS_119"], tfsec: ["aws-dynamodb-table-customer-key"] },
  };
  // The text of a resource block (from its header to the matching brace) and the comment lines just above it.
  function resourceText(address) {
    const [type, name] = address.split(".");
    for (const file of fs.readdirSync(moduleDir).filter((n) => n.endsWith(".tf"))) {
      const text = fs.readFileSync(path.join(moduleDir, file), "utf8");
      const header = `resource "${type}" "${name}" {`;
      const at = text.indexOf(header);
      if (at < 0) continue;
      let depth = 0, end = at;
      for (let i = at + header.length - 1; i < text.length; i++) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}" && --depth === 0) { end = i; break; }
      }
      const above = text.slice(0, at).split("\n").reverse().slice(1);
      const comments = [];
      for (const line of above) { if (/^#/.test(line)) comments.push(line); else break; }
      return { body: text.slice(at, end), above: comments.join("\n") };
    }
    return null;
  }
  check("policy as code: every deliberate choice checkov or tfsec would flag carries the tool's skip annotation with a reason", () => {
    const bad = [];
    for (const [address, want] of Object.entries(SKIPS)) {
      const r = resourceText(address);
      if (!r) { bad.push(`no ${address}`); continue; }
      for (const id of want.checkov) {
        const m = new RegExp(`^\\s*#checkov:skip=${id}:(.*)$`, "m").exec(r.body);
        if (!m) bad.push(`${address}: no #checkov:skip=${id}`);
        else if (m[1].trim().length < 20) bad.push(`${address}: ${id} skipped without a reason`);
      }
      for (const rule of want.tfsec) if (!r.above.includes(`#tfsec:ignore:${rule}`)) bad.push(`${address}: no #tfsec:ignore:${rule} above it`);
    }
    const all = rawTf.match(/#checkov:skip=[A-Z0-9_]+:.*/g) || [];
    for (const line of all) if (line.split(":").slice(2).join(":").trim().length < 20) bad.push(`skip without a reason: ${line}`);
    return bad.length ? bad.join("; ") : null;
  });

  // The permissions the deploying role needs, by resource type the module and the examples manage.
  // A new resource type fails this check until its actions are listed here and in the README.
  const DEPLOY_PERMISSIONS = {
    aws_s3_bucket: ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketPolicy",
      "s3:GetBucketAcl", "s3:GetBucketCors", "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:DeleteObject", "s3:ListBucketVersions"],
    aws_s3_bucket_public_access_block: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    aws_s3_bucket_ownership_controls: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    aws_s3_bucket_server_side_encryption_configuration: ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"],
    aws_s3_bucket_lifecycle_configuration: ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"],
    aws_s3_bucket_policy: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    aws_s3_bucket_logging: ["s3:PutBucketLogging", "s3:GetBucketLogging"],
    aws_iam_role: ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PutRolePermissionsBoundary", "iam:PassRole"],
    aws_iam_role_policy: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    aws_iam_role_policy_attachment: ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
    aws_lambda_function: ["lambda:CreateFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:TagResource", "lambda:ListTags", "s3:GetObject"],
    aws_lambda_permission: ["lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"],
    aws_cloudwatch_log_group: ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy",
      "logs:ListTagsForResource", "logs:TagResource"],
    aws_cloudwatch_metric_alarm: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
    aws_api_gateway_rest_api: ["apigateway:POST", "apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_resource: ["apigateway:POST", "apigateway:GET", "apigateway:DELETE"],
    aws_api_gateway_method: ["apigateway:PUT", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_integration: ["apigateway:PUT", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_deployment: ["apigateway:POST", "apigateway:GET", "apigateway:DELETE"],
    aws_api_gateway_stage: ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_method_settings: ["apigateway:PATCH", "apigateway:GET"],
    aws_api_gateway_account: ["apigateway:PATCH", "apigateway:GET", "iam:PassRole"],
    aws_api_gateway_gateway_response: ["apigateway:PUT", "apigateway:GET", "apigateway:DELETE"],
    aws_api_gateway_api_key: ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_usage_plan: ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_api_gateway_usage_plan_key: ["apigateway:POST", "apigateway:GET", "apigateway:DELETE"],
    aws_api_gateway_authorizer: ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    aws_wafv2_web_acl: ["wafv2:CreateWebACL", "wafv2:GetWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:ListTagsForResource"],
    aws_wafv2_web_acl_association: ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource", "apigateway:SetWebACL"],
    aws_dynamodb_table: ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive", "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource", "kms:DescribeKey", "kms:CreateGrant"],
    aws_lambda_function_event_invoke_config: ["lambda:PutFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
      "lambda:UpdateFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig"],
    "data.aws_servicequotas_service_quota": ["servicequotas:GetServiceQuota"],
    "data.aws_partition": [],
    "data.aws_region": [],
    "backend.s3": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    provider: ["sts:GetCallerIdentity"],
  };
  check("readme: the deploying role's policy grants every action the module's and the examples' resources need", () => {
    const readme = fs.readFileSync(path.join(moduleDir, "README.md"), "utf8");
    const m = /<!-- deploy-policy:begin -->\s*```json\n([\s\S]*?)```\s*<!-- deploy-policy:end -->/.exec(readme);
    if (!m) return "no deploy-policy block in terraform/README.md";
    let doc;
    try { doc = JSON.parse(m[1]); } catch (e) { return `the deploy policy is not JSON: ${e.message}`; }
    const granted = doc.Statement.filter((st) => st.Effect === "Allow").flatMap((st) => asArray(st.Action));
    const allows = (action) => granted.some((g) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action));
    const used = new Set(["provider"]);
    for (const cfg of [config, ...examples.map((e) => e.config)]) {
      for (const type of Object.keys(cfg.resource || {})) used.add(type);
      for (const type of Object.keys(cfg.data || {})) used.add(`data.${type}`);
      const backend = block(asArray(cfg.terraform)[0] || {}, "backend");
      if (backend) for (const b of Object.keys(backend)) used.add(`backend.${b}`);
    }
    const bad = [];
    for (const type of [...used].sort()) {
      if (!(type in DEPLOY_PERMISSIONS)) { bad.push(`no known permissions for ${type}: add them to DEPLOY_PERMISSIONS and the README`); continue; }
      const missing = DEPLOY_PERMISSIONS[type].filter((a) => !allows(a));
      if (missing.length) bad.push(`${type} needs ${missing.join(", ")}`);
    }
    return bad.length ? bad.join("; ") : null;
  });

  check("readme: the deploy section gives a terraform.tfvars for examples/minimal naming only its variables, each with a comment", () => {
    const readme = fs.readFileSync(path.join(moduleDir, "README.md"), "utf8");
    const m = /<!-- deploy-tfvars:begin -->\s*```hcl\n([\s\S]*?)```\s*<!-- deploy-tfvars:end -->/.exec(readme);
    if (!m) return "no deploy-tfvars block";
    const minimal = examples.find((e) => e.name === "minimal");
    const names = [...m[1].matchAll(/^\s*([a-z_]+)\s*=/gm)].map((x) => x[1]);
    const known = Object.keys((minimal && minimal.config.variable) || {});
    const bad = names.filter((n) => !known.includes(n)).map((n) => `${n} is not a variable of examples/minimal`);
    for (const n of known) if (!names.includes(n)) bad.push(`examples/minimal's ${n} is not in the deploy tfvars`);
    if ((m[1].match(/^\s*#/gm) || []).length < names.length) bad.push("a variable of the deploy tfvars has no comment");
    return bad.length ? bad.join("; ") : null;
  });

  // --- Variables, outputs, README -----------------------------------------------------------------
  check("variables: every variable has a description and a type", () => {
    const bad = Object.entries(variables).filter(([, [v]]) => !v.description || !v.type).map(([n]) => n);
    return bad.length ? `missing description or type: ${bad.join(", ")}` : null;
  });

  check("variables: every variable that is not a bool (or the free-form tags) has a validation", () => {
    const bad = Object.entries(variables)
      .filter(([n, [v]]) => unwrap(v.type) !== "bool" && n !== "tags" && asArray(v.validation).length === 0)
      .map(([n]) => n);
    return bad.length ? `no validation: ${bad.join(", ")}` : null;
  });

  // Secrets are key values: every output that reads an API key's value is sensitive, in the module
  // and in the examples; key ids are not secret.
  check("outputs: every output has a description; every output of a key value is sensitive (module and examples)", () => {
    const bad = Object.entries(outputs).filter(([, [o]]) => !o.description).map(([n]) => `${n} has no description`);
    for (const want of ["generate_image_url", "bucket_name", "function_name", "api_key_value", "api_key_values", "api_key_ids"]) if (!outputs[want]) bad.push(`no output ${want}`);
    const secret = (o) => /\.value\b|api_key_values?\b/.test(JSON.stringify(o.value));
    for (const [n, [o]] of Object.entries(outputs)) if (secret(o) && o.sensitive !== true) bad.push(`${n} is not sensitive`);
    for (const ex of examples) {
      for (const [n, [o]] of Object.entries(ex.config.output || {})) if (secret(o) && o.sensitive !== true) bad.push(`examples/${ex.name} output ${n} is not sensitive`);
    }
    if (outputs.api_key_ids && outputs.api_key_ids[0].sensitive) bad.push("api_key_ids is sensitive (ids are not secret, and config.lua needs them)");
    if (outputs.generate_image_url && !/\/generate-image"?\}?$/.test(outputs.generate_image_url[0].value)) bad.push(`generate_image_url does not end with /generate-image: ${outputs.generate_image_url[0].value}`);
    return bad.length ? bad.join("; ") : null;
  });

  check("readme: lists every variable and output, and its tables match the module", () => {
    const readme = fs.readFileSync(path.join(moduleDir, "README.md"), "utf8");
    const missing = [...Object.keys(variables), ...Object.keys(outputs)].filter((n) => !readme.includes(`| \`${n}\` |`));
    if (missing.length) return `not in README tables: ${missing.join(", ")}`;
    if (!readme.includes(renderTables(config))) return "tables differ from the module: run node tests/terraform/docs.js --write";
    return null;
  });

  report();
}

function report() {
  for (const r of results) console.log(r.ok ? `PASS ${r.name}` : `FAIL ${r.name}: ${r.why}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`hcl checks: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
