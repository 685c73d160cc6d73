/*
 * rustvol_fapl: choosing rustvol in the program rather than through the environment.
 *
 * Sets rustvol on a file access property list with H5Pset_fapl_rustvol (include/rustvol.h,
 * link librustvol.so), writes a dataset, reopens the file through the same property list and
 * reads the data back.  Unlike the other examples this one needs rustvol, and it ignores
 * HDF5_VOL_CONNECTOR for its own file.
 *
 * Usage: rustvol_fapl [FILE [INFO]]   (defaults: rustvol_fapl.h5, NULL = backend=memory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"
#include "rustvol.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void print_connector(const char *label, hid_t obj)
{
    hid_t vol = H5VLget_connector_id(obj);
    CHECK(vol);
    char name[64] = "";
    CHECK(H5VLget_connector_name(obj, name, sizeof name));
    H5VL_class_value_t value = 0;
    CHECK(H5VLget_value(vol, &value));
    printf("%s: connector \"%s\"%s, value %d\n", label, name,
           strcmp(name, RUSTVOL_CONNECTOR_NAME) == 0 ? " (RUSTVOL_CONNECTOR_NAME)" : "", (int)value);
    CHECK(H5VLclose(vol));
}

int main(int argc, char **argv)
{
    const char *filename = argc > 1 ? argv[1] : "rustvol_fapl.h5";
    const char *info = argc > 2 ? argv[2] : NULL;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(fapl);
    CHECK(H5Pset_fapl_rustvol(fapl, info));
    {
        hid_t vol = -1;
        CHECK(H5Pget_vol_id(fapl, &vol));
        H5VL_class_value_t value = 0;
        CHECK(H5VLget_value(vol, &value));
        printf("fapl: connector value %d (RUSTVOL_CONNECTOR_VALUE %d)\n", (int)value,
               (int)RUSTVOL_CONNECTOR_VALUE);
        CHECK(H5VLclose(vol));
    }

    hid_t file = H5Fcreate(filename, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(file);
    print_connector("created file", file);
    hsize_t dims[2] = {2, 3};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t dset = H5Dcreate2(file, "matrix", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(dset);
    double m[2][3] = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.5}};
    CHECK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, m));
    print_connector("dataset", dset);
    CHECK(H5Dclose(dset));
    CHECK(H5Sclose(space));
    CHECK(H5Fclose(file));

    file = H5Fopen(filename, H5F_ACC_RDONLY, fapl);
    CHECK(file);
    dset = H5Dopen2(file, "/matrix", H5P_DEFAULT);
    CHECK(dset);
    double r[2][3];
    memset(r, 0, sizeof r);
    CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    printf("read back: %g %g %g / %g %g %g\n", r[0][0], r[0][1], r[0][2], r[1][0], r[1][1], r[1][2]);
    CHECK(H5Dclose(dset));
    CHECK(H5Fclose(file));

    /* A bad configuration is refused. */
    {
        hid_t bad = H5Pcreate(H5P_FILE_ACCESS);
        herr_t ret;
        H5E_BEGIN_TRY { ret = H5Pset_fapl_rustvol(bad, "backend=memory;no_such_key=1"); } H5E_END_TRY
        printf("an unknown key is %s\n", ret < 0 ? "refused" : "accepted");
        CHECK(H5Pclose(bad));
    }
    CHECK(H5Pclose(fapl));
    printf("closed\n");
    return 0;
}
