/*
 * Datasets compressed by filters HDF5 loads as plugins (hdf5plugin's Zstd, LZ4, Blosc and
 * Bitshuffle, found through HDF5_PLUGIN_PATH). Mode "write" creates them, "read" reads them
 * back, "both" does both in one process, "delete" deletes the file. Prints each dataset's filter parameters (as "set
 * local" made them), its stored size and a checksum of what it reads, and whether that equals
 * what was written, so that runs through rustvol compare with native HDF5 line for line.
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

#define N 200000
#define CHUNK 25000

struct spec {
    const char *name;
    H5Z_filter_t id;
    size_t ncd;
    unsigned cd[8];
};

static const struct spec specs[] = {
    {"zstd", 32015, 1, {5}},
    {"lz4", 32004, 1, {0}},
    {"blosc_lz4_shuffle", 32001, 7, {0, 0, 0, 0, 5, 1, 1}},
    {"blosc_zstd_bitshuffle", 32001, 7, {0, 0, 0, 0, 4, 2, 5}},
    {"bitshuffle_lz4", 32008, 5, {0, 0, 0, 0, 2}},
};

static int value(int i) { return (i / 7) * 3 + (i % 5 == 0 ? 1000 : 0); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FILE write|read|both|delete\n", argv[0]);
        return 2;
    }
    const char *filename = argv[1], *mode = argv[2];
    if (strcmp(mode, "delete") == 0)
        return H5Fdelete(filename, H5P_DEFAULT) < 0;
    int *v = malloc(N * sizeof(int));
    int failed = 0;
    hsize_t n = N, chunk = CHUNK;
    if (strcmp(mode, "read") != 0) {
        hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(file);
        hid_t space = H5Screate_simple(1, &n, NULL);
        for (int i = 0; i < N; i++)
            v[i] = value(i);
        for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            printf("%s available: %s\n", specs[s].name, H5Zfilter_avail(specs[s].id) > 0 ? "yes" : "no");
            hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
            CHECK(H5Pset_chunk(dcpl, 1, &chunk));
            CHECK(H5Pset_filter(dcpl, specs[s].id, H5Z_FLAG_MANDATORY, specs[s].ncd, specs[s].cd));
            hid_t d = H5Dcreate2(file, specs[s].name, H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            CHECK(d);
            CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
            H5Dclose(d);
            H5Pclose(dcpl);
        }
        H5Sclose(space);
        CHECK(H5Fclose(file));
    }
    if (strcmp(mode, "write") != 0) {
        hid_t file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(file);
        for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            hid_t d = H5Dopen2(file, specs[s].name, H5P_DEFAULT);
            CHECK(d);
            hid_t p = H5Dget_create_plist(d);
            unsigned flags, cd[16];
            size_t ncd = 16;
            char fname[128] = "";
            CHECK(H5Pget_filter2(p, 0, &flags, &ncd, cd, sizeof fname, fname, NULL));
            printf("%s params:", specs[s].name);
            for (size_t k = 0; k < ncd && k < 16; k++)
                printf(" %u", cd[k]);
            printf("\n");
            H5Pclose(p);
            memset(v, 0, N * sizeof(int));
            if (H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
                printf("%s: read failed\n", specs[s].name);
                failed = 1;
                H5Dclose(d);
                continue;
            }
            long long sum = 0;
            int same = 1;
            for (int i = 0; i < N; i++) {
                sum += v[i];
                same &= v[i] == value(i);
            }
            hsize_t stored = H5Dget_storage_size(d);
            printf("%s: sum %lld, identical %s, stored %llu of %zu bytes, compressed %s\n", specs[s].name, sum,
                   same ? "yes" : "no", (unsigned long long)stored, N * sizeof(int),
                   stored > 0 && stored < N * sizeof(int) ? "yes" : "no");
            failed |= !same;
            H5Dclose(d);
        }
        CHECK(H5Fclose(file));
    }
    free(v);
    return failed;
}
