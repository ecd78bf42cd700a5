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
  if (files.some((f) => f.error)) {
    report();
    return;
  }
  const locals = config.locals || {};
  const variables = config.variable || {};
  const outputs = config.output || {};
  const rawTf = moduleFiles()
    .filter((f) => f.endsWith(".tf"))
    .map((f) => fs.readFileSync(f, "utf8"))
    .join("\n");

  // --- versions -----------------------------------------------------------------------------------
  check("versions: terraform and the AWS provider >= 5.100, < 7.0 are pinned", () => {
    const tf = asArray(config.terraform)[0] || {};
    const aws = (asArray(tf.required_providers)[0] || {}).aws || {};
    if (!tf.required_version) return "no required_version";
    if (aws.source !== "hashicorp/aws") return `aws provider source is ${aws.source}`;
    if (String(aws.version).replace(/\s/g, "") !== ">=5.100,<7.0") return `aws provider version is ${aws.version}`;
    return null;
  });

  check("provider 6: no construct that provider 6 removed or deprecated", () => {
    const bad = [];
    for (const { name, body } of resources(config, "aws_api_gateway_deployment")) {
      for (const arg of ["stage_name", "stage_description", "canary_settings"]) if (arg in body) bad.push(`aws_api_gateway_deployment.${name}.${arg}`);
    }
    for (const { name, body } of resources(config, "aws_api_gateway_account")) if ("reset_on_delete" in body) bad.push(`aws_api_gateway_account.${name}.reset_on_delete`);
    const inlineS3 = ["acl", "policy", "lifecycle_rule", "server_side_encryption_configuration", "versioning", "logging", "cors_rule", "website", "grant", "replication_configuration", "object_lock_configuration", "acceleration_status", "request_payer"];
    for (const { name, body } of resources(config, "aws_s3_bucket")) for (const arg of inlineS3) if (arg in body) bad.push(`aws_s3_bucket.${name}.${arg} (inline, deprecated)`);
    for (const { name, body } of resources(config, "aws_iam_role")) for (const arg of ["inline_policy", "managed_policy_arns"]) if (arg in body) bad.push(`aws_iam_role.${name}.${arg}`);
    if (/aws_api_gateway_deployment\.[A-Za-z0-9_]+\.(execution_arn|invoke_url)/.test(rawTf)) bad.push("execution_arn/invoke_url read from a deployment");
    if (/data\.aws_region\.[A-Za-z0-9_]+\.name\b/.test(rawTf)) bad.push("data.aws_region.*.name (deprecated in provider 6)");
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
  check("iam: Bedrock actions are exactly bedrock:InvokeModel on the ARNs of var.allowed_models (foundation models and inference profiles) in the Bedrock region", () => {
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
    if (!/for\s+id\s+in\s+var\.allowed_models\b/.test(JSON.stringify(locals.bedrock_models || ""))) bad.push("local.bedrock_models is not built from var.allowed_models");
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

  check("iam: S3 access is PutObject/GetObject under the image prefix only", () => {
    const s3 = statements.filter(({ st }) => st.Effect === "Allow" && actionsOf(config, st).some((a) => /^s3:/.test(a)));
    if (s3.length === 0) return "no statement grants S3 access";
    const bad = [];
    for (const { where, st } of s3) {
      const actions = actionsOf(config, st);
      if (!actions.every((a) => a === "s3:PutObject" || a === "s3:GetObject")) bad.push(`${where}: actions ${JSON.stringify(actions)}`);
      for (const r of resourcesOf(config, st)) if (!/^\$\{aws_s3_bucket\.\w+\.arn\}\/\$\{var\.image_prefix\}\*$/.test(r)) bad.push(`${where}: resource ${r}`);
    }
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

  check("iam: KMS permissions only on the given key, and only when one is given", () => {
    const kms = statements.filter(({ st }) => actionsOf(config, st).some((a) => /^kms:/.test(a)));
    const bad = [];
    for (const { where, st } of kms) {
      for (const r of resourcesOf(config, st)) if (r !== "${var.kms_key_arn}") bad.push(`${where}: resource ${r}`);
    }
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

  check("s3: one lifecycle configuration; every rule has a filter; images expire; incomplete uploads are aborted", () => {
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
      if (!expire || block(expire, "filter").prefix !== "${var.image_prefix}" || block(expire, "expiration").days !== "${var.image_retention_days}") bad.push(`${name}: no expiration of var.image_prefix after var.image_retention_days`);
      if (!rules.some((r) => block(r, "abort_incomplete_multipart_upload"))) bad.push(`${name}: no abort_incomplete_multipart_upload rule`);
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
  check("lambda: provided.al2023, handler bootstrap, package and hash from var.lambda_zip_path", () => {
    const fn = resources(config, "aws_lambda_function")[0];
    if (!fn) return "no aws_lambda_function";
    const b = fn.body;
    const bad = [];
    if (b.runtime !== "provided.al2023") bad.push(`runtime ${b.runtime}`);
    if (b.handler !== "bootstrap") bad.push(`handler ${b.handler}`);
    if (b.filename !== "${var.lambda_zip_path}") bad.push(`filename ${b.filename}`);
    if (b.source_code_hash !== "${filebase64sha256(var.lambda_zip_path)}") bad.push(`source_code_hash ${b.source_code_hash}`);
    if (JSON.stringify(b.architectures) !== JSON.stringify(["${var.lambda_architecture}"])) bad.push(`architectures ${JSON.stringify(b.architectures)}`);
    if (!asArray(b.depends_on).includes("${aws_cloudwatch_log_group.lambda}")) bad.push("does not depend on its log group");
    return bad.length ? bad.join("; ") : null;
  });

  check("lambda: timeout is a variable validated to at most 29 s (API Gateway's integration timeout)", () => {
    const fn = resources(config, "aws_lambda_function")[0];
    const v = (variables.lambda_timeout_seconds || [])[0];
    if (!fn || fn.body.timeout !== "${var.lambda_timeout_seconds}") return "timeout is not var.lambda_timeout_seconds";
    const cond = v && asArray(v.validation).map((x) => x.condition).join(" ");
    if (!cond || !/var\.lambda_timeout_seconds\s*<=\s*29\b/.test(cond)) return `validation does not cap at 29: ${cond}`;
    const integ = resources(config, "aws_api_gateway_integration");
    if (!integ.every((i) => i.body.timeout_milliseconds === 29000)) return "integrations do not set timeout_milliseconds = 29000";
    return null;
  });

  check("lambda: IMAGEGEN_ALLOWED_MODELS, IMAGEGEN_BEDROCK_REGION and the Bedrock grant come from the same variable and region", () => {
    const env = locals.lambda_environment || "";
    if (!/IMAGEGEN_ALLOWED_MODELS\s*=\s*join\(",",\s*var\.allowed_models\)/.test(env)) return `environment: ${env}`;
    if (!/IMAGEGEN_BEDROCK_REGION\s*=\s*local\.bedrock_region\b/.test(env)) return "IMAGEGEN_BEDROCK_REGION is not local.bedrock_region";
    if (!/IMAGEGEN_BUCKET\s*=\s*aws_s3_bucket\.images\.id/.test(env)) return "IMAGEGEN_BUCKET is not the bucket";
    const arns = JSON.stringify(locals.bedrock_invoke_arns || "");
    if (!/local\.bedrock_models/.test(arns) || !/local\.bedrock_region/.test(arns)) return "bedrock_invoke_arns does not use local.bedrock_models and local.bedrock_region";
    if (!/var\.bedrock_region/.test(JSON.stringify(locals.bedrock_region || ""))) return "local.bedrock_region ignores var.bedrock_region";
    return null;
  });

  // --- API Gateway --------------------------------------------------------------------------------
  check("api: routes /generate-image (GET, POST), /models (GET), /health (GET), OPTIONS on each", () => {
    const routes = locals.api_routes || {};
    const want = { "generate-image": ["GET", "POST"], models: ["GET"], health: ["GET"] };
    const bad = [];
    for (const [p, methods] of Object.entries(want)) {
      if (!routes[p] || JSON.stringify(routes[p].methods) !== JSON.stringify(methods)) bad.push(`${p}: ${JSON.stringify(routes[p])}`);
    }
    const m = String(locals.api_methods || "");
    if (!/concat\(route\.methods,\s*\["OPTIONS"\]\)/.test(m)) bad.push("OPTIONS is not added to every route");
    if (!/method\s*!=\s*"OPTIONS"/.test(m)) bad.push("OPTIONS is not exempt from API keys");
    for (const type of ["aws_api_gateway_method", "aws_api_gateway_integration", "aws_lambda_permission"]) {
      const r = resources(config, type);
      if (r.length !== 1 || r[0].body.for_each !== "${local.api_methods}") bad.push(`${type} is not one resource per local.api_methods entry`);
    }
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
    return bad.length ? bad.join("; ") : null;
  });

  check("api: the deployment redeploys on change (triggers hash, create_before_destroy) and has no stage_name", () => {
    const d = resources(config, "aws_api_gateway_deployment")[0];
    if (!d) return "no deployment";
    const trig = (d.body.triggers || {}).redeployment || "";
    if (!/sha1\(jsonencode\(/.test(trig)) return `triggers: ${trig}`;
    for (const r of ["aws_api_gateway_method.route", "aws_api_gateway_integration.route", "aws_api_gateway_resource.route"]) if (!trig.includes(r)) return `triggers miss ${r}`;
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

  check("api: DEFAULT_4XX and DEFAULT_5XX gateway responses carry CORS headers", () => {
    const gr = resources(config, "aws_api_gateway_gateway_response")[0];
    if (!gr) return "no gateway responses";
    if (!/DEFAULT_4XX/.test(gr.body.for_each) || !/DEFAULT_5XX/.test(gr.body.for_each)) return `for_each ${gr.body.for_each}`;
    const headers = resolve(config, gr.body.response_parameters);
    if (!headers || !headers["gatewayresponse.header.Access-Control-Allow-Origin"]) return "no Access-Control-Allow-Origin";
    return null;
  });

  check("api: optional API key with a usage plan (rate, burst, quota) and a usage plan key", () => {
    const up = resources(config, "aws_api_gateway_usage_plan")[0];
    if (!up) return "no usage plan";
    const th = block(up.body, "throttle_settings");
    const q = block(up.body, "quota_settings");
    if (!th || !th.rate_limit || !th.burst_limit) return "no throttle settings";
    if (!q || !q.limit || !q.period) return "no quota settings";
    if (block(up.body, "api_stages")?.stage !== "${aws_api_gateway_stage.this.stage_name}") return "api_stages.stage is not taken from the stage";
    if (!resources(config, "aws_api_gateway_usage_plan_key")[0]) return "no usage plan key";
    for (const t of ["aws_api_gateway_api_key", "aws_api_gateway_usage_plan", "aws_api_gateway_usage_plan_key"]) {
      if (!/var\.create_api_key/.test(resources(config, t)[0]?.body.count || "")) return `${t} is not optional`;
    }
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

  check("outputs: every output has a description; the API key is sensitive", () => {
    const bad = Object.entries(outputs).filter(([, [o]]) => !o.description).map(([n]) => `${n} has no description`);
    for (const want of ["generate_image_url", "bucket_name", "function_name", "api_key_value"]) if (!outputs[want]) bad.push(`no output ${want}`);
    for (const [n, [o]] of Object.entries(outputs)) if (/api_key/.test(n) && o.sensitive !== true) bad.push(`${n} is not sensitive`);
    if (outputs.generate_image_url && !/\/generate-image$/.test(outputs.generate_image_url[0].value)) bad.push("generate_image_url does not end with /generate-image");
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
