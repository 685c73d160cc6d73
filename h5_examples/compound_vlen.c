/*
 * compound_vlen: compound types with variable-length members.
 *
 * A dataset and an attribute of records whose variable-length string sits between numeric
 * members, stored in a packed big-endian file type (so every transfer converts); reading all
 * members, subsets of members by name, and writing one member alone (the others keep their
 * stored values); a nested compound with a string and a variable-length sequence inside;
 * a chunked dataset with a fill value holding a string, partly written (chunks never written
 * read as the fill value), and the fill value read back from the creation property list.  Everything is read back after reopening.
 *
 * Usage: compound_vlen [FILE]   (default: compound_vlen.h5).  Uses only the public HDF5 API.
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
    int    id;
    char  *name;
    double value;
} record_t;

typedef struct {
    char *name;
} name_only_t;

typedef struct {
    double value;
    int    id;
} numbers_t;

typedef struct {
    double value;
} value_only_t;

typedef struct {
    char *label;
    float weight;
} inner_t;

typedef struct {
    short   tag;
    inner_t inner;
    hvl_t   counts; /* variable-length sequence of int */
    char   *note;
} nested_t;

static hid_t vstr(void)
{
    hid_t s = H5Tcopy(H5T_C_S1);
    CHECK(H5Tset_size(s, H5T_VARIABLE));
    return s;
}

static hid_t record_mem_type(void)
{
    hid_t s = vstr(), t = H5Tcreate(H5T_COMPOUND, sizeof(record_t));
    CHECK(H5Tinsert(t, "id", HOFFSET(record_t, id), H5T_NATIVE_INT));
    CHECK(H5Tinsert(t, "name", HOFFSET(record_t, name), s));
    CHECK(H5Tinsert(t, "value", HOFFSET(record_t, value), H5T_NATIVE_DOUBLE));
    CHECK(H5Tclose(s));
    return t;
}

/* Packed, big-endian: different from the memory type, so every transfer converts. */
static hid_t record_file_type(void)
{
    hid_t s = vstr();
    size_t ssize = H5Tget_size(s);
    hid_t t = H5Tcreate(H5T_COMPOUND, 4 + ssize + 8);
    CHECK(H5Tinsert(t, "id", 0, H5T_STD_I32BE));
    CHECK(H5Tinsert(t, "name", 4, s));
    CHECK(H5Tinsert(t, "value", 4 + ssize, H5T_IEEE_F64BE));
    CHECK(H5Tclose(s));
    return t;
}

static hid_t nested_mem_type(void)
{
    hid_t s = vstr();
    hid_t in = H5Tcreate(H5T_COMPOUND, sizeof(inner_t));
    CHECK(H5Tinsert(in, "label", HOFFSET(inner_t, label), s));
    CHECK(H5Tinsert(in, "weight", HOFFSET(inner_t, weight), H5T_NATIVE_FLOAT));
    hid_t seq = H5Tvlen_create(H5T_NATIVE_INT);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(nested_t));
    CHECK(H5Tinsert(t, "tag", HOFFSET(nested_t, tag), H5T_NATIVE_SHORT));
    CHECK(H5Tinsert(t, "inner", HOFFSET(nested_t, inner), in));
    CHECK(H5Tinsert(t, "counts", HOFFSET(nested_t, counts), seq));
    CHECK(H5Tinsert(t, "note", HOFFSET(nested_t, note), s));
    CHECK(H5Tclose(seq));
    CHECK(H5Tclose(in));
    CHECK(H5Tclose(s));
    return t;
}

static void print_records(const char *title, const record_t *r, int n)
{
    printf("%s:\n", title);
    for (int i = 0; i < n; i++)
        printf("  id %d name %s%s%s value %.3f\n", r[i].id, r[i].name ? "\"" : "",
               r[i].name ? r[i].name : "NULL", r[i].name ? "\"" : "", r[i].value);
}

static void reclaim(hid_t type, hid_t space, void *buf)
{
    CHECK(H5Treclaim(type, space, H5P_DEFAULT, buf));
}

