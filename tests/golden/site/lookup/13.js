heardLookup(19,{"u:x.example/mcr_runner/status/2102363529070875171":[["x-2102360006242119687","2026-09-22","x"]]});
