heardLookup(17,{"h:jnowak":[["github-402","2026-10-01","github"]],"u:reddit.example/r/lumenmobile/comments/1f3k9qa/lumen_doublecharged_my_topup":[["reddit-1f3k9qa","2026-09-09","reddit"]]});
