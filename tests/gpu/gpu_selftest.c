/* gpu_selftest.c — the GPU checks that need no GoogleTest (scripts/gpu-check.sh).
 *
 *   os_gpu_selftest [--quick]
 *
 * 1. Philox on the device: cuRAND's device API and our os_philox port give
 *    the known-answer words of docs/gpu-notes.md and the host port's.
 * 2. Batch orders: os_perm_at on the device equals the host's.
 * 3. Parity: over a grid with every optimizer, scheduler, shuffle mode and
 *    dtype (and the scheduler catalogue's grid, per update and per epoch), diverging and fully masked trainings, os_cuda_run's results
 *    table is byte-identical to os_cpu_run's for every tile size (1, 2, 4,
 *    8, auto), in chunks, with the shared orders derived on the fly, with
 *    the grid capped (--max-blocks: lanes hand over between trainings), on
 *    a --data file, and twice in a row.
 * Prints one line per check and a summary. Exit status: 0 all passed, 1 a
 * check failed, 77 no usable GPU (ctest counts it as skipped).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_selftest.h"
#include "orbitsweep/backend.h"
#include "orbitsweep/shuffle.h"
#include "parity_grid.h" /* the grid the GoogleTest tests check too */

static int g_checks, g_failed;

static void check(int ok, const char *fmt, const char *what)
{
    ++g_checks;
    g_failed += !ok;
    printf("%s ", ok ? "PASS" : "FAIL");
    printf(fmt, what);
    putchar('\n');
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Philox and batch orders                                                   */

static int philox_case(int dev, uint64_t seed, uint64_t sub, uint64_t off, const uint32_t *want, int n_want)
{
    enum { COUNT = 64 };
    uint32_t cur[COUNT], port[COUNT], host[COUNT];
    float uc = 0, up = 0;
    os_error err;
    if (os_cuda_test_philox(dev, seed, sub, off, COUNT, cur, port, &uc, &up, &err)) {
        printf("  %s\n", err.msg);
        return 0;
    }
    os_philox s;
    os_philox_init(&s, seed, sub, off);
    for (int i = 0; i < COUNT; ++i) host[i] = os_philox_next(&s);
    os_philox_init(&s, seed, sub, off);
    const float uh = os_philox_uniform(&s);
    int ok = memcmp(cur, port, sizeof cur) == 0 && memcmp(cur, host, sizeof cur) == 0 &&
             memcmp(&uc, &up, sizeof uc) == 0 && memcmp(&uc, &uh, sizeof uc) == 0;
    for (int i = 0; i < n_want; ++i) ok = ok && cur[i] == want[i];
    if (!ok) {
        printf("  curand_init(%llu,%llu,%llu): curand", (unsigned long long)seed, (unsigned long long)sub,
               (unsigned long long)off);
        for (int i = 0; i < 6; ++i) printf(" %08x", cur[i]);
        printf("; port");
        for (int i = 0; i < 6; ++i) printf(" %08x", port[i]);
        printf("; host");
        for (int i = 0; i < 6; ++i) printf(" %08x", host[i]);
        printf("\n");
    }
    return ok;
}

static void check_philox(int dev)
{
    static const uint32_t v000[] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, 0xf8e4cca4, 0x5cb200db};
    static const uint32_t v1234[] = {0x72c26332, 0x26a9bd1b, 0xd88ecb0d, 0x088f2111, 0xd1e85602, 0xc19c9fa2};
    check(philox_case(dev, 0, 0, 0, v000, 6), "%s", "philox: curand_init(0,0,0) on the device (cuRAND and port)");
    check(philox_case(dev, 1234, 5, 7, v1234, 6), "%s", "philox: curand_init(1234,5,7) on the device (cuRAND and port)");
    uint32_t w[1];
    float uc = 0, up = 0;
    os_error err;
    int ok = os_cuda_test_philox(dev, 0, 0, 0, 1, w, w, &uc, &up, &err) == OS_OK;
    uint32_t bits_c, bits_p;
    memcpy(&bits_c, &uc, 4);
    memcpy(&bits_p, &up, 4);
    if (ok && (bits_c != 0x3ecc4fd2u || bits_p != 0x3ecc4fd2u))
        printf("  first curand_uniform: cuRAND %08x, port %08x, want 3ecc4fd2\n", bits_c, bits_p);
    check(ok && bits_c == 0x3ecc4fd2u && bits_p == 0x3ecc4fd2u, "%s", "philox: first curand_uniform is 0x3ecc4fd2");
    /* counter carries, big subsequences and offsets, the streams orbitsweep uses */
    const uint64_t cases[][3] = {{0, 0, 4ull * 0xFFFFFFFFull - 2},    {7, 1, 0},
                                 {42, OS_STREAM_TRIAL_ORDER(0x123456789abcdefull), 13},
                                 {~0ull, ~0ull, ~0ull - 70},          {0x0123456789abcdefull, 0, 4ull << 32},
                                 {5, 0xFFFFFFFFull, 4ull * 0xFFFFFFFFull + 3}};
    ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        ok &= philox_case(dev, cases[i][0], cases[i][1], cases[i][2], NULL, 0);
    check(ok, "%s", "philox: 64 words of 6 more states: cuRAND = port on the device = host port");
}

