/*
 * datatypes: the HDF5 type system through a storage layer.
 *
 * Compound records with a nested compound, an array member and a fixed-length string;
 * reading a subset of the compound's members; enums; fixed- and variable-length string
 * datasets; variable-length integer sequences; a committed (named) datatype shared by two
 * datasets; conversions between byte orders.  Everything is read back after reopening.
 *
 * Usage: datatypes [FILE]   (default: datatypes.h5).  Uses only the public HDF5 API.
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

typedef struct {
    float lat, lon;
} position_t;

typedef struct {
    int        id;
    double     depth;
    char       name[8];
    position_t where;
    short      samples[3];
} station_t;

typedef struct {
    double depth;
    int    id;
} station_summary_t;

typedef enum { CALM = 0, BREEZE = 1, GALE = 5, STORM = 9 } wind_t;

static hid_t position_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(position_t));
    CHECK(H5Tinsert(t, "lat", HOFFSET(position_t, lat), H5T_NATIVE_FLOAT));
    CHECK(H5Tinsert(t, "lon", HOFFSET(position_t, lon), H5T_NATIVE_FLOAT));
    return t;
}

/* The in-memory type of station_t. */
static hid_t station_mem_type(void)
{
    hid_t str = H5Tcopy(H5T_C_S1);
    CHECK(H5Tset_size(str, 8));
    CHECK(H5Tset_strpad(str, H5T_STR_NULLPAD));
    hsize_t three = 3;
    hid_t arr = H5Tarray_create2(H5T_NATIVE_SHORT, 1, &three);
    hid_t pos = position_type();
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(station_t));
    CHECK(H5Tinsert(t, "id", HOFFSET(station_t, id), H5T_NATIVE_INT));
    CHECK(H5Tinsert(t, "depth", HOFFSET(station_t, depth), H5T_NATIVE_DOUBLE));
    CHECK(H5Tinsert(t, "name", HOFFSET(station_t, name), str));
    CHECK(H5Tinsert(t, "where", HOFFSET(station_t, where), pos));
    CHECK(H5Tinsert(t, "samples", HOFFSET(station_t, samples), arr));
    H5Tclose(str);
    H5Tclose(arr);
    H5Tclose(pos);
    return t;
}

/* The file type: packed, big-endian integers, little-endian floats. */
static hid_t station_file_type(void)
{
    hid_t str = H5Tcopy(H5T_C_S1);
    CHECK(H5Tset_size(str, 8));
    CHECK(H5Tset_strpad(str, H5T_STR_NULLPAD));
    hsize_t three = 3;
    hid_t arr = H5Tarray_create2(H5T_STD_I16BE, 1, &three);
    hid_t pos = H5Tcreate(H5T_COMPOUND, 8);
    CHECK(H5Tinsert(pos, "lat", 0, H5T_IEEE_F32LE));
    CHECK(H5Tinsert(pos, "lon", 4, H5T_IEEE_F32LE));
    hid_t t = H5Tcreate(H5T_COMPOUND, 4 + 8 + 8 + 8 + 6);
    CHECK(H5Tinsert(t, "id", 0, H5T_STD_I32BE));
    CHECK(H5Tinsert(t, "depth", 4, H5T_IEEE_F64LE));
    CHECK(H5Tinsert(t, "name", 12, str));
    CHECK(H5Tinsert(t, "where", 20, pos));
    CHECK(H5Tinsert(t, "samples", 28, arr));
    H5Tclose(str);
    H5Tclose(arr);
    H5Tclose(pos);
    return t;
}

static hid_t wind_type(hid_t base)
{
    hid_t t = H5Tenum_create(base);
    const char *names[] = {"CALM", "BREEZE", "GALE", "STORM"};
    int values[] = {CALM, BREEZE, GALE, STORM};
    for (int i = 0; i < 4; i++) {
        /* Enum values are given in the base type. */
        if (H5Tget_size(base) == 1) {
            unsigned char v = (unsigned char)values[i];
            CHECK(H5Tenum_insert(t, names[i], &v));
        }
        else
            CHECK(H5Tenum_insert(t, names[i], &values[i]));
    }
    return t;
}

static hid_t make_dataset(hid_t loc, const char *name, hid_t ftype, hsize_t n)
{
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(dset);
    CHECK(H5Sclose(space));
    return dset;
}

