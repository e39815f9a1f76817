heardLookup(24,{"h:ines":[["mastodon-117571072827441461","2026-11-06","mastodon"]]});
