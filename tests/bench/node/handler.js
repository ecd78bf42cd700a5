// handler.js - the imagegen job written the way most teams would write it today: Node.js, the
// AWS SDK v3 and AWS's runtime interface client (aws-lambda-ric). scripts/bench runs it through
// the same gateway, Bedrock stand-in and S3 as the C runtime, so the two are measured doing
// the same work: parse the request, map it to the model's InvokeModel body the way the shipped
// policy does (runtime/policy/models.lua and plan.lua), call Bedrock, decode the base64 images,
// PutObject each under a uuid key, presign a GET for each, and answer with the same JSON shape.
//
// Two families, for the models scripts/bench asks for:
//   Titan Image Generator G1 (amazon.titan-image-generator-v1): one call makes numberOfImages
//     images, width x height from Titan's list (default 1024 x 1024); each image of a batch of
//     more than one says its batchIndex and batchSize, as the policy's answers do;
//   Stability (stability.stable-image-core-v1:1, the policy's default model, and its siblings):
//     one image per call, so numberOfImages=n is n InvokeModel calls at once (Promise.all) with
//     seeds s, s+1, ...; an aspect ratio, given as aspectRatio or as a width x height in its
//     proportions (default 1:1); a non-null finish reason means that image is missing.
// Bedrock is signed for IMAGEGEN_BEDROCK_REGION (default AWS_REGION), S3 for AWS_REGION, as the
// C runtime does. GET /health answers at once, as the C runtime's policy does.
"use strict";

const crypto = require("node:crypto");
const { BedrockRuntimeClient, InvokeModelCommand } = require("@aws-sdk/client-bedrock-runtime");
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");
const { getSignedUrl } = require("@aws-sdk/s3-request-presigner");
const { NodeHttpHandler } = require("@smithy/node-http-handler");

const DEFAULT_MODEL = "stability.stable-image-core-v1:1";
const URL_TTL = 3600;
const CACHE_CONTROL = "private, max-age=3600";
const region = process.env.AWS_REGION || "us-east-1";
const bedrockRegion = process.env.IMAGEGEN_BEDROCK_REGION || region;
const bucket = process.env.IMAGEGEN_BUCKET;
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
};

const CONTENT_TYPES = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };
const EXTENSIONS = { png: "png", jpeg: "jpg", webp: "webp" };

// Stability's aspect ratios and the pixel size each makes (models.lua's STABILITY_RATIOS).
const STABILITY_RATIOS = [
  ["16:9", 1344, 768], ["1:1", 1024, 1024], ["21:9", 1536, 640], ["2:3", 832, 1216], ["3:2", 1216, 832],
  ["4:5", 896, 1088], ["5:4", 1088, 896], ["9:16", 768, 1344], ["9:21", 640, 1536],
].map(([ratio, width, height]) => ({ ratio, width, height }));

const TITAN = { family: "titan", seedMax: 2147483647, formats: ["png"] };
const STABILITY = { family: "stability", seedMax: 4294967294, formats: ["png", "jpeg", "webp"] };
const MODELS = {
  "amazon.titan-image-generator-v1": TITAN,
  "stability.stable-image-core-v1:1": STABILITY,
  "stability.sd3-5-large-v1:0": STABILITY,
  "stability.stable-image-ultra-v1:1": STABILITY,
};

// Clients are built once per execution environment, outside the handler, as AWS advises.
const bedrock = new BedrockRuntimeClient({
  region: bedrockRegion,
  credentials,
  endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
  // The Bedrock client speaks HTTP/2 by default; the local stand-in, like the C runtime's
  // client, speaks HTTP/1.1 with keep-alive.
  requestHandler: new NodeHttpHandler(),
});
const s3 = new S3Client({
  region,
  credentials,
  endpoint: process.env.AWS_ENDPOINT_URL_S3,
  forcePathStyle: true,
});

function answer(statusCode, obj) {
  return { statusCode, headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj) };
}

function refuse(code, message, context) {
  return answer(400, { error: { code, message, requestId: context.awsRequestId } });
}

function keyPrefix(now) {
  const d = now.toISOString();
  return `images/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/`;
}

function intOr(v, fallback) {
  return Number.isInteger(v) ? v : fallback;
}

// The aspect ratio a Stability request names: aspectRatio, or a width x height in a ratio's
// proportions or equal to the size made for it; null when it names none.
function stabilityRatio(req) {
  if (req.width === undefined && req.height === undefined) {
    return STABILITY_RATIOS.find((r) => r.ratio === (req.aspectRatio || "1:1")) || null;
  }
  return (
    STABILITY_RATIOS.find((r) => {
      const [a, b] = r.ratio.split(":").map(Number);
      const fits = req.width * b === req.height * a || (req.width === r.width && req.height === r.height);
      return fits && (req.aspectRatio === undefined || req.aspectRatio === r.ratio);
    }) || null
  );
}

