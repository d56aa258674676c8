// Runs a definition with the aws-local-stepfunctions interpreter (npm), the comparison of
// bench/workflows: node local_sfn.mjs DEFINITION.json INPUT.json REPS -> one JSON line with the
// seconds of each run (validation happens once, outside the timing, as Loam validates at
// CreateStateMachine) and the execution's output of the last run.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [definitionFile, inputFile, reps] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(definitionFile, 'utf8'));
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const machine = new StateMachine(definition);
const seconds = [];
let output;
for (let r = 0; r < Number(reps); r++) {
  const started = process.hrtime.bigint();
  output = await machine.run(input).result;
  seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
}
console.log(JSON.stringify({ seconds, output }));
