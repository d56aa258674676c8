// Evaluates JSONata expressions with jsonata-js 2.0.6 (the version Step Functions runs), the
// comparison of loam_bench_jsonata: node jsonata_ref.mjs CASES.json REPS -> one JSON line with,
// per case, the seconds of each evaluation (batch average) and the last result. Each expression
// is compiled once, outside the timing, as Loam compiles it once per definition.
import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';

const [casesFile, reps] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const out = [];
for (const c of cases) {
  const expression = jsonata(c.expr);
  const batch = c.batch ?? 100;
  const seconds = [];
  let result;
  for (let r = 0; r < Number(reps); r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) result = await expression.evaluate(undefined, c.bindings);
    seconds.push(Number(process.hrtime.bigint() - started) / 1e9 / batch);
  }
  out.push({ name: c.name, seconds, result: JSON.parse(JSON.stringify(result ?? null)) });
}
console.log(JSON.stringify({ cases: out }));
