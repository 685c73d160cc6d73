/*
 * Native HDF5 serves reads of an open dataset from its chunk cache, unfiltered: with a lossy
 * filter a program sees the exact values it wrote until the chunk is evicted (dataset closed,
 * cache too small, two chunks hashing to one slot, the w0 preemption policy, H5Dset_extent
 * rehashing), and the filtered values after. H5Dflush/H5Fflush keep the cache.
 * Each step prints, chunk by chunk, whether the values read are exactly those written (E) or
 * what the filter kept (L). Scale-offset on floats (D-scale 2) and N-bit on a 12-bit integer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) < 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define N 1000
#define CHUNK 100
#define NCHUNK (N / CHUNK)

static float written[N];
static int written_i[N];

static hid_t so_dcpl(hsize_t chunk)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(dcpl);
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 2));
    return dcpl;
}

static hid_t dapl_cache(size_t nslots, size_t nbytes, double w0)
{
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    CHECK(dapl);
    CHECK(H5Pset_chunk_cache(dapl, nslots, nbytes, w0));
    return dapl;
}

static hid_t make(hid_t file, const char *name, hid_t dapl)
{
    hsize_t n = N;
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = so_dcpl(CHUNK);
    hid_t d = H5Dcreate2(file, name, H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, dapl);
    CHECK(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

/* Writes (or, with !write, reads) chunks [first, first + count) of a 1-D float dataset. */
static void io(hid_t d, int write, int first, int count, float *buf)
{
    hsize_t start = (hsize_t)first * CHUNK, n = (hsize_t)count * CHUNK;
    hid_t fs = H5Dget_space(d);
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL));
    hid_t ms = H5Screate_simple(1, &n, NULL);
    if (write)
        CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf + start));
    else
        CHECK(H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf + start));
    H5Sclose(ms);
    H5Sclose(fs);
}

/* Reads chunks [first, first + count) and prints E/L for each. */
static void show(const char *what, hid_t d, int first, int count)
{
    float got[N];
    memset(got, 0, sizeof got);
    io(d, 0, first, count, got);
    printf("%-44s", what);
    for (int c = first; c < first + count; c++) {
        int exact = 1;
        for (int i = c * CHUNK; i < (c + 1) * CHUNK; i++)
            if (got[i] != written[i])
                exact = 0;
        putchar(exact ? 'E' : 'L');
    }
    printf("  (element %d: %.6f)\n", first * CHUNK + 7, got[first * CHUNK + 7]);
}

static void basics(hid_t file)
{
    hid_t d = make(file, "basic", H5P_DEFAULT);
    io(d, 1, 0, NCHUNK, written);
    show("basic: written, read at once", d, 0, NCHUNK);
    CHECK(H5Dflush(d));
    show("basic: after H5Dflush", d, 0, NCHUNK);
    CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL));
    show("basic: after H5Fflush", d, 0, NCHUNK);
    hid_t d2 = H5Dopen2(file, "basic", H5P_DEFAULT);
    CHECK(d2);
    show("basic: second handle, first open", d2, 0, NCHUNK);
    CHECK(H5Dclose(d2));
    show("basic: second handle closed", d, 0, NCHUNK);
    CHECK(H5Dclose(d));
    d = H5Dopen2(file, "basic", H5P_DEFAULT);
    CHECK(d);
    show("basic: closed and opened again", d, 0, NCHUNK);
    /* A chunk written again in part keeps the exact rest while held. */
    for (int i = 0; i < 10; i++)
        written[i] = 1000.0f + (float)i * 0.3337f;
    hsize_t start = 0, n = 10;
    hid_t fs = H5Dget_space(d);
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL));
    hid_t ms = H5Screate_simple(1, &n, NULL);
    CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, written));
    H5Sclose(ms);
    H5Sclose(fs);
    show("basic: 10 elements of chunk 0 written", d, 0, 1);
    CHECK(H5Dclose(d));
    d = H5Dopen2(file, "basic", H5P_DEFAULT);
    show("basic: that chunk after close", d, 0, 1);
    CHECK(H5Dclose(d));
    for (int i = 0; i < 10; i++)
        written[i] = (float)i * 0.1234567f + 0.001f;
}