static void describe(hid_t type, int depth)
{
    H5T_class_t cls = H5Tget_class(type);
    switch (cls) {
        case H5T_INTEGER:
            printf("%s%zu-byte integer, %s", H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned " : "",
                   H5Tget_size(type), H5Tget_order(type) == H5T_ORDER_BE ? "big-endian" : "little-endian");
            break;
        case H5T_FLOAT:
            printf("%zu-byte float, %s", H5Tget_size(type),
                   H5Tget_order(type) == H5T_ORDER_BE ? "big-endian" : "little-endian");
            break;
        case H5T_STRING:
            if (H5Tis_variable_str(type) > 0)
                printf("variable-length %s string", H5Tget_cset(type) == H5T_CSET_UTF8 ? "UTF-8" : "ASCII");
            else
                printf("%zu-byte string (%s)", H5Tget_size(type),
                       H5Tget_strpad(type) == H5T_STR_NULLTERM   ? "null-terminated"
                       : H5Tget_strpad(type) == H5T_STR_NULLPAD ? "null-padded"
                                                                 : "space-padded");
            break;
        case H5T_ARRAY: {
            hsize_t dims[H5S_MAX_RANK];
            int rank = H5Tget_array_ndims(type);
            H5Tget_array_dims2(type, dims);
            printf("array [");
            for (int i = 0; i < rank; i++)
                printf("%s%llu", i ? " x " : "", (unsigned long long)dims[i]);
            printf("] of ");
            hid_t super = H5Tget_super(type);
            describe(super, depth);
            H5Tclose(super);
            break;
        }
        case H5T_VLEN: {
            printf("variable-length sequence of ");
            hid_t super = H5Tget_super(type);
            describe(super, depth);
            H5Tclose(super);
            break;
        }
        case H5T_ENUM: {
            int n = H5Tget_nmembers(type);
            printf("enum of %d:", n);
            for (int i = 0; i < n; i++) {
                char *name = H5Tget_member_name(type, (unsigned)i);
                long long v = 0;
                unsigned char raw[8] = {0};
                H5Tget_member_value(type, (unsigned)i, raw);
                if (H5Tget_size(type) == 1)
                    v = raw[0];
                else
                    memcpy(&v, raw, H5Tget_size(type) < 8 ? H5Tget_size(type) : 8);
                printf(" %s=%lld", name, v);
                H5free_memory(name);
            }
            break;
        }
        case H5T_COMPOUND: {
            int n = H5Tget_nmembers(type);
            printf("compound of %zu bytes, %d members", H5Tget_size(type), n);
            for (int i = 0; i < n; i++) {
                char *name = H5Tget_member_name(type, (unsigned)i);
                hid_t mt = H5Tget_member_type(type, (unsigned)i);
                printf("\n%*s%s @%zu: ", 4 + 2 * depth, "", name, H5Tget_member_offset(type, (unsigned)i));
                describe(mt, depth + 1);
                H5Tclose(mt);
                H5free_memory(name);
            }
            break;
        }
        default:
            printf("class %d", (int)cls);
    }
}

static void describe_dataset(hid_t file, const char *path)
{
    hid_t dset = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(dset);
    hid_t type = H5Dget_type(dset);
    htri_t committed = H5Tcommitted(type);
    printf("%s: %s", path, committed > 0 ? "committed type, " : "");
    describe(type, 0);
    printf("\n");
    H5Tclose(type);
    H5Dclose(dset);
}

static const station_t stations[3] = {
    {101, 12.5, "Alpha", {59.5f, 10.25f}, {1, 2, 3}},
    {202, 480.0, "Bravo", {-33.75f, 151.5f}, {-4, 5, -6}},
    {303, 3950.25, "Charlie7", {0.0f, -0.5f}, {32767, -32768, 0}},
};

