heardLookup(23,{});
