/*
 * attributes: metadata on groups, datasets and committed datatypes.
 *
 * Creates attributes of several types (integer scalar, double vector, 2-D unsigned array,
 * fixed- and variable-length strings, a compound), iterates them by name and by creation
 * order, opens them by index, renames and deletes some, and reads everything back after
 * reopening the file.
 *
 * Usage: attributes [FILE]   (default: attributes.h5).  Uses only the public HDF5 API.
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
    int    station;
    double offset;
} calib_t;

static hid_t calib_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(calib_t));
    CHECK(t);
    CHECK(H5Tinsert(t, "station", HOFFSET(calib_t, station), H5T_NATIVE_INT));
    CHECK(H5Tinsert(t, "offset", HOFFSET(calib_t, offset), H5T_NATIVE_DOUBLE));
    return t;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
        case H5T_INTEGER: return "integer";
        case H5T_FLOAT: return "float";
        case H5T_STRING: return "string";
        case H5T_COMPOUND: return "compound";
        case H5T_ENUM: return "enum";
        case H5T_ARRAY: return "array";
        case H5T_VLEN: return "vlen";
        default: return "other";
    }
}

static void add_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                     const void *buf)
{
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    CHECK(space);
    hid_t attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(attr);
    CHECK(H5Awrite(attr, mtype, buf));
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(space));
}

/* Prints an attribute's value, whatever of our types it has. */
static void print_value(hid_t attr)
{
    hid_t ftype = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    H5T_class_t cls = H5Tget_class(ftype);
    printf(" =");
    if (cls == H5T_INTEGER) {
        long long *v = malloc(sizeof(long long) * (size_t)n);
        CHECK(H5Aread(attr, H5T_NATIVE_LLONG, v));
        for (hssize_t i = 0; i < n; i++)
            printf(" %lld", v[i]);
        free(v);
    }
    else if (cls == H5T_FLOAT) {
        double *v = malloc(sizeof(double) * (size_t)n);
        CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, v));
        for (hssize_t i = 0; i < n; i++)
            printf(" %g", v[i]);
        free(v);
    }
    else if (cls == H5T_STRING && H5Tis_variable_str(ftype) > 0) {
        char **v = malloc(sizeof(char *) * (size_t)n);
        hid_t mtype = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(mtype, H5T_VARIABLE));
        CHECK(H5Tset_cset(mtype, H5Tget_cset(ftype)));
        CHECK(H5Aread(attr, mtype, v));
        for (hssize_t i = 0; i < n; i++)
            printf(" \"%s\"", v[i]);
        CHECK(H5Treclaim(mtype, space, H5P_DEFAULT, v));
        CHECK(H5Tclose(mtype));
        free(v);
    }
    else if (cls == H5T_STRING) {
        size_t size = H5Tget_size(ftype);
        char *v = calloc((size_t)n, size + 1);
        char *raw = calloc((size_t)n, size);
        CHECK(H5Aread(attr, ftype, raw));
        for (hssize_t i = 0; i < n; i++) {
            memcpy(v + i * (hssize_t)(size + 1), raw + i * (hssize_t)size, size);
            printf(" \"%s\"", v + i * (hssize_t)(size + 1));
        }
        free(raw);
        free(v);
    }
    else if (cls == H5T_COMPOUND) {
        calib_t *v = malloc(sizeof(calib_t) * (size_t)n);
        hid_t mtype = calib_type();
        CHECK(H5Aread(attr, mtype, v));
        for (hssize_t i = 0; i < n; i++)
            printf(" {station %d, offset %g}", v[i].station, v[i].offset);
        CHECK(H5Tclose(mtype));
        free(v);
    }
    printf("\n");
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(ftype));
}

static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op_data)
{
    (void)op_data;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, dims, NULL);
    printf("    %-12s %-8s", name, class_name(H5Tget_class(type)));
    if (rank == 0)
        printf(" scalar   ");
    else {
        char shape[64] = "";
        for (int i = 0; i < rank; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu", i ? "x" : "",
                     (unsigned long long)dims[i]);
        printf(" %-9s", shape);
    }
    if (info->corder_valid)
        printf(" #%lld", (long long)info->corder);
    print_value(attr);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
    return 0;
}

