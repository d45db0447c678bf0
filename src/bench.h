/* bench.h — `orbitsweep bench`: trainings/s and sample evaluations/s. */
#ifndef ORBITSWEEP_BENCH_H
#define ORBITSWEEP_BENCH_H

/* Runs the standard sweep at each size and prints the table (argv: the
 * arguments after `bench`). Returns the exit code: 0, 1 runtime, 2 input. */
int os_cli_bench(int argc, char **argv);

#endif
