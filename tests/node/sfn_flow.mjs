// The AWS SDK for JavaScript v3 (@aws-sdk/client-sfn) against Loam's Step Functions API.
//   node sfn_flow.mjs --endpoint http://127.0.0.1:7070 [--name state-machine-name]
// Creates a state machine (Pass, Wait 1 s, Choice, Succeed), starts an execution, waits for it,
// reads its history page by page, lists it, runs an express machine synchronously, collects
// Step Functions' error names and deletes what it made. Each step is recorded as {ok, ...facts}
// or {ok: false, error}; one JSON object is printed on the last line of stdout.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from "@aws-sdk/client-sfn";
import { stepper } from "./steps.mjs";

const { values: args } = parseArgs({
  options: { endpoint: { type: "string" }, name: { type: "string" }, region: { type: "string" } },
});
if (!args.endpoint) {
  console.error("usage: node sfn_flow.mjs --endpoint http://127.0.0.1:7070 [--name state-machine-name]");
  process.exit(2);
}

const region = args.region ?? "us-east-1";
const name = args.name ?? `js-${randomBytes(6).toString("hex")}`;
const role = "arn:aws:iam::000000000000:role/loam-sfn-js";
const sfn = new SFNClient({
  endpoint: args.endpoint,
  region,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
  maxAttempts: 1,
  // StartSyncExecution's endpoint is "sync-" + host; Loam serves every operation on one endpoint.
  disableHostPrefix: true,
});

const results = { name, sdk: "@aws-sdk/client-sfn", steps: {} };

// Runs one step; a failure is recorded with the SDK's error name, status and message.
const step = stepper(results);

// An error the step expects: its name and HTTP status.
async function expectError(fn) {
  try {
    await fn();
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode };
  }
  return { name: "no error" };
}

const definition = {
  StartAt: "Greet",
  States: {
    Greet: { Type: "Pass", Result: "hello from js", ResultPath: "$.greeting", Next: "Pause" },
    Pause: { Type: "Wait", Seconds: 1, Next: "Size" },
    Size: {
      Type: "Choice",
      Choices: [{ Variable: "$.n", NumericGreaterThanEquals: 3, Next: "Big" }],
      Default: "Small",
    },
    Big: { Type: "Succeed" },
    Small: { Type: "Fail", Error: "Input.TooSmall" },
  },
};
const input = { n: 3, big: true };

let stateMachineArn;
let executionArn;

await step("CreateStateMachine", async () => {
  const out = await sfn.send(new CreateStateMachineCommand({
    name, roleArn: role, definition: JSON.stringify(definition), tags: [{ key: "client", value: "js" }],
  }));
  stateMachineArn = out.stateMachineArn;
  return { stateMachineArn, creationDate: out.creationDate?.toISOString() };
});

await step("StartExecution", async () => {
  const out = await sfn.send(new StartExecutionCommand({
    stateMachineArn, name: "js-run", input: JSON.stringify(input),
  }));
  executionArn = out.executionArn;
  return { executionArn, startDate: out.startDate?.toISOString() };
});

await step("WaitForExecution", async () => {
  const deadline = Date.now() + 60_000;
  while (true) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== "RUNNING") {
      return { status: out.status, output: out.output, startDate: out.startDate?.toISOString(),
               stopDate: out.stopDate?.toISOString() };
    }
    if (Date.now() > deadline) throw new Error(`execution still ${out.status} after 60 s`);
    await sleep(100);
  }
});

await step("GetExecutionHistory", async () => {
  const pageSizes = [];
  const events = [];
  let nextToken;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4, nextToken }));
    pageSizes.push(page.events.length);
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
  return {
    pageSizes, ids: events.map((e) => e.id), types: events.map((e) => e.type),
    timestampsAreDates: events.every((e) => e.timestamp instanceof Date), reversedFirst: reversed.events[0]?.type,
  };
});

await step("ListExecutions", async () => {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
  return { names: out.executions.map((e) => e.name), statuses: out.executions.map((e) => e.status) };
});

await step("StartSyncExecution", async () => {
  const express = await sfn.send(new CreateStateMachineCommand({
    name: `${name}-express`, roleArn: role, type: "EXPRESS",
    definition: JSON.stringify({
      StartAt: "Echo",
      States: { Echo: { Type: "Pass", Parameters: { express: true, "echo.$": "$.v" }, End: true } },
    }),
  }));
  const out = await sfn.send(new StartSyncExecutionCommand({
    stateMachineArn: express.stateMachineArn, input: JSON.stringify({ v: 7 }),
  }));
  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: express.stateMachineArn }));
  return { status: out.status, output: out.output, executionArn: out.executionArn };
});

await step("Errors", async () => ({
  describeMissingExecution: await expectError(() => sfn.send(new DescribeExecutionCommand({
    executionArn: `${executionArn}-missing`,
  }))),
  createInvalidDefinition: await expectError(() => sfn.send(new CreateStateMachineCommand({
    name: `${name}-bad`, roleArn: role,
    definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Bogus", End: true } } }),
  }))),
  createInvalidName: await expectError(() => sfn.send(new CreateStateMachineCommand({
    name: "has space", roleArn: role, definition: JSON.stringify(definition),
  }))),
  describeInvalidArn: await expectError(() => sfn.send(new DescribeStateMachineCommand({
    stateMachineArn: "not-an-arn",
  }))),
  syncOnStandard: await expectError(() => sfn.send(new StartSyncExecutionCommand({ stateMachineArn }))),
  taskDoesNotExist: await expectError(() => sfn.send(new SendTaskSuccessCommand({
    taskToken: "0123456789abcdef0123456789abcdef00000001", output: "{}",
  }))),
}));

await step("DeleteStateMachine", async () => {
  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
  return { describeAfter: await expectError(() => sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))) };
});

results.ok = Object.values(results.steps).every((s) => s.ok);
console.log(JSON.stringify(results));
