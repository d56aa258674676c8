-- wrk script of the serving benchmark (bench/serving/bench_serving.py): one fixed POST, and at the
-- end one machine-readable line with wrk's own counts and exact percentiles (microseconds, from
-- its 1 µs latency histogram over every response). The body, its Content-Type and (when set) an
-- Accept header come from the environment.
wrk.method = "POST"
wrk.body = os.getenv("LOAM_BENCH_BODY") or "[[1,2,3]]"
wrk.headers["Content-Type"] = os.getenv("LOAM_BENCH_CONTENT_TYPE") or "application/json"
local accept = os.getenv("LOAM_BENCH_ACCEPT")
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    p[#p + 1] = string.format('"%g":%.0f', q, latency:percentile(q))
  end
  io.write(string.format(
    'LOAM_BENCH_WRK {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"min":%.0f,"max":%.0f,"mean":%.3f,"stdev":%.3f,"p":{%s}}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev, table.concat(p, ",")))
end
