/*
 * external_refs: references to objects in another file.
 *
 * A second file holds a dataset with an attribute; the first file keeps object, region and
 * attribute references to them (created with H5Rcreate_* on the second file), next to a
 * reference to one of its own groups, in a dataset and in an attribute.  Only the first file
 * is reopened: each reference names its file (H5Rget_file_name), and following it opens the
 * target in the other file (H5Ropen_object/_region/_attr, H5Rget_obj_name, H5Rget_obj_type3).
 * Copies compare equal to their originals (H5Rcopy, H5Requal).
 *
 * Usage: external_refs [FILE]   (default: external_refs.h5).  The second file is FILE with
 * its ".h5" replaced by "_target.h5".  Uses only the public HDF5 API.
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

static const char *type_name(H5O_type_t t)
{
    switch (t) {
        case H5O_TYPE_GROUP:
            return "group";
        case H5O_TYPE_DATASET:
            return "dataset";
        case H5O_TYPE_NAMED_DATATYPE:
            return "named datatype";
        default:
            return "other";
    }
}

static const char *ref_kind(H5R_type_t t)
{
    switch (t) {
        case H5R_OBJECT2:
            return "object";
        case H5R_DATASET_REGION2:
            return "region";
        case H5R_ATTR:
            return "attribute";
        default:
            return "other";
    }
}

static void write_target(const char *name)
{
    hid_t file, grp, space, dset, scalar, attr;
    hsize_t n = 8;
    int v[8];
    double scale = 0.25;

    CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(grp = H5Gcreate2(file, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(dset = H5Dcreate2(grp, "values", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (int i = 0; i < 8; i++)
        v[i] = 10 * i + 1;
    CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(scalar = H5Screate(H5S_SCALAR));
    CHECK(attr = H5Acreate2(dset, "scale", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, H5T_NATIVE_DOUBLE, &scale));
    CHECK(H5Aclose(attr));
    CHECK(H5Sclose(scalar));
    CHECK(H5Dclose(dset));
    CHECK(H5Sclose(space));
    CHECK(H5Gclose(grp));
    CHECK(H5Fclose(file));
}

static void write_main(const char *name, const char *target)
{
    hid_t file, other, grp, space, rspace, refs, scalar, attr;
    hsize_t n = 8, start = 2, stride = 3, count = 2, four = 4;
    H5R_ref_t r[4];

    CHECK(other = H5Fopen(target, H5F_ACC_RDONLY, H5P_DEFAULT));
    CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(grp = H5Gcreate2(file, "local", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));

    CHECK(H5Rcreate_object(other, "/data/values", H5P_DEFAULT, &r[0]));
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, &stride, &count, NULL));
    CHECK(H5Rcreate_region(other, "/data/values", space, H5P_DEFAULT, &r[1]));
    CHECK(H5Rcreate_attr(other, "/data/values", "scale", H5P_DEFAULT, &r[2]));
    CHECK(H5Rcreate_object(file, "local", H5P_DEFAULT, &r[3]));

    CHECK(rspace = H5Screate_simple(1, &four, NULL));
    CHECK(refs = H5Dcreate2(file, "refs", H5T_STD_REF, rspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    CHECK(scalar = H5Screate(H5S_SCALAR));
    CHECK(attr = H5Acreate2(grp, "elsewhere", H5T_STD_REF, scalar, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(attr, H5T_STD_REF, &r[0]));
    CHECK(H5Aclose(attr));

    for (int i = 0; i < 4; i++)
        CHECK(H5Rdestroy(&r[i]));
    CHECK(H5Sclose(scalar));
    CHECK(H5Dclose(refs));
    CHECK(H5Sclose(rspace));
    CHECK(H5Sclose(space));
    CHECK(H5Gclose(grp));
    CHECK(H5Fclose(file));
    CHECK(H5Fclose(other));
}

/* What a reference says about itself and its target, following it. */
static void describe(const char *what, H5R_ref_t *ref)
{
    char fname[256], oname[256], aname[64];
    ssize_t flen, olen;
    H5O_type_t otype;
    H5R_type_t kind = H5Rget_type(ref);

    CHECK(flen = H5Rget_file_name(ref, NULL, 0));
    CHECK(H5Rget_file_name(ref, fname, sizeof fname));
    CHECK(olen = H5Rget_obj_name(ref, H5P_DEFAULT, NULL, 0));
    CHECK(H5Rget_obj_name(ref, H5P_DEFAULT, oname, sizeof oname));
    CHECK(H5Rget_obj_type3(ref, H5P_DEFAULT, &otype));
    /* The file name's length is printed relative to the name, which depends on the directory.
     * (HDF5 1.14 counts the terminating NUL for a reference that names its file, not for one
     * with the file attached.) */
    printf("%s: %s reference to %s %s (name length %zd) in file %s (name length: strlen %+d)\n", what,
           ref_kind(kind), type_name(otype), oname, olen, fname, (int)(flen - (ssize_t)strlen(fname)));

    if (kind == H5R_OBJECT2) {
        hid_t obj;
        CHECK(obj = H5Ropen_object(ref, H5P_DEFAULT, H5P_DEFAULT));
        if (otype == H5O_TYPE_DATASET) {
            int v[8];
            CHECK(H5Dread(obj, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
            printf("  opened: values");
            for (int i = 0; i < 8; i++)
                printf(" %d", v[i]);
            printf("\n");
            CHECK(H5Dclose(obj));
        }
        else {
            H5G_info_t info;
            CHECK(H5Gget_info(obj, &info));
            printf("  opened: a group of %llu links\n", (unsigned long long)info.nlinks);
            CHECK(H5Oclose(obj));
        }
    }
    else if (kind == H5R_DATASET_REGION2) {
        hid_t obj, region, mspace;
        int v[8];
        hsize_t npts;
        CHECK(obj = H5Ropen_object(ref, H5P_DEFAULT, H5P_DEFAULT));
        CHECK(region = H5Ropen_region(ref, H5P_DEFAULT, H5P_DEFAULT));
        npts = (hsize_t)H5Sget_select_npoints(region);
        CHECK(mspace = H5Screate_simple(1, &npts, NULL));
        CHECK(H5Dread(obj, H5T_NATIVE_INT, mspace, region, H5P_DEFAULT, v));
        printf("  opened: %llu selected elements:", (unsigned long long)npts);
        for (hsize_t i = 0; i < npts; i++)
            printf(" %d", v[i]);
        printf("\n");
        CHECK(H5Sclose(mspace));
        CHECK(H5Sclose(region));
        CHECK(H5Dclose(obj));
    }
    else if (kind == H5R_ATTR) {
        hid_t attr;
        double x = 0;
        CHECK(H5Rget_attr_name(ref, aname, sizeof aname));
        CHECK(attr = H5Ropen_attr(ref, H5P_DEFAULT, H5P_DEFAULT));
        CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, &x));
        printf("  opened: attribute %s = %.2f\n", aname, x);
        CHECK(H5Aclose(attr));
    }
}

