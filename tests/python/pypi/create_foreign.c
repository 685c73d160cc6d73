/* A C program linked to another libhdf5 than rustvol's (tests/python/pypi_h5py.sh links it to the
 * HDF5 2.0 inside h5py's PyPI wheel), loading rustvol through HDF5_VOL_CONNECTOR. The few calls
 * are declared by hand: no HDF5 2.0 headers are installed, and these signatures are the same in
 * 1.14 and 2.0. Prints the library version and whether H5Fcreate succeeded. */
#include <stdint.h>
#include <stdio.h>
typedef int64_t hid_t;
typedef int herr_t;
extern hid_t H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl);
extern herr_t H5Fclose(hid_t f);
extern herr_t H5get_libversion(unsigned *maj, unsigned *min, unsigned *rel);
int main(void) {
    unsigned a, b, c;
    H5get_libversion(&a, &b, &c);
    printf("HDF5 %u.%u.%u\n", a, b, c);
    hid_t f = H5Fcreate("foreign.h5", 2 /* H5F_ACC_TRUNC */, 0, 0);
    printf("H5Fcreate: %s\n", f < 0 ? "failed" : "ok");
    if (f >= 0) H5Fclose(f);
    return f < 0 ? 1 : 0;
}
