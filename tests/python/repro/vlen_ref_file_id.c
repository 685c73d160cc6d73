/* H5Rcreate_object, H5Awrite of the reference inside a variable-length sequence
 * (H5Tvlen_create(H5T_STD_REF)), then H5Rdestroy -- what H5DSattach_scale does for every
 * non-native file.  A reference holds one count on its file id: native HDF5 shows 2 before
 * H5Rdestroy and 1 after, and the file id stays valid.  A plain H5T_STD_REF attribute (the
 * first case) is fine under rustvol too; only the vlen case loses the count. */
#include <hdf5.h>
#include <stdio.h>
static void one(int vlen) {
    hid_t f = H5Fcreate(vlen ? "vlen_ref.h5" : "plain_ref.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 2, one = 1;
    hid_t s = H5Screate_simple(1, &n, NULL), s1 = H5Screate_simple(1, &one, NULL);
    hid_t d1 = H5Dcreate2(f, "a", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d2 = H5Dcreate2(f, "b", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5R_ref_t r;
    H5Rcreate_object(d2, ".", H5P_DEFAULT, &r);
    hid_t t = vlen ? H5Tvlen_create(H5T_STD_REF) : H5Tcopy(H5T_STD_REF);
    hvl_t v = {1, &r};
    hid_t a = H5Acreate2(d1, "r", t, s1, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = H5Awrite(a, t, vlen ? (void *)&v : (void *)&r);
    H5Aclose(a); H5Tclose(t);
    int before = H5Iget_ref(f);
    H5Rdestroy(&r);
    int valid = H5Iis_valid(f) > 0;
    printf("%s: H5Awrite %s; file id refcount before H5Rdestroy %d (native: 2); after: %s\n",
           vlen ? "vlen of H5T_STD_REF" : "H5T_STD_REF     ", rc < 0 ? "FAILED" : "ok", before,
           valid ? "valid" : "FILE ID CLOSED");
    H5Dclose(d1); H5Dclose(d2); H5Sclose(s); H5Sclose(s1);
    if (valid) H5Fclose(f);
}
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    one(0);
    one(1);
    return 0;
}
