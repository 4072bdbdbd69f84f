-- wrk script: POST the GraphQL request body read from the file named after `--`, with
-- the bearer token given as the second argument (when there is one).
local body
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  local file = assert(io.open(args[1], "r"))
  body = file:read("*a")
  file:close()
  if args[2] then
    headers["Authorization"] = "Bearer " .. args[2]
  end
end

function request()
  return wrk.format("POST", nil, headers, body)
end
