/*
 * fault_writer: the HDF5 program behind the storage fault tests (tests/s3/faults.sh,
 * tests/kill_writer.sh). Plain HDF5 API only: the connector comes from HDF5_VOL_CONNECTOR.
 *
 *   fault_writer create FILE            create a small file, close it (exit 0 on success)
 *   fault_writer loop FILE MAXSEC       append one row per step, each step ends with H5Fflush and
 *                                       prints "committed N"; stops at the first HDF5 error
 *                                       (exit 1, after trying H5Fclose) or after MAXSEC (exit 3)
 *   fault_writer check FILE             the state "loop" left: prints "rows N", verifies every
 *                                       row and that the row count equals attribute "committed"
 *   fault_writer kill-write FILE MAXSEC writes a state, H5Fflush, prints "FLUSHED", then keeps
 *                                       changing everything (overwrites chunks of "data", new
 *                                       groups and datasets, extends "ext", rewrites attribute
 *                                       "state") without flushing, printing "wrote K" after each
 *                                       step, until killed (or _exit(3) after MAXSEC)
 *   fault_writer kill-check FILE        verifies the file holds exactly the flushed state
 *   fault_writer kill-reuse FILE        opens read-write, creates groups and datasets in the order
 *                                       the killed writer did (so they get the object ids of the
 *                                       lost ones), checks the never-written datasets read back as
 *                                       fill values (0), closes
 *   fault_writer exit-write FILE        creates a file with dataset "data" (DROWS x DCOLS) and
 *                                       attribute "state", never closes them and calls exit(1):
 *                                       HDF5 closes the file at exit, natively keeping what was
 *                                       written
 *   fault_writer exit-check FILE        verifies what exit-write wrote is there
 *   fault_writer delete FILE            H5Fdelete
 *
 * Exit status: 0 ok, 1 HDF5 error, 2 wrong content, 3 bounded time used up, 64 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hdf5.h"

#define ROW 4096           /* int32 per row in "loop": one 16 KiB chunk per row */
#define DROWS 64           /* "data" in kill-write: DROWS x DCOLS int32, chunks of 8 rows */
#define DCOLS 1024
#define EROWS 16           /* "ext": committed with EROWS rows of DCOLS, unlimited */
#define NEWROWS 8          /* datasets "new_K" written after the flush: NEWROWS x DCOLS */

static const char *prog = "fault_writer";

#define FAIL_HDF5(what)                                                             \
    do {                                                                            \
        fprintf(stderr, "%s: %s failed (%s:%d)\n", prog, what, __FILE__, __LINE__); \
        exit(1);                                                                    \
    } while (0)
