heardLookup(12,{"h:discourse-1262":[["discourse-1262","2026-10-03","discourse"]],"h:github-410":[["github-410","2026-10-05","github"]]});
