// The AWS SDK for JavaScript v3 (@aws-sdk/client-sfn) against Loam's JSONata query mode.
//   node sfn_jsonata_flow.mjs --endpoint http://127.0.0.1:7070 [--name state-machine-name]
// Validates and creates a JSONata state machine (Pass with Output and Assign, Choice on a
// Condition, Map with Items and ItemSelector), runs it and reads its output and the variables its
// StateExited events record; runs one whose Output evaluates to nothing and reads the
// EvaluationFailed event; collects the validation errors of a JSONPath field in a JSONata state.
// Each step is recorded as {ok, ...facts} or {ok: false, error}; one JSON object is printed on the
// last line of stdout.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import { stepper } from "./steps.mjs";

const { values: args } = parseArgs({
  options: { endpoint: { type: "string" }, name: { type: "string" }, region: { type: "string" } },
});
if (!args.endpoint) {
  console.error("usage: node sfn_jsonata_flow.mjs --endpoint http://127.0.0.1:7070 [--name state-machine-name]");
  process.exit(2);
}

const region = args.region ?? "us-east-1";
const name = args.name ?? `js-jsonata-${randomBytes(6).toString("hex")}`;
const role = "arn:aws:iam::000000000000:role/loam-sfn-js";
const sfn = new SFNClient({
  endpoint: args.endpoint,
  region,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
  maxAttempts: 1,
  disableHostPrefix: true,
});

const results = { name, sdk: "@aws-sdk/client-sfn", steps: {} };
const step = stepper(results);

const definition = {
  QueryLanguage: "JSONata",
  StartAt: "Total",
  States: {
    Total: {
      Type: "Pass",
      Assign: { total: "{% $sum($states.input.prices) %}", who: "{% $states.input.customer %}" },
      Output: { count: "{% $count($states.input.prices) %}", prices: "{% $states.input.prices %}" },
      Next: "Big?",
    },
    "Big?": {
      Type: "Choice",
      Choices: [{ Condition: "{% $total >= 100 %}", Next: "Discount", Assign: { tier: "gold" } }],
      Default: "Discount",
      Assign: { tier: "plain" },
    },
    Discount: {
      Type: "Map",
      Items: "{% $states.input.prices %}",
      ItemSelector: { price: "{% $states.context.Map.Item.Value %}", rate: "{% $tier = 'gold' ? 0.5 : 1 %}" },
      ItemProcessor: {
        StartAt: "Apply",
        States: { Apply: { Type: "Pass", Output: "{% $states.input.price * $states.input.rate %}", End: true } },
      },
      Output: {
        customer: "{% $who %}",
        tier: "{% $tier %}",
        paid: "{% $sum($states.result) %}",
        each: "{% $states.result %}",
      },
      End: true,
    },
  },
};
const input = { customer: "ada", prices: [40, 60, 20] };

async function waitFor(executionArn) {
  const deadline = Date.now() + 60_000;
  while (true) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== "RUNNING") return out;
    if (Date.now() > deadline) throw new Error(`execution still ${out.status} after 60 s`);
    await sleep(50);
  }
}

async function allEvents(executionArn) {
  const events = [];
  let nextToken;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

let stateMachineArn;
let executionArn;
let brokenArn;

await step("Validate", async () => {
  const out = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(definition) }));
  return { result: out.result, diagnostics: out.diagnostics };
});

await step("CreateStateMachine", async () => {
  const out = await sfn.send(new CreateStateMachineCommand({ name, roleArn: role, definition: JSON.stringify(definition) }));
  stateMachineArn = out.stateMachineArn;
  const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
  return { stateMachineArn, variableReferences: described.variableReferences };
});

await step("Run", async () => {
  const started = await sfn.send(new StartExecutionCommand({
    stateMachineArn, name: "js-jsonata-run", input: JSON.stringify(input),
  }));
  executionArn = started.executionArn;
  const done = await waitFor(executionArn);
  return { executionArn, status: done.status, output: done.output };
});

await step("History", async () => {
  const events = await allEvents(executionArn);
  const exited = events.filter((e) => e.stateExitedEventDetails?.assignedVariables);
  return {
    types: events.map((e) => e.type),
    assigned: Object.fromEntries(exited.map((e) => [e.stateExitedEventDetails.name, e.stateExitedEventDetails.assignedVariables])),
  };
});

await step("EvaluationFailed", async () => {
  const broken = {
    QueryLanguage: "JSONata",
    StartAt: "Pick",
    States: { Pick: { Type: "Pass", Output: { v: "{% $states.input.absent %}" }, End: true } },
  };
  const created = await sfn.send(new CreateStateMachineCommand({
    name: `${name}-broken`, roleArn: role, definition: JSON.stringify(broken),
  }));
  brokenArn = created.stateMachineArn;
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: brokenArn, input: JSON.stringify({ present: 1 }) }));
  const done = await waitFor(started.executionArn);
  const events = await allEvents(started.executionArn);
  const failed = events.find((e) => e.type === "EvaluationFailed");
  return {
    status: done.status, error: done.error, cause: done.cause, types: events.map((e) => e.type),
    details: failed?.evaluationFailedEventDetails ?? null,
  };
});

await step("InvalidDefinition", async () => {
  const bad = {
    QueryLanguage: "JSONata",
    StartAt: "A",
    States: { A: { Type: "Pass", Parameters: { "x.$": "$.x" }, End: true } },
  };
  const validated = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(bad) }));
  let created = { name: "no error" };
  try {
    await sfn.send(new CreateStateMachineCommand({ name: `${name}-bad`, roleArn: role, definition: JSON.stringify(bad) }));
  } catch (err) {
    created = { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  return { validated: { result: validated.result, diagnostics: validated.diagnostics }, created };
});

await step("Cleanup", async () => {
  for (const arn of [stateMachineArn, brokenArn]) {
    if (arn) await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
  }
  return {};
});

results.ok = Object.values(results.steps).every((s) => s.ok);
console.log(JSON.stringify(results));
