/*
 * hyperslab: partial I/O with dataspace selections.
 *
 * On a contiguous and on a chunked 10 x 12 integer dataset (chunks 4 x 5, so edge chunks are
 * partial): rectangular, strided and blocked hyperslabs, unions of hyperslabs, point
 * selections, non-contiguous memory selections, writes of a 1-D buffer into a 2-D selection,
 * and reads converted from int to double and to unsigned char.
 *
 * Usage: hyperslab [FILE]   (default: hyperslab.h5).  Uses only the public HDF5 API.
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

#define NR 10
#define NC 12

static void print_ints(const char *label, const int *v, int rows, int cols)
{
    printf("  %s:\n", label);
    for (int i = 0; i < rows; i++) {
        printf("   ");
        for (int j = 0; j < cols; j++)
            printf(" %5d", v[i * cols + j]);
        printf("\n");
    }
}

/* Reads the selection `fspace` of `dset` into a packed buffer of n ints and prints it. */
static void read_selection(hid_t dset, hid_t fspace, const char *label, int rows, int cols)
{
    hssize_t n = H5Sget_select_npoints(fspace);
    CHECK(n);
    hsize_t mdims = (hsize_t)n;
    hid_t mspace = H5Screate_simple(1, &mdims, NULL);
    int *buf = calloc((size_t)n, sizeof(int));
    CHECK(H5Dread(dset, H5T_NATIVE_INT, mspace, fspace, H5P_DEFAULT, buf));
    print_ints(label, buf, rows, cols);
    free(buf);
    H5Sclose(mspace);
}

static void exercise(hid_t file, const char *name, hid_t dcpl)
{
    hsize_t dims[2] = {NR, NC};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t dset = H5Dcreate2(file, name, H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(dset);
    int data[NR][NC];
    for (int i = 0; i < NR; i++)
        for (int j = 0; j < NC; j++)
            data[i][j] = 100 * i + j;
    CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));

    hid_t dcpl2 = H5Dget_create_plist(dset);
    printf("%s (%s):\n", name, H5Pget_layout(dcpl2) == H5D_CHUNKED ? "chunked 4 x 5" : "contiguous");
    H5Pclose(dcpl2);

    hid_t fs = H5Scopy(space);

    /* A 3 x 4 block starting at (2, 3). */
    {
        hsize_t start[2] = {2, 3}, count[2] = {3, 4};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
        read_selection(dset, fs, "block at (2,3) of 3 x 4", 3, 4);
    }
    /* Every third row, every fourth column. */
    {
        hsize_t start[2] = {0, 1}, stride[2] = {3, 4}, count[2] = {4, 3};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, stride, count, NULL));
        read_selection(dset, fs, "rows 0,3,6,9 x columns 1,5,9", 4, 3);
    }
    /* 2 x 2 blocks repeated with stride 5 x 6. */
    {
        hsize_t start[2] = {1, 0}, stride[2] = {5, 6}, count[2] = {2, 2}, block[2] = {2, 2};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, stride, count, block));
        read_selection(dset, fs, "2 x 2 blocks, stride 5 x 6, from (1,0)", 4, 4);
    }
    /* A union of two overlapping rectangles; elements come in row-major file order. */
    {
        hsize_t s1[2] = {0, 0}, c1[2] = {2, 3}, s2[2] = {1, 2}, c2[2] = {2, 3};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, s1, NULL, c1, NULL));
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_OR, s2, NULL, c2, NULL));
        printf("  union selects %lld elements\n", (long long)H5Sget_select_npoints(fs));
        read_selection(dset, fs, "union of 2 x 3 at (0,0) and 2 x 3 at (1,2)", 1, 10);
    }
    /* Points, in the order given (not sorted). */
    {
        hsize_t coords[5][2] = {{9, 11}, {0, 0}, {5, 6}, {0, 11}, {9, 0}};
        CHECK(H5Sselect_elements(fs, H5S_SELECT_SET, 5, &coords[0][0]));
        read_selection(dset, fs, "points (9,11) (0,0) (5,6) (0,11) (9,0)", 1, 5);

        /* The same points into H5S_BLOCK memory. */
        int buf[5] = {0};
        CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_BLOCK, fs, H5P_DEFAULT, buf));
        printf("  same points into H5S_BLOCK: %d %d %d %d %d\n", buf[0], buf[1], buf[2], buf[3], buf[4]);
    }
    /* File block into the middle of a larger memory buffer. */
    {
        hsize_t start[2] = {4, 4}, count[2] = {2, 3};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
        hsize_t mdims[2] = {4, 5}, mstart[2] = {1, 1};
        hid_t ms = H5Screate_simple(2, mdims, NULL);
        CHECK(H5Sselect_hyperslab(ms, H5S_SELECT_SET, mstart, NULL, count, NULL));
        int buf[4][5];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 5; j++)
                buf[i][j] = -1;
        CHECK(H5Dread(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, buf));
        print_ints("2 x 3 at (4,4) into the middle of a 4 x 5 buffer of -1", &buf[0][0], 4, 5);
        H5Sclose(ms);
    }
    /* Write: a 1-D buffer of 6 into a 2 x 3 block, and a strided column. */
    {
        hsize_t start[2] = {7, 8}, count[2] = {2, 3};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
        hsize_t six = 6;
        hid_t ms = H5Screate_simple(1, &six, NULL);
        int vals[6] = {-1, -2, -3, -4, -5, -6};
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, vals));
        H5Sclose(ms);

        hsize_t s2[2] = {0, 2}, st2[2] = {2, 1}, c2[2] = {5, 1};
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, s2, st2, c2, NULL));
        hsize_t five = 5;
        ms = H5Screate_simple(1, &five, NULL);
        int col[5] = {9001, 9002, 9003, 9004, 9005};
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, col));
        H5Sclose(ms);

        /* Write points from the middle of a 2-D memory selection. */
        hsize_t pts[3][2] = {{3, 11}, {6, 0}, {8, 5}};
        CHECK(H5Sselect_elements(fs, H5S_SELECT_SET, 3, &pts[0][0]));
        hsize_t mdims[2] = {2, 3}, mpts[3][2] = {{1, 2}, {0, 0}, {1, 0}};
        ms = H5Screate_simple(2, mdims, NULL);
        CHECK(H5Sselect_elements(ms, H5S_SELECT_SET, 3, &mpts[0][0]));
        int src[2][3] = {{111, 0, 0}, {333, 0, 222}};
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, src));
        H5Sclose(ms);
    }

    H5Sclose(fs);
    H5Sclose(space);
    H5Dclose(dset);
}

