heardLookup(54,{"h:github-405":[["github-405","2026-10-02","github"]],"h:pieter":[["mastodon-117247200468714424","2026-09-10","mastodon"]]});
