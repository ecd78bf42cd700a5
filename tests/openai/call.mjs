// call.mjs - makes one call with the official openai client and prints what came back, as one
// JSON line, for tests/integration/test_openai_client.py.
//
//   node call.mjs '{"baseURL":"http://127.0.0.1:PORT/v1","apiKey":"KEY","call":"images.generate",
//                   "params":{"prompt":"...","n":2}}'
//   node call.mjs '{..., "call":"images.edit", "params":{"image":"/path/a.png","mask":"/path/m.png","prompt":"..."}}'
//
// For images.edit, image (a path or a list of paths) and mask (a path) are read from files and
// sent as the client sends files: one multipart/form-data request.
//
// Prints {"ok":true,"result":<the client's parsed answer>} or {"ok":false,"classes":[...],
// "status":400,"error":{...},"headers":{"retry-after":...}}, where `classes` lists every error
// class of the client the thrown error is an instance of. Retries are off, so a 429 arrives as
// it was answered.
import fs from "node:fs";
import path from "node:path";
import OpenAI, {
  toFile,
  APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError,
  PermissionDeniedError, RateLimitError,
} from "openai";

const CLASSES = {
  APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError,
  PermissionDeniedError, RateLimitError,
};

async function main() {
  const spec = JSON.parse(process.argv[2]);
  const client = new OpenAI({ baseURL: spec.baseURL, apiKey: spec.apiKey, maxRetries: 0, timeout: 120000 });
  let result;
  try {
    if (spec.call === "images.generate") {
      result = await client.images.generate(spec.params);
    } else if (spec.call === "images.edit") {
      // image (a path or a list of paths) and mask (a path) are sent as files of the form.
      const file = (p) => toFile(fs.createReadStream(p), path.basename(p), { type: spec.types?.[p] ?? "image/png" });
      const params = { ...spec.params };
      params.image = Array.isArray(params.image) ? await Promise.all(params.image.map(file)) : await file(params.image);
      if (params.mask) params.mask = await file(params.mask);
      result = await client.images.edit(params);
    } else if (spec.call === "models.list") {
      const ids = [];
      for await (const m of client.models.list()) ids.push(m);
      result = ids;
    } else {
      throw new Error(`unknown call ${spec.call}`);
    }
  } catch (err) {
    if (!(err instanceof APIError)) throw err;
    const classes = Object.entries(CLASSES).filter(([, C]) => err instanceof C).map(([name]) => name);
    const headers = {};
    for (const name of ["retry-after", "x-request-id", "www-authenticate"]) {
      const v = err.headers && (typeof err.headers.get === "function" ? err.headers.get(name) : err.headers[name]);
      if (v != null) headers[name] = v;
    }
    process.stdout.write(JSON.stringify({
      ok: false, classes, status: err.status, error: err.error ?? null,
      code: err.code ?? null, param: err.param ?? null, type: err.type ?? null, headers,
    }) + "\n");
    return;
  }
  process.stdout.write(JSON.stringify({ ok: true, result }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`call.mjs: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
