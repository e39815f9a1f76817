heardLookup(40,{"u:github.com/lumen-mobile/app/issues/410":[["github-410","2026-10-05","github"]]});