static void write_file(const char *filename)
{
    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    /* Compound records; the file type differs in layout and byte order from memory. */
    {
        hid_t ftype = station_file_type();
        hid_t mtype = station_mem_type();
        hid_t dset = make_dataset(file, "stations", ftype, 3);
        CHECK(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, stations));
        H5Dclose(dset);
        H5Tclose(mtype);
        H5Tclose(ftype);
    }

    /* Enum stored as one byte, written from int-based memory enum. */
    {
        hid_t ftype = wind_type(H5T_STD_U8LE);
        hid_t mtype = wind_type(H5T_NATIVE_INT);
        int wind[6] = {CALM, GALE, BREEZE, STORM, CALM, GALE};
        hid_t dset = make_dataset(file, "wind", ftype, 6);
        CHECK(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, wind));
        H5Dclose(dset);
        H5Tclose(mtype);
        H5Tclose(ftype);
    }

    /* Fixed-length strings, space padded. */
    {
        hid_t t = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(t, 6));
        CHECK(H5Tset_strpad(t, H5T_STR_SPACEPAD));
        char words[4][6] = {{'n', 'o', 'r', 't', 'h', ' '}, {'e', 'a', 's', 't', ' ', ' '},
                            {'s', 'o', 'u', 't', 'h', ' '}, {'w', 'e', 's', 't', ' ', ' '}};
        hid_t dset = make_dataset(file, "directions", t, 4);
        CHECK(H5Dwrite(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, words));
        H5Dclose(dset);
        H5Tclose(t);
    }

    /* Variable-length UTF-8 strings. */
    {
        hid_t t = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(t, H5T_VARIABLE));
        CHECK(H5Tset_cset(t, H5T_CSET_UTF8));
        const char *notes[4] = {"calibrated", "", "sensor replaced after storm", "\xce\xb1\xce\xb2\xce\xb3"};
        hid_t dset = make_dataset(file, "notes", t, 4);
        CHECK(H5Dwrite(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, notes));
        H5Dclose(dset);
        H5Tclose(t);
    }

    /* Variable-length sequences of integers: stored as 16-bit, written from int. */
    {
        hid_t ftype = H5Tvlen_create(H5T_STD_I16LE);
        hid_t mtype = H5Tvlen_create(H5T_NATIVE_INT);
        int a[1] = {7}, b[3] = {1, -2, 3}, d[5] = {10, 20, 30, 40, 50};
        hvl_t seqs[4] = {{1, a}, {3, b}, {0, NULL}, {5, d}};
        hid_t dset = make_dataset(file, "bursts", ftype, 4);
        CHECK(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, seqs));
        H5Dclose(dset);
        H5Tclose(mtype);
        H5Tclose(ftype);
    }

    /* A committed datatype shared by two datasets, with an attribute on the type itself. */
    {
        hid_t g = H5Gcreate2(file, "types", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(g);
        hid_t pos = position_type();
        CHECK(H5Tcommit2(g, "position", pos, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        {
            int version = 2;
            hid_t space = H5Screate(H5S_SCALAR);
            hid_t attr = H5Acreate2(pos, "version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
            CHECK(attr);
            CHECK(H5Awrite(attr, H5T_NATIVE_INT, &version));
            H5Aclose(attr);
            H5Sclose(space);
        }
        position_t start[2] = {{1.0f, 2.0f}, {3.0f, 4.0f}}, end[1] = {{-1.5f, -2.5f}};
        hid_t d1 = make_dataset(file, "track_start", pos, 2);
        CHECK(H5Dwrite(d1, pos, H5S_ALL, H5S_ALL, H5P_DEFAULT, start));
        hid_t d2 = make_dataset(file, "track_end", pos, 1);
        CHECK(H5Dwrite(d2, pos, H5S_ALL, H5S_ALL, H5P_DEFAULT, end));
        H5Dclose(d1);
        H5Dclose(d2);
        H5Tclose(pos);
        H5Gclose(g);
    }

    CHECK(H5Fclose(file));
    printf("wrote the file\n");
}

static void read_file(const char *filename)
{
    hid_t file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);

    printf("types as stored:\n");
    const char *paths[] = {"/stations", "/wind", "/directions", "/notes", "/bursts", "/track_start"};
    for (int i = 0; i < 6; i++)
        describe_dataset(file, paths[i]);

    printf("stations, all members:\n");
    {
        hid_t dset = H5Dopen2(file, "stations", H5P_DEFAULT);
        hid_t mtype = station_mem_type();
        station_t s[3];
        memset(s, 0, sizeof s);
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, s));
        for (int i = 0; i < 3; i++)
            printf("  id %d depth %.2f name \"%.8s\" at (%.2f, %.2f) samples %d %d %d\n", s[i].id, s[i].depth,
                   s[i].name, s[i].where.lat, s[i].where.lon, s[i].samples[0], s[i].samples[1],
                   s[i].samples[2]);
        H5Tclose(mtype);

        /* A subset of the members, in another order: conversion with a background buffer. */
        printf("stations, depth and id only:\n");
        mtype = H5Tcreate(H5T_COMPOUND, sizeof(station_summary_t));
        CHECK(H5Tinsert(mtype, "depth", HOFFSET(station_summary_t, depth), H5T_NATIVE_DOUBLE));
        CHECK(H5Tinsert(mtype, "id", HOFFSET(station_summary_t, id), H5T_NATIVE_INT));
        station_summary_t sum[3];
        memset(sum, 0, sizeof sum);
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, sum));
        for (int i = 0; i < 3; i++)
            printf("  %d: %.2f\n", sum[i].id, sum[i].depth);
        H5Tclose(mtype);
        H5Dclose(dset);
    }

    printf("wind:\n ");
    {
        hid_t dset = H5Dopen2(file, "wind", H5P_DEFAULT);
        hid_t mtype = wind_type(H5T_NATIVE_INT);
        int wind[6];
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, wind));
        for (int i = 0; i < 6; i++) {
            char name[16];
            CHECK(H5Tenum_nameof(mtype, &wind[i], name, sizeof name));
            printf(" %s(%d)", name, wind[i]);
        }
        printf("\n");
        H5Tclose(mtype);
        H5Dclose(dset);
    }

    printf("directions, read as 8-byte null-terminated strings:\n ");
    {
        hid_t dset = H5Dopen2(file, "directions", H5P_DEFAULT);
        hid_t mtype = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(mtype, 8));
        CHECK(H5Tset_strpad(mtype, H5T_STR_NULLTERM));
        char words[4][8];
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, words));
        for (int i = 0; i < 4; i++)
            printf(" [%s]", words[i]);
        printf("\n");
        H5Tclose(mtype);
        H5Dclose(dset);
    }

    printf("notes:\n");
    {
        hid_t dset = H5Dopen2(file, "notes", H5P_DEFAULT);
        hid_t mtype = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(mtype, H5T_VARIABLE));
        CHECK(H5Tset_cset(mtype, H5T_CSET_UTF8));
        char *notes[4] = {NULL};
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, notes));
        for (int i = 0; i < 4; i++)
            printf("  %zu bytes: \"%s\"\n", strlen(notes[i]), notes[i]);
        hid_t space = H5Dget_space(dset);
        CHECK(H5Treclaim(mtype, space, H5P_DEFAULT, notes));
        H5Sclose(space);
        H5Tclose(mtype);
        H5Dclose(dset);
    }

    printf("bursts, read as doubles:\n");
    {
        hid_t dset = H5Dopen2(file, "bursts", H5P_DEFAULT);
        hid_t mtype = H5Tvlen_create(H5T_NATIVE_DOUBLE);
        hvl_t seqs[4];
        CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, seqs));
        for (int i = 0; i < 4; i++) {
            printf("  %zu:", seqs[i].len);
            for (size_t k = 0; k < seqs[i].len; k++)
                printf(" %.1f", ((double *)seqs[i].p)[k]);
            printf("\n");
        }
        hid_t space = H5Dget_space(dset);
        CHECK(H5Treclaim(mtype, space, H5P_DEFAULT, seqs));
        H5Sclose(space);
        H5Tclose(mtype);
        H5Dclose(dset);
    }

    printf("committed type:\n");
    {
        hid_t pos = H5Topen2(file, "/types/position", H5P_DEFAULT);
        CHECK(pos);
        printf("  /types/position: ");
        describe(pos, 0);
        printf("\n");
        int version = 0;
        hid_t attr = H5Aopen(pos, "version", H5P_DEFAULT);
        CHECK(attr);
        CHECK(H5Aread(attr, H5T_NATIVE_INT, &version));
        H5Aclose(attr);
        printf("  @version = %d\n", version);
        H5O_info2_t oinfo;
        CHECK(H5Oget_info_by_name3(file, "/types/position", &oinfo, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS,
                                   H5P_DEFAULT));
        printf("  object type %s, %llu attribute(s)\n",
               oinfo.type == H5O_TYPE_NAMED_DATATYPE ? "named datatype" : "other",
               (unsigned long long)oinfo.num_attrs);

        hid_t d1 = H5Dopen2(file, "track_start", H5P_DEFAULT);
        hid_t d2 = H5Dopen2(file, "track_end", H5P_DEFAULT);
        hid_t t1 = H5Dget_type(d1), t2 = H5Dget_type(d2);
        printf("  track_start type committed: %s, equal to /types/position: %s\n",
               H5Tcommitted(t1) > 0 ? "yes" : "no", H5Tequal(t1, pos) > 0 ? "yes" : "no");
        printf("  track_end type committed: %s, equal to track_start's: %s\n",
               H5Tcommitted(t2) > 0 ? "yes" : "no", H5Tequal(t1, t2) > 0 ? "yes" : "no");
        position_t start[2], end[1];
        CHECK(H5Dread(d1, pos, H5S_ALL, H5S_ALL, H5P_DEFAULT, start));
        CHECK(H5Dread(d2, pos, H5S_ALL, H5S_ALL, H5P_DEFAULT, end));
        printf("  track: (%.1f, %.1f) (%.1f, %.1f) -> (%.1f, %.1f)\n", start[0].lat, start[0].lon,
               start[1].lat, start[1].lon, end[0].lat, end[0].lon);
        H5Tclose(t1);
        H5Tclose(t2);
        H5Dclose(d1);
        H5Dclose(d2);
        H5Tclose(pos);
    }

    CHECK(H5Fclose(file));
    printf("closed\n");
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "datatypes.h5";
    write_file(filename);
    read_file(filename);
    return 0;
}
