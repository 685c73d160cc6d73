/* Ranks writing interleaved pieces of the same chunks, round after round, each round's writes
 * overwriting the last ones' and checked element by element on every rank at the round's
 * synchronisation point, then after reopening.
 *
 *   overlap FILE [ROUNDS]       (ROUNDS default 8)
 *
 * Datasets (every chunk gets pieces from several ranks in every round):
 *   strided  1-D int, 12000, chunks of 97: rank k writes every n-th element from (k + r) mod n
 *            (one strided hyperslab), and every rank also writes elements [0, 50) with the same
 *            values (overlapping writes of equal bytes);
 *   union    2-D int, 64 x 64, chunks of 10 x 10 (edge chunks partial): the plane in cells of
 *            3 x 5, cell (ci, cj) written by rank (ci + 7 cj + r) mod n; a rank's selection is
 *            the union (H5S_SELECT_OR, built in reverse order) of its cells;
 *   partial  1-D int, 10007, chunks of 1000, fill value -1: in each chunk, rank k writes 37
 *            elements at k*(1000/n) + (13 r mod 50); rank 0 writes nothing in rounds r = 2 mod 3
 *            (an empty selection); the rest keeps the fill value or an earlier round's value;
 *   members  1-D compound {int a; double b; short c}, 4000, chunks of 64: element e written by
 *            rank (e/10 + r) mod n, with every member (r = 0 mod 3), member a alone (1), or
 *            members b and c (2): the others keep earlier rounds' values;
 *   contig   1-D int, 300000, contiguous (more than one of rustvol's internal 1 MiB chunks):
 *            blocks of 1000, block b written by rank (b + r) mod n (one strided hyperslab);
 *   grow     1-D int, unlimited, chunks of 64: each round extends it by n*50 (H5Dset_extent on
 *            every rank), rank k writes its 50 of the new part and overwrites [7k + r, 7k + r + 3);
 *   widen    2-D int, unlimited both ways, chunks of 4 x 5, from 6 x 3n: when r = 2 mod 4,
 *            first 2 columns and a row fewer, and H5Fflush (what is cut off reads as the fill
 *            value when it grows back, as natively); column blocks of 3, block b written by rank
 *            (b + r) mod n; in the other rounds, after the writes and before the sync point, 4
 *            columns more (and a row more when r = 1 mod 3); element (i, j) written in round r
 *            holds r*1000003 + 10000 i + j + 1.
 * Element e written in round r holds r*1000003 + e + 1 (members: a = that, b = a / 4, c = a mod
 * 30011): a write lost or misplaced leaves another round's value, or the fill value.
 *
 * Right after its writes, before the round's synchronisation point, every rank reads every
 * dataset back and checks the elements no other rank wrote in the round: its own writes over
 * what earlier rounds left. The synchronisation point of round r: r = 0 mod 4, H5Fflush and a barrier, the datasets kept
 * open; 1: every dataset closed and reopened (H5Dclose is where rustvol merges the ranks'
 * writes of a dataset), 2: the file closed and reopened; 3: the writes collective
 * (H5Pset_dxpl_mpio), then H5Fflush and a barrier. After it every rank reads every dataset
 * whole and compares it with the state every rank's writes so far must give. After the rounds:
 * the file closed, reopened read-only by every rank and checked; then rank 0 alone opens it
 * without MPI (as one serial process) and checks it while the others wait.
 *
 * Prints per check the wrong elements summed over the ranks and "overlap: ok" or "overlap:
 * WRONG ..." (and "N failed HDF5 calls"); exits 0 only when nothing was wrong and no call
 * failed. A failing call is counted, and the program carries on through the same collective
 * calls, so a failure is reported, not turned into a hang. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, nranks, failures = 0;
#define CHECK(x)                                                                   \
    do {                                                                           \
        if ((x) < 0) {                                                             \
            failures++;                                                            \
            fprintf(stderr, "rank %d: %s failed (line %d)\n", rank, #x, __LINE__); \
        }                                                                          \
    } while (0)

#define STRIDED_N 12000
#define COMMON 50
#define U 64
#define PARTIAL_N 10007
#define MEMBERS_N 4000
#define CONTIG_N 300000
#define GROW_PER 50
#define WR 16  /* the widen dataset's rows and columns never pass these */
#define WC 64
#define ND 7

