/* mpi_run.h — `mpirun -np N orbitsweep run ...` (a build with OS_ENABLE_MPI):
 * the trials split across ranks a block at a time, every block's results
 * sent to rank 0, which writes the one table in grid order (and resumes
 * it) exactly as a single process would (docs/design.md §3, "MPI").
 * Without MPI (a build without it, or a process not started by mpirun or
 * srun) there is one rank and these do nothing.
 */
#ifndef ORBITSWEEP_MPI_RUN_H
#define ORBITSWEEP_MPI_RUN_H

#include <stddef.h>

#include "orbitsweep/orbitsweep.h"

#ifdef OS_HAVE_MPI
/* MPI_Init when the process was started by an MPI launcher (Open MPI's
 * mpirun, or PMI/PMIx as under srun); returns the number of ranks (1: not
 * under MPI). Ranks other than 0 print nothing on stderr but their own
 * runtime failures. */
int os_mpi_init(int *argc, char ***argv);
int os_mpi_rank(void);
int os_mpi_size(void);
/* The rank's place among the ranks of its node (its GPU, where there are GPUs). */
int os_mpi_local_rank(void);
/* Rank 0 tells every rank a number (the first trial to run, or a negative
 * exit code: stop); every rank returns it. */
long os_mpi_share(long v);
/* Every rank's verdict on what it did alone (0: well, else its exit code,
 * why: its message): returns the worst, the same on every rank, so that
 * no rank waits for one that has stopped. The lowest rank that failed
 * says why, on stdout where it is not rank 0 (rank 0 says it itself, on
 * stderr). */
int os_mpi_agree(int rc, const char *why);
/* Trials lo .. hi-1 of sw in blocks of block_size: block j trained by
 * rank j mod N; rank 0 receives the others' results and calls done with
 * every block in grid order, then progress. A failure anywhere ends every
 * rank (MPI_Abort) after its message. */
os_status os_mpi_stream(const os_sweep *sw, size_t lo, size_t hi, size_t block_size, os_block_fn done, void *ctx,
                        os_progress_fn progress, void *pctx, double *train_s, os_error *err);
/* Ends every rank with code (rank 0 has said why). */
void os_mpi_abort(int code);
void os_mpi_finalize(void);
#else
static inline int os_mpi_init(int *argc, char ***argv) { return (void)argc, (void)argv, 1; }
static inline int os_mpi_rank(void) { return 0; }
static inline int os_mpi_size(void) { return 1; }
static inline int os_mpi_local_rank(void) { return 0; }
static inline long os_mpi_share(long v) { return v; }
static inline int os_mpi_agree(int rc, const char *why) { return (void)why, rc; }
static inline os_status os_mpi_stream(const os_sweep *sw, size_t lo, size_t hi, size_t block_size, os_block_fn done,
                                      void *ctx, os_progress_fn progress, void *pctx, double *train_s, os_error *err)
{
    return os_sweep_stream_range(sw, lo, hi, block_size, done, ctx, progress, pctx, train_s, err);
}
static inline void os_mpi_abort(int code) { (void)code; }
static inline void os_mpi_finalize(void) {}
#endif

#endif
