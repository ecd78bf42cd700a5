// Generates the Inputs and Outputs tables of terraform/README.md from the module itself, so the
// README cannot drift from variables.tf and outputs.tf.
//   node tests/terraform/docs.js          print the tables
//   node tests/terraform/docs.js --write  replace the block between the markers in terraform/README.md
//   node tests/terraform/docs.js --check  exit 1 when the README block differs from the generated one
"use strict";

const fs = require("fs");
const path = require("path");
const { moduleDir, loadModule, unwrap } = require("./lib");

const BEGIN = "<!-- BEGIN_TF_DOCS -->";
const END = "<!-- END_TF_DOCS -->";
const readmePath = path.join(moduleDir, "README.md");

function cell(text) {
  return String(text).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text) {
  return "`" + cell(text) + "`";
}

function formatDefault(block) {
  if (!Object.prototype.hasOwnProperty.call(block, "default")) return "n/a";
  return code(JSON.stringify(block.default));
}

function renderTables(config) {
  const lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"];
  for (const name of Object.keys(config.variable || {}).sort()) {
    const v = config.variable[name][0];
    const required = Object.prototype.hasOwnProperty.call(v, "default") ? "no" : "yes";
    lines.push(`| ${code(name)} | ${cell(v.description || "")} | ${code(unwrap(v.type || "any"))} | ${formatDefault(v)} | ${required} |`);
  }
  lines.push("", "## Outputs", "", "| Name | Description | Sensitive |", "|------|-------------|:---------:|");
  for (const name of Object.keys(config.output || {}).sort()) {
    const o = config.output[name][0];
    lines.push(`| ${code(name)} | ${cell(o.description || "")} | ${o.sensitive === true ? "yes" : "no"} |`);
  }
  return lines.join("\n");
}

function replaceBlock(readme, tables) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${BEGIN} ... ${END} block`);
  return readme.slice(0, start) + BEGIN + "\n" + tables + "\n" + readme.slice(end);
}

async function main() {
  const { config, files } = await loadModule();
  const broken = files.filter((f) => f.error);
  if (broken.length) {
    for (const f of broken) console.error(`${f.file}: ${f.error}`);
    process.exit(2);
  }
  const tables = renderTables(config);
  const mode = process.argv[2] || "";
  if (mode === "--write") {
    fs.writeFileSync(readmePath, replaceBlock(fs.readFileSync(readmePath, "utf8"), tables));
  } else if (mode === "--check") {
    const readme = fs.readFileSync(readmePath, "utf8");
    if (replaceBlock(readme, tables) !== readme) {
      console.error("terraform/README.md inputs/outputs tables are out of date: run node tests/terraform/docs.js --write");
      process.exit(1);
    }
  } else {
    console.log(tables);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}

module.exports = { renderTables };