typedef struct {
    int a;
    double b;
    short c;
} rec;

static const char *NAMES[ND] = {"strided", "union", "partial", "members", "contig", "grow", "widen"};
static int value(int r, long e) { return r * 1000003 + (int)e + 1; }

/* What every element must hold: the state all ranks' writes so far give. */
static int *x_strided, *x_union, *x_partial, *x_contig, *x_grow;
static rec *x_members;
static long grow_n = 0;
/* Elements another rank wrote in the current round (other values than this rank may have):
 * until the round's synchronisation point, undefined here. */
static unsigned char *o_strided, *o_union, *o_partial, *o_members, *o_contig, *o_grow;
/* widen: the expected plane (current extent wrows x wcols, packed row-major) */
static int x_widen[WR * WC], wrows = 6, wcols;
static unsigned char o_widen[WR * WC];

static hid_t rec_type(int members) { /* members: bit 0 a, bit 1 b, bit 2 c */
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(rec));
    if (members & 1)
        H5Tinsert(t, "a", HOFFSET(rec, a), H5T_NATIVE_INT);
    if (members & 2)
        H5Tinsert(t, "b", HOFFSET(rec, b), H5T_NATIVE_DOUBLE);
    if (members & 4)
        H5Tinsert(t, "c", HOFFSET(rec, c), H5T_NATIVE_SHORT);
    return t;
}

static hid_t create(hid_t file, const char *name, hid_t type, int nd, const hsize_t *dims, const hsize_t *max, const hsize_t *chunk, int fill) {
    hid_t space = H5Screate_simple(nd, dims, max), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk)
        CHECK(H5Pset_chunk(dcpl, nd, chunk));
    if (fill)
        CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &fill));
    hid_t d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    H5Pclose(dcpl), H5Sclose(space);
    return d;
}

