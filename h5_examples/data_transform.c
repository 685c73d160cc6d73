/*
 * data_transform: H5Pset_data_transform on H5Dwrite and H5Dread.
 *
 * On a contiguous and on a chunked layout: transforms applied on write and on read, to int,
 * float and double data ("x+1", "2*x-3", "(x+1)*(x-1)/2", "-x", constants with decimals,
 * integer division truncating at each step), only to the selected elements of hyperslab
 * selections, with memory types that differ from the stored type (int in memory and double
 * stored, and the reverse; reads converted to double, short and unsigned char), a constant
 * alone, the "x" that does nothing, long double, a compound memory type (refused), invalid
 * expressions (refused by H5Pset_data_transform), and datasets whose storage is not yet
 * allocated.
 *
 * Usage: data_transform [FILE]   (default: data_transform.h5).  Uses only the public HDF5 API.
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

#define N 8

static hid_t xfer(const char *expr)
{
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    CHECK(dxpl);
    if (expr)
        CHECK(H5Pset_data_transform(dxpl, expr));
    return dxpl;
}

static void print_ints(const char *label, const int *v, int n)
{
    printf("  %-28s", label);
    for (int i = 0; i < n; i++)
        printf(" %d", v[i]);
    printf("\n");
}

static void print_doubles(const char *label, const double *v, int n)
{
    printf("  %-28s", label);
    for (int i = 0; i < n; i++)
        printf(" %.17g", v[i]);
    printf("\n");
}

static void print_floats(const char *label, const float *v, int n)
{
    printf("  %-28s", label);
    for (int i = 0; i < n; i++)
        printf(" %.9g", (double)v[i]);
    printf("\n");
}

static hid_t make(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, int chunked)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl  = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        hsize_t chunk[2] = {3, 3};
        CHECK(H5Pset_chunk(dcpl, rank, chunk));
    }
    hid_t dset = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(dset);
    H5Pclose(dcpl);
    H5Sclose(space);
    return dset;
}

/* Reads all of an int dataset through transform `expr` and prints it. */
static void read_ints(hid_t dset, const char *expr, int n)
{
    int   out[64];
    hid_t dxpl = xfer(expr);
    CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, out));
    char label[64];
    snprintf(label, sizeof label, "read \"%s\":", expr ? expr : "");
    print_ints(label, out, n);
    H5Pclose(dxpl);
}

static void read_doubles(hid_t dset, hid_t mtype_is_float, const char *expr, int n)
{
    hid_t dxpl = xfer(expr);
    char  label[64];
    snprintf(label, sizeof label, "read \"%s\":", expr ? expr : "");
    if (mtype_is_float) {
        float out[N];
        CHECK(H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, dxpl, out));
        print_floats(label, out, n);
    }
    else {
        double out[N];
        CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl, out));
        print_doubles(label, out, n);
    }
    H5Pclose(dxpl);
}

