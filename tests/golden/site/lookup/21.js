heardLookup(33,{});
