/* A stand-in "libhdf5" for tests/binding/refusal.sh: it defines only what tells a libhdf5 apart
 * (H5open, H5_lib_vers_info_g, with the version given by -DFAKE_VERSION) and what the plugin's
 * refusal reports through (H5Epush2 and three error ids), and loads the plugin the way HDF5's
 * H5PL__open does: dlopen, then H5PLget_plugin_info called from inside this library. Only
 * HDF5 1.14.5's headers are used, for the connector class's layout; no libhdf5 is linked. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include "H5VLconnector.h"

const char H5_lib_vers_info_g[] = "HDF5 library version: " FAKE_VERSION;
hid_t H5E_ERR_CLS_g = 1, H5E_VOL_g = 2, H5E_CANTOPENFILE_g = 3;

herr_t H5open(void) { return 0; }

herr_t H5Epush2(hid_t stack, const char *file, const char *func, unsigned line, hid_t cls, hid_t maj, hid_t min,
                const char *fmt, ...) {
    va_list ap;
    (void)stack, (void)file, (void)line;
    printf("error pushed by %s (class %lld, major %lld, minor %lld): ", func, (long long)cls, (long long)maj,
           (long long)min);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return 0;
}

/* Returns 0 if the plugin handed over a class whose file create and open fail. */
int fake_load(const char *plugin) {
    void *h = dlopen(plugin, RTLD_LAZY);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    const void *(*info)(void) = (const void *(*)(void))dlsym(h, "H5PLget_plugin_info");
    const H5VL_class_t *cls = info ? info() : NULL;
    if (!cls) {
        printf("no class\n");
        return 3;
    }
    printf("class %s, value %d, version %u\n", cls->name, (int)cls->value, cls->version);
    if (cls->initialize && cls->initialize(0) < 0)
        printf("initialize failed\n");
    void *f = cls->file_cls.create ? cls->file_cls.create("x.h5", 0, 0, 0, 0, NULL) : NULL;
    printf("file create: %s\n", f ? "succeeded" : "failed");
    void *g = cls->file_cls.open ? cls->file_cls.open("x.h5", 0, 0, 0, NULL) : NULL;
    printf("file open: %s\n", g ? "succeeded" : "failed");
    if (cls->terminate)
        cls->terminate();
    return f || g ? 1 : 0;
}
