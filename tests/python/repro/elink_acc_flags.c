/* External link traversal with H5Pset_elink_acc_flags(lapl, H5F_ACC_RDONLY) from a file opened
 * read-write: native HDF5 opens the target file read-only. */
#include <hdf5.h>
#include <stdio.h>
int main(void) {
    hid_t f = H5Fcreate("ext2.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    f = H5Fcreate("main2.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_external("ext2.h5", "/group", f, "external", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);

    f = H5Fopen("main2.h5", H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t lapl = H5Pcreate(H5P_LINK_ACCESS);
    H5Pset_elink_acc_flags(lapl, H5F_ACC_RDONLY);
    hid_t g = H5Oopen(f, "external", lapl);
    hid_t gf = H5Iget_file_id(g);
    unsigned intent = 99;
    H5Fget_intent(gf, &intent);
    printf("target file intent: %s\n", intent == H5F_ACC_RDONLY ? "read-only (expected)" : "read-write");
    H5E_BEGIN_TRY { hid_t x = H5Gcreate2(g, "new", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        printf("creating a group in it: %s\n", x < 0 ? "refused (expected)" : "succeeded");
        if (x >= 0) H5Gclose(x); } H5E_END_TRY
    H5Fclose(gf); H5Oclose(g); H5Pclose(lapl); H5Fclose(f);
    return 0;
}
