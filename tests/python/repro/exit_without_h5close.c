/* Create one dataset and return from main without H5close, as most programs do: HDF5's atexit
 * handler (H5_term_library) then runs rustvol's terminate callback.  Native HDF5 prints nothing.
 * rustvol (build of 2026-11-22 12:05, commit c30b4b0 "cached default plists") panics in
 * terminate: "cannot access a Thread Local Storage value during or after destruction", and HDF5
 * prints "HDF5: infinite loop closing library".  Exit status stays 0. */
#include <hdf5.h>
int main(void) {
    hid_t f = H5Fcreate("exit_tls.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR);
    H5Dclose(H5Dcreate2(f, "d", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(s);
    H5Fclose(f);
    return 0;
}
