// A Node.js Lambda runtime for moto without Docker (see server.py): runs one
// invocation of the handler named in argv[2] (file.export, as in the
// function's Handler) from the current directory, with the event on stdin.
//
// A custom-resource handler answers CloudFormation with an HTTPS PUT to the
// event's ResponseURL. The runtime keeps that one request: it writes the body
// to CFN_RESPONSE_FILE for server.py, which applies it as CloudFormation
// would. Every other request goes out unchanged (the AWS SDK reaches moto
// through AWS_ENDPOINT_URL).
"use strict";

const fs = require("fs");
const https = require("https");
const path = require("path");
const { EventEmitter } = require("events");

const responseHost = process.env.CFN_RESPONSE_HOST;
const responseFile = process.env.CFN_RESPONSE_FILE;

const realRequest = https.request;
https.request = function request(options, callback) {
  if (!options || options.hostname !== responseHost) {
    return realRequest.apply(this, arguments);
  }
  const chunks = [];
  const req = new EventEmitter();
  req.write = (chunk) => {
    chunks.push(Buffer.from(chunk));
    return true;
  };
  req.end = (chunk) => {
    if (chunk) req.write(chunk);
    fs.writeFileSync(responseFile, Buffer.concat(chunks));
    const res = new EventEmitter();
    res.statusCode = 200;
    res.resume = () => res;
    if (callback) setImmediate(() => callback(res));
    setImmediate(() => res.emit("end"));
    return req;
  };
  req.setTimeout = () => req;
  req.destroy = () => req;
  return req;
};

async function main() {
  const handlerName = process.argv[2];
  const dot = handlerName.lastIndexOf(".");
  const file = path.resolve(handlerName.slice(0, dot));
  const exported = handlerName.slice(dot + 1);
  const event = JSON.parse(fs.readFileSync(0, "utf8"));
  const deadline = Date.now() + 120000;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    awsRequestId: event.RequestId,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  const handler = require(file)[exported];
  return handler(event, context);
}

main().then(
  (result) => {
    if (result !== undefined) console.log("handler returned", JSON.stringify(result));
  },
  (err) => {
    console.error("handler failed:", err);
    process.exitCode = 1;
  },
);
