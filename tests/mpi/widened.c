/* A write another rank published at its dataset close, seen across an extent change.
 *
 *   widened FILE      (3 ranks or more)
 *
 * Rank 1 writes row 1 of a 4 x 4 int dataset (part of its one 4 x 8 chunk) and closes it; after
 * a barrier every rank opens it and all widen it to 4 x 8 (H5Dset_extent), then every rank
 * reads it whole: row 1 starts with 11 12 13 14, the rest is the fill value. Prints
 * "widened: rank R: N wrong" per rank; exits 1 when anything is wrong. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hsize_t dims[2] = {4, 4}, maxd[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, ch[2] = {4, 8};
    hid_t s = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, ch);
    hid_t d = H5Dcreate2(f, "d", H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (rank == 1) {
        hsize_t st[2] = {1, 0}, cnt[2] = {1, 4};
        int v[4] = {11, 12, 13, 14};
        hid_t fs = H5Dget_space(d);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(2, cnt, NULL);
        H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, v);
        H5Sclose(ms); H5Sclose(fs);
    }
    H5Dclose(d);
    MPI_Barrier(MPI_COMM_WORLD);
    d = H5Dopen2(f, "d", H5P_DEFAULT);
    hsize_t nd[2] = {4, 8};
    H5Dset_extent(d, nd);
    int buf[32];
    H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    int wrong = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) {
            int want = (i == 1 && j < 4) ? 11 + j : 0;
            if (buf[i * 8 + j] != want) wrong++;
        }
    printf("widened: rank %d: %d wrong\n", rank, wrong);
    H5Dclose(d); H5Sclose(s); H5Pclose(dcpl);
    H5Fclose(f); H5Pclose(fapl);
    MPI_Finalize();
    return wrong != 0;
}
