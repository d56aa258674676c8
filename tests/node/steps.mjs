// What the flows share: each step's result, or its failure with the SDK's error name, HTTP
// status and message, gathered in `results.steps` for the test to read.
export function stepper(results) {
  return async function step(name, fn) {
    try {
      results.steps[name] = { ok: true, ...(await fn()) };
    } catch (err) {
      results.steps[name] = {
        ok: false,
        error: { name: err.name, status: err.$metadata?.httpStatusCode, message: String(err.message ?? err) },
      };
    }
  };
}
