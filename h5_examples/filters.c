/*
 * Filters: a chunked dataset stored through shuffle, deflate and Fletcher-32, written whole and
 * then in part, closed, reopened and read back; a checksum set before deflate; and a filter on
 * a contiguous dataset, which HDF5 refuses. Prints what it reads, so that a run through rustvol
 * can be compared with native HDF5.
 */
#include <stdio.h>
#include <stdlib.h>
#include "hdf5.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) < 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define N 100000
#define CHUNK 10000

static void print_pipeline(hid_t dset, const char *name)
{
    hid_t p = H5Dget_create_plist(dset);
    CHECK(p);
    int n = H5Pget_nfilters(p);
    printf("%s filters:", name);
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(p, (unsigned)i, &flags, &ncd, cd, sizeof fname, fname, NULL);
        CHECK(id);
        printf(" %d", (int)id);
    }
    printf("\n");
    H5Pclose(p);
}

static void print_contents(hid_t dset, const char *name)
{
    int *v = malloc(N * sizeof(int));
    CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    long long sum = 0;
    for (int i = 0; i < N; i++)
        sum += v[i];
    printf("%s: first %d, [50000] %d, last %d, sum %lld\n", name, v[0], v[50000], v[N - 1], sum);
    hsize_t stored = H5Dget_storage_size(dset);
    printf("%s stored in fewer bytes than its %zu raw bytes: %s (%llu)\n", name, N * sizeof(int),
           stored > 0 && stored < N * sizeof(int) ? "yes" : "no", (unsigned long long)stored);
    free(v);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "filters.h5";
    hsize_t n = N, chunk = CHUNK;
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    hid_t space = H5Screate_simple(1, &n, NULL);
    int *v = malloc(N * sizeof(int));
    for (int i = 0; i < N; i++)
        v[i] = i / 10;

    /* shuffle, deflate, Fletcher-32: written whole, then a block across two chunks */
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    CHECK(H5Pset_shuffle(dcpl));
    CHECK(H5Pset_deflate(dcpl, 6));
    CHECK(H5Pset_fletcher32(dcpl));
    hid_t d = H5Dcreate2(file, "packed", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    {
        hsize_t start = 45000, count = 10000;
        hid_t fs = H5Dget_space(d);
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL));
        hid_t ms = H5Screate_simple(1, &count, NULL);
        int *w = malloc(count * sizeof(int));
        for (hsize_t i = 0; i < count; i++)
            w[i] = -7;
        CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, w));
        free(w);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    CHECK(H5Dclose(d));
    CHECK(H5Pclose(dcpl));

    /* the checksum set before deflate: HDF5 applies filters in the order they were set */
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    CHECK(H5Pset_fletcher32(dcpl));
    CHECK(H5Pset_deflate(dcpl, 1));
    d = H5Dcreate2(file, "checksum_first", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(H5Dclose(d));
    CHECK(H5Pclose(dcpl));

    /* a filter needs chunks: on a contiguous dataset HDF5 refuses it */
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_deflate(dcpl, 6));
    H5E_BEGIN_TRY { d = H5Dcreate2(file, "contiguous", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT); }
    H5E_END_TRY
    printf("deflate on a contiguous dataset: %s\n", d < 0 ? "refused" : "created");
    if (d >= 0)
        H5Dclose(d);
    CHECK(H5Pclose(dcpl));
    CHECK(H5Sclose(space));
    CHECK(H5Fclose(file));
    free(v);
    printf("wrote the file and closed it\n");

    file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    const char *names[2] = {"packed", "checksum_first"};
    for (int i = 0; i < 2; i++) {
        d = H5Dopen2(file, names[i], H5P_DEFAULT);
        CHECK(d);
        print_pipeline(d, names[i]);
        print_contents(d, names[i]);
        CHECK(H5Dclose(d));
    }
    htri_t e = H5Lexists(file, "contiguous", H5P_DEFAULT);
    printf("contiguous exists: %s\n", e > 0 ? "yes" : "no");
    CHECK(H5Fclose(file));
    printf("closed\n");
    return 0;
}
