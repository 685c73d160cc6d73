/*
 * extend: datasets that grow.
 *
 * A 2-D dataset with an unlimited first dimension and a user fill value, grown and shrunk with
 * H5Dset_extent; a 1-D log appended to in batches, the usual pattern of a data logger;
 * a dataset that is never written (reads return the fill value); fill value properties
 * read back from the dataset creation property list after reopening.
 *
 * Usage: extend [FILE]   (default: extend.h5).  Uses only the public HDF5 API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define NC 4

static void print_shape(hid_t dset, const char *label)
{
    hid_t space = H5Dget_space(dset);
    hsize_t dims[2], maxdims[2];
    int rank = H5Sget_simple_extent_dims(space, dims, maxdims);
    CHECK(rank);
    printf("%s: extent", label);
    for (int i = 0; i < rank; i++)
        printf(" %llu", (unsigned long long)dims[i]);
    printf(", max");
    for (int i = 0; i < rank; i++) {
        if (maxdims[i] == H5S_UNLIMITED)
            printf(" unlimited");
        else
            printf(" %llu", (unsigned long long)maxdims[i]);
    }
    printf("\n");
    H5Sclose(space);
}

static void print_grid(hid_t dset)
{
    hid_t space = H5Dget_space(dset);
    hsize_t dims[2];
    CHECK(H5Sget_simple_extent_dims(space, dims, NULL));
    int *buf = calloc(dims[0] * dims[1], sizeof(int));
    CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    for (hsize_t i = 0; i < dims[0]; i++) {
        printf("   ");
        for (hsize_t j = 0; j < dims[1]; j++)
            printf(" %4d", buf[i * dims[1] + j]);
        printf("\n");
    }
    free(buf);
    H5Sclose(space);
}

/* Writes `rows` rows starting at row `first`, values 10 * row + column. */
static void write_rows(hid_t dset, hsize_t first, hsize_t rows)
{
    hid_t fs = H5Dget_space(dset);
    hsize_t start[2] = {first, 0}, count[2] = {rows, NC};
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
    hid_t ms = H5Screate_simple(2, count, NULL);
    int *buf = malloc(sizeof(int) * rows * NC);
    for (hsize_t i = 0; i < rows; i++)
        for (hsize_t j = 0; j < NC; j++)
            buf[i * NC + j] = (int)(10 * (first + i) + j);
    CHECK(H5Dwrite(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, buf));
    free(buf);
    H5Sclose(ms);
    H5Sclose(fs);
}

