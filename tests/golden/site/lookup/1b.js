heardLookup(27,{"h:bluesky-3mwxinbdipb65":[["bluesky-3mwxinbdipb65","2026-10-03","bluesky"]],"u:x.example/dan_okafor/status/2097221396622750795":[["x-2097221396622750795","2026-09-08","x"]]});