static void read_back(hid_t file, const char *name)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    CHECK(dset);
    printf("%s after the writes, reopened:\n", name);
    int data[NR][NC];
    CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    print_ints("all", &data[0][0], NR, NC);

    /* int -> double on a strided selection. */
    hid_t fs = H5Dget_space(dset);
    hsize_t start[2] = {0, 0}, stride[2] = {4, 5}, count[2] = {3, 3};
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, stride, count, NULL));
    hsize_t mdims[2] = {3, 3};
    hid_t ms = H5Screate_simple(2, mdims, NULL);
    double d[3][3];
    CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, d));
    printf("  as double, rows 0,4,8 x columns 0,5,10:\n");
    for (int i = 0; i < 3; i++)
        printf("    %9.1f %9.1f %9.1f\n", d[i][0], d[i][1], d[i][2]);

    /* int -> unsigned char: out-of-range values clip to 0 and 255. */
    hsize_t s1[2] = {7, 7}, c1[2] = {1, 5};
    CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, s1, NULL, c1, NULL));
    hsize_t five = 5;
    H5Sclose(ms);
    ms = H5Screate_simple(1, &five, NULL);
    unsigned char u[5];
    CHECK(H5Dread(dset, H5T_NATIVE_UCHAR, ms, fs, H5P_DEFAULT, u));
    printf("  row 7, columns 7-11 as unsigned char: %u %u %u %u %u\n", u[0], u[1], u[2], u[3], u[4]);

    /* An empty selection reads nothing and succeeds. */
    CHECK(H5Sselect_none(fs));
    hsize_t zero = 0;
    H5Sclose(ms);
    ms = H5Screate_simple(1, &zero, NULL);
    CHECK(H5Dread(dset, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, u));
    printf("  empty selection: read ok\n");

    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(dset);
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "hyperslab.h5";
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    exercise(file, "contiguous", H5P_DEFAULT);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[2] = {4, 5};
    CHECK(H5Pset_chunk(dcpl, 2, chunk));
    exercise(file, "chunked", dcpl);
    H5Pclose(dcpl);
    CHECK(H5Fclose(file));

    file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    read_back(file, "contiguous");
    read_back(file, "chunked");
    CHECK(H5Fclose(file));
    printf("closed\n");
    return 0;
}