// The InvokeModel bodies for one request: [{ body, seed }], one per call.
function plan(model, req, size) {
  const n = intOr(req.numberOfImages, 1);
  const format = req.outputFormat || "png";
  if (model.family === "titan") {
    const seed = intOr(req.seed, crypto.randomInt(0, model.seedMax + 1));
    const body = {
      taskType: "TEXT_IMAGE",
      textToImageParams: { text: req.prompt },
      imageGenerationConfig: { numberOfImages: n, quality: "standard", width: size.width, height: size.height, cfgScale: 8, seed },
    };
    return [{ body, seed }];
  }
  // Stability: seed 0 asks for a random one, drawn here (1..max) so the client learns it.
  let seed = intOr(req.seed, 0) || crypto.randomInt(1, model.seedMax + 1);
  const calls = [];
  for (let i = 0; i < n; i++) {
    calls.push({ body: { prompt: req.prompt, aspect_ratio: size.ratio, mode: "text-to-image", seed, output_format: format }, seed });
    seed = seed >= model.seedMax ? 1 : seed + 1;
  }
  return calls;
}

// One InvokeModel call: [{ b64, seed }] for the images it made, [{ seed, reason }] for the missing.
async function invoke(modelId, model, call) {
  const out = await bedrock.send(
    new InvokeModelCommand({ modelId, contentType: "application/json", accept: "application/json", body: JSON.stringify(call.body) }),
  );
  const result = JSON.parse(Buffer.from(out.body).toString("utf8"));
  if (model.family === "titan") {
    // A batch: its images share the call's seed, so each also says where it stands in it.
    const batch = call.body.imageGenerationConfig.numberOfImages;
    const place = (i) => (batch > 1 ? { batchIndex: i + 1, batchSize: batch } : {});
    return { made: result.images.map((b64, i) => ({ b64, seed: call.seed, ...place(i) })), missing: [] };
  }
  const reason = (result.finish_reasons || [null])[0];
  if (reason !== null && reason !== undefined) {
    return { made: [], missing: [{ seed: call.seed, reason }] };
  }
  return { made: [{ b64: result.images[0], seed: call.seed }], missing: [] };
}

exports.handler = async (event, context) => {
  if (event.httpMethod === "GET" && event.path === "/health") {
    return answer(200, { status: "ok" });
  }
  let req;
  try {
    const raw = event.isBase64Encoded ? Buffer.from(event.body || "", "base64").toString("utf8") : event.body;
    req = JSON.parse(raw || "{}");
  } catch (e) {
    return refuse("invalid_body", "The body is not JSON.", context);
  }
  const modelId = req.model || DEFAULT_MODEL;
  const model = MODELS[modelId];
  if (!model) {
    return refuse("unknown_model", `model must be one of ${Object.keys(MODELS).join(", ")}.`, context);
  }
  const maxPrompt = model.family === "titan" ? 512 : 10000;
  if (typeof req.prompt !== "string" || req.prompt.length < 1 || req.prompt.length > maxPrompt) {
    return refuse("invalid_prompt", `prompt must be 1 to ${maxPrompt} characters.`, context);
  }
  const format = req.outputFormat || "png";
  if (!model.formats.includes(format)) {
    return refuse("invalid_parameter", `outputFormat must be one of ${model.formats.join(", ")}.`, context);
  }
  const size =
    model.family === "titan" ? { width: intOr(req.width, 1024), height: intOr(req.height, 1024) } : stabilityRatio(req);
  if (!size) {
    return refuse("invalid_parameter", `aspectRatio must be one of ${STABILITY_RATIOS.map((r) => r.ratio).join(", ")}.`, context);
  }

  const results = await Promise.all(plan(model, req, size).map((call) => invoke(modelId, model, call)));
  const made = results.flatMap((r) => r.made);
  const missing = results.flatMap((r) => r.missing);
  if (made.length === 0) {
    return answer(400, { error: { code: "content_filtered", message: "Every image was filtered.", requestId: context.awsRequestId } });
  }

  const now = new Date();
  const prefix = keyPrefix(now);
  const images = await Promise.all(
    made.map(async ({ b64, seed, ...place }) => {
      const bytes = Buffer.from(b64, "base64");
      const key = `${prefix}${crypto.randomUUID()}.${EXTENSIONS[format]}`;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: CONTENT_TYPES[format],
          CacheControl: CACHE_CONTROL,
          Metadata: { seed: String(seed), model: modelId, width: String(size.width), height: String(size.height) },
        }),
      );
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: URL_TTL });
      return { url, key, width: size.width, height: size.height, format, contentType: CONTENT_TYPES[format], seed, ...place };
    }),
  );
  const expiresAt = new Date(now.getTime() + URL_TTL * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const body = { images, model: modelId, requestId: context.awsRequestId, expiresAt };
  if (missing.length > 0) {
    body.missing = missing;
    body.filtered = missing.filter((m) => /^Filter reason/.test(m.reason)).length;
  }
  return answer(200, body);
};
