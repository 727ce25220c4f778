// Package ckpt writes and reads bohost's checkpoints: atomic, checksummed
// snapshots of plain data that reproduce every number bit for bit.
//
// # File format
//
// A snapshot is one line of JSON (docs/rundir.md):
//
//	{"format":1,"sha256":"<hex SHA-256 of the payload bytes>","payload":{...}}
//
// The payload is the canonical encoding of a Value (compact, map keys sorted);
// the checksum covers exactly those bytes. Save writes a temp file in the same
// directory, fsyncs it, renames it over NAME.json and fsyncs the directory;
// the replaced snapshot is kept as NAME.prev.json (only if it verifies, so a
// corrupt file never pushes out the last good one). Load verifies format and
// checksum, and on a missing, truncated, altered or non-JSON NAME.json falls
// back to NAME.prev.json, returning a *Warning for the caller to log as a
// checkpoint_fallback event. Temp files left by a crash mid-Save are ignored by
// Load and removed by the next Save.
//
//	c := ckpt.NewCodec()
//	c.Register("bohost.rng", decodeRNG) // typed objects, see below
//	err := c.Save(filepath.Join(dir, "checkpoint.json"), state)
//	ld, err := c.Latest(dir)            // or c.Load(path)
//	if ld.Warning != nil { log(ld.Warning.String()) }
//
// # Value model
//
// A Value is nil, bool, float64, string, []Value, map[string]Value, Pairs
// (tables with non-string keys), or a typed object. It covers every Lua value
// made of tables, numbers, strings and booleans, plus bohost objects:
//
//   - finite float64s are JSON numbers in the shortest form that parses back to
//     the same bits (strconv 'g', -1); NaN (any payload), +Inf, -Inf and -0 are
//     {"__type":"f64","bits":"<16 hex digits>","v":"NaN"} so they survive
//     exactly; strings that are not valid UTF-8 are {"__type":"bytes","b64":…};
//   - a Lua sequence becomes []Value, a table with only string keys
//     map[string]Value, and any other table Pairs ([[k, v], …], order kept);
//     a string map that itself has a "__type" key is wrapped as
//     {"__type":"map","map":{…}};
//   - a Go object implementing Encoder is written as {"__type": CkptType(),
//     ...CkptFields()} and rebuilt on load by the DecodeFunc registered under
//     that name; with no decoder registered it loads as *Object and saves back
//     unchanged.
//
// Integers are accepted by Marshal when |v| <= 2^53 and load as float64; wider
// integers (RNG states) must be stored as strings by their Encoder.
//
// Errors are *errs.Error: bad_arg for values that cannot be saved, io for
// file-system failures and unusable snapshots (errors.Is(err, fs.ErrNotExist)
// when there is no checkpoint at all).
package ckpt
