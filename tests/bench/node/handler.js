// handler.js - the imagegen job written the way most teams would write it today: Node.js, the
// AWS SDK v3 and AWS's runtime interface client (aws-lambda-ric). scripts/bench runs it through
// the same gateway, Bedrock stand-in and S3 as the C runtime, so the two are measured doing
// the same work: parse prompt/width/height/numberOfImages/seed, call Titan with the same body,
// decode the base64 images, PutObject each under a uuid key, presign a GET for each, and answer
// with the same JSON shape. GET /health answers at once, as the C runtime's policy does.
"use strict";

const crypto = require("node:crypto");
const { BedrockRuntimeClient, InvokeModelCommand } = require("@aws-sdk/client-bedrock-runtime");
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");
const { getSignedUrl } = require("@aws-sdk/s3-request-presigner");
const { NodeHttpHandler } = require("@smithy/node-http-handler");

const MODEL_ID = "amazon.titan-image-generator-v1";
const URL_TTL = 3600;
const region = process.env.AWS_REGION || "us-east-1";
const bucket = process.env.IMAGEGEN_BUCKET;
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
};

// Clients are built once per execution environment, outside the handler, as AWS advises.
const bedrock = new BedrockRuntimeClient({
  region,
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

function keyPrefix(now) {
  const d = now.toISOString();
  return `images/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/`;
}

function intOr(v, fallback) {
  return Number.isInteger(v) ? v : fallback;
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
    return answer(400, { error: { code: "invalid_body", message: "The body is not JSON.", requestId: context.awsRequestId } });
  }
  if (typeof req.prompt !== "string" || req.prompt.length < 1 || req.prompt.length > 512) {
    return answer(400, {
      error: { code: "invalid_prompt", message: "prompt must be 1 to 512 characters.", requestId: context.awsRequestId },
    });
  }
  const width = intOr(req.width, 1024);
  const height = intOr(req.height, 1024);
  const numberOfImages = intOr(req.numberOfImages, 1);
  const seed = intOr(req.seed, crypto.randomInt(0, 2147483647));

  const body = {
    taskType: "TEXT_IMAGE",
    textToImageParams: { text: req.prompt },
    imageGenerationConfig: { numberOfImages, quality: "standard", width, height, cfgScale: 8, seed },
  };
  const out = await bedrock.send(
    new InvokeModelCommand({
      modelId: MODEL_ID,
      contentType: "application/json",
      accept: "application/json",
      body: JSON.stringify(body),
    }),
  );
  const result = JSON.parse(Buffer.from(out.body).toString("utf8"));

  const now = new Date();
  const prefix = keyPrefix(now);
  const images = await Promise.all(
    result.images.map(async (b64) => {
      const png = Buffer.from(b64, "base64");
      const key = `${prefix}${crypto.randomUUID()}.png`;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: png,
          ContentType: "image/png",
          CacheControl: "private, max-age=3600",
        }),
      );
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: URL_TTL });
      return { url, key, width, height, seed };
    }),
  );
  const expiresAt = new Date(now.getTime() + URL_TTL * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return answer(200, { images, model: MODEL_ID, requestId: context.awsRequestId, expiresAt });
};
