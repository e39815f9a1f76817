heardLookup(48,{"h:github-458":[["github-458","2026-11-24","github"]],"u:github.com/lumen-mobile/app/issues/447":[["github-447","2026-11-09","github"]]});
