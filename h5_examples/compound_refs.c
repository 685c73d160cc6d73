/*
 * compound_refs: references as members of a compound type stored in another layout (so every
 * transfer converts), pointing into the same file and into a second one; writing and reading
 * only the other member (the references are kept, and none is left behind); then reading the
 * references back after reopening and following them.  At the end the file closes completely:
 * it can be created anew.
 *
 * Usage: compound_refs [FILE]   (default: compound_refs.h5).  The second file is FILE with
 * its ".h5" replaced by "_other.h5".  Uses only the public HDF5 API.
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
    int       a;
    H5R_ref_t r;
} rec_t;

typedef struct {
    int a;
} a_only_t;

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "compound_refs.h5";
    size_t len = strlen(name);
    char *other_name = malloc(len + 16), fname[256], oname[64];
    hid_t f, o, g, space, d, mt, ft, at;
    hsize_t n = 3;
    rec_t w[3], rd[3];
    a_only_t aa[3] = {{70}, {80}, {90}}, ar[3];

    if (!other_name)
        return 1;
    if (len > 3 && strcmp(name + len - 3, ".h5") == 0)
        len -= 3;
    memcpy(other_name, name, len);
    strcpy(other_name + len, "_other.h5");

    CHECK(o = H5Fcreate(other_name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(g = H5Gcreate2(o, "target", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Gclose(g));
    CHECK(f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(g = H5Gcreate2(f, "here", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Gclose(g));

    mt = H5Tcreate(H5T_COMPOUND, sizeof(rec_t));
    CHECK(H5Tinsert(mt, "a", HOFFSET(rec_t, a), H5T_NATIVE_INT));
    CHECK(H5Tinsert(mt, "r", HOFFSET(rec_t, r), H5T_STD_REF));
    ft = H5Tcreate(H5T_COMPOUND, 4 + sizeof(H5R_ref_t));
    CHECK(H5Tinsert(ft, "a", 0, H5T_STD_I32BE));
    CHECK(H5Tinsert(ft, "r", 4, H5T_STD_REF));
    at = H5Tcreate(H5T_COMPOUND, sizeof(a_only_t));
    CHECK(H5Tinsert(at, "a", HOFFSET(a_only_t, a), H5T_NATIVE_INT));

    for (int i = 0; i < 3; i++) {
        w[i].a = i + 1;
        CHECK(H5Rcreate_object(i == 1 ? o : f, i == 1 ? "target" : "here", H5P_DEFAULT, &w[i].r));
    }
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(d = H5Dcreate2(f, "records", ft, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, w));
    for (int i = 0; i < 3; i++)
        CHECK(H5Rdestroy(&w[i].r));
    /* Only "a": the stored references stay as they are. */
    CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, aa));
    CHECK(H5Dread(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, ar));
    printf("records, a only: %d %d %d\n", ar[0].a, ar[1].a, ar[2].a);
    CHECK(H5Dclose(d));
    CHECK(H5Fclose(f));
    CHECK(H5Fclose(o));

    CHECK(f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
    CHECK(d = H5Dopen2(f, "records", H5P_DEFAULT));
    CHECK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rd));
    for (int i = 0; i < 3; i++) {
        H5O_type_t t;
        hid_t obj;
        H5G_info_t info;
        CHECK(H5Rget_file_name(&rd[i].r, fname, sizeof fname));
        CHECK(H5Rget_obj_name(&rd[i].r, H5P_DEFAULT, oname, sizeof oname));
        CHECK(H5Rget_obj_type3(&rd[i].r, H5P_DEFAULT, &t));
        CHECK(obj = H5Ropen_object(&rd[i].r, H5P_DEFAULT, H5P_DEFAULT));
        CHECK(H5Gget_info(obj, &info));
        CHECK(H5Gclose(obj));
        printf("records[%d]: a %d, reference to %s %s in %s\n", i, rd[i].a,
               t == H5O_TYPE_GROUP ? "group" : "other", oname,
               strcmp(fname, other_name) == 0 ? "the other file" : strcmp(fname, name) == 0 ? "this file" : fname);
        CHECK(H5Rdestroy(&rd[i].r));
    }
    CHECK(H5Dread(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, ar));
    printf("records, a only, after reopening: %d %d %d\n", ar[0].a, ar[1].a, ar[2].a);
    CHECK(H5Dclose(d));
    printf("objects still open in the file: %d\n", (int)H5Fget_obj_count(f, H5F_OBJ_ALL));
    CHECK(H5Fclose(f));

    CHECK(f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    printf("the file was closed completely: created it anew\n");
    CHECK(H5Fclose(f));

    CHECK(H5Tclose(at));
    CHECK(H5Tclose(ft));
    CHECK(H5Tclose(mt));
    CHECK(H5Sclose(space));
    free(other_name);
    return 0;
}
