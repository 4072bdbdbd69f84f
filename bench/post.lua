-- wrk script: POST the GraphQL request body read from the file named after `--`.
local body

function init(args)
  local file = assert(io.open(args[1], "r"))
  body = file:read("*a")
  file:close()
end

function request()
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
