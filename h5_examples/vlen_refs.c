/*
 * vlen_refs: object references (H5T_STD_REF_OBJ, the kind netCDF-4 and h5py's dimension scales
 * keep in DIMENSION_LIST) and the newer H5T_STD_REF inside other types: a vlen of them, an
 * array of them and a compound with one, each as an attribute and as a dataset.  Each is
 * written, its stored type is asked back (H5Aget_type, H5Dget_type, also after reopening the
 * file, and from a committed datatype) and compared with H5Tequal to the type it was made
 * with, and the references read back with the type HDF5 returned are followed.  This is what
 * h5py's dimension scales do with DIMENSION_LIST (vlen_dtype(ref_dtype)).
 *
 * Usage: vlen_refs [FILE]   (default: vlen_refs.h5).  Uses only the public HDF5 API.
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
    int        a;
    hobj_ref_t r;
} rec_t;

/*
 * An H5T_STD_REF_OBJ value is an 8-byte object address in a native file; a program cannot ask a
 * connector of another kind for one (H5Rcreate and H5Rdereference2 need the native connector).
 * The first 8 bytes of the object's token are that address natively and name the object in
 * rustvol too, as h5py's references to rustvol objects do (docs/h5py.md).
 */
static hobj_ref_t ref_to(hid_t loc, const char *path)
{
    H5O_info2_t info;
    hobj_ref_t r;
    CHECK(H5Oget_info_by_name3(loc, path, &info, H5O_INFO_BASIC, H5P_DEFAULT));
    memcpy(&r, &info.token, sizeof r);
    return r;
}

/* The name of the object `r` (an H5T_STD_REF_OBJ made by ref_to) points to. */
static void print_target(hid_t loc, const hobj_ref_t *r)
{
    char name[64];
    H5O_token_t token;
    hid_t obj;
    memset(&token, 0, sizeof token);
    memcpy(&token, r, sizeof *r);
    CHECK(obj = H5Oopen_by_token(loc, token));
    CHECK(H5Iget_name(obj, name, sizeof name));
    printf(" %s", name);
    CHECK(H5Oclose(obj));
}

static void print_equal(const char *what, hid_t got, hid_t want)
{
    htri_t eq = H5Tequal(got, want);
    CHECK(eq);
    printf("%s: class %d, equal to the type written: %s\n", what, (int)H5Tget_class(got),
           eq ? "yes" : "no");
}

