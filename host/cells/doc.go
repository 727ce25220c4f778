// Package cells runs a sweep's cells — its independent runs, one per (alpha,
// seed) — as separate processes: locally, N at a time (Local), or as one
// Slurm job array with an element per cell (Submit, Wait). A cell is the same
// command that started the sweep with "--cell K" appended, so the script
// decides what a cell is and every cell resumes from its run directory like
// any run; this package only starts, watches and records processes.
//
// A sweep keeps its submissions in DIR/jobs.jsonl (one line per sbatch:
// job id, cells, time, command), so a rerun of the same command finds the
// cells still queued or running on the cluster (Pending) and waits for them
// instead of submitting them twice. Job states come from squeue and
// scontrol show job while Slurm remembers the job, then from the
// job-completion file (jobcomp/filetxt): no slurmdbd is needed. The run
// directories stay the truth about which cells are finished.
package cells