static void create_all(hid_t file, hid_t *d) {
    hsize_t n1 = STRIDED_N, c1 = 97, u[2] = {U, U}, cu[2] = {10, 10}, np = PARTIAL_N, cp = 1000;
    hsize_t nm = MEMBERS_N, cm = 64, nc = CONTIG_N, g0 = 0, gmax = H5S_UNLIMITED, cg = 64;
    hid_t rt = rec_type(7);
    d[0] = create(file, "strided", H5T_STD_I32LE, 1, &n1, NULL, &c1, 0);
    d[1] = create(file, "union", H5T_STD_I32LE, 2, u, NULL, cu, 0);
    d[2] = create(file, "partial", H5T_STD_I32LE, 1, &np, NULL, &cp, -1);
    d[3] = create(file, "members", rt, 1, &nm, NULL, &cm, 0);
    d[4] = create(file, "contig", H5T_STD_I32LE, 1, &nc, NULL, NULL, 0);
    d[5] = create(file, "grow", H5T_STD_I32LE, 1, &g0, &gmax, &cg, 0);
    hsize_t w0[2] = {(hsize_t)wrows, (hsize_t)wcols}, wmax[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, cw[2] = {4, 5};
    d[6] = create(file, "widen", H5T_STD_I32LE, 2, w0, wmax, cw, 0);
    H5Tclose(rt);
}

static void open_all(hid_t file, hid_t *d) {
    for (int i = 0; i < ND; i++)
        CHECK(d[i] = H5Dopen2(file, NAMES[i], H5P_DEFAULT));
}

static void close_all(hid_t *d) {
    for (int i = 0; i < ND; i++)
        if (d[i] >= 0)
            CHECK(H5Dclose(d[i]));
}

/* Writes `count` elements of `buf` (memory type mt) to the selection of `fs`. */
static void write_sel(hid_t d, hid_t mt, hid_t fs, hid_t dxpl, const void *buf) {
    hssize_t n = H5Sget_select_npoints(fs);
    hsize_t m = n > 0 ? (hsize_t)n : 1;
    hid_t ms = H5Screate_simple(1, &m, NULL);
    if (n <= 0)
        H5Sselect_none(ms);
    CHECK(H5Dwrite(d, mt, ms, fs, dxpl, buf));
    H5Sclose(ms);
}

/* --- one round's writes: this rank's, and the expected state from every rank's --------------- */

static void round_writes(hid_t *d, int r, hid_t dxpl) {
    int n = nranks, k = rank;

    /* strided: one hyperslab with stride n, then the common prefix, equal bytes from all */
    {
        hsize_t dims = STRIDED_N, start = (hsize_t)((k + r) % n), stride = n, count = (STRIDED_N - start + n - 1) / n, block = 1;
        hid_t fs = H5Screate_simple(1, &dims, NULL);
        int *buf = malloc(count * sizeof(int));
        for (hsize_t i = 0; i < count; i++)
            buf[i] = value(r, (long)(start + i * stride));
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, &stride, &count, &block));
        write_sel(d[0], H5T_NATIVE_INT, fs, dxpl, buf);
        hsize_t s0 = 0, c0 = COMMON;
        for (int i = 0; i < COMMON; i++)
            buf[i] = value(r, i);
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &c0, NULL));
        write_sel(d[0], H5T_NATIVE_INT, fs, dxpl, buf);
        free(buf), H5Sclose(fs);
        for (long e = 0; e < STRIDED_N; e++) {
            x_strided[e] = value(r, e); /* every element is some rank's */
            o_strided[e] = e >= COMMON && (long)((k + r) % n) != e % n;
        }
    }

    /* union: cells of 3 x 5, the union built from the last cell back */
    {
        hsize_t dims[2] = {U, U};
        hid_t fs = H5Screate_simple(2, dims, NULL);
        int *buf = malloc(U * U * sizeof(int)), cnt = 0, any = 0;
        H5Sselect_none(fs);
        for (int ci = (U + 2) / 3 - 1; ci >= 0; ci--)
            for (int cj = (U + 4) / 5 - 1; cj >= 0; cj--)
                if ((ci + 7 * cj + r) % n == k) {
                    hsize_t st[2] = {(hsize_t)ci * 3, (hsize_t)cj * 5}, ct[2] = {1, 1};
                    hsize_t bl[2] = {st[0] + 3 <= U ? 3 : U - st[0], st[1] + 5 <= U ? 5 : U - st[1]};
                    CHECK(H5Sselect_hyperslab(fs, any ? H5S_SELECT_OR : H5S_SELECT_SET, st, NULL, ct, bl));
                    any = 1;
                }
        /* the buffer in the selection's own order: row-major */
        for (int i = 0; i < U; i++)
            for (int j = 0; j < U; j++) {
                int owner = (i / 3 + 7 * (j / 5) + r) % n;
                if (owner == k)
                    buf[cnt++] = value(r, (long)i * U + j);
                x_union[i * U + j] = value(r, (long)i * U + j);
                o_union[i * U + j] = owner != k;
            }
        write_sel(d[1], H5T_NATIVE_INT, fs, dxpl, buf);
        free(buf), H5Sclose(fs);
    }

    /* partial: 37 elements in each chunk; rank 0 sits out rounds 2 mod 3 */
    {
        hsize_t dims = PARTIAL_N;
        hid_t fs = H5Screate_simple(1, &dims, NULL);
        int *buf = malloc(PARTIAL_N * sizeof(int)), cnt = 0, any = 0;
        long part = 1000 / n, off = (13L * r) % 50;
        memset(o_partial, 0, PARTIAL_N);
        H5Sselect_none(fs);
        for (int w = 0; w < n; w++) {
            if (w == 0 && r % 3 == 2)
                continue;
            for (long m = 0; m * 1000 < PARTIAL_N; m++) {
                long s = m * 1000 + w * part + off, len = 37;
                if (s >= PARTIAL_N)
                    continue;
                if (s + len > PARTIAL_N)
                    len = PARTIAL_N - s;
                for (long e = s; e < s + len; e++) {
                    x_partial[e] = value(r, e);
                    o_partial[e] = w != k;
                    if (w == k)
                        buf[cnt++] = value(r, e);
                }
                if (w == k) {
                    hsize_t st = (hsize_t)s, ct = (hsize_t)len;
                    CHECK(H5Sselect_hyperslab(fs, any ? H5S_SELECT_OR : H5S_SELECT_SET, &st, NULL, &ct, NULL));
                    any = 1;
                }
            }
        }
        write_sel(d[2], H5T_NATIVE_INT, fs, dxpl, buf);
        free(buf), H5Sclose(fs);
    }

    /* members: runs of 10 elements, some members only */
    {
        int which = r % 3 == 0 ? 7 : r % 3 == 1 ? 1 : 6;
        hsize_t dims = MEMBERS_N;
        hid_t fs = H5Screate_simple(1, &dims, NULL), mt = rec_type(which);
        rec *buf = malloc(MEMBERS_N * sizeof(rec));
        int cnt = 0, any = 0;
        H5Sselect_none(fs);
        for (long e = 0; e < MEMBERS_N; e++) {
            int v = value(r, e);
            rec nv = {v, v / 4.0, (short)(v % 30011)};
            if (which & 1)
                x_members[e].a = nv.a;
            if (which & 2)
                x_members[e].b = nv.b;
            if (which & 4)
                x_members[e].c = nv.c;
            o_members[e] = (e / 10 + r) % n != k;
            if ((e / 10 + r) % n == k) {
                buf[cnt++] = nv;
                if (e % 10 == 0) {
                    hsize_t st = (hsize_t)e, ct = 10;
                    CHECK(H5Sselect_hyperslab(fs, any ? H5S_SELECT_OR : H5S_SELECT_SET, &st, NULL, &ct, NULL));
                    any = 1;
                }
            }
        }
        write_sel(d[3], mt, fs, dxpl, buf);
        H5Tclose(mt), free(buf), H5Sclose(fs);
    }

    /* contig: blocks of 1000, one strided hyperslab */
    {
        hsize_t dims = CONTIG_N, nb = CONTIG_N / 1000, first = (hsize_t)(((k - r) % n + n) % n);
        hsize_t start = first * 1000, stride = (hsize_t)n * 1000, count = (nb - first + n - 1) / n, block = 1000;
        hid_t fs = H5Screate_simple(1, &dims, NULL);
        int *buf = malloc(count * 1000 * sizeof(int));
        for (hsize_t b = 0; b < count; b++)
            for (hsize_t i = 0; i < 1000; i++)
                buf[b * 1000 + i] = value(r, (long)(start + b * stride + i));
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, &stride, &count, &block));
        write_sel(d[4], H5T_NATIVE_INT, fs, dxpl, buf);
        free(buf), H5Sclose(fs);
        for (long e = 0; e < CONTIG_N; e++) {
            x_contig[e] = value(r, e);
            o_contig[e] = (e / 1000 + r) % n != k;
        }
    }

    /* grow: extend, write this rank's piece of the new part, overwrite a few old elements */
    {
        hsize_t newn = (hsize_t)(grow_n + (long)n * GROW_PER);
        CHECK(H5Dset_extent(d[5], &newn));
        hid_t fs = H5Dget_space(d[5]);
        int buf[GROW_PER + 3], *p = buf;
        hsize_t st = (hsize_t)(grow_n + k * GROW_PER), ct = GROW_PER, st2 = (hsize_t)(7 * k + r), ct2 = 3;
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &ct, NULL));
        /* elements written in earlier rounds, overwritten: they come first in the selection */
        if (st2 + ct2 <= (hsize_t)grow_n) {
            CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_OR, &st2, NULL, &ct2, NULL));
            for (int i = 0; i < 3; i++)
                *p++ = value(r, (long)st2 + i);
        }
        for (int i = 0; i < GROW_PER; i++)
            *p++ = value(r, (long)st + i);
        write_sel(d[5], H5T_NATIVE_INT, fs, dxpl, buf);
        H5Sclose(fs);
        x_grow = realloc(x_grow, newn * sizeof(int));
        o_grow = realloc(o_grow, newn);
        memset(o_grow, 0, newn);
        for (long e = grow_n; e < (long)newn; e++) {
            x_grow[e] = value(r, e);
            o_grow[e] = (e - grow_n) / GROW_PER != k;
        }
        for (int w = 0; w < n; w++)
            if (7 * w + r + 3 <= grow_n)
                for (int i = 0; i < 3; i++) {
                    x_grow[7 * w + r + i] = value(r, 7 * w + r + i);
                    o_grow[7 * w + r + i] = w != k;
                }
        grow_n = (long)newn;
    }

    /* widen: in rounds 2 mod 4, first narrower and shorter, then a flush (natively, cutting
     * chunks races with other ranks' unsynchronised writes of them, before and after);
     * the elements cut off are gone and read as the fill value when the extent grows again.
     * Then column blocks of 3, and in the other rounds, after the writes and before the sync
     * point, wider (the elements written keep their coordinates, not their linear index). */
    if (r % 4 == 2) {
        int nr = wrows > 4 ? wrows - 1 : wrows, nc = wcols - 2;
        hsize_t nd[2] = {(hsize_t)nr, (hsize_t)nc};
        CHECK(H5Dset_extent(d[6], nd));
        /* natively the cut chunks are rewritten from each rank's chunk cache later: flushed
         * before anyone writes them again */
        CHECK(H5Fflush(d[6], H5F_SCOPE_GLOBAL));
        MPI_Barrier(MPI_COMM_WORLD);
        int old[WR * WC];
        memcpy(old, x_widen, sizeof old);
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++)
                x_widen[i * nc + j] = old[i * wcols + j];
        wrows = nr, wcols = nc;
    }
    {
        hsize_t dims[2] = {(hsize_t)wrows, (hsize_t)wcols};
        hid_t fs = H5Screate_simple(2, dims, NULL);
        int *buf = malloc(WR * WC * sizeof(int)), cnt = 0, any = 0;
        H5Sselect_none(fs);
        for (int cb = 0; cb * 3 < wcols; cb++)
            if ((cb + r) % n == k) {
                hsize_t st[2] = {0, (hsize_t)cb * 3}, ct[2] = {1, 1};
                hsize_t bl[2] = {(hsize_t)wrows, (hsize_t)(cb * 3 + 3 <= wcols ? 3 : wcols - cb * 3)};
                CHECK(H5Sselect_hyperslab(fs, any ? H5S_SELECT_OR : H5S_SELECT_SET, st, NULL, ct, bl));
                any = 1;
            }
        for (int i = 0; i < wrows; i++)
            for (int j = 0; j < wcols; j++) {
                int v = value(r, i * 10000L + j), mine = (j / 3 + r) % n == k;
                if (mine)
                    buf[cnt++] = v;
                x_widen[i * wcols + j] = v;
            }
        write_sel(d[6], H5T_NATIVE_INT, fs, dxpl, buf);
        free(buf), H5Sclose(fs);
        int nr = wrows + (r % 3 == 1), nc = wcols + 4;
        if (r % 4 == 2)
            nr = wrows, nc = wcols;
        if (nr > WR)
            nr = WR;
        if (nc > WC)
            nc = WC;
        hsize_t nd[2] = {(hsize_t)nr, (hsize_t)nc};
        if (nr != wrows || nc != wcols)
            CHECK(H5Dset_extent(d[6], nd));
        int old[WR * WC];
        memcpy(old, x_widen, sizeof old);
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++) {
                int in = i < wrows && j < wcols;
                x_widen[i * nc + j] = in ? old[i * wcols + j] : 0;
                o_widen[i * nc + j] = in && (j / 3 + r) % n != k;
            }
        wrows = nr, wcols = nc;
    }
}