#define CHECK(expr)                        \
    do {                                   \
        if ((expr) < 0) FAIL_HDF5(#expr);  \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_int_attr(hid_t obj, const char *name, int value)
{
    hid_t a;
    if (H5Aexists(obj, name) > 0)
        a = H5Aopen(obj, name, H5P_DEFAULT);
    else {
        hid_t s = H5Screate(H5S_SCALAR);
        a = H5Acreate2(obj, name, H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(s);
    }
    CHECK(a);
    CHECK(H5Awrite(a, H5T_NATIVE_INT, &value));
    CHECK(H5Aclose(a));
}

static int get_int_attr(hid_t obj, const char *name)
{
    int v = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    CHECK(a);
    CHECK(H5Aread(a, H5T_NATIVE_INT, &v));
    CHECK(H5Aclose(a));
    return v;
}

/* Fixed-size string attribute of 16 bytes. */
static void set_str_attr(hid_t obj, const char *name, const char *value)
{
    char buf[16] = {0};
    strncpy(buf, value, sizeof buf - 1);
    hid_t t = H5Tcopy(H5T_C_S1);
    CHECK(t);
    CHECK(H5Tset_size(t, sizeof buf));
    hid_t a;
    if (H5Aexists(obj, name) > 0)
        a = H5Aopen(obj, name, H5P_DEFAULT);
    else {
        hid_t s = H5Screate(H5S_SCALAR);
        a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(s);
    }
    CHECK(a);
    CHECK(H5Awrite(a, t, buf));
    CHECK(H5Aclose(a));
    CHECK(H5Tclose(t));
}

static void get_str_attr(hid_t obj, const char *name, char out[16])
{
    memset(out, 0, 16);
    hid_t t = H5Tcopy(H5T_C_S1);
    CHECK(t);
    CHECK(H5Tset_size(t, 16));
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    CHECK(a);
    CHECK(H5Aread(a, t, out));
    CHECK(H5Aclose(a));
    CHECK(H5Tclose(t));
    out[15] = 0;
}

static int cmd_create(const char *file)
{
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fcreate");
    hsize_t dims[1] = {1000};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(f, "x", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) FAIL_HDF5("H5Dcreate2");
    int buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = i;
    if (H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) FAIL_HDF5("H5Dwrite");
    H5Dclose(d);
    H5Sclose(s);
    if (H5Fclose(f) < 0) FAIL_HDF5("H5Fclose");
    printf("created %s\n", file);
    return 0;
}

static int row_value(int row, int j) { return row * 100000 + j; }

static int cmd_loop(const char *file, double maxsec)
{
    double t0 = now();
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fcreate");
    hsize_t dims[2] = {0, ROW}, maxd[2] = {H5S_UNLIMITED, ROW}, chunk[2] = {1, ROW};
    hid_t s = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 2, chunk));
    hid_t d = H5Dcreate2(f, "rows", H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0) FAIL_HDF5("H5Dcreate2");
    H5Sclose(s);
    H5Pclose(dcpl);
    set_int_attr(f, "committed", 0);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) FAIL_HDF5("H5Fflush");
    printf("committed 0\n");
    fflush(stdout);

    static int buf[ROW];
    int err = 0;
    for (int i = 0;; i++) {
        if (now() - t0 > maxsec) {
            fprintf(stderr, "%s: no error after %.0f s (%d rows committed)\n", prog, maxsec, i);
            H5Dclose(d);
            H5Fclose(f);
            return 3;
        }
        for (int j = 0; j < ROW; j++) buf[j] = row_value(i, j);
        hsize_t nd[2] = {(hsize_t)i + 1, ROW}, start[2] = {(hsize_t)i, 0}, count[2] = {1, ROW};
        if (H5Dset_extent(d, nd) < 0) { err = 1; fprintf(stderr, "%s: H5Dset_extent failed at row %d\n", prog, i); break; }
        hid_t fs = H5Dget_space(d);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        hid_t ms = H5Screate_simple(2, count, NULL);
        herr_t w = H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, buf);
        H5Sclose(ms);
        H5Sclose(fs);
        if (w < 0) { err = 1; fprintf(stderr, "%s: H5Dwrite failed at row %d\n", prog, i); break; }
        set_int_attr(f, "committed", i + 1);
        if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) { err = 1; fprintf(stderr, "%s: H5Fflush failed at row %d\n", prog, i); break; }
        printf("committed %d\n", i + 1);
        fflush(stdout);
        usleep(20000);
    }
    /* What a careful program does after an error: close, which may fail too. */
    double tc = now();
    H5E_BEGIN_TRY {
        H5Dclose(d);
        herr_t c = H5Fclose(f);
        fprintf(stderr, "%s: H5Fclose after the error %s (%.1f s)\n", prog, c < 0 ? "failed" : "succeeded", now() - tc);
    } H5E_END_TRY
    return err;
}

static int cmd_check(const char *file)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fopen");
    int committed = get_int_attr(f, "committed");
    hid_t d = H5Dopen2(f, "rows", H5P_DEFAULT);
    if (d < 0) FAIL_HDF5("H5Dopen2");
    hid_t s = H5Dget_space(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    int bad = 0;
    if ((long)dims[0] != committed) {
        fprintf(stderr, "%s: %llu rows but attribute committed=%d\n", prog, (unsigned long long)dims[0], committed);
        bad = 1;
    }
    if (dims[0] > 0) {
        int *buf = malloc(sizeof(int) * dims[0] * ROW);
        if (H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) FAIL_HDF5("H5Dread");
        for (hsize_t i = 0; i < dims[0] && !bad; i++)
            for (int j = 0; j < ROW; j++)
                if (buf[i * ROW + j] != row_value((int)i, j)) {
                    fprintf(stderr, "%s: row %llu col %d is %d, expected %d\n", prog, (unsigned long long)i, j,
                            buf[i * ROW + j], row_value((int)i, j));
                    bad = 1;
                    break;
                }
        free(buf);
    }
    H5Dclose(d);
    if (H5Fclose(f) < 0) FAIL_HDF5("H5Fclose");
    printf("rows %llu committed %d %s\n", (unsigned long long)dims[0], committed, bad ? "BAD" : "ok");
    return bad ? 2 : 0;
}

/* ---- kill-write / kill-check -------------------------------------------------------------- */

static int data_value(int i, int j, int gen) { return gen * 1000000 + i * DCOLS + j; }

