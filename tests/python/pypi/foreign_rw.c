/* A C program linked to the HDF5 2.0 inside h5py's PyPI wheel (tests/python/pypi_h5py.sh builds
 * it), loading rustvol through HDF5_VOL_CONNECTOR. `foreign_rw write` creates rw.h5 with a 2x3
 * int dataset and an attribute; `foreign_rw read` (another process) prints them. The few calls
 * are declared by hand: no HDF5 2.0 headers are installed, and these prototypes are the same in
 * 1.14 and 2.0. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
typedef int64_t hid_t;
typedef int herr_t;
typedef unsigned long long hsize_t;
extern herr_t H5open(void);
extern herr_t H5get_libversion(unsigned *maj, unsigned *min, unsigned *rel);
extern hid_t H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl);
extern hid_t H5Fopen(const char *name, unsigned flags, hid_t fapl);
extern herr_t H5Fclose(hid_t f);
extern hid_t H5Screate_simple(int rank, const hsize_t *dims, const hsize_t *maxdims);
extern herr_t H5Sclose(hid_t s);
extern hid_t H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl, hid_t dapl);
extern hid_t H5Dopen2(hid_t loc, const char *name, hid_t dapl);
extern herr_t H5Dwrite(hid_t d, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl, const void *buf);
extern herr_t H5Dread(hid_t d, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl, void *buf);
extern herr_t H5Dclose(hid_t d);
extern hid_t H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl);
extern hid_t H5Aopen(hid_t loc, const char *name, hid_t aapl);
extern herr_t H5Awrite(hid_t a, hid_t mtype, const void *buf);
extern herr_t H5Aread(hid_t a, hid_t mtype, void *buf);
extern herr_t H5Aclose(hid_t a);
extern hid_t H5T_NATIVE_INT_g;
extern hid_t H5T_NATIVE_DOUBLE_g;

int main(int argc, char **argv) {
    unsigned a, b, c;
    H5open();
    H5get_libversion(&a, &b, &c);
    printf("HDF5 %u.%u.%u\n", a, b, c);
    int writing = argc > 1 && strcmp(argv[1], "write") == 0;
    hsize_t dims[2] = {2, 3};
    int data[6] = {1, 2, 3, 4, 5, 6};
    double scale = 0.5;
    if (writing) {
        hid_t f = H5Fcreate("rw.h5", 2 /* H5F_ACC_TRUNC */, 0, 0);
        if (f < 0) { printf("H5Fcreate failed\n"); return 1; }
        hid_t s = H5Screate_simple(2, dims, NULL);
        hid_t d = H5Dcreate2(f, "ints", H5T_NATIVE_INT_g, s, 0, 0, 0);
        herr_t w = H5Dwrite(d, H5T_NATIVE_INT_g, 0, 0, 0, data);
        hid_t s1 = H5Screate_simple(0, NULL, NULL);
        hid_t at = H5Acreate2(d, "scale", H5T_NATIVE_DOUBLE_g, s1, 0, 0);
        herr_t aw = H5Awrite(at, H5T_NATIVE_DOUBLE_g, &scale);
        int ok = d >= 0 && w >= 0 && at >= 0 && aw >= 0;
        H5Aclose(at); H5Sclose(s1); H5Dclose(d); H5Sclose(s);
        ok = H5Fclose(f) >= 0 && ok;
        printf("write: %s\n", ok ? "ok" : "failed");
        return ok ? 0 : 1;
    }
    int back[6] = {0};
    double sc = 0;
    hid_t f = H5Fopen("rw.h5", 0 /* H5F_ACC_RDONLY */, 0);
    if (f < 0) { printf("H5Fopen failed\n"); return 1; }
    hid_t d = H5Dopen2(f, "ints", 0);
    herr_t r = H5Dread(d, H5T_NATIVE_INT_g, 0, 0, 0, back);
    hid_t at = H5Aopen(d, "scale", 0);
    herr_t ar = H5Aread(at, H5T_NATIVE_DOUBLE_g, &sc);
    H5Aclose(at); H5Dclose(d); H5Fclose(f);
    if (d < 0 || r < 0 || at < 0 || ar < 0) { printf("read failed\n"); return 1; }
    printf("read: %d %d %d %d %d %d scale %g\n", back[0], back[1], back[2], back[3], back[4], back[5], sc);
    return 0;
}
