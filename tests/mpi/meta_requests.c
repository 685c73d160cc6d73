/* Metadata calls of an open file make no store request on any rank (issue 12's target).
 *
 *   meta_requests FILE
 *
 * Every rank of MPI_COMM_WORLD creates FILE through MPI-IO, creates GROUPS groups with an int
 * attribute each (collective), and flushes. Then, with FILE still open, every rank makes the
 * metadata calls of the phase measured: GROUPS more groups with attributes (collective), group
 * info, a link iteration, and for every group an open, object info, an attribute opened, read
 * and checked, existence checks. Before and after that phase every rank creates and closes a
 * scratch file, mark-1.h5, mark-2.h5 (before) and mark-3.h5 (after): with RUSTVOL_STATS set,
 * rustvol prints the store's request counts of this process at each close, so the counts at
 * mark-3 minus those at mark-2, less what one scratch file cost (mark-2 minus mark-1), are the
 * requests of the measured phase (tests/mpi/run.sh compares them per rank). Exits 0 when every
 * HDF5 call succeeded and every value read back was right. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define GROUPS 100

static int rank, failures = 0;
#define CHECK(x)                                                                   \
    do {                                                                           \
        if ((x) < 0) {                                                             \
            failures++;                                                            \
            fprintf(stderr, "rank %d: %s failed (line %d)\n", rank, #x, __LINE__); \
        }                                                                          \
    } while (0)

static hid_t fapl_mpio(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    return fapl;
}

static void groups(hid_t file, const char *prefix, int from) {
    char name[64];
    hid_t space = H5Screate(H5S_SCALAR);
    for (int i = from; i < from + GROUPS; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        hid_t a = H5Acreate2(g, "v", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(a);
        CHECK(H5Awrite(a, H5T_NATIVE_INT, &i));
        CHECK(H5Aclose(a));
        CHECK(H5Gclose(g));
    }
    H5Sclose(space);
}

static void mark(int n) {
    char name[32];
    snprintf(name, sizeof name, "mark-%d.h5", n);
    hid_t fapl = fapl_mpio();
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f);
    CHECK(H5Fclose(f));
    H5Pclose(fapl);
}

static herr_t count_link(hid_t g, const char *name, const H5L_info2_t *info, void *n) {
    (void)g, (void)name, (void)info;
    (*(int *)n)++;
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc != 2) {
        fprintf(stderr, "usage: meta_requests FILE\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    hid_t fapl = fapl_mpio();
    hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(file);
    groups(file, "g", 0);
    CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL));
    mark(1);
    mark(2);

    /* The phase measured: the file stays open throughout. */
    groups(file, "h", 0);
    H5G_info_t ginfo;
    CHECK(H5Gget_info(file, &ginfo));
    if (ginfo.nlinks != 2 * GROUPS) {
        fprintf(stderr, "rank %d: %llu links, expected %d\n", rank, (unsigned long long)ginfo.nlinks, 2 * GROUPS);
        failures++;
    }
    int links = 0;
    CHECK(H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, &links));
    if (links != 2 * GROUPS) {
        fprintf(stderr, "rank %d: iterated %d links, expected %d\n", rank, links, 2 * GROUPS);
        failures++;
    }
    for (int i = 0; i < GROUPS; i++) {
        const char *prefixes[] = {"g", "h"};
        for (int p = 0; p < 2; p++) {
            char name[64];
            snprintf(name, sizeof name, "%s%d", prefixes[p], i);
            if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
                fprintf(stderr, "rank %d: %s missing\n", rank, name);
                failures++;
                continue;
            }
            hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
            CHECK(g);
            H5O_info2_t oinfo;
            CHECK(H5Oget_info3(g, &oinfo, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS));
            hid_t a = H5Aopen(g, "v", H5P_DEFAULT);
            CHECK(a);
            int v = -1;
            CHECK(H5Aread(a, H5T_NATIVE_INT, &v));
            if (v != i || oinfo.num_attrs != 1) {
                fprintf(stderr, "rank %d: %s holds %d and %llu attributes, expected %d and 1\n", rank, name, v,
                        (unsigned long long)oinfo.num_attrs, i);
                failures++;
            }
            CHECK(H5Aclose(a));
            CHECK(H5Gclose(g));
        }
    }
    mark(3);

    CHECK(H5Fclose(file));
    H5Pclose(fapl);
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("meta_requests: %s\n", all ? "failed" : "ok");
    MPI_Finalize();
    return all ? 1 : 0;
}
