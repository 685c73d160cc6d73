/* For tests/binding/refusal.sh: a program linking libhdf5 (A) in which a copy of that library
 * (B), opened RTLD_LOCAL as h5py's wheels open theirs, loaded rustvol first. rustvol is then
 * bound to B, so H5Pset_fapl_rustvol, called with A's ids, must refuse, on A's error stack.
 * RTLD_DEEPBIND keeps B's calls to its own functions in B: the global scope's A would take them
 * otherwise (and load rustvol itself). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include "hdf5.h"

static herr_t show(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n, (void)data;
    printf("A's error stack: %s\n", e->desc);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: two_libs COPY_OF_LIBHDF5 PLUGIN\n");
        return 2;
    }
    void *b = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!b) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    hid_t (*b_register)(const char *, hid_t) = (hid_t(*)(const char *, hid_t))dlsym(b, "H5VLregister_connector_by_name");
    if (!b_register || b_register("rustvol", H5P_DEFAULT) < 0) {
        printf("the copy could not load rustvol\n");
        return 2;
    }
    void *plugin = dlopen(argv[2], RTLD_NOW | RTLD_NOLOAD);
    herr_t (*set_fapl)(hid_t, const char *) =
        plugin ? (herr_t(*)(hid_t, const char *))dlsym(plugin, "H5Pset_fapl_rustvol") : NULL;
    if (!set_fapl) {
        printf("the copy did not load %s\n", argv[2]);
        return 2;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    printf("H5Pset_fapl_rustvol: %s\n", set_fapl(fapl, "backend=memory") < 0 ? "refused" : "accepted");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, show, NULL);
    H5Pclose(fapl);
    return 0;
}