static void write_file(const char *name)
{
    hid_t file, mt, ft, space, dset, attr, ascalar, nt, nspace, nd, dcpl, fspace, fd;
    hsize_t four = 4, two = 2, three = 3;
    record_t rec[4] = {{1, "alpha", 0.5}, {2, "", -1.25}, {3, NULL, 1e3}, {4, "a longer name, with spaces", 3.0}};
    record_t legend[2] = {{10, "unit", 1.0}, {20, "scale", 0.001}};
    int c0[] = {1, 2, 3}, c2[] = {7};
    nested_t nest[3] = {{-1, {"first", 0.5f}, {3, c0}, "note one"},
                        {0, {NULL, 1.5f}, {0, NULL}, NULL},
                        {32767, {"third", -2.0f}, {1, c2}, ""}};

    CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    mt = record_mem_type();
    ft = record_file_type();

    CHECK(space = H5Screate_simple(1, &four, NULL));
    CHECK(dset = H5Dcreate2(file, "records", ft, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec));

    CHECK(ascalar = H5Screate_simple(1, &two, NULL));
    CHECK(attr = H5Acreate2(dset, "legend", ft, ascalar, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, mt, legend));
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(ascalar));
    CHECK(H5Dclose(dset));

    /* Nested compound with a string and a sequence inside, stored in the memory layout. */
    nt = nested_mem_type();
    CHECK(nspace = H5Screate_simple(1, &three, NULL));
    CHECK(nd = H5Dcreate2(file, "nested", nt, nspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(nd, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, nest));
    CHECK(attr = H5Acreate2(nd, "first", nt, nspace, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, nt, nest));
    CHECK(H5Aclose(attr));
    CHECK(H5Dclose(nd));
    CHECK(H5Sclose(nspace));

    /* Chunked, with a fill value that holds a string; only elements 1 and 2 are written. */
    {
        hsize_t six = 6, chunk = 2, start = 1, count = 2;
        record_t fill = {-1, "unset", -0.5};
        record_t part[2] = {{11, "written", 11.5}, {12, "also", 12.5}};
        hid_t mspace;
        CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
        CHECK(H5Pset_chunk(dcpl, 1, &chunk));
        CHECK(H5Pset_fill_value(dcpl, mt, &fill));
        CHECK(fspace = H5Screate_simple(1, &six, NULL));
        CHECK(fd = H5Dcreate2(file, "filled", ft, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT));
        CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL));
        CHECK(mspace = H5Screate_simple(1, &count, NULL));
        CHECK(H5Dwrite(fd, mt, mspace, fspace, H5P_DEFAULT, part));
        CHECK(H5Sclose(mspace));
        CHECK(H5Dclose(fd));
        CHECK(H5Sclose(fspace));
        CHECK(H5Pclose(dcpl));
    }

    CHECK(H5Tclose(nt));
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(ft));
    CHECK(H5Tclose(mt));
    CHECK(H5Fclose(file));
    printf("wrote the file\n");
}

