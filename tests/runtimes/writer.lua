-- Lua: io.write + flush, a write() a line.  For tests/runtimes.bats and bench/runtimes.sh.
--   lua5.4 writer.lua stdout N       "line#i\n" for i < N on stdout
--   lua5.4 writer.lua file N FILE    the same into FILE, a seek-and-patch of its
--                                    head and a read back; exit 3
local mode, n, path = arg[1], math.tointeger(tonumber(arg[2])), arg[3]
if mode == "stdout" then
  for i = 0, n - 1 do
    io.write("line#", i, "\n")
    io.flush()
  end
else
  local f = assert(io.open(path, "w+"))
  for i = 0, n - 1 do
    f:write("line#", i, "\n")
    f:flush()
  end
  f:seek("set", 0)
  f:write("LINE")
  f:flush()
  print("position " .. f:seek("cur") .. ", size " .. f:seek("end"))
  f:seek("set", 2)
  print("read back: " .. f:read(6))
  f:close()
  os.exit(3)
end
