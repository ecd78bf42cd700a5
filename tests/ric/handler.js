// handler.js - a Node.js Lambda handler that AWS's runtime interface client (aws-lambda-ric) runs
// against imagegen-gateway: a Runtime API client we did not write checks the gateway's side of it.
"use strict";

exports.handler = async (event, context) => {
  const q = event.queryStringParameters || {};
  console.log(`handling ${event.httpMethod} ${event.path}`);
  if (q.mode === "throw") {
    throw new Error("handler failure on purpose");
  }
  if (q.mode === "sleep") {
    await new Promise((resolve) => setTimeout(resolve, Number(q.ms || 100)));
  }
  if (q.mode === "binary") {
    return {
      statusCode: 200,
      headers: { "Content-Type": "image/png" },
      isBase64Encoded: true,
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString("base64"),
    };
  }
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json", "X-Handler": "node" },
    multiValueHeaders: { "Set-Cookie": ["a=1", "b=2"] },
    body: JSON.stringify({
      path: event.path,
      method: event.httpMethod,
      resource: event.resource,
      query: event.queryStringParameters,
      body: event.body,
      requestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      memoryLimitInMB: context.memoryLimitInMB,
      invokedFunctionArn: context.invokedFunctionArn,
      logStreamName: context.logStreamName,
      remainingMs: context.getRemainingTimeInMillis(),
      pid: process.pid,
      traceId: process.env._X_AMZN_TRACE_ID || null,
    }),
  };
};
