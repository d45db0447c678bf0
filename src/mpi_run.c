/* mpi_run.c — trials across MPI ranks, one table from rank 0 (mpi_run.h). */
#include "mpi_run.h"

#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_on, g_rank, g_size, g_local;

int os_mpi_init(int *argc, char ***argv)
{
    g_rank = 0, g_size = 1;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK")) return 1;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return 1;
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm node;
    g_local = g_rank;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &g_local);
        MPI_Comm_free(&node);
    }
    if (g_rank > 0) { /* one voice: rank 0 says what every rank would */
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2), close(null);
    }
    return g_size;
}

int os_mpi_rank(void) { return g_rank; }
int os_mpi_size(void) { return g_size; }
int os_mpi_local_rank(void) { return g_local; }

long os_mpi_share(long v)
{
    if (g_on && g_size > 1) MPI_Bcast(&v, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    return v;
}

/* A line on the launcher's stdout from a rank other than 0 (its stderr is
 * /dev/null). */
static void say_on_stdout(const char *msg)
{
    char line[600];
    const int n = snprintf(line, sizeof line, "orbitsweep: rank %d: %s\n", g_rank, msg);
    if (write(1, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0) {
    }
}

int os_mpi_agree(int rc, const char *why)
{
    if (!g_on || g_size == 1) return rc;
    int *all = malloc((size_t)g_size * sizeof *all);
    if (!all || MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD) != MPI_SUCCESS) {
        say_on_stdout("MPI: the ranks could not compare their plans");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int worst = 0, first = -1;
    for (int r = 0; r < g_size; ++r) {
        worst = all[r] > worst ? all[r] : worst;
        if (all[r] && first < 0) first = r;
    }
    free(all);
    if (first == g_rank && g_rank > 0) say_on_stdout(why);
    return worst;
}

void os_mpi_abort(int code)
{
    if (g_on && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

void os_mpi_finalize(void)
{
    if (g_on) MPI_Finalize();
    g_on = 0;
}

/* A rank's blocks, as they finish: to rank 0. */
static os_status send_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *err)
{
    (void)ctx;
    const int rc = MPI_Send(res, (int)(blk->n_trials * sizeof *res), MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) os_set_error(err, "MPI: rank %d could not send trials %zu.. to rank 0", g_rank, blk->first);
    return rc == MPI_SUCCESS ? OS_OK : OS_ERUNTIME;
}

static void fail_all(const os_error *err)
{
    if (g_rank > 0) /* stderr is /dev/null here: say it on the launcher's stdout */
        say_on_stdout(err->msg);
    else
        fprintf(stderr, "orbitsweep: rank %d: %s\n", g_rank, err->msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

os_status os_mpi_stream(const os_sweep *sw, size_t lo, size_t hi, size_t block_size, os_block_fn done, void *ctx,
                        os_progress_fn progress, void *pctx, double *train_s, os_error *err)
{
    if (!g_on || g_size == 1)
        return os_sweep_stream_range(sw, lo, hi, block_size, done, ctx, progress, pctx, train_s, err);
    const size_t n = hi > lo ? hi - lo : 0, P = (size_t)g_size;
    if (!block_size) { /* a few blocks per rank, at most one block's memory each */
        block_size = os_spec_block(sw->spec);
        const size_t share = (n + 4 * P - 1) / (4 * P);
        if (share && share < block_size) block_size = share;
    }
    os_result *res = g_rank == 0 ? malloc((block_size ? block_size : 1) * sizeof *res) : NULL;
    if (g_rank == 0 && !res) {
        os_set_error(err, "out of memory for a block of %zu results", block_size);
        fail_all(err);
    }
    double spent = 0, t;
    os_status st = OS_OK;
    size_t j = 0;
    for (size_t first = lo; first < hi && !st; first += block_size, ++j) {
        const size_t cnt = hi - first < block_size ? hi - first : block_size;
        const int owner = (int)(j % P);
        if (owner == g_rank) { /* ours: train it, then write it (rank 0) or send it */
            st = os_sweep_stream_range(sw, first, first + cnt, block_size, g_rank == 0 ? done : send_block, ctx,
                                       NULL, NULL, &t, err);
            spent += t;
        } else if (g_rank == 0) { /* another's: its results, written in their place */
            MPI_Status ms;
            if (MPI_Recv(res, (int)(cnt * sizeof *res), MPI_BYTE, owner, 0, MPI_COMM_WORLD, &ms) != MPI_SUCCESS) {
                os_set_error(err, "MPI: no results from rank %d for trials %zu..%zu", owner, first, first + cnt - 1);
                st = OS_ERUNTIME;
                break;
            }
            os_sweep blk;
            st = os_sweep_block(sw, first, cnt, &blk, err);
            if (!st) st = done(ctx, &blk, res, err);
            os_sweep_free(&blk);
        }
        if (!st && g_rank == 0 && progress) progress(pctx, first + cnt, sw->n_trials);
    }
    free(res);
    if (train_s) *train_s = spent;
    if (st && g_rank > 0) fail_all(err); /* rank 0 says what is kept first, then ends every rank */
    return st;
}
