// The reference JSONata (npm `jsonata`, pinned at 2.0.6, the version Step Functions runs) for
// Loam's differential tests.
//
//   node jsonata_reference.mjs --write FILE...   evaluate every case of each corpus file
//                                                 (tests/conformance/jsonata) and rewrite its
//                                                 expectation from the reference
//   node jsonata_reference.mjs --check FILE...   the same, but only report the cases whose
//                                                 committed expectation differs
//   node jsonata_reference.mjs --batch           JSON lines {"expr", "input"?, "bindings"?} on
//                                                 stdin, one outcome line per case on stdout
//
// An outcome is {"result": R} | {"undefined": true} | {"error": CODE, "message": TEXT}; the
// corpus files keep "error" without the message. R is the result as Loam serializes it (see
// outcomeOf). Cases with "reference": false (the functions only Step Functions has) keep
// their hand-written expectations.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import jsonata from 'jsonata';

// JSON text as Loam's ToJson gives it: functions become "" wherever they are (JSON.stringify
// would drop them from objects and give undefined at the top), everything else as
// JSON.stringify writes it.
function serialize(value) {
  return JSON.stringify(value, (key, v) => (typeof v === 'function' ? '' : v));
}

function isFunctionValue(v) {
  return typeof v === 'function' || (v !== null && typeof v === 'object' &&
    (v._jsonata_lambda === true || v._jsonata_function === true));
}

function normalize(value) {
  // JSONata's own function values (lambdas, natives) are plain objects with markers.
  const text = JSON.stringify(value, (key, v) => (isFunctionValue(v) ? '' : v));
  return JSON.parse(text);
}

export async function outcomeOf(kase) {
  let expression;
  try {
    expression = jsonata(kase.expr);
    const bindings = kase.bindings ?? {};
    const result = await expression.evaluate('input' in kase ? kase.input : undefined, bindings);
    if (result === undefined) return { undefined: true };
    return { result: normalize(result) };
  } catch (e) {
    return { error: e.code ?? `JS:${e.name}`, message: String(e.message ?? e) };
  }
}

const OUTCOME_KEYS = ['result', 'undefined', 'error'];

function sameOutcome(kase, outcome) {
  const committed = {};
  for (const k of OUTCOME_KEYS) if (k in kase) committed[k] = kase[k];
  const fresh = { ...outcome };
  delete fresh.message;
  return serialize(committed) === serialize(fresh);
}

// One case per line keeps the corpus readable and its diffs small.
function formatFile(file) {
  const head = { ...file };
  delete head.cases;
  const lines = [];
  lines.push('{');
  for (const [k, v] of Object.entries(head)) lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  lines.push('  "cases": [');
  file.cases.forEach((c, i) => lines.push(`    ${JSON.stringify(c)}${i + 1 < file.cases.length ? ',' : ''}`));
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n') + '\n';
}

const NONDETERMINISTIC = /\$(now|millis|random|shuffle|uuid)\b/;

async function processFiles(paths, write) {
  let differences = 0;
  let total = 0;
  for (const path of paths) {
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const cases = [];
    for (const kase of file.cases) {
      total++;
      if (kase.reference === false) { cases.push(kase); continue; }
      const outcome = await outcomeOf(kase);
      if (NONDETERMINISTIC.test(kase.expr)) {
        const again = await outcomeOf(kase);
        if (serialize(again) !== serialize(outcome)) {
          console.error(`${path}: nondeterministic: ${kase.expr}`);
        }
      }
      if (outcome.error?.startsWith('JS:')) {
        console.error(`${path}: not a JSONata error: ${kase.expr}: ${outcome.message}`);
      }
      if (!sameOutcome(kase, outcome)) {
        differences++;
        if (!write) {
          console.log(JSON.stringify({ file: path, expr: kase.expr, input: kase.input, bindings: kase.bindings,
                                       committed: Object.fromEntries(OUTCOME_KEYS.filter((k) => k in kase).map((k) => [k, kase[k]])),
                                       reference: outcome }));
        }
      }
      const updated = {};
      for (const [k, v] of Object.entries(kase)) if (!OUTCOME_KEYS.includes(k)) updated[k] = v;
      if ('result' in outcome) updated.result = outcome.result;
      else if (outcome.undefined) updated.undefined = true;
      else updated.error = outcome.error;
      // "reference" and "note" read best after the expectation.
      for (const k of ['reference', 'note']) {
        if (k in updated) { const v = updated[k]; delete updated[k]; updated[k] = v; }
      }
      cases.push(updated);
    }
    if (write) writeFileSync(path, formatFile({ ...file, cases }));
  }
  console.error(`${total} cases, ${differences} ${write ? 'rewritten' : 'differ from the reference'}`);
  return differences;
}

async function batch() {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let outcome;
    try {
      outcome = await outcomeOf(JSON.parse(line));
    } catch (e) {
      outcome = { error: 'JS:BadLine', message: String(e.message ?? e) };
    }
    process.stdout.write(serialize(outcome) + '\n');
  }
}

const [mode, ...paths] = process.argv.slice(2);
if (mode === '--batch') {
  await batch();
} else if (mode === '--write' || mode === '--check') {
  const differences = await processFiles(paths, mode === '--write');
  if (mode === '--check' && differences > 0) process.exitCode = 1;
} else {
  console.error('usage: jsonata_reference.mjs --write FILE... | --check FILE... | --batch');
  process.exitCode = 2;
}
