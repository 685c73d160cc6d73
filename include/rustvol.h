/*
 * rustvol: an HDF5 VOL connector written in Rust.
 *
 * Programs need not include this header: with
 *     HDF5_PLUGIN_PATH=<dir of librustvol.so> HDF5_VOL_CONNECTOR="rustvol backend=memory"
 * every HDF5 program uses rustvol unchanged.  This header is for programs that choose the
 * connector themselves, on a file access property list, and link against librustvol.so
 * (CMake: find_package(rustvol) and target_link_libraries(app rustvol::rustvol)).
 */
#ifndef RUSTVOL_H
#define RUSTVOL_H

#include <hdf5.h>

/* The connector's name, as in HDF5_VOL_CONNECTOR, H5VLregister_connector_by_name and the
 * tools' --vol-name option. */
#define RUSTVOL_CONNECTOR_NAME "rustvol"

/* The connector's value, as in H5VLregister_connector_by_value and --vol-value. */
#define RUSTVOL_CONNECTOR_VALUE ((H5VL_class_value_t)7770)

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Makes the file access property list `fapl_id` use rustvol, registering the connector if it
 * is not registered yet.  `info` is the connector's configuration string, the same text that
 * follows the name in HDF5_VOL_CONNECTOR: key=value pairs separated by ';' or whitespace,
 * for example "backend=memory".  NULL means the default, "backend=memory".
 * An unknown key or a bad value makes the call fail, with a message on the HDF5 error stack.
 * Returns a non-negative value on success, a negative value on failure.
 */
herr_t H5Pset_fapl_rustvol(hid_t fapl_id, const char *info);

#ifdef __cplusplus
}
#endif

#endif /* RUSTVOL_H */
