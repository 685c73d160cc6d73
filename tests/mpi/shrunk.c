/* A chunk a rank other than 0 wrote whole (and so stored itself), cut off by a shrink.
 *
 *   shrunk FILE      (2 ranks or more)
 *
 * Rank 1 writes chunk (0, 1) of a 4 x 8 int dataset of 2 x 4 chunks whole (rows 0-1, columns
 * 4-7, value 5); every rank shrinks the dataset to 4 x 4 and grows it back to 4 x 8
 * (H5Dset_extent), then H5Fflush and a barrier; every rank reads it whole: columns 4-7 hold
 * the fill value 0, as natively (the shrink discarded them). Prints "shrunk: rank R: N wrong"
 * per rank; exits 1 when anything is wrong. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hsize_t dims[2] = {4, 8}, maxd[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, ch[2] = {2, 4};
    hid_t s = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, ch);
    hid_t d = H5Dcreate2(f, "d", H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (rank == 1) {
        hsize_t st[2] = {0, 4}, cnt[2] = {2, 4};
        int v[8] = {5, 5, 5, 5, 5, 5, 5, 5};
        hid_t fs = H5Dget_space(d);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(2, cnt, NULL);
        H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, v);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    hsize_t small[2] = {4, 4};
    H5Dset_extent(d, small);
    H5Dset_extent(d, dims);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    MPI_Barrier(MPI_COMM_WORLD);
    int buf[32], wrong = 0;
    H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    for (int i = 0; i < 32; i++)
        if (buf[i] != 0) wrong++;
    printf("shrunk: rank %d: %d wrong\n", rank, wrong);
    H5Dclose(d);
    H5Sclose(s);
    H5Pclose(dcpl);
    H5Fclose(f);
    H5Pclose(fapl);
    MPI_Finalize();
    return wrong != 0;
}