static void list_attrs(hid_t obj, const char *label, H5_index_t index, H5_iter_order_t order)
{
    H5O_info2_t oinfo;
    CHECK(H5Oget_info3(obj, &oinfo, H5O_INFO_NUM_ATTRS));
    printf("  %s: %llu attributes, %s %s\n", label, (unsigned long long)oinfo.num_attrs,
           index == H5_INDEX_NAME ? "by name" : "by creation order",
           order == H5_ITER_INC ? "increasing" : "decreasing");
    hsize_t idx = 0;
    CHECK(H5Aiterate2(obj, index, order, &idx, print_attr, NULL));
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "attributes.h5";

    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);

    /* A group and a dataset that track attribute creation order. */
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    CHECK(H5Pset_attr_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    hid_t group = H5Gcreate2(file, "instrument", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    CHECK(group);
    CHECK(H5Pclose(gcpl));

    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    CHECK(H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    hsize_t n = 4;
    hid_t dspace = H5Screate_simple(1, &n, NULL);
    hid_t dset = H5Dcreate2(group, "signal", H5T_IEEE_F64LE, dspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(dset);
    double signal[4] = {0.5, 1.5, 2.5, 3.5};
    CHECK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, signal));
    CHECK(H5Pclose(dcpl));
    CHECK(H5Sclose(dspace));

    /* Group attributes, created in non-alphabetical order. */
    {
        int serial = 90210;
        add_attr(group, "serial", H5T_STD_I32BE, H5T_NATIVE_INT, 0, NULL, &serial);
        double gains[3] = {1.0, 0.5, 0.125};
        hsize_t d3 = 3;
        add_attr(group, "gains", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d3, gains);
        unsigned char mask[2][3] = {{1, 0, 1}, {0, 1, 0}};
        hsize_t d23[2] = {2, 3};
        add_attr(group, "mask", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 2, d23, mask);
        hid_t fixed = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(fixed, 8));
        CHECK(H5Tset_strpad(fixed, H5T_STR_NULLPAD));
        char codes[3][8] = {"ALPHA", "BRAVO", "CHARLIE1"};
        add_attr(group, "codes", fixed, fixed, 1, &d3, codes);
        CHECK(H5Tclose(fixed));
        hid_t vstr = H5Tcopy(H5T_C_S1);
        CHECK(H5Tset_size(vstr, H5T_VARIABLE));
        CHECK(H5Tset_cset(vstr, H5T_CSET_UTF8));
        const char *owner = "Ana Mar\xc3\xad" "a";
        add_attr(group, "owner", vstr, vstr, 0, NULL, &owner);
        const char *notes[2] = {"checked", ""};
        hsize_t d2 = 2;
        add_attr(group, "notes", vstr, vstr, 1, &d2, notes);
        CHECK(H5Tclose(vstr));
        calib_t calib[2] = {{7, -0.5}, {9, 0.25}};
        hid_t ct = calib_type();
        add_attr(group, "calibration", ct, ct, 1, &d2, calib);
        CHECK(H5Tclose(ct));
    }
    /* Dataset attributes. */
    {
        short lo = -40, hi = 85;
        add_attr(dset, "max", H5T_STD_I16LE, H5T_NATIVE_SHORT, 0, NULL, &hi);
        add_attr(dset, "min", H5T_STD_I16LE, H5T_NATIVE_SHORT, 0, NULL, &lo);
        float rate = 48000.0f;
        add_attr(dset, "rate", H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, 0, NULL, &rate);
    }
    /* An attribute created through a path: H5Acreate_by_name on the root group. */
    {
        unsigned long long created = 1700000000ULL;
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t attr = H5Acreate_by_name(file, "/", "created", H5T_STD_U64LE, space, H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT);
        CHECK(attr);
        CHECK(H5Awrite(attr, H5T_NATIVE_ULLONG, &created));
        CHECK(H5Aclose(attr));
        CHECK(H5Sclose(space));
    }

    printf("as written:\n");
    list_attrs(group, "/instrument", H5_INDEX_NAME, H5_ITER_INC);
    list_attrs(group, "/instrument", H5_INDEX_CRT_ORDER, H5_ITER_INC);
    list_attrs(dset, "/instrument/signal", H5_INDEX_CRT_ORDER, H5_ITER_DEC);
    list_attrs(file, "/", H5_INDEX_NAME, H5_ITER_INC);

    /* Rename, delete by name, delete by index. */
    CHECK(H5Arename(group, "mask", "valid_mask"));
    CHECK(H5Arename_by_name(file, "instrument/signal", "rate", "sample_rate", H5P_DEFAULT));
    CHECK(H5Adelete(group, "gains"));
    CHECK(H5Adelete_by_idx(file, "instrument", H5_INDEX_CRT_ORDER, H5_ITER_INC, 0, H5P_DEFAULT));
    CHECK(H5Adelete_by_name(file, "instrument/signal", "min", H5P_DEFAULT));

    CHECK(H5Dclose(dset));
    CHECK(H5Gclose(group));
    CHECK(H5Fclose(file));

    file = H5Fopen(filename, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    group = H5Gopen2(file, "instrument", H5P_DEFAULT);
    CHECK(group);
    dset = H5Dopen2(file, "instrument/signal", H5P_DEFAULT);
    CHECK(dset);

    printf("after renaming mask and rate, deleting gains, serial (index 0) and min, reopened:\n");
    list_attrs(group, "/instrument", H5_INDEX_NAME, H5_ITER_INC);
    list_attrs(group, "/instrument", H5_INDEX_CRT_ORDER, H5_ITER_DEC);
    list_attrs(dset, "/instrument/signal", H5_INDEX_NAME, H5_ITER_INC);

    printf("lookups:\n");
    const char *names[] = {"owner", "mask", "valid_mask", "gains", "serial"};
    for (int i = 0; i < 5; i++) {
        htri_t e = H5Aexists(group, names[i]);
        CHECK(e);
        printf("  /instrument has %-10s %s\n", names[i], e ? "yes" : "no");
    }
    {
        htri_t e = H5Aexists_by_name(file, "instrument/signal", "sample_rate", H5P_DEFAULT);
        CHECK(e);
        printf("  /instrument/signal has sample_rate %s\n", e ? "yes" : "no");
    }
    {
        hid_t attr = H5Aopen_by_idx(file, "instrument", H5_INDEX_NAME, H5_ITER_INC, 1, H5P_DEFAULT,
                                    H5P_DEFAULT);
        CHECK(attr);
        char name[64];
        ssize_t len = H5Aget_name(attr, sizeof name, name);
        CHECK(len);
        H5A_info_t info;
        CHECK(H5Aget_info(attr, &info));
        printf("  second attribute by name: %s (%zd characters, %llu bytes of data)\n", name, len,
               (unsigned long long)info.data_size);
        CHECK(H5Aclose(attr));
        len = H5Aget_name_by_idx(file, "instrument", H5_INDEX_CRT_ORDER, H5_ITER_INC, 0, name, sizeof name,
                                 H5P_DEFAULT);
        CHECK(len);
        printf("  oldest attribute: %s\n", name);
        attr = H5Aopen_by_name(file, "instrument/signal", "max", H5P_DEFAULT, H5P_DEFAULT);
        CHECK(attr);
        short hi = 0;
        CHECK(H5Aread(attr, H5T_NATIVE_SHORT, &hi));
        printf("  /instrument/signal max = %d\n", hi);
        CHECK(H5Aclose(attr));
    }
    {
        htri_t e;
        H5E_BEGIN_TRY { e = H5Aopen(group, "gains", H5P_DEFAULT); } H5E_END_TRY
        printf("  opening the deleted gains %s\n", e < 0 ? "fails" : "succeeds");
        if (e >= 0)
            H5Aclose(e);
    }

    CHECK(H5Dclose(dset));
    CHECK(H5Gclose(group));
    CHECK(H5Fclose(file));
    printf("closed\n");
    return 0;
}
