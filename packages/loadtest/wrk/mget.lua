-- mget.lua: wrk script, mode "mget" of kv-common.lua (read its header for arguments).
-- Example: wrk -t1 -c50 -d10s -s mget.lua http://127.0.0.1:7171 -- pool=100000 batch=100
MODE = "mget"
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "kv-common.lua")