static void small_caches(hid_t file)
{
    /* Chunks of 400 bytes, a cache of 256: nothing is held. */
    hid_t dapl = dapl_cache(521, 256, 0.75);
    hid_t d = make(file, "uncached", dapl);
    io(d, 1, 0, NCHUNK, written);
    show("uncached: chunks larger than the cache", d, 0, NCHUNK);
    CHECK(H5Dclose(d));
    H5Pclose(dapl);

    /* One slot: each chunk evicts the one before. */
    dapl = dapl_cache(1, 1 << 20, 0.75);
    d = make(file, "one_slot", dapl);
    io(d, 1, 0, 2, written);
    show("one slot: chunk 1 alone", d, 1, 1);
    show("one slot: chunks 0-1", d, 0, 2);
    show("one slot: chunk 1 again", d, 1, 1);
    CHECK(H5Dclose(d));
    H5Pclose(dapl);

    /* Eight slots: chunks 8 and 9 share slots with 0 and 1. */
    dapl = dapl_cache(8, 1 << 20, 0.75);
    d = make(file, "eight_slots", dapl);
    io(d, 1, 0, NCHUNK, written);
    show("eight slots: chunks 2-9", d, 2, 8);
    show("eight slots: all", d, 0, NCHUNK);
    CHECK(H5Dclose(d));
    H5Pclose(dapl);

    /* Room for two chunks, w0 0.75 and 0: which one a third displaces. */
    for (int k = 0; k < 2; k++) {
        double w0 = k == 0 ? 0.75 : 0.0;
        char name[32];
        snprintf(name, sizeof name, "w0_%d", k);
        dapl = dapl_cache(521, 800, w0);
        d = make(file, name, dapl);
        float half[N];
        io(d, 1, 1, 1, written); /* chunk 1 written whole */
        hsize_t start = CHUNK, n = CHUNK / 2;
        hid_t fs = H5Dget_space(d);
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL));
        hid_t ms = H5Screate_simple(1, &n, NULL);
        CHECK(H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, half)); /* half read */
        H5Sclose(ms);
        H5Sclose(fs);
        io(d, 1, 0, 1, written); /* chunk 0 written whole, after it in the list */
        io(d, 0, 2, 1, half);    /* chunk 2 (never written) comes in */
        printf("w0 %.2f:\n", w0);
        show("  chunk 0", d, 0, 1);
        show("  chunk 1", d, 1, 1);
        CHECK(H5Dclose(d));
        H5Pclose(dapl);
    }
}

static void refresh_and_extent(hid_t file)
{
    hid_t d = make(file, "refresh", H5P_DEFAULT);
    io(d, 1, 0, NCHUNK, written);
    CHECK(H5Drefresh(d)); /* a no-op natively in a file open for writing */
    show("refresh: after H5Drefresh", d, 0, NCHUNK);
    CHECK(H5Dclose(d));

    /* 2 x 8 of chunks 1 x 4: one bit per chunk index; at 2 x 20 three, and in 8 slots chunks
     * [1,0] and [1,1] take the slots of [0,0] and [0,1]. */
    hsize_t dims[2] = {2, 8}, max[2] = {2, H5S_UNLIMITED}, chunk[2] = {1, 4};
    hid_t space = H5Screate_simple(2, dims, max);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 2, chunk));
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 2));
    hid_t dapl = dapl_cache(8, 1 << 20, 0.75);
    d = H5Dcreate2(file, "extent", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, dapl);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, written));
    hsize_t grown[2] = {2, 20};
    CHECK(H5Dset_extent(d, grown));
    float got[2][20];
    for (int row = 1; row >= 0; row--) {
        hsize_t start[2] = {(hsize_t)row, 0}, count[2] = {1, 8};
        hid_t fs = H5Dget_space(d);
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
        hid_t ms = H5Screate_simple(2, count, NULL);
        CHECK(H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, got[row]));
        H5Sclose(ms);
        H5Sclose(fs);
        printf("extent: row %d after growing             ", row);
        for (int c = 0; c < 2; c++) {
            int exact = 1;
            for (int i = 0; i < 4; i++)
                if (got[row][c * 4 + i] != written[row * 8 + c * 4 + i])
                    exact = 0;
            putchar(exact ? 'E' : 'L');
        }
        printf("\n");
    }
    /* Shrinking: edge chunks get the fill value outside through the cache. */
    hsize_t shrunk[2] = {2, 6};
    CHECK(H5Dset_extent(d, shrunk));
    float small[2][6];
    CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, small));
    printf("extent: shrunk to 2 x 6                  ");
    for (int row = 0; row < 2; row++)
        for (int c = 0; c < 2; c++) {
            int exact = 1;
            for (int i = 0; i < (c == 0 ? 4 : 2); i++)
                if (small[row][c * 4 + i] != written[row * 8 + c * 4 + i])
                    exact = 0;
            putchar(exact ? 'E' : 'L');
        }
    printf("\n");
    CHECK(H5Dset_extent(d, dims));
    float back[2][8];
    CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back));
    printf("extent: grown back, row 0:");
    for (int i = 0; i < 8; i++)
        printf(" %.4f", back[0][i]);
    printf("\n");
    CHECK(H5Dclose(d));
    H5Pclose(dapl);
    H5Pclose(dcpl);
    H5Sclose(space);
}

