/* Parallel HDF5 behaviours beyond slabs of fixed-size elements, through an MPI-IO file access
 * list on MPI_COMM_WORLD. Each mode prints "modes MODE: ok" when every check held on every
 * rank, else the failed checks (with the rank) and "modes MODE: FAILED"; exits 0 only for ok.
 *
 *   modes vlen FILE     every rank writes its slab of variable-length strings and of
 *                       variable-length int sequences (chunks shared by neighbouring ranks);
 *                       each rank reads its own slab back before any flush; after H5Dclose and
 *                       a barrier every rank reads all of one dataset back, after H5Fflush and a
 *                       barrier all of the other, then both after reopening the file
 *   modes alone FILE    every rank writes its slab of two datasets; then rank 0 alone opens,
 *                       reads and closes them (independent H5Dopen/H5Dclose, which HDF5 allows
 *                       for objects whose metadata do not change) while the others wait at a
 *                       barrier; then rank 0 alone, and the last rank alone, open a dataset,
 *                       write their slab anew and close it, and after a barrier every rank
 *                       opening it sees those writes; the file then closes on every rank and
 *                       reads back whole
 *   modes xfer FILE     independent and collective transfer lists (H5Pset_dxpl_mpio) for
 *                       writes and reads of one dataset, and collective metadata reads and
 *                       writes in the file access list (H5Pset_all_coll_metadata_ops,
 *                       H5Pset_coll_metadata_write): the lists read back as set, data written
 *                       independently by each rank is visible to every rank after the flush,
 *                       a collective write (one rank selecting nothing) is visible to every
 *                       rank right after it (no flush, no close), and a collective read with
 *                       a rank selecting nothing works
 *   modes owned FILE    each rank's slab is exactly one chunk, so ranks other than 0 store
 *                       it themselves: written, flushed, written again (the flushed version
 *                       stays as it was), twice within one flush, part then whole, each
 *                       checked on the writing rank at once and on every rank after H5Dclose,
 *                       a barrier and H5Dopen, after H5Fflush, and after reopening
 *   modes stray FILE    rank 0 alone calls H5Fflush (collective) on a file every rank writes,
 *                       with RUSTVOL_MPI_TIMEOUT short: the flush fails on rank 0 within a few
 *                       timeouts, naming it, instead of hanging; every rank then closes the
 *                       file (errors expected) and the program ends; the file as last
 *                       committed (its dataset, before the stray flush) reads back afterwards
 *   modes reopen FILE   (one process) opens the file for writing with a serial access list
 *                       and adds a group: not refused, so no lease or lock of an earlier
 *                       job's ranks is left */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER 7 /* elements per rank */

static int rank, nranks, bad = 0;

#define EXPECT(cond, ...)                                \
    do {                                                 \
        if (!(cond)) {                                   \
            bad++;                                       \
            fprintf(stderr, "rank %d: ", rank);          \
            fprintf(stderr, __VA_ARGS__);                \
            fprintf(stderr, " (line %d)\n", __LINE__);   \
        }                                                \
    } while (0)

static hid_t fapl_world(int coll_meta) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    if (coll_meta) {
        H5Pset_all_coll_metadata_ops(fapl, 1);
        H5Pset_coll_metadata_write(fapl, 1);
    }
    return fapl;
}

/* ---- vlen -------------------------------------------------------------------------------- */

static void str_of(char *out, long i) { snprintf(out, 64, "element %ld of rank %ld%.*s", i, i / PER, (int)(i % 5), "+++++"); }

static hid_t str_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    return t;
}

