/* Every rank writes its own slab of shared datasets (contiguous, chunked with chunks that
 * straddle ranks, 2-D chunked) with independent H5Dwrite through an MPI-IO file access list,
 * closes, reopens and reads the whole of each back on every rank.
 *
 *   slab FILE          every rank of MPI_COMM_WORLD writes its slab
 *   slab --self FILE   rank 0 alone writes every slab, the file opened with MPI_COMM_SELF,
 *                      while the other ranks wait; then every rank reads it through WORLD
 *   slab --rank0 FILE  every rank creates the file and the datasets through WORLD (collective
 *                      metadata; every rank opens and closes each dataset), rank 0 alone writes
 *                      every slab; after H5Fflush and a barrier every rank reads the data back
 *                      in the same open, then after reopening
 *
 * Prints one line per dataset and a verdict: "slab: ok" (every element right on every rank),
 * "slab: corrupt" (every HDF5 call succeeded, yet data read back are wrong: the one outcome
 * never allowed) or "slab: refused on R of N ranks" (HDF5 calls failed with errors, so wrong
 * data read back are no surprise to the program). Exits 0 only for ok. Each
 * failing HDF5 call is counted and the program carries on through the same collective calls,
 * so a failure is reported, never turned into a hang of the test's own making. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_RANK 1000
#define ROWS 4
#define COLS 10

static int failures = 0;
#define CHECK(x)                                                                   \
    do {                                                                           \
        if ((x) < 0) {                                                             \
            failures++;                                                            \
            fprintf(stderr, "rank %d: %s failed (line %d)\n", rank, #x, __LINE__); \
        }                                                                          \
    } while (0)

static int rank, nranks;

static hid_t fapl_mpio(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    return fapl;
}

/* Writes this rank's slab: elements [rank*n, (rank+1)*n) of a 1-D dataset, or rows
 * [rank*ROWS, (rank+1)*ROWS) of a 2-D one; value = 1 + global index. */
static void write_slab(hid_t file, const char *name, int rank2d, hsize_t chunk0, hsize_t chunk1, int create, int write) {
    hsize_t dims[2], start[2], count[2];
    int n, *buf, i;
    if (rank2d) {
        dims[0] = (hsize_t)nranks * ROWS, dims[1] = COLS;
        start[0] = (hsize_t)rank * ROWS, start[1] = 0, count[0] = ROWS, count[1] = COLS;
        n = ROWS * COLS;
    } else {
        dims[0] = (hsize_t)nranks * PER_RANK, start[0] = (hsize_t)rank * PER_RANK, count[0] = PER_RANK;
        n = PER_RANK;
    }
    hid_t space = H5Screate_simple(rank2d ? 2 : 1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk0) {
        hsize_t c[2] = {chunk0, chunk1};
        CHECK(H5Pset_chunk(dcpl, rank2d ? 2 : 1, c));
    }
    hid_t dset = create ? H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                        : H5Dopen2(file, name, H5P_DEFAULT);
    CHECK(dset);
    buf = malloc(sizeof(int) * n);
    for (i = 0; i < n; i++)
        buf[i] = 1 + (int)(rank2d ? start[0] * COLS : start[0]) + i;
    hid_t mem = H5Screate_simple(1, (hsize_t[]){(hsize_t)n}, NULL);
    CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL));
    if (write)
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT, mem, space, H5P_DEFAULT, buf));
    free(buf);
    H5Sclose(mem), H5Sclose(space), H5Pclose(dcpl);
    if (dset >= 0)
        CHECK(H5Dclose(dset));
}

/* Reads the whole dataset on this rank; returns how many elements are wrong (all when the
 * read fails). */
static long corrupt = 0;

static long check_all(hid_t file, const char *name, long total) {
    long wrong = 0, i;
    int *buf = calloc(total, sizeof(int));
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0 || H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        failures++;
        wrong = total;
    } else {
        for (i = 0; i < total; i++)
            wrong += buf[i] != (int)(1 + i);
        corrupt += wrong;
    }
    if (dset >= 0)
        H5Dclose(dset);
    free(buf);
    return wrong;
}

int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int self = argc == 3 && strcmp(argv[1], "--self") == 0;
    int rank0 = argc == 3 && strcmp(argv[1], "--rank0") == 0;
    if (argc != 2 && !self && !rank0) {
        if (rank == 0)
            fprintf(stderr, "usage: slab [--self | --rank0] FILE\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const char *path = argv[argc - 1];
    const char *names[] = {"contig", "chunked", "grid2d"};
    long totals[] = {(long)nranks * PER_RANK, (long)nranks * PER_RANK, (long)nranks * ROWS * COLS};

    hid_t fapl = fapl_mpio();
    long early[3] = {0, 0, 0};
    if (!self || rank == 0) {
        hid_t wfapl = fapl;
        int me = rank, alone = self || rank0;
        if (self) {
            wfapl = H5Pcreate(H5P_FILE_ACCESS);
            H5Pset_fapl_mpio(wfapl, MPI_COMM_SELF, MPI_INFO_NULL);
        }
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, wfapl);
        CHECK(file);
        if (file >= 0) {
            /* Alone, rank 0 writes every rank's slab, one after another; with --rank0 every
             * rank creates, opens and closes each dataset with it (collective calls), and
             * writes nothing. */
            for (int r = alone ? 0 : rank; r < (alone ? nranks : rank + 1); r++) {
                rank = r;
                int create = r == (alone ? 0 : me), write = !rank0 || me == 0;
                write_slab(file, "contig", 0, 0, 0, create, write);
                /* 300-element chunks: ranks 0 and 1 both write pieces of chunk 3, and so on. */
                write_slab(file, "chunked", 0, 300, 0, create, write);
                /* 3-row chunks: a rank's 4 rows straddle two chunk rows, shared with its neighbour. */
                write_slab(file, "grid2d", 1, 3, 4, create, write);
            }
            rank = me;
            if (rank0) {
                /* Visible to every rank after a flush and a barrier, in the same open. */
                CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL));
                MPI_Barrier(MPI_COMM_WORLD);
                for (int d = 0; d < 3; d++)
                    early[d] = check_all(file, names[d], totals[d]);
            }
            CHECK(H5Fclose(file));
        }
        if (self)
            H5Pclose(wfapl);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    long wrong[3] = {0, 0, 0}, all[3];
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    CHECK(file);
    for (int d = 0; d < 3; d++)
        wrong[d] = early[d] + (file >= 0 ? check_all(file, names[d], totals[d]) : totals[d]);
    if (file >= 0)
        CHECK(H5Fclose(file));
    H5Pclose(fapl);

    int bad = failures, any_bad, refusing = failures > 0, refused;
    long corrupt_all;
    MPI_Allreduce(wrong, all, 3, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&refusing, &refused, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&corrupt, &corrupt_all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    int ok = any_bad == 0 && all[0] + all[1] + all[2] == 0;
    if (rank == 0) {
        for (int d = 0; d < 3; d++)
            printf("slab %s: %ld wrong of %ld (summed over %d ranks)\n", names[d], all[d], (rank0 ? 2 : 1) * totals[d] * nranks, nranks);
        printf("slab: %d failed HDF5 calls\n", any_bad);
        if (ok)
            printf("slab: ok\n");
        else if (any_bad == 0)
            printf("slab: corrupt (%ld wrong elements read, every HDF5 call succeeded)\n", corrupt_all);
        else
            printf("slab: refused on %d of %d ranks\n", refused, nranks);
    }
    int rc = ok ? 0 : 1;
    MPI_Finalize();
    return rc;
}
