/*
 * references: object, region and attribute references kept in a dataset and an attribute,
 * read back after the file is closed and reopened, and followed to their targets.
 *
 * Usage: references [FILE]   (default: references.h5).  Uses only the public HDF5 API.
 */
#include <stdio.h>
#include <stdlib.h>
#include "hdf5.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void write_file(const char *name)
{
    hid_t file, grp, data, space, scalar, attr, refs;
    hsize_t n = 10, start = 2, count = 3, three = 3;
    int v[10], one = 42;
    H5R_ref_t r[3];

    CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(grp = H5Gcreate2(file, "sensors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(data = H5Dcreate2(grp, "squares", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (int i = 0; i < 10; i++)
        v[i] = i * i;
    CHECK(H5Dwrite(data, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(scalar = H5Screate(H5S_SCALAR));
    CHECK(attr = H5Acreate2(grp, "serial", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, H5T_NATIVE_INT, &one));
    CHECK(H5Aclose(attr));

    CHECK(H5Rcreate_object(file, "sensors", H5P_DEFAULT, &r[0]));
    CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL));
    CHECK(H5Rcreate_region(file, "sensors/squares", space, H5P_DEFAULT, &r[1]));
    CHECK(H5Rcreate_attr(file, "sensors", "serial", H5P_DEFAULT, &r[2]));

    hid_t rspace;
    CHECK(rspace = H5Screate_simple(1, &three, NULL));
    CHECK(refs = H5Dcreate2(file, "index", H5T_STD_REF, rspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    CHECK(attr = H5Acreate2(file, "main_group", H5T_STD_REF, scalar, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, H5T_STD_REF, &r[0]));
    CHECK(H5Aclose(attr));
    for (int i = 0; i < 3; i++)
        CHECK(H5Rdestroy(&r[i]));
    CHECK(H5Dclose(refs));
    CHECK(H5Sclose(rspace));
    CHECK(H5Sclose(scalar));
    CHECK(H5Sclose(space));
    CHECK(H5Dclose(data));
    CHECK(H5Gclose(grp));
    CHECK(H5Fclose(file));
}

static void read_file(const char *name)
{
    hid_t file, refs, attr, obj, region, mspace;
    H5R_ref_t r[3], g;
    H5O_type_t type;
    char path[64], aname[32];
    int out[3], serial = 0;
    hsize_t three = 3;

    CHECK(file = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
    CHECK(refs = H5Dopen2(file, "index", H5P_DEFAULT));
    CHECK(H5Dread(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));

    CHECK(H5Rget_obj_type3(&r[0], H5P_DEFAULT, &type));
    CHECK(H5Rget_obj_name(&r[0], H5P_DEFAULT, path, sizeof path));
    printf("index[0]: object reference to %s (%s)\n", path, type == H5O_TYPE_GROUP ? "group" : "other");

    CHECK(obj = H5Ropen_object(&r[1], H5P_DEFAULT, H5P_DEFAULT));
    CHECK(region = H5Ropen_region(&r[1], H5P_DEFAULT, H5P_DEFAULT));
    CHECK(mspace = H5Screate_simple(1, &three, NULL));
    CHECK(H5Dread(obj, H5T_NATIVE_INT, mspace, region, H5P_DEFAULT, out));
    CHECK(H5Rget_obj_name(&r[1], H5P_DEFAULT, path, sizeof path));
    printf("index[1]: region reference to %s, %lld elements: %d %d %d\n", path,
           (long long)H5Sget_select_npoints(region), out[0], out[1], out[2]);
    CHECK(H5Sclose(mspace));
    CHECK(H5Sclose(region));
    CHECK(H5Dclose(obj));

    CHECK(H5Rget_attr_name(&r[2], aname, sizeof aname));
    CHECK(attr = H5Ropen_attr(&r[2], H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Aread(attr, H5T_NATIVE_INT, &serial));
    printf("index[2]: attribute reference to %s = %d\n", aname, serial);
    CHECK(H5Aclose(attr));

    CHECK(attr = H5Aopen(file, "main_group", H5P_DEFAULT));
    CHECK(H5Aread(attr, H5T_STD_REF, &g));
    CHECK(H5Rget_obj_name(&g, H5P_DEFAULT, path, sizeof path));
    printf("attribute main_group refers to %s\n", path);
    CHECK(H5Aclose(attr));

    for (int i = 0; i < 3; i++)
        CHECK(H5Rdestroy(&r[i]));
    CHECK(H5Rdestroy(&g));
    CHECK(H5Dclose(refs));
    CHECK(H5Fclose(file));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "references.h5";
    write_file(name);
    read_file(name);
    return 0;
}
