/*
 * Lossy and other filters beyond deflate: scale-offset on integers (minimum bits found by the
 * filter, and given), on floats (D-scale; E-scale, which HDF5 refuses), with a fill value and
 * partly written chunks; N-bit on an integer type of 12 significant bits; a filter HDF5 does
 * not have, optional (skipped) and mandatory (refused). Prints the values read back, the
 * filters' parameters as the dataset's creation list shows them, and the bytes stored, so a
 * run through rustvol can be compared with native HDF5: lossy filters give back what native
 * HDF5 gives back, not what was written. Each dataset is read after it was closed and opened
 * again: native HDF5 serves reads of an open dataset from its chunk cache, as written.
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

#define N 1000
#define CHUNK 100

static void print_pipeline(hid_t dset, const char *name)
{
    hid_t p = H5Dget_create_plist(dset);
    CHECK(p);
    int n = H5Pget_nfilters(p);
    printf("%s filters:", name);
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[32];
        size_t ncd = 32;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(p, (unsigned)i, &flags, &ncd, cd, sizeof fname, fname, NULL);
        CHECK(id);
        printf(" [%d flags %u, %zu params:", (int)id, flags, ncd);
        for (size_t k = 0; k < ncd && k < 32; k++)
            printf(" %u", cd[k]);
        printf("]");
    }
    printf("\n");
    H5Pclose(p);
}

static hid_t chunked(hsize_t chunk)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(dcpl);
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    return dcpl;
}

static void show_ints(hid_t d, const char *name)
{
    int *v = malloc(N * sizeof(int));
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    long long sum = 0;
    for (int i = 0; i < N; i++)
        sum += v[i];
    printf("%s: %d %d %d %d ... [500] %d, [999] %d, sum %lld, stored %llu bytes\n", name, v[0], v[1], v[2],
           v[3], v[500], v[999], sum, (unsigned long long)H5Dget_storage_size(d));
    free(v);
}

static void show_doubles(hid_t d, const char *name)
{
    double *v = malloc(N * sizeof(double));
    CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    double sum = 0;
    for (int i = 0; i < N; i++)
        sum += v[i];
    printf("%s: %.9f %.9f %.9f ... [500] %.9f, [999] %.9f, sum %.9f, stored %llu bytes\n", name, v[0], v[1],
           v[2], v[500], v[999], sum, (unsigned long long)H5Dget_storage_size(d));
    free(v);
}

static void write_part(hid_t d, hid_t mtype, hsize_t start, hsize_t count, const void *buf)
{
    hid_t fs = H5Dget_space(d);
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL));
    hid_t ms = H5Screate_simple(1, &count, NULL);
    CHECK(H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf));
    H5Sclose(ms);
    H5Sclose(fs);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "lossy_filters.h5";
    hsize_t n = N;
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    hid_t space = H5Screate_simple(1, &n, NULL);
    int *iv = malloc(N * sizeof(int));
    double *dv = malloc(N * sizeof(double));
    for (int i = 0; i < N; i++) {
        iv[i] = 1000 + (i * 37) % 500 - (i % 3) * 100;
        dv[i] = 3.14159265 * i / 7.0 - 100.0 + (i % 5) * 0.0001234;
    }

    /* scale-offset on integers: the filter finds the bits needed (lossless) */
    hid_t dcpl = chunked(CHUNK);
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT));
    hid_t d = H5Dcreate2(file, "so_int", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv));
    print_pipeline(d, "so_int");
    H5Dclose(d);
    d = H5Dopen2(file, "so_int", H5P_DEFAULT);
    CHECK(d);
    show_ints(d, "so_int");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* scale-offset on integers with 6 bits given: values past the range are lost */
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_INT, 6));
    d = H5Dcreate2(file, "so_int6", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv));
    print_pipeline(d, "so_int6");
    H5Dclose(d);
    d = H5Dopen2(file, "so_int6", H5P_DEFAULT);
    CHECK(d);
    show_ints(d, "so_int6");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* scale-offset on integers with a fill value, chunks written in part */
    dcpl = chunked(CHUNK);
    int ifill = -7;
    CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &ifill));
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT));
    d = H5Dcreate2(file, "so_int_fill", H5T_STD_I16BE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    write_part(d, H5T_NATIVE_INT, 450, 100, iv);
    print_pipeline(d, "so_int_fill");
    H5Dclose(d);
    d = H5Dopen2(file, "so_int_fill", H5P_DEFAULT);
    CHECK(d);
    show_ints(d, "so_int_fill");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* scale-offset on doubles, D-scale with 3 decimal digits kept */
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 3));
    d = H5Dcreate2(file, "so_double", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv));
    print_pipeline(d, "so_double");
    H5Dclose(d);
    d = H5Dopen2(file, "so_double", H5P_DEFAULT);
    CHECK(d);
    show_doubles(d, "so_double");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* scale-offset on floats, D-scale with 1 digit, a fill value, written in part */
    dcpl = chunked(CHUNK);
    float ffill = 2.5f;
    CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &ffill));
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 1));
    d = H5Dcreate2(file, "so_float_fill", H5T_IEEE_F32BE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    write_part(d, H5T_NATIVE_DOUBLE, 250, 300, dv);
    print_pipeline(d, "so_float_fill");
    H5Dclose(d);
    d = H5Dopen2(file, "so_float_fill", H5P_DEFAULT);
    CHECK(d);
    show_doubles(d, "so_float_fill");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* E-scale: HDF5 does not implement it, and refuses the dataset */
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_ESCALE, 2));
    H5E_BEGIN_TRY
    {
        d = H5Dcreate2(file, "so_escale", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    }
    H5E_END_TRY
    printf("so_escale created: %s\n", d >= 0 ? "yes" : "no");
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(dcpl);

    /* N-bit: 12 significant bits at offset 4 of a 32-bit integer */
    hid_t t12 = H5Tcopy(H5T_STD_I32LE);
    CHECK(H5Tset_precision(t12, 12));
    CHECK(H5Tset_offset(t12, 4));
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_nbit(dcpl));
    d = H5Dcreate2(file, "nbit", t12, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv));
    print_pipeline(d, "nbit");
    H5Dclose(d);
    d = H5Dopen2(file, "nbit", H5P_DEFAULT);
    CHECK(d);
    show_ints(d, "nbit");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* N-bit then deflate, with shuffle before */
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_nbit(dcpl));
    CHECK(H5Pset_shuffle(dcpl));
    CHECK(H5Pset_deflate(dcpl, 6));
    d = H5Dcreate2(file, "nbit_deflate", t12, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv));
    print_pipeline(d, "nbit_deflate");
    {
        int *v = malloc(N * sizeof(int));
        CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        long long sum = 0;
        for (int i = 0; i < N; i++)
            sum += v[i];
        printf("nbit_deflate: %d %d ... [999] %d, sum %lld, stored in fewer than %d bytes: %s\n", v[0], v[1],
               v[999], sum, N * 4, H5Dget_storage_size(d) < N * 4 ? "yes" : "no");
        free(v);
    }
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Tclose(t12);

    /* A filter HDF5 does not have: optional, the data is stored without it */
    dcpl = chunked(CHUNK);
    unsigned cd[1] = {5};
    CHECK(H5Pset_filter(dcpl, 32999, H5Z_FLAG_OPTIONAL, 1, cd));
    d = H5Dcreate2(file, "absent_optional", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, iv));
    print_pipeline(d, "absent_optional");
    H5Dclose(d);
    d = H5Dopen2(file, "absent_optional", H5P_DEFAULT);
    CHECK(d);
    show_ints(d, "absent_optional");
    H5Dclose(d);
    H5Pclose(dcpl);

    /* ... and mandatory: the dataset is refused */
    dcpl = chunked(CHUNK);
    CHECK(H5Pset_filter(dcpl, 32998, H5Z_FLAG_MANDATORY, 1, cd));
    H5E_BEGIN_TRY
    {
        d = H5Dcreate2(file, "absent_mandatory", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    }
    H5E_END_TRY
    printf("absent_mandatory created: %s\n", d >= 0 ? "yes" : "no");
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(dcpl);

    H5Sclose(space);
    CHECK(H5Fclose(file));

    /* Reopened: the same values come back through the filters */
    file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    const char *ints[] = {"so_int", "so_int6", "so_int_fill", "nbit", "absent_optional"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        d = H5Dopen2(file, ints[i], H5P_DEFAULT);
        CHECK(d);
        show_ints(d, ints[i]);
        H5Dclose(d);
    }
    const char *doubles[] = {"so_double", "so_float_fill"};
    for (size_t i = 0; i < 2; i++) {
        d = H5Dopen2(file, doubles[i], H5P_DEFAULT);
        CHECK(d);
        show_doubles(d, doubles[i]);
        H5Dclose(d);
    }
    CHECK(H5Fclose(file));
    free(iv);
    free(dv);
    return 0;
}