/* The stored type of attribute or dataset `obj`, compared with `want` and used to read it. */
static void check_vlen(hid_t loc, hid_t obj, int is_attr, const char *what, hid_t want)
{
    hid_t t, space;
    hvl_t v[2];
    hsize_t n = 2;
    CHECK(t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
    print_equal(what, t, want);
    CHECK(is_attr ? H5Aread(obj, t, v) : H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    for (int i = 0; i < 2; i++) {
        printf("  %s[%d] (%d):", what, i, (int)v[i].len);
        for (size_t j = 0; j < v[i].len; j++)
            print_target(loc, (hobj_ref_t *)v[i].p + j);
        printf("\n");
    }
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(H5Treclaim(t, space, H5P_DEFAULT, v));
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(t));
}

static void check_array(hid_t loc, hid_t obj, int is_attr, const char *what, hid_t want)
{
    hid_t t;
    hobj_ref_t r[2][3];
    CHECK(t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
    print_equal(what, t, want);
    CHECK(is_attr ? H5Aread(obj, t, r) : H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    for (int i = 0; i < 2; i++) {
        printf("  %s[%d]:", what, i);
        for (int j = 0; j < 3; j++)
            print_target(loc, &r[i][j]);
        printf("\n");
    }
    CHECK(H5Tclose(t));
}

static void check_compound(hid_t loc, hid_t obj, int is_attr, const char *what, hid_t want)
{
    hid_t t, mt;
    rec_t r[2];
    CHECK(t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
    print_equal(what, t, want);
    CHECK(mt = H5Tget_member_type(t, 1));
    print_equal("  its member r", mt, H5T_STD_REF_OBJ);
    CHECK(H5Tclose(mt));
    CHECK(is_attr ? H5Aread(obj, t, r) : H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    for (int i = 0; i < 2; i++) {
        printf("  %s[%d]: a %d, r", what, i, r[i].a);
        print_target(loc, &r[i].r);
        printf("\n");
    }
    CHECK(H5Tclose(t));
}

/* A vlen of H5T_STD_REF (H5R_ref_t, the reference type of HDF5 1.12 and later). */
static void check_vlen_new(hid_t obj, int is_attr, const char *what, hid_t want)
{
    hid_t t, space;
    hvl_t v[2];
    hsize_t n = 2;
    CHECK(t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
    print_equal(what, t, want);
    CHECK(is_attr ? H5Aread(obj, t, v) : H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    for (int i = 0; i < 2; i++) {
        printf("  %s[%d] (%d):", what, i, (int)v[i].len);
        for (size_t j = 0; j < v[i].len; j++) {
            char name[64];
            CHECK(H5Rget_obj_name((H5R_ref_t *)v[i].p + j, H5P_DEFAULT, name, sizeof name));
            printf(" %s", name);
        }
        printf("\n");
    }
    CHECK(space = H5Screate_simple(1, &n, NULL));
    CHECK(H5Treclaim(t, space, H5P_DEFAULT, v));
    CHECK(H5Sclose(space));
    CHECK(H5Tclose(t));
}

static void check_all(hid_t f, hid_t vt, hid_t at, hid_t ct, hid_t nt)
{
    hid_t o, d, t;
    CHECK(d = H5Dopen2(f, "data", H5P_DEFAULT));
    CHECK(o = H5Aopen(d, "DIMENSION_LIST", H5P_DEFAULT));
    check_vlen(f, o, 1, "attribute DIMENSION_LIST", vt);
    CHECK(H5Aclose(o));
    CHECK(o = H5Aopen(d, "ref_array", H5P_DEFAULT));
    check_array(f, o, 1, "attribute ref_array", at);
    CHECK(H5Aclose(o));
    CHECK(o = H5Aopen(d, "ref_compound", H5P_DEFAULT));
    check_compound(f, o, 1, "attribute ref_compound", ct);
    CHECK(H5Aclose(o));
    CHECK(o = H5Aopen(d, "new_refs", H5P_DEFAULT));
    check_vlen_new(o, 1, "attribute new_refs", nt);
    CHECK(H5Aclose(o));
    CHECK(H5Dclose(d));

    CHECK(d = H5Dopen2(f, "vlen_refs", H5P_DEFAULT));
    check_vlen(f, d, 0, "dataset vlen_refs", vt);
    CHECK(H5Dclose(d));
    CHECK(d = H5Dopen2(f, "array_refs", H5P_DEFAULT));
    check_array(f, d, 0, "dataset array_refs", at);
    CHECK(H5Dclose(d));
    CHECK(d = H5Dopen2(f, "compound_refs", H5P_DEFAULT));
    check_compound(f, d, 0, "dataset compound_refs", ct);
    CHECK(H5Dclose(d));
    CHECK(d = H5Dopen2(f, "new_refs", H5P_DEFAULT));
    check_vlen_new(d, 0, "dataset new_refs", nt);
    CHECK(H5Dclose(d));

    CHECK(t = H5Topen2(f, "vlen_ref_t", H5P_DEFAULT));
    print_equal("committed type vlen_ref_t", t, vt);
    CHECK(H5Tclose(t));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "vlen_refs.h5";
    hid_t f, g, d, a, s1, s2, vt, at, ct, nt, t;
    hsize_t one = 1, two = 2, three = 3;
    hobj_ref_t refs[4], arr[2][3];
    hvl_t v[2];
    rec_t rec[2];
    H5R_ref_t nrefs[3];
    hvl_t nv[2];
    const char *targets[4] = {"/x", "/y", "/grp", "/data"};

    CHECK(f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(s1 = H5Screate_simple(1, &one, NULL));
    CHECK(s2 = H5Screate_simple(1, &two, NULL));
    CHECK(d = H5Dcreate2(f, "x", H5T_NATIVE_INT, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dclose(d));
    CHECK(d = H5Dcreate2(f, "y", H5T_NATIVE_INT, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dclose(d));
    CHECK(g = H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Gclose(g));
    CHECK(d = H5Dcreate2(f, "data", H5T_NATIVE_INT, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dclose(d));
    for (int i = 0; i < 4; i++)
        refs[i] = ref_to(f, targets[i]);
    for (int i = 0; i < 3; i++)
        CHECK(H5Rcreate_object(f, targets[i], H5P_DEFAULT, &nrefs[i]));

    CHECK(vt = H5Tvlen_create(H5T_STD_REF_OBJ));
    CHECK(at = H5Tarray_create2(H5T_STD_REF_OBJ, 1, &three));
    CHECK(ct = H5Tcreate(H5T_COMPOUND, sizeof(rec_t)));
    CHECK(H5Tinsert(ct, "a", HOFFSET(rec_t, a), H5T_NATIVE_INT));
    CHECK(H5Tinsert(ct, "r", HOFFSET(rec_t, r), H5T_STD_REF_OBJ));
    CHECK(nt = H5Tvlen_create(H5T_STD_REF));

    v[0].len = 1;
    v[0].p = &refs[0];
    v[1].len = 3;
    v[1].p = &refs[1];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            arr[i][j] = refs[(i + j) % 4];
    rec[0].a = 10;
    rec[0].r = refs[2];
    rec[1].a = 20;
    rec[1].r = refs[0];
    nv[0].len = 2;
    nv[0].p = &nrefs[0];
    nv[1].len = 1;
    nv[1].p = &nrefs[2];

    CHECK(d = H5Dopen2(f, "data", H5P_DEFAULT));
    CHECK(a = H5Acreate2(d, "DIMENSION_LIST", vt, s2, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(a, vt, v));
    CHECK(H5Aclose(a));
    CHECK(a = H5Acreate2(d, "ref_array", at, s2, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(a, at, arr));
    CHECK(H5Aclose(a));
    CHECK(a = H5Acreate2(d, "ref_compound", ct, s2, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(a, ct, rec));
    CHECK(H5Aclose(a));
    CHECK(a = H5Acreate2(d, "new_refs", nt, s2, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(a, nt, nv));
    CHECK(H5Aclose(a));
    CHECK(H5Dclose(d));

    CHECK(d = H5Dcreate2(f, "vlen_refs", vt, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(d, vt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(H5Dclose(d));
    CHECK(d = H5Dcreate2(f, "array_refs", at, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, arr));
    CHECK(H5Dclose(d));
    CHECK(d = H5Dcreate2(f, "compound_refs", ct, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec));
    CHECK(H5Dclose(d));
    CHECK(d = H5Dcreate2(f, "new_refs", nt, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Dwrite(d, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, nv));
    CHECK(H5Dclose(d));
    CHECK(t = H5Tcopy(vt));
    CHECK(H5Tcommit2(f, "vlen_ref_t", t, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Tclose(t));

    printf("-- in the file as written\n");
    check_all(f, vt, at, ct, nt);
    CHECK(H5Fclose(f));

    printf("-- after reopening\n");
    CHECK(f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
    check_all(f, vt, at, ct, nt);
    printf("objects still open in the file: %d\n", (int)H5Fget_obj_count(f, H5F_OBJ_ALL));
    CHECK(H5Fclose(f));

    for (int i = 0; i < 3; i++)
        CHECK(H5Rdestroy(&nrefs[i]));
    CHECK(H5Tclose(nt));
    CHECK(H5Tclose(ct));
    CHECK(H5Tclose(at));
    CHECK(H5Tclose(vt));
    CHECK(H5Sclose(s2));
    CHECK(H5Sclose(s1));
    return 0;
}