static void write_all(hid_t d, int rows, int gen)
{
    int *buf = malloc(sizeof(int) * rows * DCOLS);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < DCOLS; j++) buf[i * DCOLS + j] = data_value(i, j, gen);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    free(buf);
}

static hid_t make_dataset(hid_t loc, const char *name, hsize_t rows, hsize_t maxrows, hsize_t chunkrows)
{
    hsize_t dims[2] = {rows, DCOLS}, maxd[2] = {maxrows, DCOLS}, chunk[2] = {chunkrows, DCOLS};
    hid_t s = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 2, chunk));
    hid_t d = H5Dcreate2(loc, name, H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    H5Sclose(s);
    H5Pclose(dcpl);
    return d;
}

static int cmd_kill_write(const char *file, double maxsec)
{
    double t0 = now();
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fcreate");
    /* The state that is flushed. */
    hid_t data = make_dataset(f, "data", DROWS, DROWS, 8);
    write_all(data, DROWS, 0);
    hid_t ext = make_dataset(f, "ext", EROWS, H5S_UNLIMITED, 4);
    write_all(ext, EROWS, 0);
    hid_t g = H5Gcreate2(f, "g1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(g);
    CHECK(H5Gclose(g));
    set_str_attr(f, "state", "flushed");
    set_int_attr(data, "gen", 0);
    CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
    printf("FLUSHED\n");
    fflush(stdout);

    /* Everything after this point must be lost when the process is killed. */
    for (int k = 1;; k++) {
        if (now() - t0 > maxsec) {
            fprintf(stderr, "%s: not killed within %.0f s\n", prog, maxsec);
            _exit(3); /* no close: that would commit */
        }
        write_all(data, DROWS, k);     /* overwrites every chunk of a committed dataset */
        set_int_attr(data, "gen", k);
        hsize_t nd[2] = {(hsize_t)EROWS + 4 * k, DCOLS};
        CHECK(H5Dset_extent(ext, nd));
        write_all(ext, EROWS + 4 * k, k); /* rewrites committed chunks and adds new ones */
        char name[32];
        snprintf(name, sizeof name, "after_%d", k);
        g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        CHECK(H5Gclose(g));
        snprintf(name, sizeof name, "new_%d", k);
        hid_t nd_ = make_dataset(f, name, NEWROWS, NEWROWS, NEWROWS);
        write_all(nd_, NEWROWS, k);
        CHECK(H5Dclose(nd_));
        set_str_attr(f, "state", "dirty");
        printf("wrote %d\n", k);
        fflush(stdout);
        usleep(20000);
    }
}

static int check_dataset(hid_t f, const char *name, hsize_t rows, int gen)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "%s: dataset %s missing\n", prog, name);
        return 1;
    }
    hid_t s = H5Dget_space(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    int bad = 0;
    if (dims[0] != rows) {
        printf("MISMATCH %s: %llu rows, flushed state has %llu\n", name, (unsigned long long)dims[0], (unsigned long long)rows);
        bad = 1;
    }
    int *buf = malloc(sizeof(int) * dims[0] * DCOLS);
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    long wrong = 0, first = -1;
    hsize_t n = dims[0] < rows ? dims[0] : rows;
    for (hsize_t i = 0; i < n; i++)
        for (int j = 0; j < DCOLS; j++)
            if (buf[i * DCOLS + j] != data_value((int)i, j, gen)) {
                if (first < 0) first = (long)(i * DCOLS + j);
                wrong++;
            }
    if (wrong) {
        printf("MISMATCH %s: %ld of %llu elements differ from the flushed state (first: element %ld = %d, expected %d:"
               " data written after the flush)\n",
               name, wrong, (unsigned long long)(n * DCOLS), first, buf[first], data_value((int)(first / DCOLS), (int)(first % DCOLS), gen));
        bad = 1;
    }
    free(buf);
    H5Dclose(d);
    return bad;
}

static herr_t collect_name(hid_t g, const char *name, const H5L_info2_t *info, void *op)
{
    (void)g;
    (void)info;
    int *bad = op;
    if (strcmp(name, "data") && strcmp(name, "ext") && strcmp(name, "g1")) {
        printf("MISMATCH link /%s exists: created after the flush\n", name);
        *bad = 1;
    }
    return 0;
}

