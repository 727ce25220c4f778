// Package journal is bohost's append-only JSON-lines record: one JSON value per
// line, written with a single write(2) and fsynced before Append returns, never
// rewritten. It follows Optuna's JournalFileBackend (notes/deps.md §9).
//
// Writing:
//
//	w, err := journal.Open(filepath.Join(dir, "trials.jsonl"), &journal.Options{TruncateTorn: true})
//	...
//	err = w.Append(trial) // any value encoding/json can marshal; one line, fsynced
//	err = w.Close()
//
// Open refuses a file whose end is torn (a last line without its newline, or
// invalid JSON on the last line) unless Options.TruncateTorn is set, in which
// case the torn bytes are cut off first and described by Writer.Repaired (the
// caller logs it as an event). Appending after a torn tail would otherwise glue
// the new record to the torn one and damage the middle of the file.
//
// Reading:
//
//	rep, err := journal.ReadAll(path, func(line []byte) error { return json.Unmarshal(line, &rec) })
//
// ReadAll calls fn for every complete, valid line in order. A torn end is
// skipped and described in the returned Report; a bad line followed by a valid
// one is corruption in the middle of the file and returns an *errs.Error of
// kind io naming the file and the 1-based line number. Blank lines are skipped.
// An error returned by fn stops the read and is returned with the file and line
// number added.
//
// Errors are *errs.Error (bohost/host/errs): io for file-system failures and
// corruption, bad_state for a torn file opened without TruncateTorn or a file
// locked by another writer, bad_arg for values that cannot be marshalled.
package journal
