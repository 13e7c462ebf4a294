-- wrk script for bench/sessions.sh: every thread keeps the session cookie
-- its first response set and sends it on every later request. Run wrk with
-- as many threads as connections (-tN -cN) so a thread's cookie is its one
-- connection's session. done() checks the counts: the last `visits: N` of
-- every session summed must equal the 2xx responses wrk counted.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookie, last, ok = nil, 0, 0
end

function request()
  if cookie then
    return wrk.format(nil, nil, { Cookie = cookie })
  end
  return wrk.format()
end

function response(status, headers, body)
  if status ~= 200 then return end
  ok = ok + 1
  local sc = headers["Set-Cookie"] or headers["set-cookie"]
  if sc and not cookie then cookie = sc:match("^([^;]+)") end
  local n = tonumber(body:match("^visits: (%d+)\n$"))
  if n and n > last then last = n end
end

function done(summary, latency, requests)
  local visits, oks = 0, 0
  for _, t in ipairs(threads) do
    visits = visits + t:get("last")
    oks = oks + t:get("ok")
  end
  io.write(string.format("sessions: %d, visits counted %d, 200 responses %d\n", #threads, visits, oks))
end