static void exercise(hid_t file, const char *layout, int chunked)
{
    char name[64];
    printf("%s:\n", layout);

    /* int: transform on write, then on read. */
    hsize_t dims[1] = {N};
    snprintf(name, sizeof name, "%s_int", layout);
    hid_t d   = make(file, name, H5T_NATIVE_INT, 1, dims, chunked);
    int   in[N] = {-7, -3, -1, 0, 1, 2, 7, 100};
    hid_t dxpl = xfer("x+1");
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, in));
    H5Pclose(dxpl);
    print_ints("buffer after write \"x+1\":", in, N);
    read_ints(d, NULL, N);
    const char *int_exprs[] = {"2*x-3", "(x+1)*(x-1)/2", "-x", "x/3", "(x-7)/2", "x/2*2", "x*(7/2)",
                               "x*2.5+0.125", "x-.5", "x*1e2", "x*x", "7", "x", "(x)", " x ", "x)+5"};
    for (size_t i = 0; i < sizeof int_exprs / sizeof *int_exprs; i++)
        read_ints(d, int_exprs[i], N);
    H5Dclose(d);

    /* float and double. */
    float  fin[N] = {-2.5f, -1.0f, -0.0f, 0.0f, 0.1f, 1.5f, 3.0f, 1e30f};
    double din[N] = {-2.5, -1.0, -0.0, 0.0, 0.1, 1.5, 3.0, 1e300};
    for (int is_float = 1; is_float >= 0; is_float--) {
        snprintf(name, sizeof name, "%s_%s", layout, is_float ? "float" : "double");
        hid_t t = is_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
        d       = make(file, name, t, 1, dims, chunked);
        printf(" %s:\n", is_float ? "float" : "double");
        dxpl = xfer("x*2-0.5");
        CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, dxpl, is_float ? (void *)fin : (void *)din));
        H5Pclose(dxpl);
        read_doubles(d, is_float, NULL, N);
        const char *fexprs[] = {"(x+1)*(x-1)/2", "-x",  "x/3", "x*x*x", "1.5-x/0.25",
                                "x*2.5E-1",      "x/0", "+x",  "2.75"};
        for (size_t i = 0; i < sizeof fexprs / sizeof *fexprs; i++)
            read_doubles(d, is_float, fexprs[i], N);
        H5Dclose(d);
    }

    /* Hyperslabs: only the selected elements are transformed, on write and on read. */
    hsize_t dims2[2] = {6, 6};
    snprintf(name, sizeof name, "%s_slab", layout);
    d = make(file, name, H5T_NATIVE_INT, 2, dims2, chunked);
    int grid[36];
    for (int i = 0; i < 36; i++)
        grid[i] = i;
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, grid));
    hid_t   fspace = H5Dget_space(d);
    hsize_t start[2] = {1, 0}, stride[2] = {2, 2}, count[2] = {2, 3}, block[2] = {1, 1};
    CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, stride, count, block));
    hid_t mspace = H5Screate_simple(2, dims2, NULL);
    CHECK(H5Sselect_hyperslab(mspace, H5S_SELECT_SET, start, stride, count, block));
    for (int i = 0; i < 36; i++)
        grid[i] = 1000 + i;
    dxpl = xfer("x*10");
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, mspace, fspace, dxpl, grid));
    H5Pclose(dxpl);
    int all[36];
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
    printf(" hyperslab written with \"x*10\":\n");
    for (int r = 0; r < 6; r++)
        print_ints("", all + 6 * r, 6);
    /* Read a 2 x 2 block into the middle of a memory buffer that holds -1 elsewhere. */
    hsize_t bstart[2] = {2, 2}, bcount[2] = {2, 2};
    CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, bstart, NULL, bcount, NULL));
    hsize_t mdims[1] = {8}, mstart[1] = {1}, mstride[1] = {2}, mcount[1] = {4};
    hid_t   m1 = H5Screate_simple(1, mdims, NULL);
    CHECK(H5Sselect_hyperslab(m1, H5S_SELECT_SET, mstart, mstride, mcount, NULL));
    int part[8];
    for (int i = 0; i < 8; i++)
        part[i] = -1;
    dxpl = xfer("x-100");
    CHECK(H5Dread(d, H5T_NATIVE_INT, m1, fspace, dxpl, part));
    H5Pclose(dxpl);
    print_ints("block read \"x-100\":", part, 8);
    H5Sclose(m1);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(d);

    /* int in memory, double stored: the transform works in int, before conversion. */
    snprintf(name, sizeof name, "%s_int_to_double", layout);
    d = make(file, name, H5T_IEEE_F64LE, 1, dims, chunked);
    dxpl = xfer("x/2");
    int iv[N] = {-7, -3, -1, 0, 1, 3, 5, 9};
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, iv));
    H5Pclose(dxpl);
    printf(" int in memory, double stored:\n");
    read_doubles(d, 0, NULL, N);
    read_doubles(d, 0, "x/4", N);
    read_ints(d, "x/4", N);
    H5Dclose(d);

    /* double in memory, int stored: the transform works in double, before conversion. */
    snprintf(name, sizeof name, "%s_double_to_int", layout);
    d = make(file, name, H5T_STD_I32LE, 1, dims, chunked);
    dxpl = xfer("x*1.5");
    double dv[N] = {-7, -3, -1, 0, 1, 3, 5, 9};
    CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl, dv));
    H5Pclose(dxpl);
    printf(" double in memory, int stored:\n");
    read_ints(d, NULL, N);
    read_doubles(d, 0, "x/4", N);
    read_doubles(d, 1, "x/3", N);
    {
        short          sv[N];
        unsigned char  uv[N];
        unsigned short usv[N];
        dxpl = xfer("x*100");
        CHECK(H5Dread(d, H5T_NATIVE_SHORT, H5S_ALL, H5S_ALL, dxpl, sv));
        CHECK(H5Dread(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, dxpl, uv));
        H5Pclose(dxpl);
        dxpl = xfer("-x");
        CHECK(H5Dread(d, H5T_NATIVE_USHORT, H5S_ALL, H5S_ALL, dxpl, usv));
        H5Pclose(dxpl);
        printf("  %-28s", "read \"x*100\" as short:");
        for (int i = 0; i < N; i++)
            printf(" %d", sv[i]);
        printf("\n  %-28s", "read \"x*100\" as uchar:");
        for (int i = 0; i < N; i++)
            printf(" %u", uv[i]);
        printf("\n  %-28s", "read \"-x\" as ushort:");
        for (int i = 0; i < N; i++)
            printf(" %u", usv[i]);
        printf("\n");
    }
    H5Dclose(d);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data_transform.h5";
    hid_t       file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    exercise(file, "contiguous", 0);
    exercise(file, "chunked", 1);

    /* long double: data with data in long double, data with a constant through double. */
    {
        hsize_t     four[1] = {4};
        hid_t       ld      = make(file, "long_double", H5T_NATIVE_LDOUBLE, 1, four, 0);
        long double lin[4]  = {1.5L, -2.5L, 2147483649.0L, 0.1L}, lout[4];
        hid_t       dxpl    = xfer("x*x+1");
        CHECK(H5Dwrite(ld, H5T_NATIVE_LDOUBLE, H5S_ALL, H5S_ALL, dxpl, lin));
        H5Pclose(dxpl);
        const char *lexprs[] = {"", "x/3", "x*x", "x-1", "2.5"};
        for (size_t i = 0; i < sizeof lexprs / sizeof *lexprs; i++) {
            dxpl = xfer(lexprs[i][0] ? lexprs[i] : NULL);
            CHECK(H5Dread(ld, H5T_NATIVE_LDOUBLE, H5S_ALL, H5S_ALL, dxpl, lout));
            H5Pclose(dxpl);
            printf("  long double read \"%s\":", lexprs[i]);
            for (int k = 0; k < 4; k++)
                printf(" %.21Lg", lout[k]);
            printf("\n");
        }
        H5Dclose(ld);
    }

    /* Invalid expressions: refused by H5Pset_data_transform itself. */
    const char *bad[] = {"x^2", "-(x+1)", "(x", "xx", "", "x 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hid_t  dxpl = H5Pcreate(H5P_DATASET_XFER);
        herr_t r;
        H5E_BEGIN_TRY
        {
            r = H5Pset_data_transform(dxpl, bad[i]);
        }
        H5E_END_TRY
        printf("H5Pset_data_transform(\"%s\"): %s\n", bad[i], r < 0 ? "refused" : "accepted");
        H5Pclose(dxpl);
    }

    /* A compound memory type: "x" does nothing, anything else is refused. */
    hid_t ct = H5Tcreate(H5T_COMPOUND, 2 * sizeof(int));
    H5Tinsert(ct, "a", 0, H5T_NATIVE_INT);
    H5Tinsert(ct, "b", sizeof(int), H5T_NATIVE_INT);
    hsize_t two[1] = {2};
    hid_t   cd     = make(file, "compound", ct, 1, two, 0);
    int     cin[4] = {1, 2, 3, 4}, cout[4] = {0, 0, 0, 0};
    hid_t   dxpl   = xfer("x");
    CHECK(H5Dwrite(cd, ct, H5S_ALL, H5S_ALL, dxpl, cin));
    H5Pclose(dxpl);
    dxpl = xfer("x+1");
    herr_t r;
    H5E_BEGIN_TRY
    {
        r = H5Dwrite(cd, ct, H5S_ALL, H5S_ALL, dxpl, cin);
    }
    H5E_END_TRY
    printf("compound write \"x+1\": %s\n", r < 0 ? "refused" : "accepted");
    H5E_BEGIN_TRY
    {
        r = H5Dread(cd, ct, H5S_ALL, H5S_ALL, dxpl, cout);
    }
    H5E_END_TRY
    printf("compound read \"x+1\": %s\n", r < 0 ? "refused" : "accepted");
    H5Pclose(dxpl);
    CHECK(H5Dread(cd, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, cout));
    print_ints("compound as written:", cout, 4);
    H5Dclose(cd);
    H5Tclose(ct);

    /* Storage not yet allocated: the fill value is read untransformed; once a chunk is
     * written, unwritten chunks read as the fill value transformed; allocated at creation,
     * transformed too. */
    {
        hsize_t dims[1] = {6}, chunk[1] = {3};
        int     fill    = 5;
        hid_t   space   = H5Screate_simple(1, dims, NULL);
        for (int k = 0; k < 3; k++) {
            hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
            CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &fill));
            if (k == 1)
                CHECK(H5Pset_chunk(dcpl, 1, chunk));
            if (k == 2)
                CHECK(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
            const char *names[] = {"unallocated", "one_chunk_written", "allocated_early"};
            hid_t       ud      = H5Dcreate2(file, names[k], H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            CHECK(ud);
            if (k == 1) {
                hsize_t one = 1, at = 0;
                hid_t   fs  = H5Scopy(space);
                CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one, NULL));
                hid_t ms = H5Screate_simple(1, &one, NULL);
                int   v  = 1;
                CHECK(H5Dwrite(ud, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, &v));
                H5Sclose(ms);
                H5Sclose(fs);
            }
            printf("%s:\n", names[k]);
            read_ints(ud, "x+100", 6);
            H5Dclose(ud);
            H5Pclose(dcpl);
        }
        H5Sclose(space);
    }

    CHECK(H5Fclose(file));
    return 0;
}