static void check_perm(int dev)
{
    const uint32_t ns[] = {512, 300, 2, 1000, 4096, 3};
    int ok = 1;
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; ++k)
        for (uint32_t e = 0; e < 3; ++e) {
            const uint32_t n = ns[k];
            uint32_t *d = malloc(n * sizeof *d);
            os_error err;
            const uint64_t seed = 11 + k, stream = e == 2 ? OS_STREAM_TRIAL_ORDER(0xfeedbeefull) : OS_STREAM_SHARED_ORDER;
            if (!d || os_cuda_test_perm(dev, seed, stream, e * 7, n, d, &err)) {
                if (d) printf("  %s\n", err.msg);
                ok = 0;
            } else {
                os_perm p;
                os_perm_init(&p, seed, stream, e * 7, n);
                for (uint32_t i = 0; i < n; ++i) ok &= d[i] == os_perm_at(&p, i);
            }
            free(d);
        }
    check(ok, "%s", "batch orders: os_perm_at on the device = host (n 512, 300, 2, 1000, 4096, 3)");
}

/* ------------------------------------------------------------------------ */
/* parity: the results table of the GPU = the CPU's                          */

static void set_list(os_spec *s, int axis, const char *text)
{
    os_error err;
    if (os_spec_set_axis(s, axis, text, 1, &err)) fprintf(stderr, "gpu_selftest: %s\n", err.msg), exit(1);
}

/* The grid (tests/parity_grid.h): every optimizer and scheduler, a diverging
 * lr (30), fully masked (Wa 0.001) and nearly masked (0.003) starts, short
 * last batches. */
static void grid_spec(os_spec *s, int dtype, int shuffle, int quick)
{
    os_error err;
    if (os_parity_grid(s, dtype, shuffle, quick, &err)) fprintf(stderr, "gpu_selftest: %s\n", err.msg), exit(1);
}

static char *table_of(const os_sweep *sw, const os_result *res, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    os_write_results(f, sw, res);
    fclose(f);
    return buf;
}

/* Runs sw on the GPU (tile) and compares the table with the CPU's. */
static int gpu_matches(os_sweep *sw, const char *cpu_table, size_t cpu_len, int tile, const char *label)
{
    os_result *res = calloc(sw->n_trials, sizeof *res);
    os_error err;
    ((os_spec *)sw->spec)->tile = tile;
    int ok = 0;
    if (os_cuda_run(sw, res, NULL, NULL, &err)) {
        printf("  %s: %s\n", label, err.msg);
    } else {
        size_t len;
        char *t = table_of(sw, res, &len);
        ok = t && len == cpu_len && memcmp(t, cpu_table, len) == 0;
        if (!ok && t) { /* the first differing row, for the report */
            const char *a = cpu_table, *b = t;
            while (*a && *a == *b) ++a, ++b;
            const char *ra = a, *rb = b;
            while (ra > cpu_table && ra[-1] != '\n') --ra;
            while (rb > t && rb[-1] != '\n') --rb;
            printf("  %s: first difference\n    cpu: %.*s\n    gpu: %.*s\n", label, (int)strcspn(ra, "\n"), ra,
                   (int)strcspn(rb, "\n"), rb);
        }
        free(t);
    }
    free(res);
    return ok;
}

