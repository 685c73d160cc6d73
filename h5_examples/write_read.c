/*
 * write_read: the basic life of an HDF5 file.
 *
 * Creates a file with nested groups, a chunked 2-D integer dataset, a 1-D float dataset and
 * attributes (integer, double array, fixed-length and variable-length strings), closes it,
 * reopens it read-only and prints everything it reads back.
 *
 * Uses only the public HDF5 API: run it natively or through any VOL connector selected with
 * HDF5_VOL_CONNECTOR.  Usage: write_read [FILE]   (default: write_read.h5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hdf5.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define ROWS 6
#define COLS 8

static void write_string_attr(hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    CHECK(type);
    CHECK(H5Tset_size(type, H5T_VARIABLE));
    CHECK(H5Tset_cset(type, H5T_CSET_UTF8));
    hid_t space = H5Screate(H5S_SCALAR);
    CHECK(space);
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(attr);
    CHECK(H5Awrite(attr, type, &value));
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(type));
}

static void write_fixed_string_attr(hid_t obj, const char *name, const char *value, size_t size)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    CHECK(type);
    CHECK(H5Tset_size(type, size));
    CHECK(H5Tset_strpad(type, H5T_STR_NULLTERM));
    hid_t space = H5Screate(H5S_SCALAR);
    CHECK(space);
    char *buf = calloc(1, size);
    strncpy(buf, value, size - 1);
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(attr);
    CHECK(H5Awrite(attr, type, buf));
    CHECK(H5Aclose(attr));
    free(buf);
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(type));
}

static void write_file(const char *filename)
{
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    write_string_attr(file, "title", "Sensor readings, run 1 \xe2\x80\x94 demo");

    hid_t exp = H5Gcreate2(file, "experiment", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(exp);
    hid_t run = H5Gcreate2(exp, "run1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(run);
    hid_t cal = H5Gcreate2(file, "/experiment/calibration", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(cal);

    /* /experiment: an integer attribute */
    {
        int version = 3;
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t attr = H5Acreate2(exp, "version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(attr);
        CHECK(H5Awrite(attr, H5T_NATIVE_INT, &version));
        CHECK(H5Aclose(attr));
        CHECK(H5Sclose(space));
    }

    /* /experiment/run1/counts: 6 x 8 int32, chunks of 3 x 4 */
    {
        hsize_t dims[2] = {ROWS, COLS}, chunk[2] = {3, 4};
        int data[ROWS][COLS];
        for (int i = 0; i < ROWS; i++)
            for (int j = 0; j < COLS; j++)
                data[i][j] = 100 * i + j;
        hid_t space = H5Screate_simple(2, dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 2, chunk));
        /* no object times for this one (they are kept by default) */
        CHECK(H5Pset_obj_track_times(dcpl, 0));
        hid_t dset = H5Dcreate2(run, "counts", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        CHECK(dset);
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
        write_fixed_string_attr(dset, "units", "photons", 16);
        {
            double scale[2] = {1.5, -0.25};
            hsize_t n = 2;
            hid_t aspace = H5Screate_simple(1, &n, NULL);
            hid_t attr = H5Acreate2(dset, "scale", H5T_IEEE_F64LE, aspace, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(attr);
            CHECK(H5Awrite(attr, H5T_NATIVE_DOUBLE, scale));
            CHECK(H5Aclose(attr));
            CHECK(H5Sclose(aspace));
        }
        CHECK(H5Dclose(dset));
        CHECK(H5Pclose(dcpl));
        CHECK(H5Sclose(space));
    }

    /* /experiment/run1/temperature: 10 float32 */
    {
        hsize_t n = 10;
        float temp[10];
        for (int i = 0; i < 10; i++)
            temp[i] = 20.0f + 0.5f * (float)i;
        hid_t space = H5Screate_simple(1, &n, NULL);
        hid_t dset = H5Dcreate2(run, "temperature", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
        CHECK(dset);
        CHECK(H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, temp));
        write_string_attr(dset, "sensor", "thermocouple type K");
        CHECK(H5Dclose(dset));
        CHECK(H5Sclose(space));
    }

    CHECK(H5Gclose(cal));
    CHECK(H5Gclose(run));
    CHECK(H5Gclose(exp));
    CHECK(H5Fclose(file));
    printf("wrote the file and closed it\n");
}

static void print_string_attr(hid_t obj, const char *name)
{
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    CHECK(attr);
    hid_t ftype = H5Aget_type(attr);
    CHECK(ftype);
    if (H5Tis_variable_str(ftype) > 0) {
        hid_t mtype = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(mtype, H5T_VARIABLE));
        CHECK(H5Tset_cset(mtype, H5Tget_cset(ftype)));
        char *value = NULL;
        CHECK(H5Aread(attr, mtype, &value));
        printf("  @%s = \"%s\" (variable-length string, %s)\n", name, value,
               H5Tget_cset(ftype) == H5T_CSET_UTF8 ? "UTF-8" : "ASCII");
        hid_t space = H5Aget_space(attr);
        CHECK(H5Treclaim(mtype, space, H5P_DEFAULT, &value));
        CHECK(H5Sclose(space));
        CHECK(H5Tclose(mtype));
    }
    else {
        size_t size = H5Tget_size(ftype);
        char *buf = calloc(1, size + 1);
        CHECK(H5Aread(attr, ftype, buf));
        printf("  @%s = \"%s\" (fixed-length string of %zu bytes)\n", name, buf, size);
        free(buf);
    }
    CHECK(H5Tclose(ftype));
    CHECK(H5Aclose(attr));
}

