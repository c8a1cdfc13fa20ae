-- Replays pre-signed Twilio webhooks for webhook_bench.py:
--   wrk -t T -c C -d 10s -s wrk_replay.lua http://127.0.0.1:PORT -- DIR AVOID
-- Thread N sends the lines of DIR/N.tsv ("path<TAB>signature<TAB>body<TAB>expect") in order.
-- An answer counts as bad unless it is a 200 containing `expect` and not AVOID (an apology).
-- With one connection per thread (-t C -c C) each answer is checked against its own request,
-- so a call's steps go out one after the other; with more connections per thread the check
-- uses the thread's last request, fine when every line expects the same text (SMS).
-- done() prints one line "WRK-JSON {...}" that webhook_bench.py reads.

local next_id = 0
local threads = {}

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local dir = args[1]
   avoid = args[2] or ""
   reqs, expects = {}, {}
   local headers = {}
   headers["Content-Type"] = "application/x-www-form-urlencoded"
   for line in io.lines(dir .. "/" .. tid .. ".tsv") do
      local path, signature, body, expect = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      headers["X-Twilio-Signature"] = signature
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
      expects[#expects + 1] = expect
   end
   index, pending, verified = 0, "", false
   sent, wrapped, bad_status, bad_body, sample = 0, 0, 0, 0, ""
end

function request()
   if tid == 0 and not verified then
      -- wrk's main thread builds thread 0's first request to check it, and never sends it.
      verified = true
      return reqs[1]
   end
   index = index + 1
   if index > #reqs then
      index = 1
      wrapped = wrapped + 1
   end
   sent = sent + 1
   pending = expects[index]
   return reqs[index]
end

function response(status, headers, body)
   local ok = status == 200 and body ~= nil and body:find(pending, 1, true) ~= nil
   if ok and avoid ~= "" and body:find(avoid, 1, true) then
      ok = false
   end
   if not ok then
      if status == 200 then bad_body = bad_body + 1 else bad_status = bad_status + 1 end
      if sample == "" then
         sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function quote(text)
   return '"' .. text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local sums = {sent = 0, wrapped = 0, bad_status = 0, bad_body = 0}
   local sample_text = ""
   for _, thread in ipairs(threads) do
      for key, _ in pairs(sums) do
         sums[key] = sums[key] + (thread:get(key) or 0)
      end
      local s = thread:get("sample") or ""
      if sample_text == "" and s ~= "" then sample_text = s end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK-JSON {"duration_us": %d, "requests": %d, "p50_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "sent": %d, "wrapped": %d, "bad_status": %d, '
      .. '"bad_body": %d, "sample": %s}\n',
      summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),
      latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout,
      sums.sent, sums.wrapped, sums.bad_status, sums.bad_body, quote(sample_text)))
end
