/*
 * error_stack: the error stack stays printable after HDF5's deprecated functions.
 *
 * Programs written for HDF5 1.8/1.10 (h5py among them) call H5Oget_info1,
 * H5Oget_info_by_name1, H5Rcreate, H5Rdereference2 and H5Rget_obj_type2. Natively they work;
 * HDF5 refuses them for any other connector, whatever it is. Whichever happens, the program
 * must be able to go on: every message of a later error stack still resolves (H5Eget_msg, as
 * an error handler walking the stack does), and HDF5's automatic printing of a later error
 * works. Results of the deprecated calls are not printed: they differ by design.
 *
 * Usage: error_stack [FILE]   (default: error_stack.h5).  Uses only the public HDF5 API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

#define CHECK(expr)                                                                    \
    do {                                                                               \
        if ((expr) < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define ROUNDS 5

static void deprecated_calls(hid_t file)
{
    H5O_info1_t info;
    hobj_ref_t ref = 0;
    H5O_type_t type;
    hid_t obj;

    H5E_BEGIN_TRY
    {
        H5Oget_info1(file, &info);
        H5Oget_info_by_name1(file, "group", &info, H5P_DEFAULT);
        H5Rcreate(&ref, file, "group", H5R_OBJECT, -1);
        H5Rget_obj_type2(file, H5R_OBJECT, &ref, &type);
        obj = H5Rdereference2(file, H5P_DEFAULT, H5R_OBJECT, &ref);
        if (obj >= 0)
            H5Oclose(obj);
    }
    H5E_END_TRY
}

static int bad_messages;

static herr_t check_entry(unsigned n, const H5E_error2_t *err, void *data)
{
    char text[256];
    H5E_type_t kind;

    (void)n;
    (void)data;
    if (H5Eget_msg(err->maj_num, &kind, text, sizeof text) < 0 || kind != H5E_MAJOR)
        bad_messages++;
    if (H5Eget_msg(err->min_num, &kind, text, sizeof text) < 0)
        bad_messages++;
    return 0;
}

/* Fails an operation and looks at the error stack it leaves. */
static void failing_open(hid_t file, const char *label)
{
    hid_t obj, stack;
    ssize_t depth;

    H5E_BEGIN_TRY { obj = H5Oopen(file, "missing", H5P_DEFAULT); }
    H5E_END_TRY
    if (obj >= 0) {
        printf("%s: H5Oopen of a missing object succeeded\n", label);
        exit(1);
    }
    stack = H5Eget_current_stack();
    CHECK(stack);
    depth = H5Eget_num(stack);
    bad_messages = 0;
    CHECK(H5Ewalk2(stack, H5E_WALK_UPWARD, check_entry, NULL));
    printf("%s: H5Oopen of a missing object fails; stack %s, messages that do not resolve: %d\n",
           label, depth > 0 ? "not empty" : "EMPTY", bad_messages);
    CHECK(H5Eclose_stack(stack));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "error_stack.h5";
    char text[256];
    H5E_type_t kind;
    H5E_auto2_t old_func;
    void *old_data;
    FILE *sink;
    hid_t file, obj;
    int round;
    long printed;

    file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    CHECK(H5Gclose(H5Gcreate2(file, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));

    failing_open(file, "before");
    for (round = 0; round < ROUNDS; round++)
        deprecated_calls(file);
    failing_open(file, "after the deprecated calls");

    CHECK(H5Eget_msg(H5E_VOL, &kind, text, sizeof text));
    printf("H5E_VOL: %s (%s)\n", text, kind == H5E_MAJOR ? "major" : "minor");

    /* HDF5's own automatic printing, into a scratch file rather than stderr. */
    sink = tmpfile();
    if (!sink)
        return 1;
    CHECK(H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data));
    CHECK(H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, sink));
    for (round = 0; round < ROUNDS; round++) {
        deprecated_calls(file);
        obj = H5Oopen(file, "missing", H5P_DEFAULT);
        if (obj >= 0)
            return 1;
    }
    CHECK(H5Eset_auto2(H5E_DEFAULT, old_func, old_data));
    fflush(sink);
    printed = ftell(sink);
    fclose(sink);
    printf("automatic printing of %d failed opens: %s\n", ROUNDS, printed > 0 ? "printed" : "NOTHING");

    CHECK(H5Fclose(file));
    return 0;
}
