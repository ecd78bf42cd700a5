// Loads the Terraform module with @cdktf/hcl2json (no terraform binary needed) and merges the files
// into one configuration object, so the check and the README generator read the module the same way.
"use strict";

const fs = require("fs");
const path = require("path");
const { parse } = require("@cdktf/hcl2json");

const repoRoot = path.resolve(__dirname, "..", "..");
const moduleDir = path.join(repoRoot, "terraform");

// Every HCL file of the module: the .tf files, and the test and mock files under tests/.
function moduleFiles(dir = moduleDir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".")) out.push(...moduleFiles(full));
    } else if (/\.(tf|tftest\.hcl|tfmock\.hcl)$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

// Parses one file; rejects with hcl2json's message (file:line) on a syntax error.
async function parseFile(file) {
  return parse(path.relative(moduleDir, file), fs.readFileSync(file, "utf8"));
}

// hcl2json gives blocks as arrays: resource.<type>.<name> = [ {...} ]. Merging keeps one array per
// block name; locals blocks become one object.
function mergeInto(config, parsed) {
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "locals") {
      config.locals = Object.assign(config.locals || {}, ...value);
    } else if (key === "resource" || key === "data") {
      config[key] = config[key] || {};
      for (const [type, byName] of Object.entries(value)) {
        config[key][type] = config[key][type] || {};
        for (const [name, blocks] of Object.entries(byName)) {
          config[key][type][name] = (config[key][type][name] || []).concat(blocks);
        }
      }
    } else if (key === "variable" || key === "output" || key === "module") {
      config[key] = config[key] || {};
      for (const [name, blocks] of Object.entries(value)) config[key][name] = (config[key][name] || []).concat(blocks);
    } else {
      config[key] = (config[key] || []).concat(value);
    }
  }
  return config;
}

// Parses the .tf files of one configuration directory (the module's own top level by default; the
// examples under examples/ are configurations of their own). Returns { config, files: [{file, error}] }.
async function loadModule(dir = moduleDir) {
  const config = {};
  const files = [];
  const tfFiles = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".tf"))
    .sort()
    .map((n) => path.join(dir, n));
  for (const file of tfFiles) {
    try {
      mergeInto(config, await parseFile(file));
      files.push({ file, error: null });
    } catch (err) {
      files.push({ file, error: String(err && err.message ? err.message : err) });
    }
  }
  return { config, files };
}

// "${string}" -> "string"; hcl2json wraps every expression that is not a literal in ${ }.
// Only a string that is one whole interpolation is unwrapped ("${a}-${b}" stays as it is).
function unwrap(expr) {
  if (typeof expr !== "string" || !expr.startsWith("${") || !expr.endsWith("}")) return expr;
  let depth = 0;
  for (let i = 1; i < expr.length; i++) {
    if (expr[i] === "{") depth++;
    else if (expr[i] === "}" && --depth === 0) return i === expr.length - 1 ? expr.slice(2, -1) : expr;
  }
  return expr;
}

module.exports = { repoRoot, moduleDir, moduleFiles, parseFile, loadModule, unwrap };
