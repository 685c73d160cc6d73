/* The same file opened twice; H5Fget_obj_ids(f1, H5F_OBJ_ALL | H5F_OBJ_LOCAL) must list only
 * what was opened through f1 (h5py's File.close closes exactly those ids). */
#include <hdf5.h>
#include <stdio.h>
int main(void) {
    hid_t f = H5Fcreate("twice.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "foo", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    hid_t f1 = H5Fopen("twice.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t f2 = H5Fopen("twice.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g1 = H5Oopen(f1, "foo", H5P_DEFAULT);
    hid_t g2 = H5Oopen(f2, "foo", H5P_DEFAULT);
    unsigned types = H5F_OBJ_ALL | H5F_OBJ_LOCAL;
    ssize_t n = H5Fget_obj_count(f1, types);
    hid_t ids[16];
    ssize_t m = H5Fget_obj_ids(f1, types, 16, ids);
    printf("f1=%lld f2=%lld g1=%lld g2=%lld\n", (long long)f1, (long long)f2, (long long)g1, (long long)g2);
    printf("H5Fget_obj_count(f1, ALL|LOCAL) = %zd; ids:", n);
    for (ssize_t i = 0; i < m; i++) printf(" %lld", (long long)ids[i]);
    printf("   (native: f1 and g1 only)\n");
    H5Oclose(g1); H5Oclose(g2); H5Fclose(f1); H5Fclose(f2);
    return 0;
}
