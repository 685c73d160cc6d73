/* H5Fget_access_plist on the file of an object reached through an external link. */
#include <hdf5.h>
#include <stdio.h>
int main(void) {
    hid_t f = H5Fcreate("ext.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    f = H5Fcreate("main.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_external("ext.h5", "/group", f, "external", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);

    f = H5Fopen("main.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = H5Oopen(f, "external", H5P_DEFAULT);
    hid_t gf = H5Iget_file_id(g);
    hid_t fapl = H5Fget_access_plist(gf);
    hid_t fapl_main = H5Fget_access_plist(f);
    printf("main file: fapl id type %d (H5I_GENPROP_LST = %d)\n", (int)H5Iget_type(fapl_main), (int)H5I_GENPROP_LST);
    printf("external file: id type %d, H5Fget_access_plist returned %lld (id type %d)\n", (int)H5Iget_type(gf), (long long)fapl, (int)H5Iget_type(fapl));
    if (fapl >= 0) H5Pclose(fapl);
    H5Pclose(fapl_main);
    H5Fclose(gf); H5Oclose(g); H5Fclose(f);
    return 0;
}
