/* Fill values given in another type than the dataset's, as h5py does for string datasets
 * (h5py sets the fill value of every string dataset as a variable-length string).
 * Native HDF5 converts the fill value to the dataset's type at H5Dcreate (H5O_fill_convert).
 * Expected output (native):
 *   double dataset, int fill 7: element 0 = 7 ; H5Pget_fill_value = 7
 *   vlen dataset: element 0 = "bar" ; H5Pget_fill_value = "bar"  */
#include <hdf5.h>
#include <stdio.h>
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    hid_t f = H5Fcreate("fill_str.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 4;
    hid_t s = H5Screate_simple(1, &n, NULL);

    /* 1. a double dataset whose fill value is given as an int */
    int ifill = 7;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &ifill);
    hid_t d1 = H5Dcreate2(f, "double", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    double dbuf[4] = {-1, -1, -1, -1}, dfill = -1;
    H5Dread(d1, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dbuf);
    hid_t dcpl1 = H5Dget_create_plist(d1);
    H5Pget_fill_value(dcpl1, H5T_NATIVE_DOUBLE, &dfill);
    printf("double dataset, int fill 7: element 0 = %g ; H5Pget_fill_value = %g\n", dbuf[0], dfill);
    H5Pclose(dcpl1); H5Pclose(dcpl);

    /* 2. a variable-length string dataset with a variable-length string fill value */
    hid_t vstr = H5Tcopy(H5T_C_S1);
    H5Tset_size(vstr, H5T_VARIABLE);
    const char *fill = "bar";
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_fill_value(dcpl, vstr, &fill);
    hid_t d2 = H5Dcreate2(f, "vlen", vstr, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    char *vbuf[4] = {0};
    H5Dread(d2, vstr, H5S_ALL, H5S_ALL, H5P_DEFAULT, vbuf);
    hid_t dcpl2 = H5Dget_create_plist(d2);
    char *got = NULL;
    H5Pget_fill_value(dcpl2, vstr, &got);
    printf("vlen dataset: element 0 = \"%s\" ; H5Pget_fill_value = \"%s\"\n",
           vbuf[0] ? vbuf[0] : "(null)", got ? got : "(null)");
    H5Treclaim(vstr, s, H5P_DEFAULT, vbuf);
    if (got) H5free_memory(got);
    H5Pclose(dcpl2); H5Pclose(dcpl);

    H5Dclose(d1); H5Dclose(d2); H5Tclose(vstr); H5Sclose(s);
    H5Fclose(f);
    printf("done\n");
    return 0;
}