/* Writes this rank's slab of the string dataset "s" and the sequence dataset "q". */
static void vlen_write(hid_t file, const char *s_name, const char *q_name, int create) {
    hsize_t dims = (hsize_t)nranks * PER, chunk = 3, start = (hsize_t)rank * PER, count = PER;
    hid_t st = str_type(), qt = H5Tvlen_create(H5T_NATIVE_INT);
    hid_t space = H5Screate_simple(1, &dims, NULL), mem = H5Screate_simple(1, &count, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    hid_t ds = create ? H5Dcreate2(file, s_name, st, space, H5P_DEFAULT, dcpl, H5P_DEFAULT) : H5Dopen2(file, s_name, H5P_DEFAULT);
    hid_t dq = create ? H5Dcreate2(file, q_name, qt, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : H5Dopen2(file, q_name, H5P_DEFAULT);
    EXPECT(ds >= 0 && dq >= 0, "create the vlen datasets");
    char bufs[PER][64], *strs[PER];
    hvl_t seqs[PER];
    int vals[PER][5];
    for (int k = 0; k < PER; k++) {
        long i = (long)start + k;
        str_of(bufs[k], i);
        strs[k] = bufs[k];
        for (int j = 0; j < (int)(i % 5); j++)
            vals[k][j] = (int)(i * 10 + j);
        seqs[k].len = (size_t)(i % 5);
        seqs[k].p = vals[k];
    }
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    EXPECT(H5Dwrite(ds, st, mem, space, H5P_DEFAULT, strs) >= 0, "write my strings");
    EXPECT(H5Dwrite(dq, qt, mem, space, H5P_DEFAULT, seqs) >= 0, "write my sequences");
    H5Dclose(ds), H5Dclose(dq);
    H5Pclose(dcpl), H5Sclose(mem), H5Sclose(space), H5Tclose(st), H5Tclose(qt);
}

/* Reads elements [first, first + n) of both datasets and counts the wrong ones. */
static void vlen_check(hid_t file, const char *s_name, const char *q_name, long first, long n, const char *when) {
    hsize_t dims = (hsize_t)nranks * PER, start = (hsize_t)first, count = (hsize_t)n;
    hid_t st = str_type(), qt = H5Tvlen_create(H5T_NATIVE_INT);
    hid_t space = H5Screate_simple(1, &dims, NULL), mem = H5Screate_simple(1, &count, NULL);
    char **strs = calloc((size_t)n, sizeof *strs);
    hvl_t *seqs = calloc((size_t)n, sizeof *seqs);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    hid_t ds = H5Dopen2(file, s_name, H5P_DEFAULT), dq = H5Dopen2(file, q_name, H5P_DEFAULT);
    int ok = ds >= 0 && dq >= 0 && H5Dread(ds, st, mem, space, H5P_DEFAULT, strs) >= 0 && H5Dread(dq, qt, mem, space, H5P_DEFAULT, seqs) >= 0;
    EXPECT(ok, "read %s", when);
    long wrong = 0;
    for (long k = 0; ok && k < n; k++) {
        long i = first + k;
        char want[64];
        str_of(want, i);
        wrong += strs[k] == NULL || strcmp(strs[k], want) != 0;
        int good = seqs[k].len == (size_t)(i % 5);
        for (size_t j = 0; good && j < seqs[k].len; j++)
            good = ((int *)seqs[k].p)[j] == (int)(i * 10 + (long)j);
        wrong += !good;
    }
    EXPECT(wrong == 0, "%ld of %ld elements wrong %s", wrong, 2 * n, when);
    if (ok) {
        H5Treclaim(st, mem, H5P_DEFAULT, strs);
        H5Treclaim(qt, mem, H5P_DEFAULT, seqs);
    }
    free(strs), free(seqs);
    H5Dclose(ds), H5Dclose(dq);
    H5Sclose(mem), H5Sclose(space), H5Tclose(st), H5Tclose(qt);
}

static void mode_vlen(const char *path) {
    hid_t fapl = fapl_world(0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    EXPECT(file >= 0, "create the file");
    vlen_write(file, "s1", "q1", 1);
    vlen_write(file, "s2", "q2", 1);
    vlen_check(file, "s1", "q1", (long)rank * PER, PER, "of my own slab before any flush");
    /* Visible after the datasets' close (each was closed by every rank) and a barrier. */
    MPI_Barrier(MPI_COMM_WORLD);
    vlen_check(file, "s1", "q1", 0, (long)nranks * PER, "of every slab after H5Dclose and a barrier");
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flush");
    MPI_Barrier(MPI_COMM_WORLD);
    vlen_check(file, "s2", "q2", 0, (long)nranks * PER, "of every slab after H5Fflush and a barrier");
    /* A second write of my slab over the first, then the file closes with it kept. */
    vlen_write(file, "s2", "q2", 0);
    EXPECT(H5Fclose(file) >= 0, "close the file");
    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    EXPECT(file >= 0, "reopen the file");
    vlen_check(file, "s1", "q1", 0, (long)nranks * PER, "of every slab after reopening");
    vlen_check(file, "s2", "q2", 0, (long)nranks * PER, "of every slab after reopening");
    H5Fclose(file);
    H5Pclose(fapl);
}

/* ---- fixed-size helpers ------------------------------------------------------------------ */

/* Writes (value = 1 + index + bias) this rank's elements [rank*PER, (rank+1)*PER) of dataset
 * `d`, with transfer list `dxpl`; `none`: this rank selects nothing (a collective call still
 * made). */
static void write_mine(hid_t d, hid_t dxpl, int bias, int none) {
    hsize_t dims = (hsize_t)nranks * PER, start = (hsize_t)rank * PER, count = PER;
    int buf[PER];
    for (int k = 0; k < PER; k++)
        buf[k] = 1 + rank * PER + k + bias;
    hid_t space = H5Screate_simple(1, &dims, NULL), mem = H5Screate_simple(1, &count, NULL);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (none)
        H5Sselect_none(space), H5Sselect_none(mem);
    EXPECT(H5Dwrite(d, H5T_NATIVE_INT, mem, space, dxpl, buf) >= 0, "write my slab");
    H5Sclose(mem), H5Sclose(space);
}

/* Reads all of dataset `d` with `dxpl` (nothing when `none`) and counts the elements that are
 * not 1 + index + bias. */
static long read_all(hid_t d, hid_t dxpl, int bias, int none, const char *when) {
    long n = (long)nranks * PER, wrong = 0;
    int *buf = calloc((size_t)n, sizeof *buf);
    hid_t space = H5Dget_space(d), mem = H5Screate_simple(1, (hsize_t[]){(hsize_t)n}, NULL);
    if (none)
        H5Sselect_none(space), H5Sselect_none(mem);
    int ok = H5Dread(d, H5T_NATIVE_INT, mem, space, dxpl, buf) >= 0;
    EXPECT(ok, "read %s", when);
    for (long i = 0; ok && !none && i < n; i++)
        wrong += buf[i] != (int)(1 + i + bias);
    EXPECT(wrong == 0, "%ld of %ld elements wrong %s", wrong, n, when);
    H5Sclose(mem), H5Sclose(space);
    free(buf);
    return wrong;
}

static hid_t make_dataset(hid_t file, const char *name, hsize_t chunk) {
    hsize_t dims = (hsize_t)nranks * PER;
    hid_t space = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk)
        H5Pset_chunk(dcpl, 1, &chunk);
    hid_t d = H5Dcreate2(file, name, H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    EXPECT(d >= 0, "create %s", name);
    H5Pclose(dcpl), H5Sclose(space);
    return d;
}

/* ---- alone ------------------------------------------------------------------------------- */

static void mode_alone(const char *path) {
    hid_t fapl = fapl_world(0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    EXPECT(file >= 0, "create the file");
    hid_t a = make_dataset(file, "a", 3), b = make_dataset(file, "b", 0);
    write_mine(a, H5P_DEFAULT, 0, 0);
    write_mine(b, H5P_DEFAULT, 0, 0);
    EXPECT(H5Dclose(a) >= 0 && H5Dclose(b) >= 0, "close a and b");
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flush");
    if (rank == 0) {
        /* Independent opens and closes of unmodified objects, as HDF5 allows. */
        double t0 = MPI_Wtime();
        for (int round = 0; round < 3; round++) {
            hid_t d = H5Dopen2(file, round % 2 ? "b" : "a", H5P_DEFAULT);
            EXPECT(d >= 0, "rank 0 alone opens a dataset");
            if (d >= 0) {
                read_all(d, H5P_DEFAULT, 0, 0, "by rank 0 alone");
                EXPECT(H5Dclose(d) >= 0, "rank 0 alone closes a dataset");
            }
        }
        EXPECT(MPI_Wtime() - t0 < 5.0, "rank 0's lone opens and closes took %.1f s (waiting for the others?)", MPI_Wtime() - t0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    /* The others carry on as usual: their own independent open and read. */
    hid_t d = H5Dopen2(file, "a", H5P_DEFAULT);
    EXPECT(d >= 0, "open a");
    read_all(d, H5P_DEFAULT, 0, 0, "after rank 0's lone opens");
    EXPECT(H5Dclose(d) >= 0, "close a");
    /* Rank 0 and the last rank, each alone, open a dataset, write their slab anew and close
     * it; after a barrier every rank opening it sees both. */
    int last = nranks - 1;
    for (int w = 0; w < 2; w++) {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == (w ? last : 0)) {
            d = H5Dopen2(file, w ? "b" : "a", H5P_DEFAULT);
            EXPECT(d >= 0, "open alone to write");
            write_mine(d, H5P_DEFAULT, 500, 0);
            EXPECT(H5Dclose(d) >= 0, "close alone after writing");
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int w = 0; w < 2; w++) {
        int writer = w ? last : 0;
        long n = (long)nranks * PER, wrong = 0;
        int *buf = calloc((size_t)n, sizeof *buf);
        d = H5Dopen2(file, w ? "b" : "a", H5P_DEFAULT);
        EXPECT(d >= 0 && H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "read after the lone writes");
        for (long i = 0; i < n; i++)
            wrong += buf[i] != (int)(1 + i + (i / PER == writer ? 500 : 0));
        EXPECT(wrong == 0, "%ld of %ld elements wrong after rank %d wrote alone", wrong, n, writer);
        free(buf);
        H5Dclose(d);
    }
    EXPECT(H5Fclose(file) >= 0, "close the file");
    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    EXPECT(file >= 0, "reopen the file");
    for (int w = 0; w < 2; w++) {
        int writer = w ? nranks - 1 : 0;
        long n = (long)nranks * PER, wrong = 0;
        int *buf = calloc((size_t)n, sizeof *buf);
        d = H5Dopen2(file, w ? "b" : "a", H5P_DEFAULT);
        EXPECT(d >= 0 && H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "read after reopening");
        for (long i = 0; i < n; i++)
            wrong += buf[i] != (int)(1 + i + (i / PER == writer ? 500 : 0));
        EXPECT(wrong == 0, "%ld of %ld elements wrong after reopening", wrong, n);
        free(buf);
        H5Dclose(d);
    }
    H5Fclose(file);
    H5Pclose(fapl);
}

/* ---- xfer -------------------------------------------------------------------------------- */

static void mode_xfer(const char *path) {
    hid_t fapl = fapl_world(1);
    hbool_t on = 0;
    EXPECT(H5Pget_all_coll_metadata_ops(fapl, &on) >= 0 && on, "collective metadata reads set in the fapl");
    EXPECT(H5Pget_coll_metadata_write(fapl, &on) >= 0 && on, "collective metadata writes set in the fapl");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    EXPECT(file >= 0, "create the file");
    hid_t got = H5Fget_access_plist(file);
    on = 0;
    EXPECT(H5Pget_all_coll_metadata_ops(got, &on) >= 0 && on, "the file's access list keeps collective metadata reads");
    on = 0;
    EXPECT(H5Pget_coll_metadata_write(got, &on) >= 0 && on, "the file's access list keeps collective metadata writes");
    H5Pclose(got);

    hid_t indep = H5Pcreate(H5P_DATASET_XFER), coll = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(indep, H5FD_MPIO_INDEPENDENT);
    H5Pset_dxpl_mpio(coll, H5FD_MPIO_COLLECTIVE);
    H5FD_mpio_xfer_t mode;
    EXPECT(H5Pget_dxpl_mpio(coll, &mode) >= 0 && mode == H5FD_MPIO_COLLECTIVE, "collective transfer list");

    hid_t c = make_dataset(file, "chunked", 3), g = make_dataset(file, "contig", 0);
    /* Independent writes by every rank, visible to all after the flush. */
    write_mine(c, indep, 0, 0);
    write_mine(g, indep, 0, 0);
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flush");
    MPI_Barrier(MPI_COMM_WORLD);
    read_all(c, indep, 0, 0, "independently after independent writes and a flush");
    read_all(g, coll, 0, 0, "collectively after independent writes and a flush");
    /* A collective write over it (the last rank selecting nothing) is visible to every rank
     * right after it, with no flush or close, as natively after a collective MPI-IO write:
     * the rank that wrote nothing sees the earlier values there. */
    int quiet = nranks - 1;
    write_mine(c, coll, 1000, rank == quiet);
    MPI_Barrier(MPI_COMM_WORLD);
    {
        long n = (long)nranks * PER, wrong = 0;
        int *buf = calloc((size_t)n, sizeof *buf);
        EXPECT(H5Dread(c, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, coll, buf) >= 0, "collective read after a collective write");
        for (long i = 0; i < n; i++)
            wrong += buf[i] != (int)(1 + i + (i / PER == quiet ? 0 : 1000));
        EXPECT(wrong == 0, "%ld of %ld elements wrong after the collective write", wrong, n);
        free(buf);
    }
    read_all(g, coll, 0, rank == 0, "collectively, rank 0 selecting nothing");
    EXPECT(H5Dclose(c) >= 0 && H5Dclose(g) >= 0, "close the datasets");
    /* Metadata made with collective metadata operations on: an attribute and a group. */
    hid_t as = H5Screate(H5S_SCALAR);
    hid_t at = H5Acreate2(file, "attr", H5T_NATIVE_INT, as, H5P_DEFAULT, H5P_DEFAULT);
    int v = 42, r = 0;
    EXPECT(at >= 0 && H5Awrite(at, H5T_NATIVE_INT, &v) >= 0, "attribute written collectively");
    H5Aclose(at), H5Sclose(as);
    hid_t grp = H5Gcreate2(file, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT(grp >= 0, "group created");
    H5Gclose(grp);
    EXPECT(H5Fclose(file) >= 0, "close the file");

    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    EXPECT(file >= 0, "reopen the file with collective metadata reads");
    at = H5Aopen(file, "attr", H5P_DEFAULT);
    EXPECT(at >= 0 && H5Aread(at, H5T_NATIVE_INT, &r) >= 0 && r == 42, "attribute reads back 42 (got %d)", r);
    H5Aclose(at);
    EXPECT(H5Lexists(file, "group", H5P_DEFAULT) > 0, "group exists after reopening");
    hid_t d = H5Dopen2(file, "contig", H5P_DEFAULT);
    read_all(d, coll, 0, 0, "collectively after reopening");
    H5Dclose(d);
    H5Fclose(file);
    H5Pclose(indep), H5Pclose(coll), H5Pclose(fapl);
}

/* ---- owned ------------------------------------------------------------------------------- */

/* Writes elements [rank*PER + from, rank*PER + to) of `name` with value 1 + index + bias. */
static void write_part(hid_t file, const char *name, int from, int to, int bias) {
    hsize_t dims = (hsize_t)nranks * PER, start = (hsize_t)(rank * PER + from), count = (hsize_t)(to - from);
    int buf[PER];
    for (int k = 0; k < to - from; k++)
        buf[k] = 1 + rank * PER + from + k + bias;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(1, &dims, NULL), mem = H5Screate_simple(1, &count, NULL);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    EXPECT(d >= 0 && H5Dwrite(d, H5T_NATIVE_INT, mem, space, H5P_DEFAULT, buf) >= 0, "write part of my chunk");
    /* My own write, read back at once. */
    int back[PER] = {0};
    EXPECT(H5Dread(d, H5T_NATIVE_INT, mem, space, H5P_DEFAULT, back) >= 0, "read my write back");
    for (int k = 0; k < to - from; k++)
        EXPECT(back[k] == buf[k], "my element %d reads %d, wrote %d", rank * PER + from + k, back[k], buf[k]);
    H5Sclose(mem), H5Sclose(space);
    H5Dclose(d);
}

static void check_owned(hid_t file, int bias, const char *when) {
    hid_t d = H5Dopen2(file, "owned", H5P_DEFAULT);
    EXPECT(d >= 0, "open owned");
    if (d >= 0) {
        read_all(d, H5P_DEFAULT, bias, 0, when);
        H5Dclose(d);
    }
    /* No rank writes again before every rank has read. */
    MPI_Barrier(MPI_COMM_WORLD);
}

static void mode_owned(const char *path) {
    hid_t fapl = fapl_world(0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    EXPECT(file >= 0, "create the file");
    hid_t d = make_dataset(file, "owned", PER);
    H5Dclose(d);
    write_part(file, "owned", 0, PER, 0);
    MPI_Barrier(MPI_COMM_WORLD);
    check_owned(file, 0, "after every rank wrote its chunk, H5Dclose and a barrier");
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flush");
    check_owned(file, 0, "after the flush");
    write_part(file, "owned", 0, PER, 100);
    MPI_Barrier(MPI_COMM_WORLD);
    check_owned(file, 100, "after every rank wrote its chunk again");
    write_part(file, "owned", 0, PER, 200);
    write_part(file, "owned", 0, PER, 300);
    MPI_Barrier(MPI_COMM_WORLD);
    check_owned(file, 300, "after two writes of every chunk");
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flush");
    check_owned(file, 300, "after the second flush");
    write_part(file, "owned", 0, 3, 400);
    write_part(file, "owned", 0, PER, 500);
    MPI_Barrier(MPI_COMM_WORLD);
    check_owned(file, 500, "after part, then all of every chunk");
    EXPECT(H5Fclose(file) >= 0, "close the file");
    file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    EXPECT(file >= 0, "reopen the file");
    check_owned(file, 500, "after reopening");
    write_part(file, "owned", 0, PER, 600);
    EXPECT(H5Fclose(file) >= 0, "close the file");
    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    check_owned(file, 600, "after writing in a second open");
    H5Fclose(file);
    H5Pclose(fapl);
}

/* ---- stray ------------------------------------------------------------------------------- */

static void mode_stray(const char *path) {
    hid_t fapl = fapl_world(0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    EXPECT(file >= 0, "create the file");
    hid_t d = make_dataset(file, "d", 3);
    write_mine(d, H5P_DEFAULT, 0, 0);
    EXPECT(H5Dclose(d) >= 0, "close d");
    EXPECT(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "the collective flush");
    if (rank == 0) {
        double t0 = MPI_Wtime();
        herr_t rc;
        H5E_BEGIN_TRY { rc = H5Fflush(file, H5F_SCOPE_GLOBAL); }
        H5E_END_TRY
        double took = MPI_Wtime() - t0;
        EXPECT(rc < 0, "rank 0's lone H5Fflush failed");
        EXPECT(took < 30.0, "rank 0's lone H5Fflush returned after %.1f s", took);
        printf("stray: rank 0's lone H5Fflush %s after %.1f s\n", rc < 0 ? "failed" : "succeeded", took);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    H5E_BEGIN_TRY { H5Fclose(file); }
    H5E_END_TRY
    MPI_Barrier(MPI_COMM_WORLD);
    /* What was committed before stays readable, in a new open. */
    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    EXPECT(file >= 0, "reopen the file");
    d = H5Dopen2(file, "d", H5P_DEFAULT);
    EXPECT(d >= 0, "open d");
    if (d >= 0) {
        read_all(d, H5P_DEFAULT, 0, 0, "after the stray flush");
        H5Dclose(d);
    }
    H5Fclose(file);
    H5Pclose(fapl);
}

/* ---- reopen ------------------------------------------------------------------------------ */

static void mode_reopen(const char *path) {
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    EXPECT(file >= 0, "open %s for writing", path);
    if (file < 0)
        return;
    hid_t g = H5Gcreate2(file, "reopened", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT(g >= 0, "create a group");
    H5Gclose(g);
    EXPECT(H5Fclose(file) >= 0, "close");
}

int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc != 3) {
        if (rank == 0)
            fprintf(stderr, "usage: modes vlen|alone|xfer|owned|stray|reopen FILE\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (strcmp(argv[1], "vlen") == 0)
        mode_vlen(argv[2]);
    else if (strcmp(argv[1], "alone") == 0)
        mode_alone(argv[2]);
    else if (strcmp(argv[1], "xfer") == 0)
        mode_xfer(argv[2]);
    else if (strcmp(argv[1], "reopen") == 0)
        mode_reopen(argv[2]);
    else if (strcmp(argv[1], "stray") == 0)
        mode_stray(argv[2]);
    else if (strcmp(argv[1], "owned") == 0)
        mode_owned(argv[2]);
    else
        MPI_Abort(MPI_COMM_WORLD, 2);
    int all = 0;
    MPI_Allreduce(&bad, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("modes %s: %s\n", argv[1], all == 0 ? "ok" : "FAILED");
    MPI_Finalize();
    return all == 0 ? 0 : 1;
}
