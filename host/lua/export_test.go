package lua

// ArgNames exposes argNames to the tests of package lua_test.
var ArgNames = argNames
