// Package slurm drives Slurm as it is: sbatch job arrays for a sweep's cells,
// srun job steps for a run's workers, and the state of jobs and steps read
// from squeue, scontrol and the job-completion file (jobcomp/filetxt), so no
// slurmdbd is needed. It runs Slurm's own commands (Debian's slurm-wlm); it
// never schedules anything itself.
//
// Which cluster: the commands honour SLURM_CONF as Slurm's do. Local finds
// the single-node test cluster that tools/slurm.sh (make slurm-up) starts.
package slurm