/* --- checks ------------------------------------------------------------------------------------ */

static long check_int(hid_t d, const char *name, const int *want, const unsigned char *skip, long n, const char *when) {
    long wrong = 0, shown = 0;
    int *got = calloc(n ? n : 1, sizeof(int));
    hid_t s = H5Dget_space(d);
    hssize_t have = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    if (have != n) {
        fprintf(stderr, "rank %d: %s: %s has %lld elements, expected %ld\n", rank, when, name, (long long)have, n);
        free(got);
        return n ? n : 1;
    }
    if (H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) < 0) {
        failures++;
        fprintf(stderr, "rank %d: %s: reading %s failed\n", rank, when, name);
        wrong = n;
    } else
        for (long e = 0; e < n; e++)
            if ((!skip || !skip[e]) && got[e] != want[e]) {
                if (shown++ < 5)
                    fprintf(stderr, "rank %d: %s: %s[%ld] = %d, expected %d\n", rank, when, name, e, got[e], want[e]);
                wrong++;
            }
    free(got);
    return wrong;
}

static long check_members(hid_t d, const unsigned char *skip, const char *when) {
    long wrong = 0, shown = 0;
    rec *got = calloc(MEMBERS_N, sizeof(rec));
    hid_t mt = rec_type(7);
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) < 0) {
        failures++;
        wrong = MEMBERS_N;
    } else
        for (long e = 0; e < MEMBERS_N; e++)
            if ((!skip || !skip[e]) && (got[e].a != x_members[e].a || got[e].b != x_members[e].b || got[e].c != x_members[e].c)) {
                if (shown++ < 5)
                    fprintf(stderr, "rank %d: %s: members[%ld] = {%d, %g, %d}, expected {%d, %g, %d}\n", rank, when, e, got[e].a, got[e].b, got[e].c,
                            x_members[e].a, x_members[e].b, x_members[e].c);
                wrong++;
            }
    H5Tclose(mt), free(got);
    return wrong;
}

