// multipart_peer.mjs - the Node.js peer of the multipart row of scripts/bench: parses the same
// multipart/form-data body with the platform's own Request.formData() (undici, as a Node.js
// function would read a form) and takes the file's bytes, in a loop of repetitions after one
// untimed warm-up. Prints the median.
//
//   node tests/bench/multipart_peer.mjs FORM_FILE BOUNDARY REPETITIONS
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [path, boundary, reps] = process.argv.slice(2);
const body = readFileSync(path);

async function parse() {
  const request = new Request("http://bench.invalid/v1/images/edits", {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    body,
  });
  const form = await request.formData();
  const file = new Uint8Array(await form.get("image").arrayBuffer());
  return { parts: [...form.keys()].length, file: file.length };
}

let got = await parse();
const times = [];
for (let i = 0; i < Number(reps); i++) {
  const t0 = performance.now();
  got = await parse();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const n = times.length;
const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
console.log(`form: ${body.length} bytes, ${got.parts} parts, the file ${got.file} bytes`);
console.log(`node Request.formData(): ${median.toFixed(2)} ms`);
