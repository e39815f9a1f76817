heardLookup(21,{"h:cleo.bsky.example":[["bluesky-3mwxinbdipb65","2026-10-03","bluesky"]]});