static void nbit(hid_t file)
{
    /* 12 significant bits at offset 4 of a 32-bit integer, written and read as that type
     * (no conversion) with bits in the padding too: N-bit keeps the 12 bits only. */
    hid_t t = H5Tcopy(H5T_STD_I32LE);
    CHECK(H5Tset_precision(t, 12));
    CHECK(H5Tset_offset(t, 4));
    hsize_t n = N, chunk = CHUNK;
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    CHECK(H5Pset_nbit(dcpl));
    hid_t d = H5Dcreate2(file, "nbit", t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    for (int i = 0; i < N; i++)
        written_i[i] = (i * 37) & 0x7fff;
    CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, written_i));
    int got[N];
    for (int k = 0; k < 2; k++) {
        CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, got));
        long long sum = 0;
        int same = 0;
        for (int i = 0; i < N; i++) {
            sum += got[i];
            same += got[i] == written_i[i];
        }
        printf("nbit: %s: %d of %d as written, sum %lld\n", k == 0 ? "open" : "after close", same, N, sum);
        CHECK(H5Dclose(d));
        d = H5Dopen2(file, "nbit", H5P_DEFAULT);
        CHECK(d);
    }
    CHECK(H5Dclose(d));

    /* A compound of two such members; then member a alone is written, so the conversion
     * takes b from the chunk as held (exact) or as stored (after close). */
    typedef struct {
        int a, b;
    } pair;
    hid_t ct = H5Tcreate(H5T_COMPOUND, sizeof(pair));
    CHECK(H5Tinsert(ct, "a", HOFFSET(pair, a), t));
    CHECK(H5Tinsert(ct, "b", HOFFSET(pair, b), t));
    hid_t at = H5Tcreate(H5T_COMPOUND, sizeof(int));
    CHECK(H5Tinsert(at, "a", 0, t));
    static pair pv[N], pg[N];
    static int av[N];
    for (int k = 0; k < 2; k++) {
        const char *name = k == 0 ? "nbit_pair_open" : "nbit_pair_reopened";
        d = H5Dcreate2(file, name, ct, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(d);
        for (int i = 0; i < N; i++) {
            pv[i].a = (i * 41) & 0x7fff;
            pv[i].b = (i * 53) & 0x7fff;
            av[i] = (i * 29) & 0x7fff;
        }
        CHECK(H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, pv));
        if (k == 1) {
            CHECK(H5Dclose(d));
            d = H5Dopen2(file, name, H5P_DEFAULT);
            CHECK(d);
        }
        CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, av));
        CHECK(H5Dread(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, pg));
        int sa = 0, sb = 0;
        long long sum = 0;
        for (int i = 0; i < N; i++) {
            sa += pg[i].a == av[i];
            sb += pg[i].b == pv[i].b;
            sum += pg[i].a + pg[i].b;
        }
        printf("%s: a %d, b %d of %d as written, sum %lld\n", name, sa, sb, N, sum);
        CHECK(H5Dclose(d));
    }
    H5Tclose(at);
    H5Tclose(ct);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(t);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "lossy_cache.h5";
    for (int i = 0; i < N; i++)
        written[i] = (float)i * 0.1234567f + 0.001f;
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    basics(file);
    small_caches(file);
    refresh_and_extent(file);
    nbit(file);
    CHECK(H5Fclose(file));

    /* The file access list's cache (H5Pset_cache) for datasets whose access list sets none;
     * one whose access list does keeps its own. */
    char name2[4096];
    snprintf(name2, sizeof name2, "%s.fapl.h5", filename);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(H5Pset_cache(fapl, 0, 1, 1 << 20, 0.75));
    file = H5Fcreate(name2, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(file);
    hid_t d = make(file, "fapl_one_slot", H5P_DEFAULT);
    io(d, 1, 0, 2, written);
    show("fapl one slot: chunk 1 alone", d, 1, 1);
    show("fapl one slot: chunks 0-1", d, 0, 2);
    CHECK(H5Dclose(d));
    /* A second handle opened with other cache parameters shares the first one's cache. */
    d = make(file, "fapl_shared", H5P_DEFAULT);
    hid_t dapl = dapl_cache(521, 1 << 20, 0.75);
    hid_t d2 = H5Dopen2(file, "fapl_shared", dapl);
    CHECK(d2);
    io(d2, 1, 0, 2, written);
    show("fapl one slot, second handle dapl 521", d2, 0, 2);
    CHECK(H5Dclose(d));
    show("fapl one slot, first handle closed", d2, 0, 2);
    CHECK(H5Dclose(d2));
    d = make(file, "fapl_dapl", dapl);
    io(d, 1, 0, 2, written);
    show("fapl one slot, dapl 521: chunks 0-1", d, 0, 2);
    CHECK(H5Dclose(d));
    H5Pclose(dapl);
    CHECK(H5Fclose(file));
    H5Pclose(fapl);
    return 0;
}
