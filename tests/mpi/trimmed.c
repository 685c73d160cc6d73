/* Chunks ranks other than 0 wrote whole (and so stored themselves), turned into edge chunks by
 * a shrink after those ranks had taken up each other's stored chunks.
 *
 *   trimmed FILE      (3 ranks)
 *
 * Ranks 1 and 2 write chunks (0, 1) and (1, 1) of a 4 x 8 int dataset "d" of 2 x 4 chunks
 * whole (values 5 and 6). Then, on a second dataset "e", each writes a chunk whole and closes
 * it (publishing it), and after a barrier each opens "e" again, taking up the other's stored
 * chunk. Every rank shrinks "d" to 4 x 6 (columns 6-7 of both chunks are cut off: the ranks
 * that wrote them trim them) and grows it back to 4 x 8, then H5Fflush and a barrier: every
 * rank reads "d" whole, columns 6-7 hold the fill value 0 and columns 4-5 the ranks' values,
 * as natively; again after closing and reopening the file; "e" holds both ranks' chunks.
 * Prints "trimmed: rank R: N wrong" per rank; exits 1 when anything is wrong. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>

static int check_d(hid_t d) {
    int buf[32], wrong = 0;
    H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 8; c++) {
            int want = (c == 4 || c == 5) ? (r < 2 ? 5 : 6) : 0;
            if (buf[r * 8 + c] != want) wrong++;
        }
    return wrong;
}

static int check_e(hid_t e) {
    int buf[8], wrong = 0;
    H5Dread(e, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    for (int i = 0; i < 8; i++)
        if (buf[i] != (i < 4 ? 1 : 2)) wrong++;
    return wrong;
}

static void write_block(hid_t d, int rank, hsize_t *st, hsize_t *cnt, int v) {
    int buf[8];
    for (int i = 0; i < 8; i++) buf[i] = v;
    hid_t fs = H5Dget_space(d);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, wrong = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hsize_t dims[2] = {4, 8}, maxd[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, ch[2] = {2, 4};
    hid_t s = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, ch);
    hid_t d = H5Dcreate2(f, "d", H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hsize_t edims[1] = {8}, ech[1] = {4};
    hid_t es = H5Screate_simple(1, edims, NULL);
    hid_t ecpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(ecpl, 1, ech);
    hid_t e = H5Dcreate2(f, "e", H5T_NATIVE_INT, es, H5P_DEFAULT, ecpl, H5P_DEFAULT);
    H5Dclose(e);
    if (rank == 1 || rank == 2) {
        hsize_t st[2] = {rank == 1 ? 0 : 2, 4}, cnt[2] = {2, 4};
        write_block(d, 2, st, cnt, rank == 1 ? 5 : 6);
        e = H5Dopen2(f, "e", H5P_DEFAULT);
        hsize_t est[1] = {rank == 1 ? 0 : 4}, ecnt[1] = {4};
        write_block(e, 1, est, ecnt, rank);
        H5Dclose(e);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 1 || rank == 2) {
        e = H5Dopen2(f, "e", H5P_DEFAULT);
        H5Dclose(e);
    }
    hsize_t small[2] = {4, 6};
    H5Dset_extent(d, small);
    H5Dset_extent(d, dims);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    MPI_Barrier(MPI_COMM_WORLD);
    wrong += check_d(d);
    e = H5Dopen2(f, "e", H5P_DEFAULT);
    wrong += check_e(e);
    H5Dclose(e);
    H5Dclose(d);
    H5Fclose(f);
    f = H5Fopen(argv[1], H5F_ACC_RDONLY, fapl);
    d = H5Dopen2(f, "d", H5P_DEFAULT);
    e = H5Dopen2(f, "e", H5P_DEFAULT);
    wrong += check_d(d) + check_e(e);
    H5Dclose(d);
    H5Dclose(e);
    H5Fclose(f);
    printf("trimmed: rank %d: %d wrong\n", rank, wrong);
    H5Sclose(s);
    H5Sclose(es);
    H5Pclose(dcpl);
    H5Pclose(ecpl);
    H5Pclose(fapl);
    MPI_Finalize();
    return wrong != 0;
}
