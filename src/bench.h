/* bench.h — `orbitsweep bench`: trainings/s and sample evaluations/s. */
#ifndef ORBITSWEEP_BENCH_H
#define ORBITSWEEP_BENCH_H

#include <stdio.h>

/* Runs the standard sweep at each size and prints the table (argv: the
 * arguments after `bench`). Returns the exit code: 0, 1 runtime, 2 input. */
int os_cli_bench(int argc, char **argv);

/* The flags of `bench`, for --help. */
void os_bench_help(FILE *f);

#endif