static void append(hid_t dset, const double *vals, hsize_t n)
{
    hid_t fs = H5Dget_space(dset);
    hsize_t old;
    CHECK(H5Sget_simple_extent_dims(fs, &old, NULL));
    H5Sclose(fs);
    hsize_t size = old + n;
    CHECK(H5Dset_extent(dset, &size));
    fs = H5Dget_space(dset); /* the old dataspace does not see the new extent */
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &old, NULL, &n, NULL));
    hid_t ms = H5Screate_simple(1, &n, NULL);
    CHECK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, vals));
    H5Sclose(ms);
    H5Sclose(fs);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "extend.h5";
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    /* grid: 3 x 4, growable to unlimited x 4, chunks 2 x 4, fill value -7. */
    hsize_t dims[2] = {3, NC}, maxdims[2] = {H5S_UNLIMITED, NC}, chunk[2] = {2, NC};
    hid_t space = H5Screate_simple(2, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_chunk(dcpl, 2, chunk));
    int fill = -7;
    CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &fill));
    hid_t grid = H5Dcreate2(file, "grid", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(grid);
    H5Pclose(dcpl);
    H5Sclose(space);

    print_shape(grid, "grid created");
    print_grid(grid);
    write_rows(grid, 0, 3);
    print_shape(grid, "grid written");
    print_grid(grid);

    hsize_t grow[2] = {6, NC};
    CHECK(H5Dset_extent(grid, grow));
    print_shape(grid, "grid grown to 6 rows");
    print_grid(grid);
    write_rows(grid, 4, 1);
    hsize_t grow2[2] = {9, NC};
    CHECK(H5Dset_extent(grid, grow2));
    write_rows(grid, 8, 1);
    print_shape(grid, "grid row 4 written, grown to 9, row 8 written");
    print_grid(grid);
    hsize_t shrink[2] = {5, NC};
    CHECK(H5Dset_extent(grid, shrink));
    print_shape(grid, "grid shrunk to 5 rows");
    print_grid(grid);
    CHECK(H5Dset_extent(grid, grow));
    print_shape(grid, "grid grown again to 6 rows (the cut row comes back as fill)");
    print_grid(grid);
    {
        hsize_t too_wide[2] = {6, NC + 1};
        herr_t ret;
        H5E_BEGIN_TRY { ret = H5Dset_extent(grid, too_wide); } H5E_END_TRY
        printf("growing past the maximum of 4 columns %s\n", ret < 0 ? "fails" : "succeeds");
    }
    H5Dclose(grid);

    /* log: 1-D, unlimited, chunks of 8 doubles, appended to in batches of 5. */
    {
        hsize_t zero = 0, unlim = H5S_UNLIMITED, c = 8;
        space = H5Screate_simple(1, &zero, &unlim);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 1, &c));
        hid_t log = H5Dcreate2(file, "log", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(log);
        H5Pclose(dcpl);
        H5Sclose(space);
        print_shape(log, "log created");
        for (int batch = 0; batch < 4; batch++) {
            double vals[5];
            for (int i = 0; i < 5; i++)
                vals[i] = batch + 0.1 * i;
            append(log, vals, 5);
        }
        print_shape(log, "log after 4 batches");
        H5Dclose(log);
    }

    /* untouched: never written, fill value 2.5, allocated when written (never). */
    {
        hsize_t d[2] = {2, 3};
        space = H5Screate_simple(2, d, NULL);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        float f = 2.5f;
        CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &f));
        hid_t u = H5Dcreate2(file, "untouched", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(u);
        H5Pclose(dcpl);
        H5Sclose(space);
        H5Dclose(u);
    }
    /* plain: no fill value set, chunked, partly written: the default fill is 0. */
    {
        hsize_t d = 6, c = 4;
        space = H5Screate_simple(1, &d, NULL);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 1, &c));
        hid_t p = H5Dcreate2(file, "plain", H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(p);
        hsize_t start = 1, count = 2;
        CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL));
        hid_t ms = H5Screate_simple(1, &count, NULL);
        long long v[2] = {-123456789012LL, 42};
        CHECK(H5Dwrite(p, H5T_NATIVE_LLONG, ms, space, H5P_DEFAULT, v));
        H5Sclose(ms);
        H5Pclose(dcpl);
        H5Sclose(space);
        H5Dclose(p);
    }
    CHECK(H5Fclose(file));

    file = H5Fopen(filename, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(file);
    printf("reopened:\n");
    grid = H5Dopen2(file, "grid", H5P_DEFAULT);
    CHECK(grid);
    print_shape(grid, "grid");
    print_grid(grid);
    {
        hid_t p = H5Dget_create_plist(grid);
        H5D_fill_value_t status;
        CHECK(H5Pfill_value_defined(p, &status));
        int f = 0;
        CHECK(H5Pget_fill_value(p, H5T_NATIVE_INT, &f));
        hsize_t c[2] = {0, 0};
        CHECK(H5Pget_chunk(p, 2, c));
        printf("grid fill value %d (%s), chunks %llu x %llu\n", f,
               status == H5D_FILL_VALUE_USER_DEFINED ? "user-defined"
               : status == H5D_FILL_VALUE_DEFAULT    ? "default"
                                                     : "undefined",
               (unsigned long long)c[0], (unsigned long long)c[1]);
        H5Pclose(p);
    }
    /* Grow after reopening. */
    hsize_t grow3[2] = {7, NC};
    CHECK(H5Dset_extent(grid, grow3));
    write_rows(grid, 6, 1);
    print_shape(grid, "grid grown to 7 rows after reopening, row 6 written");
    print_grid(grid);
    H5Dclose(grid);

    {
        hid_t log = H5Dopen2(file, "log", H5P_DEFAULT);
        CHECK(log);
        print_shape(log, "log");
        double vals[20];
        CHECK(H5Dread(log, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals));
        for (int i = 0; i < 20; i++)
            printf("%s%.1f", i % 5 ? " " : "   ", vals[i]);
        printf("\n");
        H5Dclose(log);
    }
    {
        hid_t u = H5Dopen2(file, "untouched", H5P_DEFAULT);
        CHECK(u);
        float vals[6] = {0};
        CHECK(H5Dread(u, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals));
        printf("untouched:");
        for (int i = 0; i < 6; i++)
            printf(" %.1f", vals[i]);
        double dv[6] = {0};
        CHECK(H5Dread(u, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv));
        printf(" (as double %.2f)\n", dv[5]);
        hid_t p = H5Dget_create_plist(u);
        H5D_fill_value_t status;
        CHECK(H5Pfill_value_defined(p, &status));
        printf("untouched fill value is %s\n", status == H5D_FILL_VALUE_USER_DEFINED ? "user-defined" : "not user-defined");
        H5Pclose(p);
        H5Dclose(u);
    }
    {
        hid_t p = H5Dopen2(file, "plain", H5P_DEFAULT);
        CHECK(p);
        long long v[6];
        CHECK(H5Dread(p, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("plain:");
        for (int i = 0; i < 6; i++)
            printf(" %lld", v[i]);
        printf("\n");
        H5Dclose(p);
    }
    CHECK(H5Fclose(file));
    printf("closed\n");
    return 0;
}