static int cmd_kill_check(const char *file)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fopen");
    int bad = 0;
    char state[16];
    get_str_attr(f, "state", state);
    if (strcmp(state, "flushed")) {
        printf("MISMATCH attribute state = \"%s\", flushed \"flushed\"\n", state);
        bad = 1;
    }
    bad |= check_dataset(f, "data", DROWS, 0);
    bad |= check_dataset(f, "ext", EROWS, 0);
    hid_t d = H5Dopen2(f, "data", H5P_DEFAULT);
    if (d >= 0) {
        int gen = get_int_attr(d, "gen");
        if (gen != 0) {
            printf("MISMATCH data attribute gen = %d, flushed 0\n", gen);
            bad = 1;
        }
        H5Dclose(d);
    }
    if (H5Lexists(f, "g1", H5P_DEFAULT) <= 0) {
        printf("MISMATCH group g1 missing\n");
        bad = 1;
    }
    hsize_t idx = 0;
    CHECK(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &bad));
    if (H5Fclose(f) < 0) FAIL_HDF5("H5Fclose");
    printf("%s\n", bad ? "kill-check: NOT the flushed state" : "kill-check: exactly the flushed state");
    return bad ? 2 : 0;
}

static int cmd_kill_reuse(const char *file)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fopen");
    /* The same sequence of object creations as the killed writer's steps (a group, then a
     * dataset), so new objects get the identifiers the lost ones had. */
    int *buf = malloc(sizeof(int) * NEWROWS * DCOLS);
    long nonzero = 0;
    for (int k = 1; k <= 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "fresh_group_%d", k);
        hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        CHECK(H5Gclose(g));
        snprintf(name, sizeof name, "fresh_%d", k);
        hid_t d = make_dataset(f, name, NEWROWS, NEWROWS, NEWROWS);
        CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        long nz = 0, first = -1;
        for (long i = 0; i < NEWROWS * DCOLS; i++)
            if (buf[i] != 0) {
                if (first < 0) first = i;
                nz++;
            }
        if (nz)
            printf("MISMATCH new dataset \"%s\" (never written) reads %ld non-fill elements (first: element %ld = %d):"
                   " chunks the killed writer left behind\n", name, nz, first, buf[first]);
        nonzero += nz;
        H5Dclose(d);
    }
    free(buf);
    if (H5Fclose(f) < 0) FAIL_HDF5("H5Fclose");
    if (!nonzero) printf("kill-reuse: new datasets read as fill values\n");
    return nonzero ? 2 : 0;
}

/* The program ends by exit() with everything open: HDF5's atexit close of the library closes
 * the file (after the C library destroyed the thread's thread-local storage). */
static int cmd_exit_write(const char *file)
{
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fcreate");
    hid_t d = make_dataset(f, "data", DROWS, DROWS, 8);
    if (d < 0) FAIL_HDF5("H5Dcreate2");
    write_all(d, DROWS, 5);
    set_str_attr(f, "state", "at-exit");
    printf("exiting with the file open\n");
    exit(1);
}

static int cmd_exit_check(const char *file)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) FAIL_HDF5("H5Fopen");
    char state[16];
    get_str_attr(f, "state", state);
    int bad = strcmp(state, "at-exit") != 0;
    if (bad) printf("MISMATCH state attribute '%s', expected 'at-exit'\n", state);
    bad |= check_dataset(f, "data", DROWS, 5);
    if (H5Fclose(f) < 0) FAIL_HDF5("H5Fclose");
    if (!bad) printf("exit-check: the file holds what was written before exit\n");
    return bad ? 2 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) goto usage;
    const char *cmd = argv[1], *file = argv[2];
    if (!strcmp(cmd, "create")) return cmd_create(file);
    if (!strcmp(cmd, "loop") && argc > 3) return cmd_loop(file, atof(argv[3]));
    if (!strcmp(cmd, "check")) return cmd_check(file);
    if (!strcmp(cmd, "kill-write") && argc > 3) return cmd_kill_write(file, atof(argv[3]));
    if (!strcmp(cmd, "kill-check")) return cmd_kill_check(file);
    if (!strcmp(cmd, "kill-reuse")) return cmd_kill_reuse(file);
    if (!strcmp(cmd, "exit-write")) return cmd_exit_write(file);
    if (!strcmp(cmd, "exit-check")) return cmd_exit_check(file);
    if (!strcmp(cmd, "delete")) {
        if (H5Fdelete(file, H5P_DEFAULT) < 0) FAIL_HDF5("H5Fdelete");
        return 0;
    }
usage:
    fprintf(stderr, "usage: %s create|check|kill-check|kill-reuse|exit-write|exit-check|delete FILE | loop|kill-write FILE MAXSEC\n", prog);
    return 64;
}
