-- wrk script: POST one event file (EVENT_FILE) to the request path with JSON headers.
local file = assert(io.open(os.getenv("EVENT_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
