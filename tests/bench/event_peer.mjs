// event_peer.mjs - the Node.js peer of the inline-image rows of scripts/bench: takes the same
// API Gateway event (written by build/tests/bench_inputs --write-event) apart as a Node.js
// function would: JSON.parse of the event, then of its body, then Buffer.from(image, "base64");
// and puts the image back into a model body (toString("base64") and JSON.stringify). Loops of
// repetitions after one untimed warm-up; prints the medians.
//
//   node tests/bench/event_peer.mjs EVENT_FILE REPETITIONS
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [path, reps] = process.argv.slice(2);
const text = readFileSync(path, "utf8");

function median(v) {
  v.sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

function once() {
  const t0 = performance.now();
  const event = JSON.parse(text);
  const body = JSON.parse(event.body);
  const t1 = performance.now();
  const image = Buffer.from(body.image, "base64");
  const t2 = performance.now();
  const call = JSON.stringify({ prompt: "a harbour at dawn", image: image.toString("base64"), output_format: "png" });
  const t3 = performance.now();
  return { parse: t1 - t0, decode: t2 - t1, encode: t3 - t2, bytes: image.length, call: call.length };
}

let got = once();
const parse = [], decode = [], encode = [];
for (let i = 0; i < Number(reps); i++) {
  got = once();
  parse.push(got.parse), decode.push(got.decode), encode.push(got.encode);
}
console.log(`image: ${got.bytes} bytes of PNG`);
console.log(`node JSON.parse (event, body): ${median(parse).toFixed(2)} ms`);
console.log(`node Buffer.from(base64): ${median(decode).toFixed(2)} ms`);
console.log(`node into a body (toString, JSON.stringify): ${median(encode).toFixed(2)} ms`);
