-- wrk script of the HTTP benchmark (bench/groups/http.ts).
-- Adds `Authorization: Bearer $QMTL_BENCH_TOKEN` when that variable is set,
-- and prints one machine-readable summary line at the end:
--   WRK_JSON {"requests":…,"duration_us":…,"bytes":…,"errors":{…},"latency_us":{…}}
-- `errors.status` counts responses with a status ≥ 400 (wrk's definition).

local token = os.getenv("QMTL_BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
