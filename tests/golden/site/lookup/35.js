heardLookup(53,{"h:discourse-1302":[["discourse-1302","2026-11-11","discourse"]]});