/* Every dataset against the expected state; the wrong elements summed over the ranks that take
 * part (`comm`), printed by its rank 0. With `mine`, before the round's synchronisation point:
 * only the elements no other rank wrote in the round (this rank's own writes, read back over
 * what the others made visible before, and the untouched rest). */
static long check_file(hid_t *d, const char *when, MPI_Comm comm, int mine) {
    long wrong[ND], all[ND], total = 0;
    wrong[0] = check_int(d[0], "strided", x_strided, mine ? o_strided : NULL, STRIDED_N, when);
    wrong[1] = check_int(d[1], "union", x_union, mine ? o_union : NULL, U * U, when);
    wrong[2] = check_int(d[2], "partial", x_partial, mine ? o_partial : NULL, PARTIAL_N, when);
    wrong[3] = check_members(d[3], mine ? o_members : NULL, when);
    wrong[4] = check_int(d[4], "contig", x_contig, mine ? o_contig : NULL, CONTIG_N, when);
    wrong[5] = check_int(d[5], "grow", x_grow, mine ? o_grow : NULL, grow_n, when);
    wrong[6] = check_int(d[6], "widen", x_widen, mine ? o_widen : NULL, (long)wrows * wcols, when);
    MPI_Allreduce(wrong, all, ND, MPI_LONG, MPI_SUM, comm);
    int me;
    MPI_Comm_rank(comm, &me);
    for (int i = 0; i < ND; i++)
        total += all[i];
    if (me == 0) {
        printf("overlap %s:", when);
        for (int i = 0; i < ND; i++)
            printf(" %s %ld", NAMES[i], all[i]);
        printf(" wrong\n");
        fflush(stdout);
    }
    return total;
}