/* CPU vs GPU at every tile size for one spec. */
static void parity(os_spec *s, const char *label, int all_tiles)
{
    os_sweep sw;
    os_error err;
    char what[1024];
    if (os_sweep_plan(s, &sw, &err)) {
        snprintf(what, sizeof what, "%s: plan: %s", label, err.msg);
        check(0, "%s", what);
        return;
    }
    os_result *res = calloc(sw.n_trials, sizeof *res);
    size_t len = 0;
    char *cpu = NULL;
    if (os_cpu_run(&sw, res, NULL, NULL, &err) == OS_OK) cpu = table_of(&sw, res, &len);
    const int tiles[] = {1, 2, 4, 8, 0};
    for (int k = 0; k < 5; ++k) {
        if (!all_tiles && tiles[k] != 0) continue;
        snprintf(what, sizeof what, "parity: %s (%zu trainings), tile %d%s: GPU table = CPU table", label,
                 sw.n_trials, tiles[k], tiles[k] ? "" : " (auto)");
        check(cpu && gpu_matches(&sw, cpu, len, tiles[k], what), "%s", what);
    }
    free(cpu);
    free(res);
    os_sweep_free(&sw);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    os_spec probe;
    os_spec_init(&probe);
    os_device_info dev[OS_MAX_DEVICES];
    int bad = 0;
    os_error why;
    const int nd = os_cuda_select(&probe, dev, &bad, &why);
    os_spec_free(&probe);
    if (nd == 0) {
        printf("SKIP gpu_selftest: no usable GPU: %s\n", why.msg);
        return 77;
    }
    printf("gpu_selftest on GPU %d (%s, compute capability %d.%d, %d SMs)%s\n", dev[0].index, dev[0].name,
           dev[0].cc_major, dev[0].cc_minor, dev[0].sms, quick ? ", quick" : "");

    check_philox(dev[0].index);
    check_perm(dev[0].index);

    static const char *const dtypes[] = {"float32", "float64"};
    static const char *const shuffles[] = {"shared", "trial", "none"};
    for (int d = 0; d < 2; ++d)
        for (int sh = 0; sh < 3; ++sh) {
            os_spec s;
            char label[64];
            grid_spec(&s, d, sh, quick);
            snprintf(label, sizeof label, "%s shuffle %s", dtypes[d], shuffles[sh]);
            parity(&s, label, 1);
            os_spec_free(&s);
        }

    /* per-epoch schedulers, weight decay, dampening, an odd dataset size */
    {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_TRIAL, 1);
        set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,rmsprop,adam"); /* nesterov: no dampening */
        os_spec_set_one(&s, OS_AX_SCHED_STEP, 1, NULL);
        set_list(&s, OS_AX_WEIGHT_DECAY, "0,0.01");
        set_list(&s, OS_AX_DAMPENING, "0,0.1");
        os_spec_set_one(&s, OS_AX_N, 301, NULL);
        parity(&s, "float32 shuffle trial, per-epoch schedulers, weight decay, n 301", 1);
        os_spec_set_one(&s, OS_AX_DTYPE, OS_DTYPE_F64, NULL);
        parity(&s, "float64 shuffle trial, per-epoch schedulers, weight decay, n 301", 0);
        os_spec_free(&s);
    }

    /* the scheduler catalogue (parity_grid.h): every scheduler, cycled
     * momentum, plateau, composites, a table file; both dtypes, per update
     * and per epoch */
    {
        char path[] = "/tmp/os_gpu_selftest_table_XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f) fputs("factor\n0.1\n0.4\n0.7\n1\n0.9\n0.81\n0.729\n", f), fclose(f);
        for (int d = 0; d < 2; ++d)
            for (int pe = 0; pe < 2; ++pe) {
                os_spec s;
                os_error err;
                char label[96];
                if (os_parity_catalogue(&s, d, pe, f ? path : NULL, &err))
                    fprintf(stderr, "gpu_selftest: %s\n", err.msg), exit(1);
                snprintf(label, sizeof label, "%s scheduler catalogue, stepped per %s", dtypes[d],
                         pe ? "epoch" : "update");
                parity(&s, label, !quick);
                os_spec_free(&s);
            }
        if (f) unlink(path);
    }

    /* the knobs of the launcher: small chunks, shared orders on the fly */
    {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED, 1);
        s.cuda_chunk = 37;
        parity(&s, "float32 shuffle shared in chunks of 37", 0);
        s.cuda_chunk = 4194304;
        s.cuda_table_bytes = 0;
        parity(&s, "float32 shuffle shared, orders derived on the fly", 1);
        os_spec_free(&s);
    }

    /* the hand-over: one block per launch, so every lane of every tile size
     * trains several trainings in turn while its tile-mates train on */
    {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED, 1);
        set_list(&s, OS_AX_EPOCHS, "1,3");
        s.max_blocks = 1;
        parity(&s, "float32 shuffle shared, epochs 1 and 3, --max-blocks 1 (hand-over)", 1);
        os_spec_set_one(&s, OS_AX_SHUFFLE, OS_SHUFFLE_TRIAL, NULL);
        os_spec_set_one(&s, OS_AX_DTYPE, OS_DTYPE_F64, NULL);
        s.max_blocks = 3;
        parity(&s, "float64 shuffle trial, epochs 1 and 3, --max-blocks 3 (hand-over)", 1);
        os_spec_free(&s);
    }

    /* a --data file: one dataset for every seed */
    {
        char path[] = "/tmp/os_gpu_selftest_XXXXXX";
        int fd = mkstemp(path);
        os_spec g;
        os_spec_init(&g);
        os_spec_set_one(&g, OS_AX_N, 200, NULL);
        os_dataset d;
        os_error err;
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f && os_dataset_make(&g, 3, &d, &err) == OS_OK) {
            fprintf(f, "x,y\n");
            for (int i = 0; i < d.n; ++i) fprintf(f, "%.17g,%.17g\n", d.x[i], d.y[i]);
            os_dataset_free(&d);
        }
        if (f) fclose(f);
        os_spec_free(&g);
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED, 1);
        s.data_file = strdup(path);
        parity(&s, "float32 --data file (200 points), shuffle shared", 0);
        os_spec_set_one(&s, OS_AX_SHUFFLE, OS_SHUFFLE_TRIAL, NULL);
        parity(&s, "float32 --data file (200 points), shuffle trial", 0);
        os_spec_free(&s);
        unlink(path);
    }

    /* two runs in a row: the same bits */
    {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_TRIAL, 1);
        os_sweep sw;
        os_error err;
        int ok = os_sweep_plan(&s, &sw, &err) == OS_OK;
        if (ok) {
            os_result *r1 = calloc(sw.n_trials, sizeof *r1), *r2 = calloc(sw.n_trials, sizeof *r2);
            ok = os_cuda_run(&sw, r1, NULL, NULL, &err) == OS_OK && os_cuda_run(&sw, r2, NULL, NULL, &err) == OS_OK &&
                 memcmp(r1, r2, sw.n_trials * sizeof *r1) == 0;
            free(r1);
            free(r2);
            os_sweep_free(&sw);
        }
        check(ok, "%s", "determinism: two GPU runs give the same result bits");
        os_spec_free(&s);
    }

    /* several GPUs: the sweep split across them */
    if (nd > 1) {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED, 1);
        s.n_devices = nd < OS_MAX_DEVICES ? nd : OS_MAX_DEVICES;
        for (int i = 0; i < s.n_devices; ++i) s.devices[i] = dev[i].index;
        parity(&s, "float32 split across every GPU", 0);
        os_spec_free(&s);
    }

    printf("gpu_selftest: %d checks, %d failed\n", g_checks, g_failed);
    return g_failed ? 1 : 0;
}
