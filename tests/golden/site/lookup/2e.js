heardLookup(46,{"h:github-452":[["github-452","2026-11-16","github"]],"u:bsky.example/profile/zoe.bsky.example/post/3n2lmfexyqv6b":[["bluesky-3n2lmfexyqv6b","2026-11-18","bluesky"]]});