static void read_file(const char *name)
{
    hid_t file, dset, attr, mt, space, t, s, nt, nd, nspace, fd, fspace, dcpl;
    record_t rec[4], legend[2];
    name_only_t names[4];
    numbers_t nums[4];
    value_only_t vals[4] = {{100.0}, {200.0}, {300.0}, {400.0}};
    nested_t nest[3];

    CHECK(file = H5Fopen(name, H5F_ACC_RDWR, H5P_DEFAULT));
    mt = record_mem_type();

    CHECK(dset = H5Dopen2(file, "records", H5P_DEFAULT));
    CHECK(space = H5Dget_space(dset));
    CHECK(t = H5Dget_type(dset));
    printf("records: compound of %zu bytes, %d members, string member is %s\n", H5Tget_size(t),
           H5Tget_nmembers(t), H5Tis_variable_str(s = H5Tget_member_type(t, 1)) > 0 ? "variable-length" : "fixed");
    CHECK(H5Tclose(s));
    CHECK(H5Tclose(t));
    CHECK(H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec));
    print_records("records, all members", rec, 4);
    reclaim(mt, space, rec);
    {
        hsize_t bytes = 0;
        CHECK(H5Dvlen_get_buf_size(dset, mt, space, &bytes));
        printf("records: their strings take %llu bytes\n", (unsigned long long)bytes);
    }

    /* Subsets of the members, picked by name. */
    t = H5Tcreate(H5T_COMPOUND, sizeof(name_only_t));
    s = vstr();
    CHECK(H5Tinsert(t, "name", HOFFSET(name_only_t, name), s));
    CHECK(H5Dread(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names));
    printf("records, names only:");
    for (int i = 0; i < 4; i++)
        printf(" %s", names[i].name ? names[i].name : "NULL");
    printf("\n");
    reclaim(t, space, names);
    CHECK(H5Tclose(t));

    t = H5Tcreate(H5T_COMPOUND, sizeof(numbers_t));
    CHECK(H5Tinsert(t, "value", HOFFSET(numbers_t, value), H5T_NATIVE_DOUBLE));
    CHECK(H5Tinsert(t, "id", HOFFSET(numbers_t, id), H5T_NATIVE_INT));
    CHECK(H5Dread(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, nums));
    printf("records, value and id:");
    for (int i = 0; i < 4; i++)
        printf(" %d=%.3f", nums[i].id, nums[i].value);
    printf("\n");
    CHECK(H5Tclose(t));

    /* Writing one member alone: ids and names keep their stored values. */
    t = H5Tcreate(H5T_COMPOUND, sizeof(value_only_t));
    CHECK(H5Tinsert(t, "value", HOFFSET(value_only_t, value), H5T_NATIVE_DOUBLE));
    CHECK(H5Dwrite(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals));
    CHECK(H5Tclose(t));
    CHECK(H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec));
    print_records("records, after writing the values only", rec, 4);
    reclaim(mt, space, rec);

    /* One element by a point selection. */
    {
        hsize_t pt = 3, one = 1;
        hid_t mspace = H5Screate_simple(1, &one, NULL);
        CHECK(H5Sselect_elements(space, H5S_SELECT_SET, 1, &pt));
        CHECK(H5Dread(dset, mt, mspace, space, H5P_DEFAULT, rec));
        print_records("records[3]", rec, 1);
        reclaim(mt, mspace, rec);
        CHECK(H5Sclose(mspace));
    }

    CHECK(attr = H5Aopen(dset, "legend", H5P_DEFAULT));
    CHECK(H5Aread(attr, mt, legend));
    print_records("attribute legend", legend, 2);
    {
        hid_t as = H5Aget_space(attr);
        reclaim(mt, as, legend);
        CHECK(H5Sclose(as));
    }
    t = H5Tcreate(H5T_COMPOUND, sizeof(name_only_t));
    CHECK(H5Tinsert(t, "name", HOFFSET(name_only_t, name), s));
    CHECK(H5Aread(attr, t, names));
    printf("attribute legend, names only: %s %s\n", names[0].name, names[1].name);
    H5free_memory(names[0].name);
    H5free_memory(names[1].name);
    CHECK(H5Tclose(t));
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(space));
    CHECK(H5Dclose(dset));

    nt = nested_mem_type();
    CHECK(nd = H5Dopen2(file, "nested", H5P_DEFAULT));
    CHECK(nspace = H5Dget_space(nd));
    CHECK(H5Dread(nd, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, nest));
    printf("nested:\n");
    for (int i = 0; i < 3; i++) {
        printf("  tag %d label %s weight %.2f counts [", nest[i].tag,
               nest[i].inner.label ? nest[i].inner.label : "NULL", nest[i].inner.weight);
        for (size_t j = 0; j < nest[i].counts.len; j++)
            printf("%s%d", j ? " " : "", ((int *)nest[i].counts.p)[j]);
        printf("] note %s%s%s\n", nest[i].note ? "\"" : "", nest[i].note ? nest[i].note : "NULL",
               nest[i].note ? "\"" : "");
    }
    reclaim(nt, nspace, nest);
    CHECK(attr = H5Aopen(nd, "first", H5P_DEFAULT));
    CHECK(H5Aread(attr, nt, nest));
    printf("attribute first: tag %d label %s counts %zu note %s\n", nest[0].tag, nest[0].inner.label,
           nest[0].counts.len, nest[0].note);
    reclaim(nt, nspace, nest);
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(nspace));
    CHECK(H5Dclose(nd));

    CHECK(fd = H5Dopen2(file, "filled", H5P_DEFAULT));
    CHECK(fspace = H5Dget_space(fd));
    {
        record_t all[6], fill;
        CHECK(H5Dread(fd, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
        print_records("filled", all, 6);
        reclaim(mt, fspace, all);
        CHECK(dcpl = H5Dget_create_plist(fd));
        CHECK(H5Pget_fill_value(dcpl, mt, &fill));
        print_records("fill value of filled", &fill, 1);
        H5free_memory(fill.name);
        CHECK(H5Pclose(dcpl));

        /* Writing the last element stores its chunk: the element before it gets the fill. */
        {
            hsize_t last = 5, one = 1;
            record_t late = {13, "late", 13.5};
            hid_t mspace = H5Screate_simple(1, &one, NULL);
            CHECK(H5Sselect_elements(fspace, H5S_SELECT_SET, 1, &last));
            CHECK(H5Dwrite(fd, mt, mspace, fspace, H5P_DEFAULT, &late));
            CHECK(H5Sclose(mspace));
            CHECK(H5Dread(fd, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
            print_records("filled, after writing the last element", all, 6);
            CHECK(H5Sselect_all(fspace));
            reclaim(mt, fspace, all);
        }
    }
    CHECK(H5Sclose(fspace));
    CHECK(H5Dclose(fd));

    CHECK(H5Tclose(s));
    CHECK(H5Tclose(nt));
    CHECK(H5Tclose(mt));
    CHECK(H5Fclose(file));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "compound_vlen.h5";
    write_file(name);
    read_file(name);
    return 0;
}
