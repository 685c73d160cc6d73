/* Helper of tests/two_writers.sh: one process of a two-writer race, through whatever connector
 * HDF5_VOL_CONNECTOR selects.
 *
 *   two_writers create FILE                    make FILE (empty)
 *   two_writers write FILE PREFIX N AT HOLD [swmr]
 *       wait until AT (ms since the epoch; 0: now), open FILE read-write, sleep HOLD ms, create
 *       groups PREFIX0..PREFIX<N-1>, close. Prints "opened", then "committed N"; or "refused"
 *       (exit 3) when the open fails, "close failed" (exit 4) when the close does.
 *   two_writers hold FILE PREFIX N             open read-write, create N groups, flush, print
 *       "ready", then wait (to be killed)
 *   two_writers steps FILE PREFIX STEPS N GAP  open read-write; STEPS times: create N groups,
 *       flush, sleep GAP ms; close. Prints "flushed K" after each flush.
 *   two_writers count FILE [swmr|hold MS]      open read-only (SWMR read with swmr; keeping the
 *       file open MS ms with hold), print the number of links in "/", or "refused" (exit 3)
 *   two_writers prefix FILE PREFIX             print how many of the root's links start with PREFIX
 * With TW_NOLOCK in the environment, files are opened with H5Pset_file_locking(fapl, 0, 1).
 * Errors go to standard error as HDF5 prints its stack.
 */
#include "hdf5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void sleep_ms(long long ms)
{
    if (ms > 0)
        usleep((useconds_t)(ms * 1000));
}

/* An access list; with TW_NOLOCK set in the environment, without file locking
 * (H5Pset_file_locking), the way an application asks for it. */
static hid_t new_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (getenv("TW_NOLOCK"))
        H5Pset_file_locking(fapl, 0, 1);
    return fapl;
}

static hid_t open_rw(const char *file, int swmr)
{
    hid_t fapl = new_fapl();
    unsigned flags = H5F_ACC_RDWR;
    if (swmr) {
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
        flags |= H5F_ACC_SWMR_WRITE;
    }
    hid_t f = H5Fopen(file, flags, fapl);
    H5Pclose(fapl);
    return f;
}

static int make_groups(hid_t f, const char *prefix, int from, int n)
{
    char name[256];
    for (int i = from; i < from + n; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
            return -1;
        H5Gclose(g);
    }
    return 0;
}

struct prefix_count {
    const char *prefix;
    long n;
};

static herr_t count_prefix(hid_t g, const char *name, const H5L_info2_t *info, void *data)
{
    (void)g;
    (void)info;
    struct prefix_count *c = data;
    if (strncmp(name, c->prefix, strlen(c->prefix)) == 0)
        c->n++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: two_writers create|write|hold|steps|count|prefix FILE ...\n");
        return 2;
    }
    const char *mode = argv[1], *file = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (!strcmp(mode, "create")) {
        hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0 || H5Fclose(f) < 0)
            return 1;
        return 0;
    }
    if (!strcmp(mode, "write") && argc >= 7) {
        long long at = atoll(argv[5]);
        int swmr = argc > 7 && !strcmp(argv[7], "swmr");
        while (at > 0 && now_ms() < at)
            sleep_ms(1);
        hid_t f = open_rw(file, swmr);
        if (f < 0) {
            printf("refused\n");
            return 3;
        }
        printf("opened\n");
        sleep_ms(atoll(argv[6]));
        int n = atoi(argv[4]);
        if (make_groups(f, argv[3], 0, n) < 0) {
            printf("create failed\n");
            H5Fclose(f);
            return 4;
        }
        if (H5Fclose(f) < 0) {
            printf("close failed\n");
            return 4;
        }
        printf("committed %d\n", n);
        return 0;
    }
    if (!strcmp(mode, "hold") && argc >= 5) {
        hid_t f = open_rw(file, 0);
        if (f < 0) {
            printf("refused\n");
            return 3;
        }
        if (make_groups(f, argv[3], 0, atoi(argv[4])) < 0 || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
            return 4;
        printf("ready\n");
        for (;;)
            sleep(1000);
    }
    if (!strcmp(mode, "steps") && argc >= 7) {
        hid_t f = open_rw(file, 0);
        if (f < 0) {
            printf("refused\n");
            return 3;
        }
        int steps = atoi(argv[4]), n = atoi(argv[5]);
        for (int s = 0; s < steps; s++) {
            if (make_groups(f, argv[3], s * n, n) < 0 || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) {
                printf("step failed\n");
                return 4;
            }
            printf("flushed %d\n", (s + 1) * n);
            sleep_ms(atoll(argv[6]));
        }
        if (H5Fclose(f) < 0) {
            printf("close failed\n");
            return 4;
        }
        return 0;
    }
    if (!strcmp(mode, "count")) {
        unsigned flags = H5F_ACC_RDONLY;
        long long hold = 0;
        if (argc > 3 && !strcmp(argv[3], "swmr"))
            flags |= H5F_ACC_SWMR_READ;
        if (argc > 4 && !strcmp(argv[3], "hold"))
            hold = atoll(argv[4]);
        hid_t fapl = new_fapl();
        hid_t f = H5Fopen(file, flags, fapl);
        H5Pclose(fapl);
        if (f < 0) {
            printf("refused\n");
            return 3;
        }
        H5G_info_t info;
        if (H5Gget_info(f, &info) < 0)
            return 1;
        printf("%llu\n", (unsigned long long)info.nlinks);
        sleep_ms(hold);
        return H5Fclose(f) < 0;
    }
    if (!strcmp(mode, "prefix") && argc >= 4) {
        hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0)
            return 3;
        struct prefix_count c = {argv[3], 0};
        if (H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, count_prefix, &c) < 0)
            return 1;
        printf("%ld\n", c.n);
        return H5Fclose(f) < 0;
    }
    fprintf(stderr, "two_writers: bad arguments\n");
    return 2;
}
