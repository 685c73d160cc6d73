/* Loads the plugin through the stand-in libhdf5 (fake_hdf5.c). */
#include <stdio.h>
int fake_load(const char *plugin);
int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: driver PLUGIN\n");
        return 2;
    }
    return fake_load(argv[1]);
}