static void read_file(const char *filename)
{
    hid_t file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    printf("reopened the file read-only\n");

    printf("/\n");
    print_string_attr(file, "title");

    const char *paths[] = {"/experiment", "/experiment/run1", "/experiment/calibration",
                           "/experiment/run1/counts", "/experiment/missing"};
    for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
        htri_t exists = H5Lexists(file, paths[k], H5P_DEFAULT);
        CHECK(exists);
        printf("exists %-26s %s\n", paths[k], exists ? "yes" : "no");
    }

    hid_t exp = H5Gopen2(file, "/experiment", H5P_DEFAULT);
    CHECK(exp);
    {
        H5G_info_t ginfo;
        CHECK(H5Gget_info(exp, &ginfo));
        printf("/experiment has %llu links\n", (unsigned long long)ginfo.nlinks);
        int version = 0;
        hid_t attr = H5Aopen(exp, "version", H5P_DEFAULT);
        CHECK(attr);
        CHECK(H5Aread(attr, H5T_NATIVE_INT, &version));
        CHECK(H5Aclose(attr));
        printf("  @version = %d\n", version);
    }

    /* counts */
    {
        hid_t dset = H5Dopen2(exp, "run1/counts", H5P_DEFAULT);
        CHECK(dset);
        hid_t space = H5Dget_space(dset);
        hsize_t dims[2];
        int rank = H5Sget_simple_extent_ndims(space);
        CHECK(H5Sget_simple_extent_dims(space, dims, NULL));
        hid_t type = H5Dget_type(dset);
        hid_t dcpl = H5Dget_create_plist(dset);
        hsize_t chunk[2] = {0, 0};
        H5D_layout_t layout = H5Pget_layout(dcpl);
        if (layout == H5D_CHUNKED)
            CHECK(H5Pget_chunk(dcpl, 2, chunk));
        printf("/experiment/run1/counts: rank %d, %llu x %llu, %s %zu-byte integer, %s %llu x %llu\n",
               rank, (unsigned long long)dims[0], (unsigned long long)dims[1],
               H5Tget_sign(type) == H5T_SGN_2 ? "signed" : "unsigned", H5Tget_size(type),
               layout == H5D_CHUNKED ? "chunks" : "not chunked", (unsigned long long)chunk[0],
               (unsigned long long)chunk[1]);
        int data[ROWS][COLS];
        memset(data, 0, sizeof data);
        CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
        for (int i = 0; i < ROWS; i++) {
            printf("  ");
            for (int j = 0; j < COLS; j++)
                printf("%4d", data[i][j]);
            printf("\n");
        }
        print_string_attr(dset, "units");
        {
            double scale[2] = {0, 0};
            hid_t attr = H5Aopen(dset, "scale", H5P_DEFAULT);
            CHECK(attr);
            CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, scale));
            CHECK(H5Aclose(attr));
            printf("  @scale = [%g, %g]\n", scale[0], scale[1]);
        }
        H5O_info2_t oinfo;
        CHECK(H5Oget_info3(dset, &oinfo, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS));
        printf("  object type %s, %llu attributes\n", oinfo.type == H5O_TYPE_DATASET ? "dataset" : "other",
               (unsigned long long)oinfo.num_attrs);
        CHECK(H5Pclose(dcpl));
        CHECK(H5Tclose(type));
        CHECK(H5Sclose(space));
        CHECK(H5Dclose(dset));
    }

    /* temperature */
    {
        hid_t dset = H5Dopen2(file, "/experiment/run1/temperature", H5P_DEFAULT);
        CHECK(dset);
        hid_t type = H5Dget_type(dset);
        hid_t space = H5Dget_space(dset);
        hssize_t n = H5Sget_simple_extent_npoints(space);
        printf("/experiment/run1/temperature: %lld values, %s %zu bytes\n", (long long)n,
               H5Tget_class(type) == H5T_FLOAT ? "float" : "not float", H5Tget_size(type));
        float temp[10];
        CHECK(H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, temp));
        printf(" ");
        for (int i = 0; i < 10; i++)
            printf(" %.2f", temp[i]);
        printf("\n");
        print_string_attr(dset, "sensor");
        CHECK(H5Sclose(space));
        CHECK(H5Tclose(type));
        CHECK(H5Dclose(dset));
    }

    /* Object times: kept when the creation list tracks them, as it does by default */
    {
        const char *names[2] = {"run1/counts", "run1/temperature"};
        time_t now = time(NULL);
        for (int i = 0; i < 2; i++) {
            H5O_info2_t oi;
            CHECK(H5Oget_info_by_name3(exp, names[i], &oi, H5O_INFO_TIME, H5P_DEFAULT));
            if (oi.ctime == 0)
                printf("/experiment/%s: no object times\n", names[i]);
            else
                printf("/experiment/%s: changed %s\n", names[i],
                       oi.ctime <= now && now - oi.ctime < 3600 ? "within the last hour" : "at a wrong time");
        }
    }

    CHECK(H5Gclose(exp));
    CHECK(H5Fclose(file));
    printf("closed\n");
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "write_read.h5";
    write_file(filename);
    read_file(filename);
    return 0;
}
