heardLookup(51,{"h:reddit-1gh2m0p":[["reddit-1gh2m0p","2026-10-22","reddit"]]});
