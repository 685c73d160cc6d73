/* Datasets whose creation property list encodes to more than 512 bytes: N external raw-data
 * files (h5py: create_dataset(external=[...])), or a large fill value (here an array of 200
 * doubles).  rustvol keeps creation lists with H5Pencode2, first into a 512-byte buffer; but
 * H5Pencode2 does not stop at *nalloc when buf is not NULL (it writes the whole encoding, then
 * reports the size), so a longer list overruns the heap buffer.  Native HDF5 prints the counts;
 * rustvol aborts in malloc ("realloc(): invalid next size", "double free") or corrupts memory
 * silently.  The second half shows the H5Pencode2 behaviour itself, without any connector,
 * under AddressSanitizer when built with -fsanitize=address (run.sh does not). */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int n = argc > 1 ? atoi(argv[1]) : 64;
    hid_t f = H5Fcreate("large_dcpl.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {6};
    hid_t s = H5Screate_simple(1, dims, NULL);

    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    for (int i = 0; i < n; i++)
        H5Pset_external(dcpl, "large_dcpl_raw.bin", (off_t)i * 1000, 1000);
    hid_t d = H5Dcreate2(f, "external", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hid_t c = H5Dget_create_plist(d);
    printf("%d external files: dataset %s, count read back %d\n", n, d < 0 ? "FAILED" : "ok",
           H5Pget_external_count(c));
    H5Pclose(c); H5Dclose(d); H5Pclose(dcpl);

    hsize_t adim = 200;
    hid_t at = H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &adim);
    double fill[200];
    for (int i = 0; i < 200; i++) fill[i] = i;
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_fill_value(dcpl, at, fill);
    d = H5Dcreate2(f, "bigfill", at, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    double got[6][200];
    memset(got, 0, sizeof got);
    H5Dread(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, got);
    printf("1600-byte fill value: dataset %s, element 5 = [%g %g ... %g]\n", d < 0 ? "FAILED" : "ok",
           got[5][0], got[5][1], got[5][199]);
    H5Dclose(d); H5Pclose(dcpl); H5Tclose(at); H5Sclose(s);
    printf("H5Fclose %s\n", H5Fclose(f) < 0 ? "FAILED" : "ok");

    /* H5Pencode2 with a too-small buffer: how many bytes does it write? */
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    for (int i = 0; i < n; i++)
        H5Pset_external(dcpl, "large_dcpl_raw.bin", (off_t)i * 1000, 1000);
    size_t need = 0;
    H5Pencode2(dcpl, NULL, &need, H5P_DEFAULT);
    unsigned char *buf = malloc(need + 64);
    memset(buf, 0xAB, need + 64);
    size_t nalloc = 512;
    H5Pencode2(dcpl, buf, &nalloc, H5P_DEFAULT);
    size_t written = need + 64;
    while (written > 0 && buf[written - 1] == 0xAB) written--;
    printf("H5Pencode2 with *nalloc = 512 wrote %zu bytes (encoding size %zu)\n", written, need);
    free(buf); H5Pclose(dcpl);
    return 0;
}