int main(int argc, char **argv) {
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc < 2 || argc > 3) {
        if (rank == 0)
            fprintf(stderr, "usage: overlap FILE [ROUNDS]\n");
        MPI_Finalize();
        return 2;
    }
    const char *path = argv[1];
    int rounds = argc == 3 ? atoi(argv[2]) : 8;
    x_strided = calloc(STRIDED_N, sizeof(int)), x_union = calloc(U * U, sizeof(int));
    x_partial = malloc(PARTIAL_N * sizeof(int)), x_contig = calloc(CONTIG_N, sizeof(int));
    x_members = calloc(MEMBERS_N, sizeof(rec)), x_grow = NULL;
    o_strided = calloc(STRIDED_N, 1), o_union = calloc(U * U, 1), o_partial = calloc(PARTIAL_N, 1);
    o_members = calloc(MEMBERS_N, 1), o_contig = calloc(CONTIG_N, 1), o_grow = NULL;
    wcols = 3 * nranks;
    for (long e = 0; e < PARTIAL_N; e++)
        x_partial[e] = -1;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t indep = H5Pcreate(H5P_DATASET_XFER), coll = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(indep, H5FD_MPIO_INDEPENDENT);
    H5Pset_dxpl_mpio(coll, H5FD_MPIO_COLLECTIVE);

    long wrong = 0;
    hid_t d[ND], file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(file);
    create_all(file, d);
    for (int r = 0; r < rounds; r++) {
        char when[64];
        round_writes(d, r, r % 4 == 3 ? coll : indep);
        snprintf(when, sizeof when, "round %d, own writes before the sync", r);
        wrong += check_file(d, when, MPI_COMM_WORLD, 1);
        switch (r % 4) {
            case 0:
            case 3:
                CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL));
                MPI_Barrier(MPI_COMM_WORLD);
                snprintf(when, sizeof when, "round %d (%s, H5Fflush)", r, r % 4 ? "collective" : "independent");
                break;
            case 1:
                close_all(d);
                MPI_Barrier(MPI_COMM_WORLD);
                open_all(file, d);
                snprintf(when, sizeof when, "round %d (H5Dclose, H5Dopen)", r);
                break;
            default:
                close_all(d);
                CHECK(H5Fclose(file));
                MPI_Barrier(MPI_COMM_WORLD);
                CHECK(file = H5Fopen(path, H5F_ACC_RDWR, fapl));
                open_all(file, d);
                snprintf(when, sizeof when, "round %d (H5Fclose, H5Fopen)", r);
                break;
        }
        wrong += check_file(d, when, MPI_COMM_WORLD, 0);
    }
    close_all(d);
    CHECK(H5Fclose(file));
    MPI_Barrier(MPI_COMM_WORLD);

    CHECK(file = H5Fopen(path, H5F_ACC_RDONLY, fapl));
    open_all(file, d);
    wrong += check_file(d, "reopened read-only, every rank", MPI_COMM_WORLD, 0);
    close_all(d);
    CHECK(H5Fclose(file));
    MPI_Barrier(MPI_COMM_WORLD);

    long serial = 0;
    if (rank == 0) {
        CHECK(file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
        open_all(file, d);
        serial = check_file(d, "reopened by rank 0 alone, no MPI", MPI_COMM_SELF, 0);
        close_all(d);
        CHECK(H5Fclose(file));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    wrong += serial;
    H5Pclose(coll), H5Pclose(indep), H5Pclose(fapl);

    long all_wrong;
    int all_failed;
    MPI_Allreduce(&wrong, &all_wrong, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&failures, &all_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("overlap: %d failed HDF5 calls\n", all_failed);
        if (all_wrong == 0 && all_failed == 0)
            printf("overlap: ok (%d rounds, %d ranks)\n", rounds, nranks);
        else
            printf("overlap: WRONG (%ld wrong elements at some check%s)\n", all_wrong, all_failed ? ", HDF5 calls failed" : ", every HDF5 call succeeded");
    }
    MPI_Finalize();
    return all_wrong == 0 && all_failed == 0 ? 0 : 1;
}