static void read_main(const char *name)
{
    hid_t file, refs, attr;
    H5R_ref_t r[4], a, copy;
    static const char *what[4] = {"refs[0]", "refs[1]", "refs[2]", "refs[3]"};

    CHECK(file = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
    CHECK(refs = H5Dopen2(file, "refs", H5P_DEFAULT));
    CHECK(H5Dread(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    CHECK(H5Dclose(refs));

    /* Copies made before any reference is followed. */
    CHECK(H5Rcopy(&r[0], &copy));
    printf("a copy of refs[0] equals it: %s\n", H5Requal(&r[0], &copy) > 0 ? "yes" : "no");
    printf("refs[0] equals refs[1]: %s\n", H5Requal(&r[0], &r[1]) > 0 ? "yes" : "no");

    for (int i = 0; i < 4; i++)
        describe(what[i], &r[i]);

    printf("after following, the copy of refs[0] equals it: %s\n", H5Requal(&r[0], &copy) > 0 ? "yes" : "no");
    CHECK(H5Rdestroy(&copy));
    CHECK(H5Rcopy(&r[2], &copy));
    printf("a copy of the followed refs[2] equals it: %s\n", H5Requal(&r[2], &copy) > 0 ? "yes" : "no");
    CHECK(H5Rdestroy(&copy));

    CHECK(attr = H5Aopen_by_name(file, "local", "elsewhere", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Aread(attr, H5T_STD_REF, &a));
    CHECK(H5Aclose(attr));
    describe("attribute /local/elsewhere", &a);
    printf("attribute /local/elsewhere equals refs[0]: %s\n", H5Requal(&a, &r[0]) > 0 ? "yes" : "no");
    CHECK(H5Rdestroy(&a));

    for (int i = 0; i < 4; i++)
        CHECK(H5Rdestroy(&r[i]));
    CHECK(H5Fclose(file));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "external_refs.h5";
    size_t len = strlen(name);
    char *target = malloc(len + 16);

    if (!target)
        return 1;
    if (len > 3 && strcmp(name + len - 3, ".h5") == 0)
        len -= 3;
    memcpy(target, name, len);
    strcpy(target + len, "_target.h5");

    write_target(target);
    write_main(name, target);
    printf("wrote the files\n");
    read_main(name);
    free(target);
    return 0;
}
